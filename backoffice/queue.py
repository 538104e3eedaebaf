"""The queue: a province's requests by status, oldest first, with their age.

"Oldest" is the time the request became complete (first `ready`), else the time
it was received: stable across later changes, so a request does not jump to the
bottom after a correction or a cancelled booking. The service-level colour stays
on the time in the current status (backoffice.sla).

The search term (a reference, codice fiscale, e-mail or name) is personal
data, so it never travels in a URL (URLs end up in access logs): the search
form posts it, the session keeps it, the queue page reads it from there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, or_, select

from backoffice import sla
from backoffice.access import in_scope
from backoffice.auth import CurrentUser, current_user
from backoffice.labels import CLOSED_TABS, OPEN_STATUSES, OPEN_TAB, STATUS_LABELS, WORK_TABS
from backoffice.templating import render
from db.models import Event, Finding, Request as Req, as_utc

PAGE_SIZE = 50
router = APIRouter()


@dataclass(frozen=True)
class Filters:
    province: str | None   # None: every province of the user
    status: str            # a status, "open" (every working status) or "all"
    q: str
    mine: bool
    page: int


@dataclass(frozen=True)
class Row:
    reference: str
    province: str
    holder: str
    codice_fiscale: str | None
    form_type: str | None
    status: str
    since: datetime          # entered the current status
    age: str                 # waiting since `waiting_since`
    level: str
    n_blocking: int
    n_review: int
    assigned_to: str | None
    received_at: datetime
    complete_at: datetime | None
    in_status: str           # time in the current status, for the service-level colour
    same_cf: int = 0         # other open requests with the same holder codice fiscale (any province)

    @property
    def waiting_since(self) -> datetime:
        return self.complete_at or self.received_at


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_condition(term: str):
    """Reference, codice fiscale, e-mail or name: a case-insensitive substring match."""
    like = _like(term)
    cols = (Req.reference, Req.holder_codice_fiscale, Req.declarant_codice_fiscale, Req.contact_email,
            Req.sender_email, Req.holder_surname, Req.holder_given_names, Req.declarant_surname,
            Req.declarant_given_names, Req.holder_surname + " " + Req.holder_given_names,
            Req.holder_given_names + " " + Req.holder_surname)
    return or_(*(c.ilike(like, escape="\\") for c in cols))


def _conditions(user: CurrentUser, f: Filters, *, with_status: bool) -> list:
    conds = [in_scope(user)]
    if f.province:
        conds.append(Req.province == f.province)
    if with_status and f.status == "open":
        conds.append(Req.status.in_(OPEN_STATUSES))
    elif with_status and f.status != "all":
        conds.append(Req.status == f.status)
    if f.q:
        conds.append(search_condition(f.q))
    if f.mine:
        conds.append(Req.assigned_to == user.username)
    return conds


def _severity_count(severity: str):
    return (select(func.count(Finding.id)).where(Finding.request_id == Req.id, Finding.severity == severity)
            .correlate(Req).scalar_subquery())


def status_counts(session, user: CurrentUser, f: Filters) -> dict[str, int]:
    rows = session.execute(select(Req.status, func.count()).where(*_conditions(user, f, with_status=False))
                           .group_by(Req.status)).all()
    return {status: n for status, n in rows}


def same_cf_count():
    """Other open requests, in any province, with the request's holder codice fiscale (a correlated count)."""
    other = Req.__table__.alias("other")
    return (select(func.count()).select_from(other)
            .where(other.c.holder_codice_fiscale == Req.holder_codice_fiscale, other.c.id != Req.id,
                   other.c.status.in_(OPEN_STATUSES))
            .correlate(Req).scalar_subquery())


def _utc(value, default: datetime | None) -> datetime | None:
    if isinstance(value, str):  # an aggregate over SQLite may come back as text
        value = datetime.fromisoformat(value)
    return as_utc(value) if isinstance(value, datetime) else default


def queue_rows(session, user: CurrentUser, f: Filters, incomplete_timeout_days: int) -> tuple[list[Row], bool]:
    """One page of rows, oldest first (complete, else received); and whether there is a next page."""
    entered = (select(Event.request_id.label("rid"), func.max(Event.at).label("at"))
               .where(Event.to_status.is_not(None)).group_by(Event.request_id).subquery())
    completed = (select(Event.request_id.label("rid"), func.min(Event.at).label("at"))
                 .where(Event.to_status == "ready").group_by(Event.request_id).subquery())
    since = func.coalesce(entered.c.at, Req.created_at)
    waiting = func.coalesce(completed.c.at, Req.created_at)
    stmt = (select(Req, since.label("since"), completed.c.at, _severity_count("blocking"), _severity_count("review"),
                   same_cf_count())
            .outerjoin(entered, entered.c.rid == Req.id)
            .outerjoin(completed, completed.c.rid == Req.id)
            .where(*_conditions(user, f, with_status=True))
            .order_by(waiting.asc(), Req.id.asc())
            .offset((f.page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1))
    now = datetime.now(timezone.utc)
    rows = []
    for req, entered_at, complete_at, n_blocking, n_review, same_cf in session.execute(stmt).all():
        received_at = as_utc(req.created_at)
        entered_at = _utc(entered_at, received_at)
        complete_at = _utc(complete_at, None)
        in_status = now - entered_at
        holder = " ".join(x for x in (req.holder_surname, req.holder_given_names) if x) or "—"
        rows.append(Row(req.reference, req.province, holder, req.holder_codice_fiscale, req.form_type, req.status,
                        entered_at, sla.format_age(now - (complete_at or received_at)),
                        sla.level(req.status, in_status, incomplete_timeout_days),
                        n_blocking or 0, n_review or 0, req.assigned_to, received_at, complete_at,
                        sla.format_age(in_status), (same_cf or 0) if req.holder_codice_fiscale else 0))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def _filters(request: Request, user: CurrentUser, provincia: str | None, stato: str | None, mie: str | None,
             pagina: int) -> Filters:
    province = (provincia or "").upper()
    if province not in user.provinces:
        province = user.provinces[0] if len(user.provinces) == 1 else None
    status = stato if stato in STATUS_LABELS or stato in ("all", "open") else "open"
    return Filters(province, status, request.session.get("q", ""), mie == "1", max(1, pagina))


def landing(session, user: CurrentUser, f: Filters) -> Filters:
    """Where /coda opens: the user's own claimed open requests when there are any, else every open
    request of their provinces, oldest first. A fixed tab ("Da revisionare") opened empty while
    incomplete and ready requests waited."""
    f = replace(f, status="open", page=1)
    mine = replace(f, mine=True)
    has_mine = session.scalar(select(func.count()).select_from(Req).where(*_conditions(user, mine, with_status=True)))
    return mine if has_mine else f


def queue_url(f: Filters, **changes) -> str:
    values = {"provincia": f.province or "", "stato": f.status, "mie": "1" if f.mine else "", "pagina": f.page}
    values.update(changes)
    if values["pagina"] == 1:
        values["pagina"] = ""
    parts = [f"{k}={quote(str(v))}" for k, v in values.items() if v not in ("", None)]
    return "/coda" + ("?" + "&".join(parts) if parts else "")


@router.get("/")
def home():
    return RedirectResponse("/coda", status_code=303)


@router.get("/coda")
def queue_page(request: Request, provincia: str | None = None, stato: str | None = None, mie: str | None = None,
               pagina: int = 1, user: CurrentUser = Depends(current_user)):
    app = request.app.state.sportello
    f = _filters(request, user, provincia, stato, mie, pagina)
    with app.db.session() as s:
        if stato is None and mie is None:
            f = landing(s, user, f)
        counts = status_counts(s, user, f)
        rows, more = queue_rows(s, user, f, app.settings.verification.incomplete_timeout_days)
    tabs = [(OPEN_TAB[0], OPEN_TAB[1], sum(counts.get(code, 0) for code in OPEN_STATUSES))]
    tabs += [(code, label, counts.get(code, 0)) for code, label in WORK_TABS]
    closed = [(code, label, counts.get(code, 0)) for code, label in CLOSED_TABS]
    return render(request, "queue.html", user=user, nav="coda", f=f, rows=rows, more=more, tabs=tabs, closed=closed,
                  total=sum(counts.values()), url=lambda **kw: queue_url(f, **kw),
                  sla_labels=sla.LEVEL_LABELS)


@router.post("/coda/cerca")
def search(request: Request, q: str = Form(""), provincia: str = Form(""), stato: str = Form("all"),
           mie: str = Form(""), azzera: str = Form(""), user: CurrentUser = Depends(current_user)):
    term = "" if azzera else " ".join(q.split())[:100]
    if term:
        request.session["q"] = term
    else:
        request.session.pop("q", None)
    # A search looks across statuses; clearing it goes back to the open requests.
    f = Filters(provincia.upper() if provincia.upper() in user.provinces else None,
                "all" if term else ("open" if stato == "all" else stato), term, mie == "1", 1)
    return RedirectResponse(queue_url(f), status_code=303)

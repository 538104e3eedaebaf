"""What an operator does to a request: claim, assign, correct, review, reject.

Every action is one transaction that starts by checking, with a
compare-and-swap on the request's version, that nobody changed the request
since the page was shown (the same on SQLite and PostgreSQL, and it locks the
row for the rest of the transaction); every action leaves an event.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, datetime

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import update

from backoffice import labels, recheck
from backoffice.access import find_request
from backoffice.auth import CurrentUser, current_user
from backoffice.request_view import DOCUMENT_COLUMNS
from backoffice.templating import flash
from backoffice.users import users_for_province
from db import lifecycle
from db.lifecycle import IllegalTransition
from db.models import Document, Request as Req
from intake import outgoing
from scheduling import wiring

router = APIRouter()

# Statuses whose findings a correction re-checks (afterwards the findings no longer decide anything).
RECHECKED = ("received", "needs_review", "incomplete", "ready")
# Blocking findings that nobody may set aside.
NEVER_OVERRIDDEN = frozenset({"cns_without_chip"})


class Refused(Exception):
    """The action cannot be done; the message tells the operator why (Italian)."""


def _back(reference: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/pratiche/{reference}{anchor}", status_code=303)


@contextmanager
def acting(request: Request, user: CurrentUser, reference: str, version: int | None):
    """A transaction on one visible request the user may act on, unchanged since `version`."""
    app = request.app.state.sportello
    with app.db.session() as s:
        req = find_request(s, user, reference)
        if version is not None:
            same = s.execute(
                update(Req).where(Req.id == req.id, Req.version == version)
                .values(version=Req.version, updated_at=Req.updated_at)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            if not same:
                raise Refused("La pratica è stata modificata da qualcun altro mentre la guardavi: "
                              "controlla la situazione aggiornata e riprova.")
            s.refresh(req)
        if req.assigned_to and req.assigned_to != user.username and not user.supervises:
            raise Refused(f"La pratica è in carico a {req.assigned_to}: chiedi a un supervisore di riassegnarla.")
        yield s, req


def run_action(request: Request, reference: str, fn, anchor: str = ""):
    """Run fn(); a Refused or IllegalTransition becomes an error notice on the request page."""
    try:
        result = fn()
    except Refused as exc:
        flash(request, "error", str(exc))
        return _back(reference.upper(), anchor)
    except IllegalTransition as exc:
        flash(request, "error", "Operazione non possibile nello stato attuale "
                                f"({labels.label(labels.STATUS_LABELS, exc.current)}).")
        return _back(reference.upper(), anchor)
    return result


def _auto_claim(s, req: Req, user: CurrentUser) -> None:
    """The first action on a free request takes it in charge."""
    if req.assigned_to is None:
        req.assigned_to = user.username
        lifecycle.record(s, req, "claimed", user.username, {"auto": True})


@router.post("/pratiche/{reference}/prendi")
def claim(request: Request, reference: str, user: CurrentUser = Depends(current_user)):
    def do():
        with request.app.state.sportello.db.session() as s:
            req = find_request(s, user, reference)
            previous = req.assigned_to
            if previous == user.username:
                return _back(req.reference)
            if previous and not user.supervises:
                raise Refused(f"La pratica è già in carico a {previous}.")
            # Compare-and-swap: only if still held by whom we saw (nobody, for an operator).
            cond = Req.assigned_to.is_(None) if previous is None else Req.assigned_to == previous
            done = s.execute(update(Req).where(Req.id == req.id, cond)
                             .values(assigned_to=user.username, updated_at=Req.updated_at)
                             .execution_options(synchronize_session=False)).rowcount == 1
            if not done:
                raise Refused("Qualcun altro ha appena preso in carico la pratica.")
            s.refresh(req)
            lifecycle.record(s, req, "claimed", user.username, {"previous": previous} if previous else {})
            flash(request, "ok", "Pratica presa in carico.")
            return _back(req.reference)
    return run_action(request, reference, do)


@router.post("/pratiche/{reference}/lascia")
def unclaim(request: Request, reference: str, user: CurrentUser = Depends(current_user)):
    def do():
        with request.app.state.sportello.db.session() as s:
            req = find_request(s, user, reference)
            if req.assigned_to is None:
                return _back(req.reference)
            if req.assigned_to != user.username and not user.supervises:
                raise Refused(f"La pratica è in carico a {req.assigned_to}.")
            previous, req.assigned_to = req.assigned_to, None
            lifecycle.record(s, req, "unassigned", user.username, {"previous": previous})
            flash(request, "ok", "La pratica è di nuovo libera.")
            return _back(req.reference)
    return run_action(request, reference, do)


@router.post("/pratiche/{reference}/assegna")
def assign(request: Request, reference: str, assignee: str = Form(...), user: CurrentUser = Depends(current_user)):
    if not user.supervises:
        raise HTTPException(403)

    def do():
        with request.app.state.sportello.db.session() as s:
            req = find_request(s, user, reference)
            allowed = {u.username for u in users_for_province(s, req.province)}
            if assignee not in allowed:
                raise Refused("Si può assegnare la pratica solo a un utente attivo della sua provincia.")
            previous, req.assigned_to = req.assigned_to, assignee
            lifecycle.record(s, req, "assigned", user.username, {"previous": previous, "to": assignee})
            flash(request, "ok", f"Pratica assegnata a {assignee}.")
            return _back(req.reference)
    return run_action(request, reference, do)


CF_RE = re.compile(r"^[A-Z0-9]{16}$")


def _parse_date(text: str) -> date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise Refused("Data non valida: scrivila come gg/mm/aaaa.")


def clean_value(kind: str, raw: str):
    """The corrected value in the column's type, or Refused with the reason."""
    text = " ".join(raw.split())
    if not text:
        raise Refused("Il nuovo valore non può essere vuoto.")
    if kind == "cf":
        text = text.replace(" ", "").upper()
        if not CF_RE.match(text):
            raise Refused("Il codice fiscale ha 16 caratteri, lettere e cifre.")
        return text
    if kind == "date":
        return _parse_date(text)
    if kind == "email":
        if "@" not in text or len(text) > 320 or " " in text:
            raise Refused("Indirizzo e-mail non valido.")
        return text
    if kind == "relationship":
        for code, label in labels.RELATIONSHIP_LABELS.items():
            if text in (code, label):
                return code
        raise Refused("Rapporto con il titolare non previsto dal modulo.")
    if len(text) > 200:
        raise Refused("Valore troppo lungo.")
    return text


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


@router.post("/pratiche/{reference}/correggi")
def correct(request: Request, reference: str, target: str = Form(...), field: str = Form(...),
            value: str = Form(""), note: str = Form(""), version: int = Form(...),
            user: CurrentUser = Depends(current_user)):
    def do():
        pif = request.app.state.sportello.settings.verification.paper_id_invalid_from
        with acting(request, user, reference, version) as (s, req):
            before = recheck.stored_evidence(req, pif)
            detail: dict = {"target": target, "field": field}
            if target == "request":
                if field not in labels.REQUEST_FIELDS:
                    raise HTTPException(400)
                new = clean_value(labels.REQUEST_FIELDS[field][1], value)
                old = getattr(req, field)
                setattr(req, field, new)
                anchor = "#dati"
            else:
                m = re.fullmatch(r"document:(\d+)", target)
                doc = s.get(Document, int(m.group(1))) if m else None
                if doc is None or doc.request_id != req.id:
                    raise HTTPException(404)
                detail.update(document_id=doc.id, slot=doc.slot)
                if field.startswith("col:"):
                    col = field.removeprefix("col:")
                    if col not in DOCUMENT_COLUMNS:
                        raise HTTPException(400)
                    new = _parse_date(" ".join(value.split())) if col == "expiry" else clean_value("text", value)[:40]
                    old = getattr(doc, col)
                    setattr(doc, col, new)
                else:
                    if field not in (doc.fields or {}):
                        raise HTTPException(400)
                    old = doc.fields[field]
                    new = clean_value("text", value)
                    doc.fields = {**doc.fields, field: new}  # a new dict: JSON columns track assignment only
                anchor = f"#doc-{doc.id}"
            if _jsonable(old) == _jsonable(new):
                raise Refused("Il valore è già quello indicato.")
            first = _first_original(req, target, field)
            detail.update(previous=_jsonable(old), value=_jsonable(new),
                          original=_jsonable(old) if first is _NONE else first)
            if note.strip():
                detail["note"] = note.strip()[:500]
            _auto_claim(s, req, user)
            req.version += 1  # the data a decision rests on changed: stale forms must not pass
            lifecycle.record(s, req, "field_corrected", user.username, detail)
            verdict = _recheck(s, req, user, before, pif)
            flash(request, "ok", "Dato corretto; il valore estratto resta nella cronologia. " + verdict)
            return _back(req.reference, anchor)
    return run_action(request, reference, do)


_NONE = object()


def _recheck(s, req: Req, user: CurrentUser, before, pif) -> str:
    """Run the rules again over the corrected evidence; what they now say, for the operator."""
    if req.status not in RECHECKED:
        return ""
    result = recheck.rerun(req, before, pif)
    if result.resolved or result.added:
        lifecycle.record(s, req, "rules_rerun", user.username, {
            "resolved": list(result.resolved), "added": list(result.added), "verdict": result.status})
    if req.status == "ready" and result.status != "ready":
        # Validated on data that turned out wrong: back to an operator's review (no citizen mail needed).
        lifecycle.transition(s, req, "needs_review", user.username, action="recheck", codes=list(result.added))
    return labels.RECHECK_VERDICT.format(verdict=labels.VERDICT_LABELS[result.status])


def _first_original(req: Req, target: str, field: str):
    for ev in req.events:
        d = ev.detail or {}
        if ev.kind == "field_corrected" and d.get("target") == target and d.get("field") == field:
            return d.get("original")
    return _NONE


@router.post("/pratiche/{reference}/revisione")
def review(request: Request, reference: str, outcome: str = Form(...), note: str = Form(""),
           override: str = Form(""), version: int = Form(...), user: CurrentUser = Depends(current_user)):
    if outcome not in ("ready", "incomplete"):
        raise HTTPException(400)
    if outcome == "incomplete":
        # "Manca qualcosa" only opens the integration request: the status changes when that
        # mail is queued, in the same transaction (backoffice.integration.send), never before.
        # Leaving the compose page ("Annulla") therefore leaves the request as it was.
        return RedirectResponse(f"/pratiche/{reference.upper()}/integrazione", status_code=303)

    def do():
        with acting(request, user, reference, version) as (s, req):
            _override_blocking(s, req, user, override)
            _auto_claim(s, req, user)
            lifecycle.transition(s, req, outcome, user.username, reason=note.strip()[:1000] or None, action="review")
            flash(request, "ok", "Revisione registrata: la pratica è pronta per la chiamata.")
            return _back(req.reference)
    return run_action(request, reference, do)


def _override_blocking(s, req: Req, user: CurrentUser, reason: str) -> None:
    """Validating over a blocking finding: only a supervisor, only with a written reason kept as an
    event, and never over one no reason can set aside (a TS without a chip has no PIN to release)."""
    blocking = [f.code for f in req.findings if f.severity == "blocking"]
    if not blocking:
        return
    if never := [c for c in blocking if c in NEVER_OVERRIDDEN]:
        raise Refused(labels.NEVER_OVERRIDDEN[never[0]])
    if not user.supervises:
        raise Refused(labels.OVERRIDE_SUPERVISOR_ONLY.format(count=len(blocking)))
    text = " ".join(reason.split())
    if len(text) < 10:
        raise Refused(labels.OVERRIDE_NEEDS_REASON)
    lifecycle.record(s, req, "findings_overridden", user.username, {"codes": blocking, "reason": text[:1000]})


REJECTION_KIND = "rejected"


@router.post("/pratiche/{reference}/rifiuta")
def reject(request: Request, reference: str, reason: str = Form(""), version: int = Form(...),
           user: CurrentUser = Depends(current_user)):
    """Close the request and tell the citizen why, in one transaction with the outbox row."""
    def do():
        text = reason.strip()
        if len(text) < 5:
            raise Refused(labels.REJECT_NEEDS_REASON)
        app = request.app.state.sportello
        with acting(request, user, reference, version) as (s, req):
            _auto_claim(s, req, user)
            lifecycle.transition(s, req, "rejected", user.username, reason=text[:1000], action="reject")
            # An operator's decision, answering no message of the citizen's: never rate limited,
            # so it cannot be suppressed and leave the citizen uninformed.
            msg = wiring.request_mail(app, s, req, REJECTION_KIND, reason=text[:1000])
            if msg is None or outgoing.queue(s, req, REJECTION_KIND, msg, user.username, rate_limited=False) is None:
                raise Refused(labels.REJECT_NO_RECIPIENT)  # rolls the transition back with the rest
            recipient = msg["To"]
            flash(request, "ok", labels.REJECTED_MAIL_QUEUED.format(recipient=recipient))
            return _back(req.reference)
    return run_action(request, reference, do)


# Statuses an operator may close as "not a request" (junk the automation could not tell from one).
CLOSABLE_AS_JUNK = ("received", "needs_review")


@router.post("/pratiche/{reference}/non-richiesta")
def not_a_request(request: Request, reference: str, reason: str = Form(""), version: int = Form(...),
                  user: CurrentUser = Depends(current_user)):
    """Close as `not_a_request`: kept with who and why, never answered (SPEC.md); a new mail reopens it."""
    def do():
        text = " ".join(reason.split())
        if len(text) < 5:
            raise Refused(labels.JUNK_NEEDS_REASON)
        with acting(request, user, reference, version) as (s, req):
            if req.status not in CLOSABLE_AS_JUNK:
                raise IllegalTransition(req.reference, req.status, "not_a_request")
            _auto_claim(s, req, user)
            lifecycle.transition(s, req, "not_a_request", user.username, reason=text[:1000], action="not_a_request")
            flash(request, "ok", labels.JUNK_CLOSED)
            return _back(req.reference)
    return run_action(request, reference, do)

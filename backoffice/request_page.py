"""The request page, the scan viewer, and the scans themselves.

Opening a request is recorded ("opened" events, at most one per user every
few minutes): it is the access log of personal data, and it is how the page
knows that someone else has the same request open.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from backoffice import labels, request_view as rv
from backoffice.access import find_attachment, find_request
from backoffice.actions import CLOSABLE_AS_JUNK, NEVER_OVERRIDDEN
from backoffice.auth import CurrentUser, current_user
from backoffice.labels import OPEN_STATUSES
from backoffice.scans import ROTATIONS, ScanError, is_scan
from backoffice.templating import render
from backoffice.thread import thread
from backoffice.users import users_for_province
from db import lifecycle
from db.lifecycle import can_transition
from db.models import Document, Event, Message, OutgoingMail, Request as Req, User, as_utc, utcnow

router = APIRouter()

OPENED_EVERY = timedelta(minutes=5)
OPEN_NOTICE = timedelta(minutes=15)
REVIEWABLE = ("received", "needs_review", "incomplete", "ready")
INTEGRABLE = ("received", "needs_review", "incomplete", "ready")
ZOOMS = {"adatta": "Adatta", "100": "100%", "150": "150%", "200": "200%", "300": "300%"}


def _presence(s, req: Req, user: CurrentUser) -> list[tuple[str, object]]:
    """Record this opening; return who else opened or acted on the request recently."""
    now = utcnow()
    mine = s.scalar(select(func.max(Event.at)).where(
        Event.request_id == req.id, Event.kind == "opened", Event.actor == user.username))
    if mine is None or as_utc(mine) < now - OPENED_EVERY:
        lifecycle.record(s, req, "opened", user.username, {})
    rows = s.execute(select(Event.actor, func.max(Event.at)).where(
        Event.request_id == req.id, Event.actor != user.username, Event.at > now - OPEN_NOTICE,
        Event.actor.in_(select(User.username)))  # people, not the automation
        .group_by(Event.actor)).all()
    return [(actor, at) for actor, at in rows]


def recipient_of(req: Req) -> str | None:
    return req.contact_email or req.sender_email


def same_cf_requests(s, req: Req, user: CurrentUser) -> list[tuple[str, str, str, bool]]:
    """Other open requests, in any province, with this holder's codice fiscale:
    (reference, province, status, whether this user may open it)."""
    if not req.holder_codice_fiscale:
        return []
    rows = s.execute(select(Req.reference, Req.province, Req.status)
                     .where(Req.holder_codice_fiscale == req.holder_codice_fiscale, Req.id != req.id,
                            Req.status.in_(OPEN_STATUSES)).order_by(Req.created_at, Req.id).limit(20)).all()
    return [(ref, prov, status, prov in user.provinces) for ref, prov, status in rows]


@router.get("/pratiche/{reference}")
def request_page(request: Request, reference: str, user: CurrentUser = Depends(current_user)):
    app = request.app.state.sportello
    with app.db.session() as s:
        req = find_request(s, user, reference)
        req = s.scalar(select(Req).where(Req.id == req.id).options(
            selectinload(Req.documents).selectinload(Document.attachment),
            selectinload(Req.findings),
            selectinload(Req.messages).selectinload(Message.attachments),
            selectinload(Req.events)))
        others = _presence(s, req, user)
        outgoing = s.scalars(select(OutgoingMail).where(OutgoingMail.request_id == req.id)
                             .order_by(OutgoingMail.id)).all()
        events = list(req.events)
        fixes = rv.corrections(events)
        attachments = {a.id: a for m in req.messages for a in m.attachments}
        renderer = request.app.state.renderer
        scans = [(a, page) for a in attachments.values() if a.status == "ok" and is_scan(a.content_type, a.filename)
                 for page in range(1, renderer.page_count(a.sha256) + 1)]
        has_declarant = req.form_type in ("delegate", "guardian") or any(
            getattr(req, n) for n in rv.DECLARANT_FIELDS)
        mine = req.assigned_to == user.username
        locked = bool(req.assigned_to) and not mine and not user.supervises
        from backoffice.booking import booking_context

        blocking = list(dict.fromkeys(f.code for f in req.findings if f.severity == "blocking"))
        same_cf = same_cf_requests(s, req, user)

        ctx = dict(
            **booking_context(app, s, req, locked),
            req=req,
            holder=rv.request_fields(req, rv.HOLDER_FIELDS, fixes),
            declarant=rv.request_fields(req, rv.DECLARANT_FIELDS, fixes) if has_declarant else [],
            contact=rv.request_fields(req, rv.CONTACT_FIELDS, fixes),
            documents=rv.document_views(list(req.documents), fixes, rv.flagged_fields(list(req.findings))),
            findings=rv.finding_views(req, attachments),
            scans=scans,
            thread=thread(app.blobs, list(req.messages), list(outgoing)),
            history=[(ev, rv.event_text(ev)) for ev in reversed(events) if ev.kind != "opened"],
            openings=[ev for ev in reversed(events) if ev.kind == "opened"][:30],
            others=others,
            mine=mine,
            locked=locked,
            review_options=[t for t in ("ready", "incomplete") if t != req.status and can_transition(req.status, t)]
            if req.status in REVIEWABLE else [],
            blocking=blocking,
            never_overridden=[labels.NEVER_OVERRIDDEN[c] for c in blocking if c in NEVER_OVERRIDDEN],
            can_reject=can_transition(req.status, "rejected"),
            can_close_junk=req.status in CLOSABLE_AS_JUNK,
            same_cf=same_cf,
            can_integrate=req.status in INTEGRABLE and recipient_of(req) is not None,
            recipient=recipient_of(req),
            assignees=[u.username for u in users_for_province(s, req.province)] if user.supervises else [],
            viewer_url=rv.viewer_url,
        )
        return render(request, "request.html", user=user, nav="coda", **ctx)


def _attachment_context(request: Request, user: CurrentUser, reference: str, attachment_id: int):
    app = request.app.state.sportello
    with app.db.session() as s:
        req, att = find_attachment(s, user, reference, attachment_id)
        return app, req.reference, att


@router.get("/pratiche/{reference}/allegati/{attachment_id}")
def viewer(request: Request, reference: str, attachment_id: int, pagina: int = 1, zoom: str = "adatta",
           ruota: int = 0, user: CurrentUser = Depends(current_user)):
    app, ref, att = _attachment_context(request, user, reference, attachment_id)
    if not is_scan(att.content_type, att.filename) or att.status != "ok":
        raise HTTPException(404)
    pages = request.app.state.renderer.page_count(att.sha256)
    page = min(max(1, pagina), pages)
    zoom = zoom if zoom in ZOOMS else "adatta"
    rotate = ruota if ruota in ROTATIONS else 0
    base = f"/pratiche/{ref}/allegati/{att.id}"

    def link(**kw) -> str:
        values = {"pagina": page, "zoom": zoom, "ruota": rotate, **kw}
        return f"{base}?pagina={values['pagina']}&zoom={values['zoom']}&ruota={values['ruota']}"

    return render(request, "viewer.html", user=user, nav="coda", reference=ref, att=att, page=page, pages=pages,
                  zoom=zoom, zooms=ZOOMS, rotate=rotate, link=link,
                  image_url=f"{base}/pagina/{page}?dim=grande&ruota={rotate}")


@router.get("/pratiche/{reference}/allegati/{attachment_id}/pagina/{page}")
def scan_image(request: Request, reference: str, attachment_id: int, page: int, dim: str = "mini", ruota: int = 0,
               user: CurrentUser = Depends(current_user)):
    _, _, att = _attachment_context(request, user, reference, attachment_id)
    if att.status != "ok" or not is_scan(att.content_type, att.filename):
        raise HTTPException(404)
    try:
        jpeg = request.app.state.renderer.render(att.sha256, page, dim, ruota)
    except ScanError:
        raise HTTPException(404) from None
    return Response(jpeg, media_type="image/jpeg", headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f'inline; filename="pagina-{page}.jpg"',
    })


def _download_name(filename: str, attachment_id: int) -> str:
    name = re.sub(r"[\x00-\x1f\x7f\"\\/]", "_", filename or "").strip() or f"allegato-{attachment_id}"
    return name[:150]


@router.get("/pratiche/{reference}/allegati/{attachment_id}/originale")
def original(request: Request, reference: str, attachment_id: int, user: CurrentUser = Depends(current_user)):
    """The file exactly as received, as a download (never rendered by the browser)."""
    app = request.app.state.sportello
    with app.db.session() as s:
        req, att = find_attachment(s, user, reference, attachment_id)
        try:
            data = app.blobs.get(att.sha256)
        except OSError:
            raise HTTPException(404) from None
        lifecycle.record(s, req, "downloaded", user.username, {"attachment_id": att.id, "filename": att.filename})
        name = _download_name(att.filename, att.id)
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name)  # the plain fallback; filename* keeps the real name
    return Response(data, media_type="application/octet-stream", headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
    })

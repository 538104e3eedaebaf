"""Quarantined messages (intake could not read them) and the re-process action.

The re-processing itself belongs to the pipeline: create_app receives it as
a function `reprocess(app, message_id)`; without one the button is hidden.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from backoffice import labels
from backoffice.access import find_message
from backoffice.auth import CurrentUser, current_user
from backoffice.badges import failed_intake_clauses
from backoffice.templating import flash, render
from db import lifecycle
from db.models import Event, Message, Request as Req

log = logging.getLogger(__name__)
router = APIRouter()
LIMIT = 200
DISMISSED_SHOWN = 50
# Request statuses a dismissal may close as not_a_request when the dismissed message was all there was.
CLOSABLE = ("received", "needs_review")


@router.get("/intake-non-riuscite")
def failed_list(request: Request, user: CurrentUser = Depends(current_user)):
    app = request.app.state.sportello
    with app.db.session() as s:
        rows = s.execute(select(Message, Req.reference, Req.status)
                         .join(Req, Message.request_id == Req.id)
                         .where(*failed_intake_clauses(user.provinces), Req.province.in_(user.provinces))
                         .order_by(Message.stored_at.asc(), Message.id.asc()).limit(LIMIT)).all()
        dismissed = s.execute(select(Message, Req.reference, Event)
                              .join(Req, Message.request_id == Req.id)
                              .join(Event, Event.request_id == Req.id)
                              .where(Message.intake_status == "dismissed", Message.province.in_(user.provinces),
                                     Req.province.in_(user.provinces), Event.kind == "intake_dismissed")
                              .order_by(Event.at.desc(), Event.id.desc()).limit(DISMISSED_SHOWN * 4)).all()
        # One event per message: the latest dismissal (a message re-processed and dismissed again).
        seen: set[int] = set()
        archived = []
        for msg, reference, ev in dismissed:
            if (ev.detail or {}).get("message_id") == msg.id and msg.id not in seen:
                seen.add(msg.id)
                archived.append((msg, reference, ev))
        return render(request, "failed_intake.html", user=user, nav="intake", rows=rows,
                      archived=archived[:DISMISSED_SHOWN], can_reprocess=request.app.state.reprocess is not None)


@router.post("/intake-non-riuscite/{message_id}/archivia")
def dismiss(request: Request, message_id: int, reason: str = Form(""), user: CurrentUser = Depends(current_user)):
    """Set a quarantined message aside: kept, with who and why; its request closed if it held nothing else."""
    text = " ".join(reason.split())
    if len(text) < 5:
        flash(request, "error", labels.DISMISS_NEEDS_REASON)
        return RedirectResponse("/intake-non-riuscite", status_code=303)
    app = request.app.state.sportello
    with app.db.session() as s:
        msg = find_message(s, user, message_id)
        if msg.intake_status != "failed":
            flash(request, "warn", "Il messaggio non è più tra quelli non elaborati.")
            return RedirectResponse("/intake-non-riuscite", status_code=303)
        req = msg.request
        msg.intake_status = "dismissed"
        lifecycle.record(s, req, "intake_dismissed", user.username, {"message_id": msg.id, "reason": text[:1000]})
        others = [m for m in req.messages if m.direction == "in" and m.id != msg.id and m.intake_status == "ok"]
        if not others and req.status in CLOSABLE and lifecycle.can_transition(req.status, "not_a_request"):
            lifecycle.transition(s, req, "not_a_request", user.username, reason=text[:1000], action="dismissed")
            flash(request, "ok", labels.DISMISSED_AND_CLOSED.format(reference=req.reference))
        else:
            flash(request, "ok", labels.DISMISSED)
    return RedirectResponse("/intake-non-riuscite", status_code=303)


@router.post("/intake-non-riuscite/{message_id}/rielabora")
def reprocess(request: Request, message_id: int, user: CurrentUser = Depends(current_user)):
    hook = request.app.state.reprocess
    if hook is None:
        raise HTTPException(404)
    app = request.app.state.sportello
    with app.db.session() as s:
        msg = find_message(s, user, message_id)
        request_id = msg.request_id
    try:
        hook(app, message_id)
        outcome, error = "ok", None
    except Exception as exc:  # noqa: BLE001 - the pipeline's failure is shown, never a 500
        outcome, error = "error", type(exc).__name__
        log.warning("re-processing message %s failed: %s", message_id, type(exc).__name__)
    with app.db.session() as s:
        req = s.get(Req, request_id)
        still_failed = s.scalar(select(Message.intake_status).where(Message.id == message_id)) == "failed"
        detail = {"message_id": message_id, "outcome": outcome}
        if error:
            detail["error"] = error
        lifecycle.record(s, req, "intake_reprocessed", user.username, detail)
    if outcome != "ok":
        flash(request, "error", f"Nuova elaborazione non riuscita ({error}).")
    elif still_failed:
        flash(request, "warn", "Elaborato di nuovo, ma il messaggio non è ancora leggibile.")
    else:
        flash(request, "ok", "Messaggio elaborato di nuovo.")
    return RedirectResponse("/intake-non-riuscite", status_code=303)

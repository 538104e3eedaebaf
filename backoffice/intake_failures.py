"""Quarantined messages (intake could not read them) and the re-process action.

The re-processing itself belongs to the pipeline: create_app receives it as
a function `reprocess(app, message_id)`; without one the button is hidden.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from backoffice.access import find_message
from backoffice.auth import CurrentUser, current_user
from backoffice.badges import failed_intake_clauses
from backoffice.templating import flash, render
from db import lifecycle
from db.models import Message, Request as Req

log = logging.getLogger(__name__)
router = APIRouter()
LIMIT = 200


@router.get("/intake-non-riuscite")
def failed_list(request: Request, user: CurrentUser = Depends(current_user)):
    app = request.app.state.sportello
    with app.db.session() as s:
        rows = s.execute(select(Message, Req.reference, Req.status)
                         .join(Req, Message.request_id == Req.id)
                         .where(*failed_intake_clauses(user.provinces), Req.province.in_(user.provinces))
                         .order_by(Message.stored_at.asc(), Message.id.asc()).limit(LIMIT)).all()
        return render(request, "failed_intake.html", user=user, nav="intake", rows=rows,
                      can_reprocess=request.app.state.reprocess is not None)


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

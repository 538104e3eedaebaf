"""Booking the identification call from the request page.

A `ready` request shows the number to call and the next free slots: one
click books (with an optional note of the call). A booked request can be
moved to another slot, cancelled (back to `ready`) or marked as a no-show.
The checks of the other actions come first (visible, not in someone else's
charge, unchanged since the page was shown); then scheduling's commands,
whose database constraints settle any race ("slot già occupato").
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session

from backoffice.actions import Refused, _auto_claim, _back, acting, run_action
from backoffice.auth import CurrentUser, current_user
from backoffice.templating import flash
from db.models import Request as Req
from scheduling import bookings
from scheduling.calendar import Slot, to_rome
from scheduling import wiring

router = APIRouter()

NEXT_SLOTS = 8
WEEKDAYS = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")


def slot_value(slot: Slot) -> str:
    return f"{slot.start.isoformat()}|{slot.desk}"


def slot_label(start: datetime, desk: int | None = None) -> str:
    local = to_rome(start)
    text = f"{WEEKDAYS[local.weekday()]} {local:%d/%m} ore {local:%H:%M}"
    return f"{text}, sportello {desk}" if desk else text


def _parse_slot(value: str) -> tuple[datetime, int | None]:
    try:
        start, _, desk = value.partition("|")
        return datetime.fromisoformat(start), (int(desk) if desk else None)
    except ValueError:
        raise Refused("Orario non valido: scegli uno degli orari proposti.") from None


def booking_context(app, s: Session, req: Req, locked: bool) -> dict:
    """What the request page needs to show and act on the booking."""
    active = bookings.active_booking(s, req.id) if req.id else None
    ctx: dict = {"booking": None, "free_slots": [], "phone": req.contact_phone,
                 "no_shows": bookings.no_shows(s, req.id) if req.id else 0,
                 "no_show_limit": app.settings.calendar.no_show_limit, "can_book": False}
    if active is not None:
        ctx["booking"] = {"start": to_rome(active.start), "end": to_rome(active.end), "desk": active.desk,
                          "operator": active.operator, "note": active.note, "reschedules": active.reschedules,
                          "label": slot_label(active.start, active.desk)}
    if not locked and (req.status == "ready" or (req.status == "booked" and active is not None)):
        ctx["can_book"] = True
        current = active.start if active is not None else None
        slots = wiring.next_free(app, req.province, count=NEXT_SLOTS + 1)
        # Moving to the time it already has is no move (another desk may be free then).
        slots = [x for x in slots if current is None or x.start != to_rome(current)][:NEXT_SLOTS]
        ctx["free_slots"] = [(slot_value(x), slot_label(x.start)) for x in slots]
    return ctx


def _precheck(request: Request, user: CurrentUser, reference: str, version: int) -> str:
    with acting(request, user, reference, version) as (s, req):
        _auto_claim(s, req, user)
        return req.reference


def _booking_action(request: Request, reference: str, fn):
    def do():
        try:
            return fn()
        except bookings.BookingError as exc:
            raise Refused(_sentence(str(exc))) from None
    return run_action(request, reference, do, "#prenotazione")


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


@router.post("/pratiche/{reference}/prenota")
def book(request: Request, reference: str, slot: str = Form(...), note: str = Form(""), version: int = Form(...),
         user: CurrentUser = Depends(current_user)):
    def do():
        start, desk = _parse_slot(slot)
        ref = _precheck(request, user, reference, version)
        out = wiring.book(request.app.state.sportello, ref, start, actor=user.username, desk=None,
                          note=note.strip()[:500] or None)
        flash(request, "ok", f"Videochiamata prenotata: {slot_label(out.start, out.desk)}.")
        return _back(ref, "#prenotazione")
    return _booking_action(request, reference, do)


@router.post("/pratiche/{reference}/sposta")
def move(request: Request, reference: str, slot: str = Form(...), version: int = Form(...),
         user: CurrentUser = Depends(current_user)):
    def do():
        start, desk = _parse_slot(slot)
        ref = _precheck(request, user, reference, version)
        out = wiring.move(request.app.state.sportello, ref, start, actor=user.username, desk=None)
        flash(request, "ok", f"Videochiamata spostata: {slot_label(out.start, out.desk)}.")
        return _back(ref, "#prenotazione")
    return _booking_action(request, reference, do)


@router.post("/pratiche/{reference}/annulla-prenotazione")
def cancel(request: Request, reference: str, reason: str = Form(""), version: int = Form(...),
           user: CurrentUser = Depends(current_user)):
    def do():
        ref = _precheck(request, user, reference, version)
        wiring.cancel(request.app.state.sportello, ref, actor=user.username, reason=reason.strip()[:500] or None)
        flash(request, "ok", "Prenotazione annullata: la pratica è di nuovo pronta per la chiamata.")
        return _back(ref, "#prenotazione")
    return _booking_action(request, reference, do)


@router.post("/pratiche/{reference}/assente")
def no_show(request: Request, reference: str, version: int = Form(...), user: CurrentUser = Depends(current_user)):
    def do():
        ref = _precheck(request, user, reference, version)
        out = wiring.no_show(request.app.state.sportello, ref, actor=user.username)
        if out.request_status == "rejected":
            flash(request, "warn", "Assenza registrata: raggiunto il numero massimo di assenze, la pratica è "
                                   "respinta e il cittadino è stato avvisato.")
        else:
            flash(request, "ok", "Assenza registrata: la pratica è di nuovo pronta per la chiamata.")
        return _back(ref, "#prenotazione")
    return _booking_action(request, reference, do)

"""Bookings of the identification call, in the database.

Each command is its own unit of work on a `Database`: the slot is checked
against the office calendar for a readable refusal, and the database's
unique constraints (`uq_booking_slot`, `uq_booking_active_request`) are what
actually keeps two callers out of one slot, on SQLite and PostgreSQL alike.
Status changes go through db/lifecycle.py; every action is an event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import lifecycle
from db.models import Booking, Request, as_utc, utcnow
from db.session import Database
from scheduling.calendar import ROME, Booked, OfficeCalendar, Slot, closed_reason, day_slots, free_slots, to_rome

ACTIVE = "active"
SLOT_TAKEN = "slot già occupato"


class BookingError(Exception):
    """A refusal, one line in Italian, for the clerk or the CLI."""


class SlotTaken(BookingError):
    def __init__(self) -> None:
        super().__init__(SLOT_TAKEN)


@dataclass(frozen=True)
class Outcome:
    reference: str
    booking_id: int
    start: datetime  # aware, Europe/Rome
    end: datetime
    desk: int
    status: str
    request_status: str


def _outcome(req: Request, b: Booking) -> Outcome:
    return Outcome(req.reference, b.id, to_rome(b.start), to_rome(b.end), b.desk, b.status, req.status)


def active_booking(s: Session, request_id: int) -> Booking | None:
    return s.scalar(select(Booking).where(Booking.request_id == request_id, Booking.status == ACTIVE))


def booked_in(s: Session, province: str, first: date, count: int) -> list[Booked]:
    """Active bookings of an office between two local dates, as the slot computation takes them."""
    lo = as_utc(datetime.combine(first, time(0), tzinfo=ROME)) - timedelta(days=1)
    hi = lo + timedelta(days=count + 2)
    rows = s.execute(
        select(Booking.desk, Booking.start, Booking.end, Request.reference)
        .join(Request, Request.id == Booking.request_id)
        .where(Booking.province == province, Booking.status == ACTIVE, Booking.start >= lo, Booking.start < hi)
    ).all()
    return [Booked(desk, as_utc(start), as_utc(end), ref) for desk, start, end, ref in rows]


def no_shows(s: Session, request_id: int) -> int:
    return s.scalar(select(func.count()).select_from(Booking)
                    .where(Booking.request_id == request_id, Booking.status == "no_show"))


def _request(s: Session, reference: str) -> Request:
    req = s.scalar(select(Request).where(Request.reference == reference))
    if req is None:
        raise BookingError(f"nessuna pratica {reference}")
    return req


def _when(dt: datetime) -> str:
    return to_rome(dt).strftime("%d/%m/%Y %H:%M")


def _candidates(s: Session, cal: OfficeCalendar, start: datetime, desk: int | None, now: datetime,
                ignore_booking: int | None = None) -> list[Slot]:
    """The free grid slots at `start` (that desk's, or every desk's), or a BookingError saying why not."""
    start = as_utc(start)
    day = to_rome(start).date()
    reason = closed_reason(cal, day)
    if reason:
        raise BookingError(f"l'ufficio {cal.province} è chiuso il {day:%d/%m/%Y} ({reason})")
    if desk is not None and not 1 <= desk <= cal.desks:
        raise BookingError(f"l'ufficio {cal.province} non ha lo sportello {desk} (sportelli: 1-{cal.desks})")
    grid = [x for x in day_slots(cal, day) if x.start == start and (desk is None or x.desk == desk)]
    if not grid:
        raise BookingError(f"{_when(start)} non è l'inizio di uno slot dell'ufficio {cal.province}")
    if start < as_utc(now) + timedelta(minutes=cal.min_notice_minutes):
        raise BookingError(f"{_when(start)} è passato o entro il preavviso minimo di "
                           f"{cal.min_notice_minutes} minuti")
    taken = [b for b in booked_in(s, cal.province, day, 1)]
    if ignore_booking is not None:
        own = s.get(Booking, ignore_booking)
        taken = [b for b in taken if not (b.desk == own.desk and b.start == as_utc(own.start))]
    free = {(x.start, x.desk) for x in free_slots(cal, day, 1, taken, now)}
    ok = [x for x in grid if (x.start, x.desk) in free]
    if not ok:
        away = [x for x in grid if any(a.desk == x.desk and a.start < x.end and x.start < a.end for a in cal.absences)]
        if len(away) == len(grid):
            raise BookingError(f"{_when(start)}: l'operatore dello sportello è assente")
        raise SlotTaken()
    return ok


def book(db: Database, cal: OfficeCalendar, reference: str, start: datetime, *, now: datetime, actor: str,
         desk: int | None = None, note: str | None = None,
         on_change: Callable[[Session, Request, Booking, str], None] | None = None) -> Outcome:
    """`ready → booked` on the slot at `start` (that desk, or the first free one)."""
    with db.session() as s:
        req = _request(s, reference)
        if req.province != cal.province:
            raise BookingError(f"la pratica {reference} è dell'ufficio {req.province}, non {cal.province}")
        if req.status != "ready":
            raise BookingError(f"la pratica {reference} è in stato '{req.status}': si prenota solo una pratica 'ready'")
        candidates = _candidates(s, cal, start, desk, now)
    return _take(db, reference, candidates, actor=actor, note=note, on_change=on_change)


DEMO_NOTE = "dimostrazione: videochiamata subito"


def book_demo_call(db: Database, reference: str, *, now: datetime, minutes: int = 30, actor: str = "demo",
                   on_change: Callable[[Session, Request, Booking, str], None] | None = None) -> Outcome:
    """`ready → booked` on a call that starts now, outside the office calendar: `sportello demo` only,
    so the whole call can be tried at once on the machine that runs the demo (desk 1)."""
    start = as_utc(now).replace(second=0, microsecond=0)
    return _take(db, reference, [Slot(start, start + timedelta(minutes=minutes), 1)], actor=actor,
                 note=DEMO_NOTE, on_change=on_change)


def _take(db: Database, reference: str, candidates: list[Slot], *, actor: str, note: str | None,
          on_change: Callable[[Session, Request, Booking, str], None] | None) -> Outcome:
    """The first of `candidates` still free, booked for `reference`; SlotTaken when none is."""
    for slot in candidates:
        try:
            with db.session() as s:
                req = _request(s, reference)
                if req.status != "ready":
                    raise BookingError(f"la pratica {reference} è in stato '{req.status}'")
                b = Booking(request_id=req.id, province=req.province, desk=slot.desk, start=slot.start,
                            end=slot.end, status=ACTIVE, active_request_id=req.id, active_start=slot.start,
                            operator=actor, note=note or None, uid=f"{uuid.uuid4()}@sportello",
                            sequence=0, reschedules=0)
                s.add(b)
                s.flush()  # the constraints speak here
                lifecycle.transition(s, req, "booked", actor, booking=b.id, start=to_rome(slot.start).isoformat(),
                                     desk=slot.desk, **({"note": note} if note else {}))
                if on_change:
                    on_change(s, req, b, "booked")
                return _outcome(req, b)
        except IntegrityError:
            with db.session() as s:
                req = _request(s, reference)
                if active_booking(s, req.id) is not None:
                    raise BookingError(f"la pratica {reference} ha già una prenotazione") from None
            continue
    raise SlotTaken()


def move(db: Database, cal: OfficeCalendar, reference: str, start: datetime, *, now: datetime, actor: str,
         desk: int | None = None,
         on_change: Callable[[Session, Request, Booking, str], None] | None = None) -> Outcome:
    """Reschedule: the same booking (same UID) on a new slot, SEQUENCE + 1."""
    with db.session() as s:
        req = _request(s, reference)
        b = active_booking(s, req.id)
        if b is None:
            raise BookingError(f"la pratica {reference} non ha una prenotazione attiva")
        candidates = _candidates(s, cal, start, desk, now, ignore_booking=b.id)
    for slot in candidates:
        try:
            with db.session() as s:
                req = _request(s, reference)
                b = active_booking(s, req.id)
                if b is None:
                    raise BookingError(f"la pratica {reference} non ha una prenotazione attiva")
                old = to_rome(b.start).isoformat()
                b.desk, b.start, b.end, b.active_start = slot.desk, slot.start, slot.end, slot.start
                b.reschedules += 1
                b.sequence += 1
                b.updated_at = utcnow()
                req.version += 1  # the booking changed: pages and links of the old one are stale
                s.flush()
                lifecycle.record(s, req, "booking_moved", actor, {
                    "booking": b.id, "from": old, "to": to_rome(slot.start).isoformat(), "desk": slot.desk})
                if on_change:
                    on_change(s, req, b, "moved")
                return _outcome(req, b)
        except IntegrityError:
            continue
    raise SlotTaken()


def _end(db: Database, reference: str, status: str, actor: str, reason: str | None,
         on_change: Callable[[Session, Request, Booking, str], None] | None, no_show_limit: int | None = None) -> Outcome:
    with db.session() as s:
        req = _request(s, reference)
        b = active_booking(s, req.id)
        if b is None:
            raise BookingError(f"la pratica {reference} non ha una prenotazione attiva")
        b.status = status
        b.active_request_id = None
        b.active_start = None
        b.sequence += 1
        b.updated_at = utcnow()
        s.flush()
        kind = "booking_cancelled" if status == "cancelled" else "booking_no_show"
        detail = {"booking": b.id, "start": to_rome(b.start).isoformat()}
        if reason:
            detail["reason"] = reason
        lifecycle.record(s, req, kind, actor, detail)
        if req.status == "booked":
            lifecycle.transition(s, req, "ready", actor)
        if status == "no_show" and no_show_limit is not None:
            count = no_shows(s, req.id)
            if count >= no_show_limit:
                lifecycle.transition(s, req, "rejected", actor,
                                     reason=f"assente a {count} videochiamate prenotate", no_shows=count)
        if on_change:
            on_change(s, req, b, "cancelled" if status == "cancelled" else "no_show")
        return _outcome(req, b)


def cancel(db: Database, reference: str, *, actor: str, reason: str | None = None,
           on_change: Callable[[Session, Request, Booking, str], None] | None = None) -> Outcome:
    """The booking ends; the request goes back to `ready`."""
    return _end(db, reference, "cancelled", actor, reason, on_change)


def no_show(db: Database, reference: str, *, actor: str, limit: int,
            on_change: Callable[[Session, Request, Booking, str], None] | None = None) -> Outcome:
    """The citizen missed the call: back to `ready`, counted; at `limit` the request is rejected."""
    return _end(db, reference, "no_show", actor, None, on_change, no_show_limit=limit)


def listing(s: Session, province: str | None = None, day: date | None = None) -> list[tuple[Request, Booking]]:
    q = (select(Request, Booking).join(Booking, Booking.request_id == Request.id)
         .where(Booking.status == ACTIVE).order_by(Booking.start, Booking.province, Booking.desk))
    if province:
        q = q.where(Booking.province == province)
    rows = [tuple(r) for r in s.execute(q)]
    if day:
        rows = [(r, b) for r, b in rows if to_rome(b.start).date() == day]
    return rows

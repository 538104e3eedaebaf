"""Bookings in the database: constraints, lifecycle, reschedule, cancel, no-show."""

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db.models import Booking, Event, OutgoingMail, Request
from scheduling import bookings
from scheduling.calendar import ROME
from tests.scheduling.conftest import NOW, make_ready


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ROME)


def status(app, ref):
    with app.db.session() as s:
        return s.scalar(select(Request.status).where(Request.reference == ref))


def test_book_moves_ready_to_booked_with_an_event(app, office):
    ref, = make_ready(app, 1)
    out = bookings.book(app.db, office, ref, at("2026-12-10T10:00"), now=NOW, actor="op.mi", note="chiamato")
    assert (out.desk, out.request_status, out.start.isoformat()) == (1, "booked", "2026-12-10T10:00:00+01:00")
    assert status(app, ref) == "booked"
    with app.db.session() as s:
        ev = s.scalars(select(Event).where(Event.to_status == "booked")).one()
        assert ev.actor == "op.mi" and ev.detail["note"] == "chiamato" and ev.detail["desk"] == 1


def test_without_a_desk_the_next_free_desk_is_taken(app, office):
    a, b, c = make_ready(app, 3)
    assert bookings.book(app.db, office, a, at("2026-12-10T10:00"), now=NOW, actor="x").desk == 1
    assert bookings.book(app.db, office, b, at("2026-12-10T10:00"), now=NOW, actor="x").desk == 2
    with pytest.raises(bookings.SlotTaken, match="slot già occupato"):
        bookings.book(app.db, office, c, at("2026-12-10T10:00"), now=NOW, actor="x")
    assert status(app, c) == "ready"


@pytest.mark.parametrize("start,message", [
    ("2026-12-07T10:00", "chiuso il 07/12/2026"),          # Sant'Ambrogio
    ("2026-12-12T10:00", "chiuso il 12/12/2026"),          # Saturday
    ("2026-12-10T10:05", "non è l'inizio di uno slot"),
    ("2026-12-10T08:30", "non è l'inizio di uno slot"),
    ("2026-12-10T09:00", "preavviso minimo"),              # within the hour's notice
])
def test_refusals_are_one_line(app, office, start, message):
    ref, = make_ready(app, 1)
    with pytest.raises(bookings.BookingError, match=message) as exc:
        bookings.book(app.db, office, ref, at(start), now=NOW, actor="x")
    assert "\n" not in str(exc.value)
    assert status(app, ref) == "ready"


def test_only_a_ready_request_is_booked_and_only_once(app, office):
    ref, = make_ready(app, 1)
    bookings.book(app.db, office, ref, at("2026-12-10T10:00"), now=NOW, actor="x")
    with pytest.raises(bookings.BookingError, match="stato 'booked'"):
        bookings.book(app.db, office, ref, at("2026-12-10T11:00"), now=NOW, actor="x")


def test_the_constraints_hold_without_the_python_checks(app):
    a, b = make_ready(app, 2)
    start = at("2026-12-10T10:00")
    with app.db.session() as s:
        ra, rb = (s.scalar(select(Request).where(Request.reference == r)) for r in (a, b))
        ids = (ra.id, rb.id)
    def row(rid, uid, start=start, desk=1):
        return Booking(request_id=rid, province="MI", desk=desk, start=start, end=start, status="active",
                       active_request_id=rid, active_start=start, uid=uid)
    with pytest.raises(IntegrityError):
        with app.db.session() as s:
            s.add_all([row(ids[0], "u1"), row(ids[1], "u2")])  # one office, desk, start
    with pytest.raises(IntegrityError):
        with app.db.session() as s:
            s.add_all([row(ids[0], "u1"), row(ids[0], "u2", desk=2)])  # one active booking per request
    with app.db.session() as s:  # ended bookings free both keys
        s.add_all([row(ids[0], "u1"), row(ids[1], "u2", desk=2)])
        s.flush()
        for x in s.scalars(select(Booking)):
            x.status, x.active_request_id, x.active_start = "cancelled", None, None
        s.flush()
        s.add_all([row(ids[0], "u3"), row(ids[1], "u4", desk=2)])


def test_move_keeps_the_booking_and_raises_its_sequence(app, office):
    ref, other = make_ready(app, 2)
    first = bookings.book(app.db, office, ref, at("2026-12-10T10:00"), now=NOW, actor="x", desk=1)
    bookings.book(app.db, office, other, at("2026-12-10T11:00"), now=NOW, actor="x", desk=1)
    with pytest.raises(bookings.SlotTaken):
        bookings.move(app.db, office, ref, at("2026-12-10T11:00"), now=NOW, actor="x", desk=1)
    moved = bookings.move(app.db, office, ref, at("2026-12-11T09:30"), now=NOW, actor="x")
    assert moved.booking_id == first.booking_id and moved.start.isoformat() == "2026-12-11T09:30:00+01:00"
    with app.db.session() as s:
        b = s.get(Booking, first.booking_id)
        assert (b.reschedules, b.sequence) == (1, 1)
    # The old slot is free again.
    third, = make_ready(app, 1)
    assert bookings.book(app.db, office, third, at("2026-12-10T10:00"), now=NOW, actor="x", desk=1).desk == 1


def test_cancel_goes_back_to_ready_and_frees_the_slot(app, office):
    ref, = make_ready(app, 1)
    bookings.book(app.db, office, ref, at("2026-12-10T10:00"), now=NOW, actor="x", desk=1)
    out = bookings.cancel(app.db, ref, actor="x")
    assert out.status == "cancelled" and status(app, ref) == "ready"
    assert bookings.book(app.db, office, ref, at("2026-12-10T10:00"), now=NOW, actor="x", desk=1).desk == 1
    with pytest.raises(bookings.BookingError, match="non ha una prenotazione attiva"):
        bookings.cancel(app.db, make_ready(app, 1)[0], actor="x")


def test_no_shows_are_counted_and_the_last_rejects_the_request(app, office):
    ref, = make_ready(app, 1)
    bookings.book(app.db, office, ref, at("2026-12-10T10:00"), now=NOW, actor="x")
    assert bookings.no_show(app.db, ref, actor="x", limit=2).request_status == "ready"
    bookings.book(app.db, office, ref, at("2026-12-10T10:00"), now=NOW, actor="x")
    out = bookings.no_show(app.db, ref, actor="x", limit=2)
    assert out.request_status == "rejected"
    with app.db.session() as s:
        ev = s.scalars(select(Event).where(Event.to_status == "rejected")).one()
        assert "assente a 2 videochiamate" in ev.detail["reason"]


def test_export_carries_the_booking(app, office):
    from db.export import all_requests, request_record

    ref, never = make_ready(app, 2)
    bookings.book(app.db, office, ref, at("2026-12-10T10:00"), now=NOW, actor="op.mi")
    bookings.move(app.db, office, ref, at("2026-12-10T14:30"), now=NOW, actor="op.mi", desk=2)
    with app.db.session() as s:
        recs = {r.reference: request_record(r) for r in all_requests(s)}
    assert recs[never]["booking"] is None
    assert recs[ref]["booking"] == {"start": "2026-12-10T14:30:00+01:00", "end": "2026-12-10T14:50:00+01:00",
                                    "desk": 2, "operator": "op.mi", "status": "active", "reschedules": 1}


def test_an_absent_operators_desk_is_refused_as_such(app, office):
    from dataclasses import replace

    from scheduling.calendar import Absence

    away = replace(office, absences=(Absence(2, at("2026-12-10T09:00"), at("2026-12-10T12:00"), "rossi"),))
    ref, = make_ready(app, 1)
    with pytest.raises(bookings.BookingError, match="assente"):
        bookings.book(app.db, away, ref, at("2026-12-10T10:00"), now=NOW, actor="x", desk=2)
    assert bookings.book(app.db, away, ref, at("2026-12-10T10:00"), now=NOW, actor="x").desk == 1

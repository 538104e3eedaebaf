"""Booking from the request page (HTTP, CSRF, events); the browser test is test_booking_browser.py."""

import re

import pytest
from sqlalchemy import select

from db.models import Booking, Event, OutgoingMail, Request

SLOT_RE = re.compile(r'name="slot" value="([^"]+)"')


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-09T08:00")


def status_of(app, ref):
    with app.db.session() as s:
        return s.scalar(select(Request.status).where(Request.reference == ref))


def version_of(app, ref):
    with app.db.session() as s:
        return s.scalar(select(Request.version).where(Request.reference == ref))


def test_a_ready_request_shows_the_phone_and_the_next_free_slots(seeded, login):
    c = login("op.mi")
    html = c.get(f"/pratiche/{seeded.refs['mi_ready']}").text
    assert 'href="tel:+393331234567"' in html
    slots = SLOT_RE.findall(html)
    assert len(slots) == 8
    assert "mer 09/12 ore 10:00" in html  # 08:00 + 2 h of notice
    assert "mer 09/12 ore 09:30" not in html


def test_one_click_books_with_a_note_and_an_event(app, seeded, login):
    c = login("op.mi")
    ref = seeded.refs["mi_ready"]
    first = SLOT_RE.findall(c.get(f"/pratiche/{ref}").text)[0]
    r = c.post(f"/pratiche/{ref}/prenota", {"slot": first, "note": "risponde al secondo squillo",
                                            "version": version_of(app, ref)})
    assert r.status_code == 303
    assert status_of(app, ref) == "booked"
    page = c.get(f"/pratiche/{ref}").text
    assert "Videochiamata prenotata: mer 09/12 ore 10:00, sportello 1" in page
    assert "risponde al secondo squillo" in page
    with app.db.session() as s:
        rid = s.scalar(select(Request.id).where(Request.reference == ref))
        ev = s.scalars(select(Event).where(Event.request_id == rid, Event.to_status == "booked")).one()
        assert ev.actor == "op.mi"
        assert s.scalars(select(OutgoingMail).where(OutgoingMail.request_id == rid,
                                                    OutgoingMail.kind == "booking_invitation")).one()


def test_without_the_csrf_token_nothing_is_booked(app, seeded, login):
    c = login("op.mi")
    ref = seeded.refs["mi_ready"]
    first = SLOT_RE.findall(c.get(f"/pratiche/{ref}").text)[0]
    r = c.post(f"/pratiche/{ref}/prenota", {"slot": first, "version": version_of(app, ref)}, token=False)
    assert r.status_code == 403
    assert status_of(app, ref) == "ready"


def test_a_taken_slot_is_refused_clearly(app, seeded, login):
    from scheduling import wiring
    from datetime import datetime
    from scheduling.calendar import ROME

    c = login("op.mi")
    ref = seeded.refs["mi_ready"]
    page = c.get(f"/pratiche/{ref}").text
    first = SLOT_RE.findall(page)[0]
    # Meanwhile both desks of 10:00 are taken by others.
    with app.db.session() as s:
        others = [r.reference for r in s.scalars(select(Request).where(Request.province == "MI",
                                                                       Request.status == "needs_review"))][:2]
        for o in s.scalars(select(Request).where(Request.reference.in_(others))):
            o.status = "ready"
    for o in others:
        wiring.book(app, o, datetime(2026, 12, 9, 10, 0, tzinfo=ROME), actor="op.mi2")
    r = c.post(f"/pratiche/{ref}/prenota", {"slot": first, "version": version_of(app, ref)})
    assert r.status_code == 303
    assert "Slot già occupato." in c.get(f"/pratiche/{ref}").text
    assert status_of(app, ref) == "ready"


def test_move_cancel_and_no_show_from_the_page(app, seeded, login):
    c = login("op.mi")
    ref = seeded.refs["mi_ready"]
    slots = SLOT_RE.findall(c.get(f"/pratiche/{ref}").text)
    c.post(f"/pratiche/{ref}/prenota", {"slot": slots[0], "version": version_of(app, ref)})
    page = c.get(f"/pratiche/{ref}").text
    options = re.findall(r'<option value="([^"]+)"', page)
    assert options and "Il cittadino non si è presentato" in page
    c.post(f"/pratiche/{ref}/sposta", {"slot": options[3], "version": version_of(app, ref)})
    page = c.get(f"/pratiche/{ref}").text
    assert "Videochiamata spostata" in page and "spostata 1 volta" in page
    c.post(f"/pratiche/{ref}/assente", {"version": version_of(app, ref)})
    assert status_of(app, ref) == "ready"
    assert "Assenze: 1 su 2" in c.get(f"/pratiche/{ref}").text
    slots = SLOT_RE.findall(c.get(f"/pratiche/{ref}").text)
    c.post(f"/pratiche/{ref}/prenota", {"slot": slots[0], "version": version_of(app, ref)})
    c.post(f"/pratiche/{ref}/annulla-prenotazione", {"reason": "chiede un altro giorno",
                                                     "version": version_of(app, ref)})
    assert status_of(app, ref) == "ready"
    history = c.get(f"/pratiche/{ref}").text
    for label in ("Videochiamata spostata", "Assente alla videochiamata", "Prenotazione annullata",
                  "chiede un altro giorno"):
        assert label in history
    with app.db.session() as s:
        assert [b.status for b in s.scalars(select(Booking).order_by(Booking.id))] == ["no_show", "cancelled"]


def test_a_stale_page_does_not_book(app, seeded, login):
    c = login("op.mi")
    ref = seeded.refs["mi_ready"]
    first = SLOT_RE.findall(c.get(f"/pratiche/{ref}").text)[0]
    c.post(f"/pratiche/{ref}/prenota", {"slot": first, "version": version_of(app, ref) - 1})
    assert status_of(app, ref) == "ready"
    assert "modificata da qualcun altro" in c.get(f"/pratiche/{ref}").text


def test_office_calendar_day_and_week_and_my_calls(app, seeded, login, monkeypatch):
    from datetime import datetime

    from scheduling.calendar import ROME
    from scheduling import wiring

    ref = seeded.refs["mi_ready"]
    wiring.book(app, ref, datetime(2026, 12, 9, 10, 0, tzinfo=ROME), actor="op.mi")
    c = login("op.mi")
    day = c.get("/calendario?provincia=MI&giorno=2026-12-09").text
    assert "mercoledì 09/12/2026" in day and f'href="/pratiche/{ref}"' in day and "libero" in day
    assert "passato" not in day
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-09T09:45")
    assert c.get("/calendario?provincia=MI&giorno=2026-12-09").text.count("passato") == 4  # 09:00, 09:30 x 2 desks
    week = c.get("/calendario?provincia=MI&giorno=2026-12-09&vista=settimana").text
    assert "lunedì 07/12/2026" in week and "Ufficio chiuso (festività: Sant&#39;Ambrogio)" in week
    assert "Ufficio chiuso (festività: Immacolata Concezione)" in week
    assert c.get("/calendario?provincia=BG").status_code == 404  # not op.mi's province
    calls = c.get("/chiamate?giorno=2026-12-09").text
    assert ref in calls and 'href="tel:+393331234567"' in calls
    assert ref not in login("op.mi2").get("/chiamate?giorno=2026-12-09").text

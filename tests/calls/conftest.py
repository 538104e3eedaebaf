"""A `booked` request of the MI office and the accounts of two offices, for the call tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from db import lifecycle
from db.models import Attachment, Booking, Document, Message, Request, User, utcnow
from db.references import next_reference
from scheduling import bookings
from scheduling.calendar import ROME
from tests.scheduling.conftest import NOW, make_ready, office  # noqa: F401 - the office fixture

FACES = Path(__file__).resolve().parents[1] / "corpus" / "faces"


def add_users(app) -> None:
    with app.db.session() as s:
        for name, role, provinces in (("op.mi", "operator", ["MI"]), ("op2.mi", "operator", ["MI"]),
                                      ("sup.mi", "supervisor", ["MI"]), ("op.bg", "operator", ["BG"]),
                                      ("sup.bg", "supervisor", ["BG"])):
            s.add(User(username=name, full_name=name, password_hash="x", role=role, provinces=provinces))


@pytest.fixture
def booked(app, office):  # noqa: F811
    """The reference of a `booked` MI request (phone +393331234567) and the accounts."""
    add_users(app)
    ref, = make_ready(app, 1)
    bookings.book(app.db, office, ref, datetime(2026, 12, 10, 10, 0, tzinfo=ROME), now=NOW, actor="op.mi")
    return ref


def booked_now(app, surname: str, face: str = "astronaut", *, starts_in: timedelta = timedelta(minutes=-5),
               minutes: int = 30) -> tuple[str, int]:
    """A `direct` MI request booked for a slot starting `starts_in` from now (default: 5 minutes ago);
    the photo on its identity document is the package face `face` (tests/corpus/faces). (reference, booking id)"""
    now = utcnow()
    with app.db.session() as s:
        req = Request(reference=next_reference(s, "MI", 2026), province="MI", form_type="direct",
                      holder_surname=surname, holder_given_names="ANNA", holder_codice_fiscale="RSSNNA80A41F205X",
                      contact_phone="+393331234567", contact_email=f"{surname.lower()}@example.org",
                      sender_email=f"{surname.lower()}@example.org")
        lifecycle.open_request(s, req, "test")
        s.flush()
        msg = Message(request_id=req.id, direction="in", message_id=f"<{surname}@t>", dedupe_key=surname * 4,
                      sha256="0" * 64, size=1, province="MI")
        s.add(msg)
        s.flush()
        data = (FACES / f"{face}.jpg").read_bytes()
        att = Attachment(message_id=msg.id, filename="cie_fronte.jpg", content_type="image/jpeg", size=len(data),
                         sha256=app.blobs.put(data))
        s.add(att)
        s.flush()
        s.add(Document(request_id=req.id, slot="holder_id_front", doc_type="cie", number="CA12345AB",
                       attachment_id=att.id, page=1, fields={}))
        lifecycle.transition(s, req, "ready", "test")
        start = now + starts_in
        b = Booking(request_id=req.id, province="MI", desk=1, start=start, end=start + timedelta(minutes=minutes),
                    active_request_id=req.id, active_start=start, operator="op.mi", uid=f"{surname}@test")
        s.add(b)
        lifecycle.transition(s, req, "booked", "test")
        s.flush()
        return req.reference, b.id

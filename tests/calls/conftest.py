"""A `booked` request of the MI office and the accounts of two offices, for the call tests."""

from __future__ import annotations

from datetime import datetime

import pytest

from db.models import User
from scheduling import bookings
from scheduling.calendar import ROME
from tests.scheduling.conftest import NOW, make_ready, office  # noqa: F401 - the office fixture


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

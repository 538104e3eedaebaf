"""20 clerks booking one slot at once: one booking row, 19 "slot già occupato".

Runs on the engine of the suite (SPORTELLO_TEST_DB=postgresql for the
machine's PostgreSQL, else SQLite): see tests/conftest.py's db_url.
"""

import threading
from datetime import datetime

from sqlalchemy import func, select

from db.models import Booking, Request
from scheduling import bookings
from scheduling.calendar import ROME
from tests.scheduling.conftest import NOW, make_ready


def test_twenty_threads_one_slot(app, office):
    refs = make_ready(app, 20)
    start = datetime(2026, 12, 10, 10, 0, tzinfo=ROME)
    barrier = threading.Barrier(20)
    booked, refused, other = [], [], []

    def attempt(ref):
        barrier.wait()
        try:
            booked.append(bookings.book(app.db, office, ref, start, now=NOW, actor="op", desk=1).reference)
        except bookings.SlotTaken as exc:
            refused.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            other.append(repr(exc))

    threads = [threading.Thread(target=attempt, args=(r,)) for r in refs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other == []
    assert len(booked) == 1 and refused == ["slot già occupato"] * 19
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 1
        assert s.scalar(select(func.count()).select_from(Request).where(Request.status == "booked")) == 1
        assert s.scalar(select(Request.reference).where(Request.status == "booked")) == booked[0]

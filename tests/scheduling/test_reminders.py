"""Reminders 24 h and 1 h before the call: due times (pure), exactly once (CAS), moved and cancelled."""

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from db.models import OutgoingMail
from scheduling.calendar import ROME
from scheduling.reminders import due_kind
from scheduling import wiring
from tests.scheduling.conftest import make_ready

START = datetime(2026, 12, 10, 10, 0, tzinfo=ROME)


@pytest.mark.parametrize("now,kind", [
    ("2026-12-09T09:59", None), ("2026-12-09T10:00", "24h"), ("2026-12-10T08:59", "24h"),
    ("2026-12-10T09:00", "1h"), ("2026-12-10T09:59", "1h"), ("2026-12-10T10:00", None),
])
def test_which_reminder_is_due(now, kind):
    assert due_kind(START, datetime.fromisoformat(now).replace(tzinfo=ROME)) == kind


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=ROME)


def reminders(app):
    with app.db.session() as s:
        return sorted((m.request_id, m.kind) for m in
                      s.scalars(select(OutgoingMail).where(OutgoingMail.kind.like("booking_reminder%"))))


def test_each_reminder_once_even_when_run_again(app, monkeypatch):
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-08T08:00")
    ref, = make_ready(app, 1)
    wiring.book(app, ref, START, actor="op")
    assert wiring.send_reminders(app, at("2026-12-09T09:00")) == 0
    assert wiring.send_reminders(app, at("2026-12-09T10:05")) == 1
    assert wiring.send_reminders(app, at("2026-12-09T10:06")) == 0
    assert wiring.send_reminders(app, at("2026-12-10T09:05")) == 1
    assert wiring.send_reminders(app, at("2026-12-10T09:30")) == 0
    assert [k for _, k in reminders(app)] == ["booking_reminder_1h", "booking_reminder_24h"]


def test_a_moved_booking_is_reminded_for_its_new_time_and_a_cancelled_one_not(app, monkeypatch):
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-08T08:00")
    a, b = make_ready(app, 2)
    wiring.book(app, a, START, actor="op")
    wiring.book(app, b, START, actor="op")
    assert wiring.send_reminders(app, at("2026-12-09T10:05")) == 2
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-09T10:10")
    wiring.move(app, a, at("2026-12-11T10:00"), actor="op")
    wiring.cancel(app, b, actor="op")
    assert wiring.send_reminders(app, at("2026-12-10T09:05")) == 0  # b cancelled, a moved to the 11th
    assert wiring.send_reminders(app, at("2026-12-10T10:05")) == 1  # a's 24 h reminder, for the new time
    assert len(reminders(app)) == 3


def test_concurrent_runners_send_no_duplicate(app, monkeypatch):
    """Several `sportello run` on one database: the compare-and-swap lets one of them send each."""
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-08T08:00")
    refs = make_ready(app, 6)
    for i, ref in enumerate(refs):
        wiring.book(app, ref, START + timedelta(minutes=30 * (i // 2)), actor="op")
    barrier = threading.Barrier(4)
    counts, errors = [], []

    def runner():
        barrier.wait()
        try:
            counts.append(wiring.send_reminders(app, at("2026-12-09T11:05")))
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(counts) == 6
    assert len(reminders(app)) == 6 and len(set(reminders(app))) == 6


def test_the_reply_rate_limit_never_swallows_a_reminder(app, monkeypatch):
    from intake.outgoing import MAX_REPLIES_PER_DAY

    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-08T08:00")
    ref, = make_ready(app, 1)
    wiring.book(app, ref, START, actor="op")
    for i in range(MAX_REPLIES_PER_DAY):  # a busy day of changes: an invitation each
        wiring.move(app, ref, START + timedelta(minutes=30 * ((i + 1) % 2)), actor="op")
    assert wiring.send_reminders(app, at("2026-12-09T11:00")) == 1
    assert len(reminders(app)) == 1

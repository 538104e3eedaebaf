"""`incomplete` past the time-out ends `expired`, with exactly one notice before."""

import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from db import lifecycle
from db.models import Event, OutgoingMail, Request
from db.references import next_reference
from scheduling.expiry import step
from scheduling import wiring

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def test_the_steps():
    assert step(T0, T0 + timedelta(days=24), 30, 5) is None
    assert step(T0, T0 + timedelta(days=25), 30, 5) == "notice"
    assert step(T0, T0 + timedelta(days=30), 30, 5) == "expire"
    assert step(T0, T0 + timedelta(days=29), 30, 0) is None


def make_incomplete(app, n=1):
    refs = []
    with app.db.session() as s:
        for i in range(n):
            r = Request(reference=next_reference(s, "MI", 2026), province="MI", sender_email=f"c{i}@example.org")
            lifecycle.open_request(s, r, "test")
            s.flush()
            lifecycle.transition(s, r, "incomplete", "test")
            refs.append(r.reference)
        s.flush()
        s.execute(update(Request).values(updated_at=T0))
    return refs


def mails(app, kind):
    with app.db.session() as s:
        return s.scalars(select(OutgoingMail.recipient).where(OutgoingMail.kind == kind)).all()


def test_one_notice_then_expired(app):
    ref, = make_incomplete(app)
    assert wiring.expire_incomplete(app, T0 + timedelta(days=10)) == (0, 0)
    assert wiring.expire_incomplete(app, T0 + timedelta(days=26)) == (1, 0)
    assert wiring.expire_incomplete(app, T0 + timedelta(days=27)) == (0, 0)
    assert wiring.expire_incomplete(app, T0 + timedelta(days=31)) == (0, 1)
    assert wiring.expire_incomplete(app, T0 + timedelta(days=32)) == (0, 0)
    with app.db.session() as s:
        assert s.scalar(select(Request.status).where(Request.reference == ref)) == "expired"
        assert s.scalars(select(Event).where(Event.kind == "expiry_notice")).all()
    assert mails(app, "expiry_notice") == ["c0@example.org"] and mails(app, "expired") == ["c0@example.org"]


def test_concurrent_runners_notice_and_expire_once(app):
    make_incomplete(app, 5)
    results = []

    def run(at):
        results.append(wiring.expire_incomplete(app, at))

    for at in (T0 + timedelta(days=26), T0 + timedelta(days=31)):
        threads = [threading.Thread(target=run, args=(at,)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sum(n for n, _ in results) == 5 and sum(e for _, e in results) == 5
    assert len(mails(app, "expiry_notice")) == 5 and len(mails(app, "expired")) == 5

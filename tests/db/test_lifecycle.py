import pytest
from sqlalchemy import select

from db import lifecycle
from db.models import Event, Request


def _new(app, s, ref="SR-MI-2026-000001"):
    r = Request(reference=ref, province="MI")
    lifecycle.open_request(s, r, "test")
    s.flush()
    return r


def test_every_status_is_reachable_and_released_is_final():
    reachable = {"received"}
    frontier = ["received"]
    while frontier:
        for nxt in lifecycle.TRANSITIONS[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == set(lifecycle.STATUSES)
    assert lifecycle.TERMINAL == {"released"}


def test_the_happy_path_writes_one_event_per_change(app):
    with app.db.session() as s:
        r = _new(app, s)
        for target in ("ready", "booked", "identified", "released"):
            lifecycle.transition(s, r, target, "operatore.mi")
    with app.db.session() as s:
        events = s.scalars(select(Event).order_by(Event.id)).all()
        assert [(e.from_status, e.to_status) for e in events] == [
            (None, "received"), ("received", "ready"), ("ready", "booked"),
            ("booked", "identified"), ("identified", "released"),
        ]
        assert all(e.actor for e in events)
        assert s.scalar(select(Request)).version == 5


@pytest.mark.parametrize("path", [
    ("released",),                      # no release without identification
    ("ready", "identified"),            # no identification without a booked call
    ("ready", "booked", "identified", "released", "received"),  # released is final
    ("incomplete", "booked"),
])
def test_illegal_transitions_raise_and_change_nothing(app, path):
    with app.db.session() as s:
        r = _new(app, s)
        *legal, illegal = path
        for t in legal:
            lifecycle.transition(s, r, t, "x")
        before = r.status
        with pytest.raises(lifecycle.IllegalTransition):
            lifecycle.transition(s, r, illegal, "x")
        assert r.status == before


def test_unknown_status_is_an_error(app):
    with app.db.session() as s:
        r = _new(app, s)
        with pytest.raises(ValueError):
            lifecycle.transition(s, r, "approved", "x")

"""Issue 19: the event log's hash chain; `sportello audit verify` finds an edited, a deleted and an inserted event."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from db import audit
from db.models import Event, Request
from sportello.pipeline import ingest
from sportello.verify import verify_pending
from tests import mailfactory as mf


def _history(app) -> list[Event]:
    ingest(app, mf.mail(mf.attachment(mf.jpeg(), "fronte.jpg"), seed=1), "MI")
    ingest(app, mf.mail(seed=2, sender="Anna Bianchi <anna@example.org>"), "BG")
    verify_pending(app)
    with app.db.session() as s:
        from db import lifecycle

        lifecycle.record(s, None, "login", "op.mi", {})
        lifecycle.record(s, None, "logout", "op.mi", {})
    with app.db.session() as s:
        return list(s.scalars(select(Event).order_by(Event.id)))


def _breaks(app):
    with app.db.engine.connect() as conn:
        return audit.verify(conn)


def _exec(app, sql: str, **params) -> None:
    with app.db.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_an_intact_log_verifies_and_every_event_is_chained(app):
    events = _history(app)
    assert len(events) > 6 and all(e.seq and e.hash and e.prev_hash for e in events)
    assert _breaks(app) == []
    first = [e for e in events if e.request_id == events[0].request_id]
    assert first[0].prev_hash == audit.GENESIS and first[1].prev_hash == first[0].hash


def test_an_edited_event_is_named(app):
    events = _history(app)
    target = events[3]
    _exec(app, "UPDATE events SET actor = 'qualcuno' WHERE id = :id", id=target.id)
    (b,) = _breaks(app)
    assert (b.event_id, b.what) == (target.id, "changed")


def test_an_edited_detail_is_named(app):
    events = _history(app)
    target = next(e for e in events if e.kind == "status")
    _exec(app, "UPDATE events SET detail = :d WHERE id = :id", d=json.dumps({"reason": "altro"}), id=target.id)
    assert [(b.event_id, b.what) for b in _breaks(app)] == [(target.id, "changed")]


def test_a_deleted_event_is_named_by_the_one_after_it(app):
    events = _history(app)
    chain = [e for e in events if e.request_id == events[0].request_id]
    _exec(app, "DELETE FROM events WHERE id = :id", id=chain[1].id)
    (b,) = _breaks(app)
    assert (b.event_id, b.what) == (chain[2].id, "removed")


def test_a_deleted_last_event_is_found_by_the_head(app):
    events = _history(app)
    chain = [e for e in events if e.request_id == events[0].request_id]
    _exec(app, "DELETE FROM events WHERE id = :id", id=chain[-1].id)
    (b,) = _breaks(app)
    assert (b.event_id, b.what) == (chain[-2].id, "removed")


@pytest.mark.parametrize("how", ["no seq", "seq taken", "forged link"])
def test_an_inserted_event_is_named(app, how):
    events = _history(app)
    chain = [e for e in events if e.request_id == events[0].request_id]
    after = chain[1]
    seq = {"no seq": None, "seq taken": after.seq, "forged link": after.seq + 1}[how]
    if how == "forged link":  # make room: renumber the rest of the chain, as a careful forger would
        _exec(app, "UPDATE events SET seq = seq + 1 WHERE request_id = :r AND seq > :s", r=after.request_id, s=after.seq)
        _exec(app, "UPDATE requests SET audit_seq = audit_seq + 1 WHERE id = :r", r=after.request_id)
    prev = "f" * 64
    digest = audit.event_hash(prev, seq=seq or 0, request_id=after.request_id, at=after.at, actor="intruso",
                              kind="status", from_status="incomplete", to_status="ready", detail={})
    _exec(app, "INSERT INTO events (request_id, at, actor, kind, from_status, to_status, detail, seq, prev_hash, hash) "
               "VALUES (:r, :at, 'intruso', 'status', 'incomplete', 'ready', '{}', :seq, :prev, :h)",
          r=after.request_id, at=after.at, seq=seq, prev=prev, h=digest)
    with app.db.session() as s:
        inserted = s.scalar(select(Event.id).where(Event.actor == "intruso"))
    (b,) = _breaks(app)
    assert b.what == "inserted" and b.event_id in (inserted, chain[2].id)
    if how != "forged link":
        assert b.event_id == inserted


def test_the_chain_survives_concurrent_looking_appends_across_requests(app):
    _history(app)
    with app.db.session() as s:
        from db import lifecycle

        reqs = list(s.scalars(select(Request)))
        for i in range(5):
            for r in reqs:
                lifecycle.record(s, r, "opened", f"op{i}", {})
    assert _breaks(app) == []


def test_sportello_audit_verify_exits_0_then_names_the_changed_event(app, cli):
    events = _history(app)
    ok = cli("audit", "verify")
    assert ok.returncode == 0 and b"audit log intact" in ok.stdout
    _exec(app, "UPDATE events SET kind = 'opened' WHERE id = :id", id=events[2].id)
    bad = cli("audit", "verify", check=False)
    assert bad.returncode == 3
    assert f"event {events[2].id}: changed".encode() in bad.stderr


def test_migration_0003_chains_the_events_written_before_it(app):
    from alembic import command

    from db.migrate import alembic_config, upgrade

    _history(app)
    cfg = alembic_config(app.db.engine)
    command.downgrade(cfg, "0002")  # the events lose their chain, as a database before 0003 has none
    command.upgrade(cfg, "head")
    assert _breaks(app) == []
    with app.db.session() as s:
        assert all(e.hash for e in s.scalars(select(Event)))
    upgrade(app.db.engine)

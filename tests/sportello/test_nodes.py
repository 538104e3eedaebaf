"""What keeps two nodes on one database from doing one thing twice, or a dead node's work from
being lost: the claim on a request's verification, the claim on a mail being sent."""

import email
import os
import subprocess
import sys
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select, update

from db.models import Event, OutgoingMail, Request, utcnow
from intake import outgoing
from sportello import verify
from sportello.pipeline import ingest
from tests import mailfactory as mf


def _dead_owner() -> str:
    """The owner name of a process of this host that has exited."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    return f"{os.uname().nodename}:{int(proc.stdout)}:abcdef"


def _verified(app, rid) -> int:
    with app.db.session() as s:
        return len([e for e in s.scalars(select(Event).where(Event.request_id == rid, Event.actor == "verification"))
                    if e.kind == "status"])


@pytest.fixture
def received(app):
    out = ingest(app, mf.mail(mf.attachment(mf.jpeg(), "fronte.jpg"), seed=7), "MI")
    with app.db.session() as s:
        return s.scalars(select(Request.id).where(Request.reference == out.reference)).one()


def test_a_request_claimed_by_a_live_node_is_left_to_it(app, received, monkeypatch):
    monkeypatch.setattr(verify, "NODE", "elsewhere:1:aaaaaa")  # a node on another host
    assert verify.claim(app, received)
    monkeypatch.setattr(verify, "NODE", "here:2:bbbbbb")
    assert not verify.claim(app, received)
    assert verify.verify_request(app, received) is None and _verified(app, received) == 0
    # Past the claim's time, the other node's request is taken over.
    with app.db.session() as s:
        s.execute(update(Request).where(Request.id == received).values(verify_until=utcnow() - timedelta(seconds=1)))
    assert verify.verify_request(app, received) is not None
    assert _verified(app, received) == 1
    with app.db.session() as s:
        assert s.get(Request, received).verify_owner is None


def test_a_dead_processs_claim_on_this_host_is_taken_over_at_once(app, received):
    with app.db.session() as s:
        s.execute(update(Request).where(Request.id == received)
                  .values(verify_owner=_dead_owner(), verify_until=utcnow() + timedelta(minutes=10)))
    assert verify.verify_pending(app) == 1 and _verified(app, received) == 1


def test_a_node_that_lost_its_claim_drops_what_it_read(app, received, monkeypatch):
    """The claim is taken over while this node reads (its time ran out): the final write is not
    this node's to make, so the request is answered once, by the node that holds it."""
    real = verify._snapshot

    def snapshot_then_lose_the_claim(app_, rid):
        snap = real(app_, rid)
        with app.db.session() as s:
            s.execute(update(Request).where(Request.id == rid).values(verify_owner="elsewhere:9:cccccc"))
        return snap

    monkeypatch.setattr(verify, "_snapshot", snapshot_then_lose_the_claim)
    assert verify.verify_request(app, received) is None
    with app.db.session() as s:
        req = s.get(Request, received)
        assert req.status == "received" and req.verify_owner == "elsewhere:9:cccccc"
        assert s.scalars(select(OutgoingMail)).all() == []


def _sending(app, **claim) -> int:
    with app.db.session() as s:
        row = s.scalars(select(OutgoingMail)).first()
        row.status = "sending"
        for k, v in claim.items():
            setattr(row, k, v)
        return row.id


def _status(app, mail_id) -> str:
    with app.db.session() as s:
        return s.get(OutgoingMail, mail_id).status


def test_a_mail_half_sent_by_a_dead_node_is_queued_again_and_a_live_nodes_is_not(app, received):
    verify.verify_pending(app)
    mid = _sending(app, claimed_by="elsewhere:1:aaaaaa", claimed_at=utcnow())
    assert outgoing.requeue_interrupted(app.db) == 0 and _status(app, mid) == "sending"
    _sending(app, claimed_by=_dead_owner(), claimed_at=utcnow())  # a process of this host, gone
    assert outgoing.requeue_interrupted(app.db) == 1 and _status(app, mid) == "pending"
    _sending(app, claimed_by="elsewhere:1:aaaaaa", claimed_at=utcnow() - outgoing.SENDING_TIME - timedelta(seconds=1))
    assert outgoing.requeue_interrupted(app.db) == 1 and _status(app, mid) == "pending"


def test_a_mail_sent_again_after_a_crash_is_one_file_in_the_outbox_folder(app, received, tmp_path):
    verify.verify_pending(app)
    with app.db.session() as s:
        raw = s.scalars(select(OutgoingMail)).first().raw
    folder = outgoing.OutboxFolder(tmp_path / "outbox")
    folder.send(raw, "x@example.org")
    folder.send(raw, "x@example.org")  # the crash came between the write and the commit
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    msg = email.message_from_bytes(raw, policy=policy.default)
    msg.replace_header("Message-ID", "<another@sportello.invalid>")
    folder.send(msg.as_bytes(), "x@example.org")
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2

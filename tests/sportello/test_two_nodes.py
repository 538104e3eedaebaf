"""Two `sportello run` nodes on the machine's PostgreSQL and one Dovecot, one SIGKILLed halfway.

300 citizens' mails over the 12 provincial mailboxes. Both nodes start
together; when half the mails are stored, one node is killed with SIGKILL
(leases, claims and sends of its own left behind). The survivor takes over.
In the end every mail is stored once and moved once on the server, every
request verified once, every answer queued once and sent once (one outbox
file per mail), and each periodic job claimed per period ran once in each
of its periods, without a gap while a node was up.
"""

from __future__ import annotations

import email
import signal
import time
from collections import Counter
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import func, select

from config.settings import PROVINCES
from db.models import Event, JobRun, OutgoingMail, Request
from tests import mailfactory as mf
from tests.conftest import BACKEND
from tests.intake.intake_env import IntakeEnv, crlf, stop, wait_for

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(BACKEND != "postgresql", reason="two nodes share the machine's PostgreSQL: "
                                                                "runs on the PostgreSQL pass")]

PER_MAILBOX = 25  # x 12 = 300


def _mails(province: str, n: int) -> list[bytes]:
    raws = []
    for i in range(n):
        k = PROVINCES.index(province) * 1000 + i
        files = [mf.attachment(f"Nota {k}: documenti in arrivo.\n".encode() * 20, "nota.txt", "text/plain")]
        if i % 10 == 0:
            files = [mf.attachment(mf.jpeg(64, 48, seed=k), "fronte.jpg", "image/jpeg"),
                     mf.attachment(mf.pdf(seed=k), "modulo.pdf", "application/pdf")]
        raws.append(crlf(mf.mail(*files, sender=f"Cittadino {k} <cittadino{k}@example.org>", seed=k)))
    return raws


@pytest.fixture
def env(dovecot, tmp_path, db_url, app):  # `app`: the database is initialised
    e = IntakeEnv(dovecot, tmp_path, db_url)
    yield e
    e.close()


def _user(p: str) -> str:
    return f"spazioregione.{p.lower()}"


def _open(env) -> int:
    with env.app.db.session() as s:
        return s.scalar(select(func.count()).select_from(Request).where(Request.status == "received"))


def _unsent(env) -> int:
    with env.app.db.session() as s:
        return s.scalar(select(func.count()).select_from(OutgoingMail).where(OutgoingMail.status != "sent"))


def test_two_nodes_one_killed_halfway_lose_nothing_and_do_nothing_twice(env, dovecot):
    raws = {}
    for p in PROVINCES:
        env.add_mailbox(_user(p), province=p, poll_interval=5, batch_size=5)
        raws[p] = _mails(p, PER_MAILBOX)
    env.write()
    for p in PROVINCES:
        env.append(_user(p), raws[p])
    every = [r for p in PROVINCES for r in raws[p]]

    started = time.monotonic()
    nodes = [env.spawn("run", "--no-web", log_name=f"node{i}.log") for i in range(2)]
    try:
        wait_for(lambda: env.message_count() >= len(every) // 2, timeout=300, interval=0.05, what="half the mails")
        stop(nodes[0], signal.SIGKILL)
        killed_at = env.message_count()
        wait_for(lambda: env.message_count() == len(every) and _open(env) == 0 and _unsent(env) == 0,
                 timeout=420, interval=0.5, what="every mail stored, verified and answered")
        time.sleep(3)  # anything still to come would show now
    finally:
        assert stop(nodes[1]) == 0
        for n in nodes:
            if n.poll() is None:
                stop(n, signal.SIGKILL)
    elapsed = time.monotonic() - started
    assert killed_at < len(every), "the kill came after everything was stored"
    survivor_log = (env.tmp / "node1.log").read_text()
    assert "Traceback" not in survivor_log, survivor_log[-3000:]

    # Every mail stored once, and moved once on the server.
    env.assert_exactly_once(every)
    for p in PROVINCES:
        env.assert_all_moved(_user(p), raws[p])

    with env.app.db.session() as s:
        requests = s.scalars(select(Request)).all()
        assert len(requests) == len(every)
        # Every request verified once: one change out of `received`, by verification.
        verified = Counter(e.request_id for e in s.scalars(select(Event).where(
            Event.kind == "status", Event.actor == "verification", Event.from_status == "received")))
        assert set(verified) == {r.id for r in requests} and set(verified.values()) == {1}
        # Every answer queued once and sent once.
        mails = s.scalars(select(OutgoingMail)).all()
        per_kind = Counter((m.request_id, m.kind) for m in mails)
        assert [k for k, n in per_kind.items() if n > 1] == []
        assert {m.request_id for m in mails} == {r.id for r in requests}
        assert all(m.status == "sent" for m in mails)
        sent_events = Counter(e.detail["message"] for e in s.scalars(select(Event).where(Event.kind == "mail_sent")))
        assert sorted(sent_events) == sorted(m.message_id for m in mails) and set(sent_events.values()) == {1}
        runs = s.scalars(select(JobRun)).all()
    files = list(env.app.settings.outbox_dir.glob("*.eml"))
    ids = Counter(str(email.message_from_bytes(f.read_bytes(), policy=policy.default)["Message-ID"]).strip() for f in files)
    assert sorted(ids) == sorted(m.message_id for m in mails) and set(ids.values()) == {1}

    # Each periodic job once per period (the primary key), and no period missed while a node ran.
    by_job: dict[str, list] = {}
    for r in runs:
        by_job.setdefault(r.job, []).append(r.period_start)
    assert "requeue" in by_job, by_job.keys()
    for job, step in (("requeue", timedelta(seconds=120)),):
        periods = sorted(by_job[job])
        gaps = [b - a for a, b in zip(periods, periods[1:]) if b - a != step]
        assert gaps == [], f"{job}: periods missed: {gaps}"
        assert len(periods) >= int(elapsed // step.total_seconds()) - 1
    assert len({r.node for r in runs}) >= 1

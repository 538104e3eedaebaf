"""Exactly once across crashes, server restarts and concurrent pollers, against a real Dovecot.

The poller is the real console script (`sportello poll --once`) in a
subprocess, SIGKILLed at seeded random moments; Dovecot is restarted or
killed under it. After the dust settles every mail is stored exactly once
(rows, blobs, requests, gap-free references) and sits in Processed.
"""

from __future__ import annotations

import random
import re
import signal
import threading
import time

import pytest

from intake.imap import ImapSource
from intake.sync import PassReport, poller_id, sync_imap
from db.app import App
from sportello.polling import _ingest_for, mailboxes, poll_mailbox
from tests import mailfactory as mf
from tests.intake.intake_env import IntakeEnv, crlf, wait_for

pytestmark = pytest.mark.slow

USER = "spazioregione.mi"


@pytest.fixture
def env(dovecot, tmp_path, db_url, app):  # `app`: the database is initialised
    e = IntakeEnv(dovecot, tmp_path, db_url)
    yield e
    e.close()


def request_mails(n: int, seed: int = 0) -> list[bytes]:
    """n citizens' mails, each with a file; every fifth a reply joining the mail before it.

    Every tenth carries a photo and a form; the others a small note, which
    verification (run by `poll --once` after intake) skips quickly.
    """
    raws = []
    for i in range(n):
        k = seed * 1000 + i
        extra = {}
        if i % 5 == 4:
            extra = {"In-Reply-To": f"<mail-{k - 1}@example.org>", "References": f"<mail-{k - 1}@example.org>"}
        files = [mf.attachment(f"Nota {k}: documenti in arrivo.\n".encode() * 20, "nota.txt", "text/plain")]
        if i % 10 == 0:
            files = [mf.attachment(mf.jpeg(64, 48, seed=k), "fronte.jpg", "image/jpeg"),
                     mf.attachment(mf.pdf(seed=k), "modulo.pdf", "application/pdf")]
        raws.append(crlf(mf.mail(*files, sender=f"Cittadino {k} <cittadino{k}@example.org>", seed=k,
                                 extra_headers=extra)))
    return raws


def assert_threads_kept(env: IntakeEnv, n: int, seed: int = 0) -> None:
    """Each reply sits in the request of the mail it answers; everything else has its own."""
    rows = {m.message_id: m for m in env.messages()}
    for i in range(n):
        k = seed * 1000 + i
        if i % 5 == 4:
            assert rows[f"<mail-{k}@example.org>"].request_id == rows[f"<mail-{k - 1}@example.org>"].request_id
    assert len({m.request_id for m in rows.values()}) == n - n // 5


def test_sigkill_at_random_moments_then_poll_to_completion(env, dovecot):
    """60 mails; `poll --once` SIGKILLed six times at seeded random moments (some before anything
    is stored, most in the middle of the pass); then one more pass. Exact end state, and the pass
    after a kill takes over the dead poller's lease instead of waiting LEASE_SECONDS."""
    raws = request_mails(60)
    env.add_mailbox(USER, batch_size=7)
    env.write()
    env.append(USER, raws)
    rng = random.Random(20261126)
    mid_pass = 0  # kills that hit a running pass after it had stored something
    for round_ in range(6):
        before = env.message_count()
        if before == len(raws):
            break
        proc = env.spawn("poll", "--once", log_name="poll.log")
        if round_ % 3 == 0:
            time.sleep(rng.uniform(0.2, 1.5))  # anywhere from start-up to the first stores
        else:
            try:  # wait for this pass to store something, then let it run a little further
                wait_for(lambda: env.message_count() > before or proc.poll() is not None, timeout=60)
            except AssertionError:
                pass
            time.sleep(rng.uniform(0.0, 0.25))
        running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        mid_pass += running and before < env.message_count() < len(raws)
    stored_by_killed = env.message_count()
    assert mid_pass >= 2, f"only {mid_pass} kills landed in the middle of a pass"

    final = env.cli("poll", "--once")
    out, err = final.stdout.decode(), final.stderr.decode()
    assert "skipped" not in err, err
    assert f"{len(raws) - stored_by_killed} new messages" in out, out
    env.assert_exactly_once(raws)
    env.assert_all_moved(USER, raws)
    assert_threads_kept(env, len(raws))
    assert "took over the lease" in (env.tmp / "poll.log").read_text() + err


def test_dovecot_restarting_mid_pass_is_retried_within_the_pass(env, dovecot):
    """Dovecot shuts down (BYE to every client) and comes back while `poll --once` runs: the pass
    reconnects with backoff and finishes with exit code 0; a second pass finds nothing to do."""
    raws = request_mails(60, seed=1)
    env.add_mailbox(USER, batch_size=10)
    env.write()
    env.append(USER, raws)
    proc = env.spawn("-v", "poll", "--once", log_name="poll.log")
    wait_for(lambda: env.message_count() >= 8, timeout=60, interval=0.005, what="the pass to get going")
    proc.send_signal(signal.SIGSTOP)  # freeze the poller mid-pass, so the restart surely lands in it
    try:
        assert env.message_count() < len(raws)
        dovecot.restart()
    finally:
        proc.send_signal(signal.SIGCONT)
    assert proc.wait(60) == 0, (env.tmp / "poll.log").read_text()
    log = (env.tmp / "poll.log").read_text()
    assert re.search(r"unavailable .* retry 1 in 1s", log), log
    assert "60 new messages" in log
    env.assert_exactly_once(raws)
    env.assert_all_moved(USER, raws)
    assert "0 new messages" in env.cli("poll", "--once").stdout.decode()


def test_dovecot_killed_mid_pass_then_the_next_pass_completes(env, dovecot):
    """Dovecot SIGKILLed mid-pass and still down when the retries run out: the pass records the
    error; once the server is back, the next pass completes. Nothing lost, nothing stored twice
    (a MOVE cut short by the server's own crash may leave a second copy in Processed: that is
    the server's doing, and still no loss)."""
    raws = request_mails(60, seed=2)
    env.add_mailbox(USER, batch_size=5)
    env.write()
    env.append(USER, raws)
    (mb,) = mailboxes(env.app)
    result: list[PassReport] = []
    worker_app = App.from_config(str(env.config))
    t = threading.Thread(target=lambda: result.append(
        poll_mailbox(worker_app, mb, poller_id(), retry_delays=(0.2, 0.2))))
    t.start()
    wait_for(lambda: env.message_count() >= 3, timeout=60, interval=0.005)
    dovecot.kill()
    t.join(60)
    worker_app.close()
    (first,) = result
    assert first.errors and "SourceUnavailable" in first.errors[0]
    assert env.mailbox_state(mb.key).last_error.startswith("SourceUnavailable")

    dovecot.start()
    second = poll_mailbox(env.app, mb, poller_id())
    assert second.complete and not second.errors
    assert first.stored + second.stored == len(raws)
    env.assert_exactly_once(raws)
    assert dovecot.uids(USER, "INBOX") == []
    kept = set(dovecot.fetch_all(USER, "Processed"))
    assert set(raws) <= kept
    assert env.mailbox_state(mb.key).last_error is None


def test_two_poller_processes_started_together(env, dovecot):
    """Two `sportello poll --once` on one mailbox at the same moment: each mail stored once in all;
    the loser of the lease says it skipped, or finds everything already stored."""
    raws = request_mails(40, seed=3)
    env.add_mailbox(USER, batch_size=10)
    env.write()
    env.append(USER, raws)
    procs = [env.spawn("poll", "--once", log_name=f"poll{i}.log") for i in range(2)]
    assert [p.wait(120) for p in procs] == [0, 0]
    logs = [(env.tmp / f"poll{i}.log").read_text() for i in range(2)]
    stored = [int(re.search(r"(\d+) new messages", log).group(1)) for log in logs]
    assert sum(stored) == len(raws), logs
    env.assert_exactly_once(raws)
    env.assert_all_moved(USER, raws)


def test_two_concurrent_passes_without_the_lease_store_each_mail_once(env, dovecot):
    """The lease is only the first line: two passes that both hold it (one owner, two threads, two
    App instances, two IMAP sessions) run over the same mails at once, as after a lease expired
    under a slow poller. The unique keys still give one row per mail, and every mail leaves the inbox."""
    raws = request_mails(40, seed=4)
    env.add_mailbox(USER)
    env.write()
    env.append(USER, raws)
    (mb,) = mailboxes(env.app)
    owner = poller_id()
    apps = [App.from_config(str(env.config)) for _ in range(2)]
    reports: list[PassReport] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(a: App) -> None:
        try:
            barrier.wait()
            reports.append(sync_imap(a.db, ImapSource(mb.imap), _ingest_for(a, "MI"), owner,
                                     processed_folder="Processed", failed_folder="Failed", batch_size=5))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for a in apps:
        a.close()
    assert not errors, errors
    assert all(r.complete and not r.errors for r in reports)
    assert sum(r.stored for r in reports) == len(raws)
    env.assert_exactly_once(raws)
    # Two IMAP sessions may both MOVE one mail before either sees the other's expunge: the server
    # then keeps two copies. Keeping concurrent passes apart is what the lease is for; without it
    # nothing is lost and nothing is stored twice.
    assert dovecot.uids(USER, "INBOX") == []
    assert set(raws) <= set(dovecot.fetch_all(USER, "Processed"))

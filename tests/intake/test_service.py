"""`sportello run --no-web` against a real Dovecot: IDLE brings new mail in within seconds
(poll_interval is 60 s), and SIGTERM / SIGINT stop the service cleanly."""

from __future__ import annotations

import re
import signal
import time

import pytest

from tests import mailfactory as mf
from tests.intake.intake_env import IntakeEnv, crlf, stop, wait_for

pytestmark = pytest.mark.slow

USER = "spazioregione.mi"
FEW_SECONDS = 5


@pytest.fixture
def env(dovecot, tmp_path, db_url):
    e = IntakeEnv(dovecot, tmp_path, db_url)
    e.add_mailbox(USER, poll_interval=60, idle=True)
    e.write()
    e.cli("init")
    yield e
    e.close()


def arrival_time(env: IntakeEnv, raw: bytes, expected_count: int, timeout: float = 30) -> float:
    started = time.monotonic()
    env.append(USER, [raw])
    wait_for(lambda: env.message_count() >= expected_count, timeout=timeout, interval=0.02, what="the mail to be stored")
    return time.monotonic() - started


def service_log(env: IntakeEnv) -> str:
    return (env.tmp / "run.log").read_text()


def start_service(env: IntakeEnv, before: list[bytes]):
    env.append(USER, before)
    proc = env.spawn("run", "--no-web", log_name="run.log")
    # The first pass (at start) takes what was waiting; then the IDLE watcher is connected.
    wait_for(lambda: env.message_count() == len(before) or proc.poll() is not None, timeout=60)
    assert proc.poll() is None, service_log(env)
    mb_key = env.app.settings.mailboxes[0].key
    wait_for(lambda: (st := env.mailbox_state(mb_key)) is not None and st.last_success_at is not None, timeout=30)
    return proc, mb_key


def assert_clean_exit(env: IntakeEnv, proc, sig: int, mb_key: str) -> None:
    assert stop(proc, sig, timeout=30) == 0, service_log(env)
    log = service_log(env)
    assert "Exception in thread" not in log, log  # no thread died
    assert not re.search(r"(ERROR|CRITICAL) (sportello\.(service|polling)|intake\.|apscheduler)", log), log
    assert "stopped" in log
    state = env.mailbox_state(mb_key)
    assert state.lease_owner is None  # released on the way out


def test_idle_brings_mail_in_within_seconds_and_sigterm_stops_cleanly(env, dovecot):
    before = [crlf(mf.simple(seed=i)) for i in range(2)]
    proc, mb_key = start_service(env, before)
    try:
        latencies = []
        sent = list(before)
        for i in range(3):
            raw = crlf(mf.mail(mf.attachment(mf.jpeg(seed=10 + i), "fronte.jpg", "image/jpeg"), seed=10 + i))
            sent.append(raw)
            latencies.append(arrival_time(env, raw, len(sent)))
            time.sleep(0.3)
        burst = [crlf(mf.simple(seed=20 + i)) for i in range(5)]  # several at once, while a pass may be running
        started = time.monotonic()
        env.append(USER, burst)
        sent += burst
        wait_for(lambda: env.message_count() == len(sent), timeout=30, what="the burst to be stored")
        latencies.append(time.monotonic() - started)
        assert max(latencies) < FEW_SECONDS, latencies
        wait_for(lambda: dovecot.uids(USER, "INBOX") == [], timeout=10, what="the inbox to empty")
    finally:
        if proc.poll() is None:
            assert_clean_exit(env, proc, signal.SIGTERM, mb_key)
    env.assert_exactly_once(sent)
    env.assert_all_moved(USER, sent)
    assert "received SIGTERM" in service_log(env)


def test_idle_reconnects_after_a_server_restart_and_sigint_stops_cleanly(env, dovecot):
    before = [crlf(mf.simple(seed=1))]
    proc, mb_key = start_service(env, before)
    try:
        dovecot.restart()  # every IDLE session gets BYE; the watcher reconnects after its backoff
        raw = crlf(mf.simple(seed=2))
        took = arrival_time(env, raw, 2, timeout=40)
        assert took < 15, f"{took:.1f}s: the watcher did not come back well before poll_interval (60 s)"
        assert arrival_time(env, crlf(mf.simple(seed=3)), 3) < FEW_SECONDS
    finally:
        if proc.poll() is None:
            assert_clean_exit(env, proc, signal.SIGINT, mb_key)
    env.assert_exactly_once(before + [crlf(mf.simple(seed=i)) for i in (2, 3)])
    assert "received SIGINT" in service_log(env)


def test_mail_announced_as_idle_begins_is_seen_at_once(dovecot):
    """Regression: Dovecot sends the EXISTS of mail that came in just before IDLE right after the
    IDLE continuation, often in the same packet; imaplib buffered it and the watcher slept on the
    socket until the server's next keep-alive (2 minutes) before running the pass."""
    from intake.imap import ImapSource

    dovecot.add_user(USER, "s3greto-lungo")
    for security in ("none", "ssl"):
        src = ImapSource(dovecot.mailbox_settings(USER, security=security), ssl_context=dovecot.ssl_context(), timeout=10)
        src.open()
        try:
            for seed in range(3):
                dovecot.append(USER, "INBOX", crlf(mf.simple(seed=seed)))  # before IDLE begins
                started = time.monotonic()
                assert src._idle_once(src._client, 5) is True
                assert time.monotonic() - started < 1, security
        finally:
            src.close()

"""`sportello run` killed with SIGKILL before a reminder is due, restarted past it: one reminder each."""

import email
import os
import signal
import subprocess
import sys
import time
from email import policy
from pathlib import Path

import pytest

from tests.scheduling.conftest import make_ready

pytestmark = pytest.mark.slow


def _start(config_file, cwd, now: str) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("sportello")
    env = {**os.environ, "SPORTELLO_CONFIG": str(config_file), "SPORTELLO_NOW": now}
    return subprocess.Popen([str(exe), "run", "--no-web"], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _reminders(outbox: Path) -> list[str]:
    out = []
    for p in outbox.glob("*.eml"):
        m = email.message_from_bytes(p.read_bytes(), policy=policy.default)
        if m["Subject"].split("] ", 1)[1].startswith("Promemoria"):
            out.append(m["To"])
    return sorted(out)


def test_sigkill_then_restart_past_the_due_time(app, cli, config_file, tmp_path):
    refs = make_ready(app, 2)
    for ref, desk in zip(refs, ("1", "2")):
        cli("bookings", "add", ref, "--start", "2026-12-10T10:00", "--desk", desk,
            env={"SPORTELLO_NOW": "2026-12-08T08:00"})
    outbox = app.settings.outbox_dir
    before = _reminders(outbox)
    assert before == []

    proc = _start(config_file, tmp_path, "2026-12-08T12:00")  # nothing due yet
    time.sleep(4)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _reminders(outbox) == []

    proc = _start(config_file, tmp_path, "2026-12-09T10:30")  # the 24 h reminders are due
    try:
        for _ in range(120):
            if len(_reminders(outbox)) >= 2:
                break
            time.sleep(0.25)
        time.sleep(1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    # And once more, as if a second restart came right after.
    proc = _start(config_file, tmp_path, "2026-12-09T10:31")
    time.sleep(4)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=30)[1].decode()
    assert "Traceback" not in err
    assert _reminders(outbox) == ["cittadino0@example.org", "cittadino1@example.org"]


def test_two_runs_on_one_database_send_each_reminder_once(app, cli, config_file, tmp_path):
    """Two `sportello run` at once (run with SPORTELLO_TEST_DB=postgresql for the machine's PostgreSQL)."""
    refs = make_ready(app, 6)
    for i, ref in enumerate(refs):
        start = f"2026-12-10T{10 + i // 2:02d}:00"
        cli("bookings", "add", ref, "--start", start, env={"SPORTELLO_NOW": "2026-12-08T08:00"})
    outbox = app.settings.outbox_dir
    procs = [_start(config_file, tmp_path, "2026-12-09T13:30") for _ in range(2)]
    try:
        for _ in range(160):
            if len(_reminders(outbox)) >= 6:
                break
            time.sleep(0.25)
        time.sleep(2)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        errs = [p.communicate(timeout=30)[1].decode() for p in procs]
    assert all("Traceback" not in e for e in errs), errs
    got = _reminders(outbox)
    assert len(got) == 6 and len(set(got)) == 6

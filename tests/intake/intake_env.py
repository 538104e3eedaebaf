"""Shared setup and checks for the intake tests against the real Dovecot.

    env = IntakeEnv(dovecot, tmp_path, db_url)      # a config with [[mailboxes]] at Dovecot
    env.add_mailbox("spazioregione.mi")             # a user + its [[mailboxes]] section
    env.write(); env.cli("init")
    env.append("spazioregione.mi", raws)
    env.cli("poll", "--once")
    env.assert_exactly_once(raws); env.assert_all_moved("spazioregione.mi", raws)

Every check compares raw bytes (SHA-256) as APPENDed with what the database
and blob store hold and what the server keeps, so "exactly once" means one
Message row per distinct mail, none missing, none twice, nothing deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from db.models import Attachment, MailboxState, Message, Request
from db.app import App
from tests.conftest import write_config

SPORTELLO = str(Path(sys.executable).with_name("sportello"))


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def crlf(raw: bytes) -> bytes:
    """IMAP hands messages back with CRLF line ends: APPEND them that way so bytes compare."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def toml_section(settings) -> str:
    lines = ["[[mailboxes]]"]
    for key, value in settings.model_dump(exclude_none=True).items():
        lines.append(f"{key} = {json.dumps(value)}")  # JSON scalars are valid TOML scalars here
    return "\n".join(lines) + "\n"


class IntakeEnv:
    def __init__(self, dovecot, tmp_path: Path, db_url: str):
        self.dovecot = dovecot
        self.tmp = tmp_path
        self.db_url = db_url
        self.data_dir = tmp_path / "data"
        self.config = tmp_path / "sportello.toml"
        self.sections: list[str] = []
        self.extra = ""
        self._app: App | None = None

    # -- configuration --------------------------------------------------------

    def add_user(self, user: str) -> str:
        if user not in self.dovecot.users:
            self.dovecot.add_user(user, secrets.token_urlsafe(12))
        return user

    def add_mailbox(self, user: str, *, province: str = "MI", security: str = "none", **overrides):
        self.add_user(user)
        settings = self.dovecot.mailbox_settings(user, security=security, province=province, **overrides)
        self.sections.append(toml_section(settings))
        return settings

    def add_raw_section(self, text: str) -> None:
        self.sections.append(text)

    def write(self, extra: str = "") -> Path:
        self.extra = extra or self.extra
        write_config(self.config, self.data_dir, self.db_url, "\n" + "\n".join(self.sections) + "\n" + self.extra)
        return self.config

    # -- running -----------------------------------------------------------------

    def env(self, **more) -> dict:
        return {**os.environ, "SPORTELLO_CONFIG": str(self.config), **more}

    def cli(self, *args: str, check: bool = True, env: dict | None = None, timeout: float = 300):
        proc = subprocess.run([SPORTELLO, *args], cwd=self.tmp, env=self.env(**(env or {})),
                              capture_output=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"sportello {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout.decode()}\n{proc.stderr.decode()}")
        return proc

    def spawn(self, *args: str, env: dict | None = None, log_name: str = "spawn.log") -> subprocess.Popen:
        log = open(self.tmp / log_name, "ab")
        return subprocess.Popen([SPORTELLO, *args], cwd=self.tmp, env=self.env(**(env or {})),
                                stdout=log, stderr=subprocess.STDOUT)

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = App.from_config(str(self.config))
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None

    def append(self, user: str, raws: list[bytes], folder: str = "INBOX") -> None:
        with self.dovecot.client(user) as c:
            for raw in raws:
                c.append(folder, raw)

    # -- looking at the result ---------------------------------------------------

    def message_count(self) -> int:
        with self.app.db.session() as s:
            return s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))

    def messages(self) -> list[Message]:
        with self.app.db.session() as s:
            return list(s.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)))

    def mailbox_state(self, key: str) -> MailboxState | None:
        with self.app.db.session() as s:
            return s.get(MailboxState, key)

    def assert_exactly_once(self, raws: list[bytes]) -> list[Message]:
        """One Message row per distinct raw mail; its blob holds exactly those bytes; its request holds it."""
        expected = set(sha(r) for r in raws)
        rows = self.messages()
        got = Counter(m.sha256 for m in rows)
        twice = [d for d, n in got.items() if n > 1]
        assert not twice, f"stored more than once: {twice}"
        missing = expected - set(got)
        extra = set(got) - expected
        assert not missing, f"{len(missing)} of {len(expected)} mails never stored"
        assert not extra, f"{len(extra)} stored messages that were never sent"
        blobs = self.app.blobs
        for m in rows:
            assert blobs.exists(m.sha256), f"blob of {m.message_id} missing"
            assert sha(blobs.get(m.sha256)) == m.sha256, f"blob of {m.message_id} corrupt"
            assert m.server_action in ("done", "none"), f"{m.message_id}: server action {m.server_action}"
        with self.app.db.session() as s:
            for a in s.scalars(select(Attachment)):
                assert blobs.exists(a.sha256) and sha(blobs.get(a.sha256)) == a.sha256
            requests = list(s.scalars(select(Request)))
            orphans = [r.reference for r in requests if not r.messages]
            assert not orphans, f"requests without a message: {orphans}"
            owners = Counter(m.request_id for m in rows)
            assert sum(owners.values()) == len(rows)
            # Gap-free references: no request was half-created by a crash.
            numbers = sorted(int(r.reference.rsplit("-", 1)[1]) for r in requests if r.province == "MI")
            assert numbers == list(range(1, len(numbers) + 1)), numbers
        return rows

    def assert_all_moved(self, user: str, raws: list[bytes], *, failed: list[bytes] = (),
                         processed_folder: str = "Processed", failed_folder: str = "Failed") -> None:
        """INBOX empty; every mail in Processed (or Failed), each exactly as often as it was APPENDed."""
        d = self.dovecot
        assert d.uids(user, "INBOX") == [], "mail left in the inbox"
        processed = Counter(sha(r) for r in d.fetch_all(user, processed_folder))
        in_failed = Counter(sha(r) for r in d.fetch_all(user, failed_folder))
        want_failed = Counter(sha(r) for r in failed)
        want_processed = Counter(sha(r) for r in raws) - want_failed
        assert in_failed == want_failed, f"failed folder: {in_failed} != {want_failed}"
        assert processed == want_processed, (
            f"processed folder: missing {want_processed - processed}, extra {processed - want_processed}"
        )


def wait_for(predicate, timeout: float = 30, interval: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    return proc.wait(timeout)

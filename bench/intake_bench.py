"""Intake benchmark against a real Dovecot: ingest rate, and APPEND → stored with IDLE on and off.

    .venv/bin/python bench/intake_bench.py [--messages 1000] [--samples 20] [--poll-interval 10]
                                           [--database-url postgresql+psycopg://…]

Starts its own Dovecot (tests/dovecot.py, everything in a temp dir), APPENDs
N citizens' mails (a small JPEG and a small PDF each), and runs the real sync
engine (sportello.polling.poll_mailbox: fetch, store, move) over them. Then,
on a fresh database, it runs the service's scheduler, IDLE watcher and
verifier in-process (sportello.service.Service, as `sportello run --no-web`)
and times APPEND → request stored for --samples mails, first with IDLE on
(poll_interval 60 s), then with IDLE off (poll_interval --poll-interval).
"""

from __future__ import annotations

import argparse
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from db.migrate import upgrade  # noqa: E402
from db.models import Message  # noqa: E402
from db.app import App  # noqa: E402
from tests import mailfactory as mf  # noqa: E402
from tests.dovecot import Dovecot  # noqa: E402
from tests.intake.intake_env import crlf, toml_section  # noqa: E402

USER = "spazioregione.mi"
PASSWORD = "bench-Password-1"


def citizen_mail(i: int) -> bytes:
    return crlf(mf.mail(
        mf.attachment(mf.jpeg(160, 120, seed=i), "fronte.jpg", "image/jpeg"),
        mf.attachment(mf.pdf(seed=i), "modulo.pdf", "application/pdf"),
        sender=f"Cittadino {i} <cittadino{i}@example.org>", seed=i,
    ))


_schemas: list[tuple[str, str]] = []


def _pg_schema(database_url: str, name: str) -> str:
    """A fresh schema of the given PostgreSQL database for one phase (dropped at the end)."""
    import psycopg

    schema = f"intake_bench_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    _schemas.append((dsn, schema))
    return f"{database_url}{'&' if '?' in database_url else '?'}options=-csearch_path%3D{schema}"


def _drop_schemas() -> None:
    import psycopg

    for dsn, schema in _schemas:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def make_app(work: Path, name: str, dovecot: Dovecot, database_url: str | None, **mailbox) -> App:
    data = work / name
    data.mkdir()
    url = _pg_schema(database_url, name) if database_url else f"sqlite:///{data / 'sportello.db'}"
    section = toml_section(dovecot.mailbox_settings(USER, **mailbox))
    config = work / f"{name}.toml"
    config.write_text(f'data_dir = "{data}"\n\n[database]\nurl = "{url}"\n\n{section}', encoding="utf-8")
    app = App.from_config(str(config))
    upgrade(app.db.engine)
    return app


def stored_count(app: App) -> int:
    with app.db.session() as s:
        return s.scalar(select(func.count()).select_from(Message))


def ingest_rate(work: Path, dovecot: Dovecot, n: int, database_url: str | None) -> list[tuple[str, str]]:
    from intake.sync import poller_id
    from sportello.polling import mailboxes, poll_mailbox

    raws = [citizen_mail(i) for i in range(n)]
    size = sum(len(r) for r in raws) / n
    started = time.perf_counter()
    with dovecot.client(USER) as c:
        for raw in raws:
            c.append("INBOX", raw)
    appended = time.perf_counter() - started

    app = make_app(work, "rate", dovecot, database_url)
    (mb,) = mailboxes(app)
    started = time.perf_counter()
    report = poll_mailbox(app, mb, poller_id())
    took = time.perf_counter() - started
    assert report.complete and report.stored == n and report.moved == n, report
    started = time.perf_counter()
    again = poll_mailbox(app, mb, poller_id())
    second = time.perf_counter() - started
    assert again.stored == 0 and stored_count(app) == n
    app.close()
    return [
        ("messages", f"{n} (avg {size / 1024:.1f} KiB: JPEG 160x120 + 1-page PDF)"),
        ("APPEND (one session)", f"{appended:6.2f} s  {n / appended:7.1f} msg/s"),
        ("sync pass: fetch+store+move", f"{took:6.2f} s  {n / took:7.1f} msg/s  (stored {report.stored}, moved {report.moved})"),
        ("second pass (nothing new)", f"{second:6.2f} s"),
    ]


def latencies(work: Path, dovecot: Dovecot, name: str, samples: int, gap: tuple[float, float], seed: int,
              database_url: str | None, **mailbox) -> list[float]:
    """APPEND at seeded random moments; a watcher thread notes when each mail's row appears."""
    from sportello.service import Service

    app = make_app(work, name, dovecot, database_url, **mailbox)
    service = Service(app)
    service.start()
    rng = random.Random(seed)
    mails = [citizen_mail(100_000 * seed + i) for i in range(samples)]
    ids = [f"<mail-{100_000 * seed + i}@example.org>" for i in range(samples)]
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            with app.db.session() as s:
                rows = s.scalars(select(Message.message_id).where(Message.message_id.in_(ids))).all()
            now = time.perf_counter()
            for mid in rows:
                seen.setdefault(mid, now)
            if len(seen) == samples:
                return
            time.sleep(0.01)

    try:
        time.sleep(1.0)  # the first pass and the IDLE session are up
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        with dovecot.client(USER) as c:
            for mid, raw in zip(ids, mails):
                time.sleep(rng.uniform(*gap))
                c.append("INBOX", raw)
                sent[mid] = time.perf_counter()
        watcher.join(timeout=max(120, gap[1] * 3))
        done.set()
    finally:
        service.shutdown()
        app.close()
    missing = [m for m in ids if m not in seen]
    assert not missing, f"{len(missing)} mails never stored"
    return [seen[m] - sent[m] for m in ids]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--poll-interval", type=int, default=10, help="seconds, IDLE off (at least 5)")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL database to use (one new schema per phase); default: SQLite in a temp dir")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    dovecot = Dovecot()
    dovecot.start()
    try:
        dovecot.add_user(USER, PASSWORD)
        version = subprocess.run([shutil.which("dovecot") or "/usr/sbin/dovecot", "--version"],
                                 capture_output=True, text=True).stdout.strip()
        backend = "PostgreSQL" if args.database_url else "SQLite"
        print(f"intake bench — Dovecot {version}, {backend}, Python {platform.python_version()}, "
              f"{len(__import__('os').sched_getaffinity(0))} CPUs")
        print()
        rows = ingest_rate(work, dovecot, args.messages, args.database_url)
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"  {k:<{width}}  {v}")
        print()

        on = latencies(work, dovecot, "idle-on", args.samples, (0.2, 1.0), 1, args.database_url,
                       idle=True, poll_interval=60)
        off = latencies(work, dovecot, "idle-off", args.samples, (0.0, float(args.poll_interval)), 2,
                        args.database_url, idle=False, poll_interval=args.poll_interval)
        print(f"  APPEND -> request stored ({args.samples} mails each)   median     p95      max")
        for label, values in ((f"IDLE on  (poll_interval 60 s)", on),
                              (f"IDLE off (poll_interval {args.poll_interval} s)", off)):
            print(f"  {label:<38} {statistics.median(values):6.2f} s {p95(values):6.2f} s {max(values):6.2f} s")
    finally:
        dovecot.close()
        shutil.rmtree(work, ignore_errors=True)
        if _schemas:
            _drop_schemas()


if __name__ == "__main__":
    main()

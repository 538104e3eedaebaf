"""Scale benchmark: `sportello run` worker processes on one PostgreSQL, intake + verification.

    .venv/bin/python bench/scale_bench.py [--mails 600] [--workers 1 2 4] [--backlog 10000]
                                          [--pg postgresql+psycopg://127.0.0.1:5432/test]

For each worker count: a fresh database, the 12 provincial Maildirs filled
with `--mails` citizens' mails (small attachments: a note, every tenth a
photo and a PDF), then that many `sportello run --no-web` processes started
at once. The clock stops when every mail is stored, every request verified
and every answer sent. Prints mails/s (process start-up included), then the
time to drain a backlog of `--backlog` mails with 2 workers (0 skips it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from config.settings import PROVINCES  # noqa: E402
from db.app import App  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Message, OutgoingMail, Request  # noqa: E402
from intake.maildir import MaildirSource  # noqa: E402
from tests import mailfactory as mf  # noqa: E402

SPORTELLO = str(Path(sys.executable).with_name("sportello"))


def mails(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        files = [mf.attachment(f"Nota {i}: documenti in arrivo.\n".encode() * 20, "nota.txt", "text/plain")]
        if i % 10 == 0:
            files = [mf.attachment(mf.jpeg(64, 48, seed=i), "fronte.jpg", "image/jpeg"),
                     mf.attachment(mf.pdf(seed=i), "modulo.pdf", "application/pdf")]
        out.append(mf.mail(*files, sender=f"Cittadino {i} <cittadino{i}@example.org>", seed=i))
    return out


def _counts(app: App) -> tuple[int, int, int]:
    with app.db.session() as s:
        stored = s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
        waiting = s.scalar(select(func.count()).select_from(Request).where(Request.status == "received"))
        unsent = s.scalar(select(func.count()).select_from(OutgoingMail).where(OutgoingMail.status != "sent"))
    return stored, waiting, unsent


def run(pg: str, raws: list[bytes], workers: int) -> float:
    """Seconds from starting `workers` processes until everything is stored, verified and answered."""
    name = f"sportello_bench_{uuid.uuid4().hex[:8]}"
    admin = pg.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    tmp = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    url = f"{pg.rsplit('/', 1)[0]}/{name}"
    config = tmp / "sportello.toml"
    config.write_text(f'data_dir = "{tmp / "data"}"\nmaildir_poll_interval = 2\n\n[database]\nurl = "{url}"\n')
    app = App.from_config(str(config))
    procs = []
    try:
        upgrade(app.db.engine)
        for i, raw in enumerate(raws):
            src = MaildirSource(app.settings.maildir_root / PROVINCES[i % len(PROVINCES)], PROVINCES[i % len(PROVINCES)])
            src.ensure()
            src.deliver(raw, f"{i:06d}.bench")
        env = {**os.environ, "SPORTELLO_CONFIG": str(config), "OMP_THREAD_LIMIT": "1"}
        t0 = time.monotonic()
        procs = [subprocess.Popen([SPORTELLO, "run", "--no-web"], cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(workers)]
        while True:
            stored, waiting, unsent = _counts(app)
            if stored == len(raws) and waiting == 0 and unsent == 0:
                return time.monotonic() - t0
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a worker exited early")
            time.sleep(0.5)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        app.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", default=os.environ.get("SPORTELLO_TEST_PG", "postgresql+psycopg://127.0.0.1:5432/test"))
    ap.add_argument("--mails", type=int, default=600)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--backlog", type=int, default=10_000)
    args = ap.parse_args()

    raws = mails(args.mails)
    print(f"intake + verification of {args.mails} mails over 12 Maildirs, on PostgreSQL ({os.cpu_count()} cores)")
    print("| workers | seconds | mails/s |")
    print("| --- | --- | --- |")
    for w in args.workers:
        secs = run(args.pg, raws, w)
        print(f"| {w} | {secs:.1f} | {args.mails / secs:.1f} |", flush=True)
    if args.backlog:
        secs = run(args.pg, mails(args.backlog), 2)
        print(f"backlog of {args.backlog} mails drained by 2 workers in {secs / 60:.1f} min "
              f"({args.backlog / secs:.1f} mails/s)")


if __name__ == "__main__":
    main()

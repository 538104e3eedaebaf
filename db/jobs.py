"""Periodic jobs run once per period across every node on one database.

Each `sportello run` node schedules the same jobs. Before a job runs, the node
inserts a `job_runs` row for (job, period start); the primary key lets one
insert land, so one node runs each period and the others skip it. A node
killed mid-job leaves its period claimed: the next period runs normally (the
jobs are written so that a run picks up whatever an earlier one left).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from db.models import JobRun, utcnow
from db.session import Database

EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
KEEP = timedelta(days=7)  # claims older than this are pruned


def period_start(now: datetime, every: timedelta) -> datetime:
    """The start of the period of length `every` that holds `now` (periods aligned on EPOCH)."""
    return EPOCH + ((now - EPOCH) // every) * every


def claim(db: Database, job: str, every: timedelta, node: str, now: datetime | None = None) -> datetime | None:
    """Claim this period of `job` for `node`: its start when the claim landed, None when another had it."""
    start = period_start(now or utcnow(), every)
    try:
        with db.session() as s:
            s.add(JobRun(job=job, period_start=start, node=node, claimed_at=utcnow()))
    except IntegrityError:
        return None
    return start


def finished(db: Database, job: str, start: datetime) -> None:
    with db.session() as s:
        s.execute(update(JobRun).where(JobRun.job == job, JobRun.period_start == start)
                  .values(finished_at=utcnow()))
        s.execute(delete(JobRun).where(JobRun.job == job, JobRun.period_start < start - KEEP))


def run_once(db: Database, job: str, every: timedelta, node: str, fn, *args) -> bool:
    """Run fn(*args) if this node wins this period of `job`; True when it ran."""
    start = claim(db, job, every, node)
    if start is None:
        return False
    fn(*args)
    finished(db, job, start)
    return True

"""Periodic jobs claimed once per period across nodes (db/jobs.py), on SQLite and PostgreSQL."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from db import jobs
from db.models import JobRun
from tests.nodes import as_nodes

MINUTE = timedelta(minutes=1)


def test_periods_are_aligned_and_hold_their_instants():
    t = datetime(2026, 12, 7, 10, 17, 42, tzinfo=timezone.utc)
    assert jobs.period_start(t, MINUTE) == datetime(2026, 12, 7, 10, 17, tzinfo=timezone.utc)
    assert jobs.period_start(t, timedelta(hours=24)) == datetime(2026, 12, 7, tzinfo=timezone.utc)
    start = jobs.period_start(t, timedelta(seconds=300))
    assert start <= t < start + timedelta(seconds=300) and start.minute == 15


def test_one_claim_per_period(app):
    t = datetime(2026, 12, 7, 10, 17, 42, tzinfo=timezone.utc)
    assert jobs.claim(app.db, "stale", MINUTE, "node-a", t) is not None
    assert jobs.claim(app.db, "stale", MINUTE, "node-b", t + timedelta(seconds=10)) is None
    assert jobs.claim(app.db, "purge", MINUTE, "node-b", t) is not None  # another job, its own periods
    assert jobs.claim(app.db, "stale", MINUTE, "node-b", t + MINUTE) is not None  # the next period


def test_twenty_nodes_at_once_run_the_job_once(app, config_file):
    """Twenty threads, each with its own engine (as separate nodes would be), race for one period."""
    ran = []
    as_nodes(config_file, 20, lambda a, i: jobs.run_once(a.db, "reminders", timedelta(hours=1), f"node-{i}",
                                                        ran.append, i))
    assert len(ran) == 1
    with app.db.session() as s:
        row = s.scalars(select(JobRun)).one()
        assert row.node == f"node-{ran[0]}" and row.finished_at is not None


def test_old_claims_are_pruned(app):
    old = datetime(2026, 11, 1, tzinfo=timezone.utc)
    jobs.claim(app.db, "stale", MINUTE, "n", old)
    start = jobs.claim(app.db, "stale", MINUTE, "n", old + timedelta(days=8))
    jobs.finished(app.db, "stale", start)
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(JobRun)) == 1

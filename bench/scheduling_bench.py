"""Scheduling benchmark: free-slot queries and concurrent booking.

    .venv/bin/python bench/scheduling_bench.py [--bookings 5000] [--days 60] [--queries 200]
                                               [--clients 20] [--pg postgresql+psycopg://127.0.0.1:5432/test]

1. Free slots for 12 offices x `--days` days with `--bookings` existing
   bookings spread over them: the pure computation (scheduling.calendar),
   plus loading an office's bookings from the database (scheduling.bookings).
   Prints ms per query, median and p95.
2. Booking throughput on PostgreSQL: `--clients` threads, each booking ready
   requests into the slots of one day, into the slots of a week, picked at random (contended). Prints
   bookings/s, refusals ("slot già occupato") and double bookings (must be 0).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import date, datetime, time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.settings import PROVINCES  # noqa: E402
from scheduling.calendar import ROME, Booked, OfficeCalendar, TimeRange, all_slots, free_slots  # noqa: E402

FIRST = date(2027, 1, 11)  # a Monday
NOW = datetime(2027, 1, 10, 12, 0, tzinfo=ROME)


def calendar(province: str, desks: int = 3, cap: int | None = 10) -> OfficeCalendar:
    hours = {d: (TimeRange(dtime(9), dtime(12, 30)), TimeRange(dtime(14), dtime(16, 30))) for d in range(5)}
    return OfficeCalendar(province=province, weekly=hours, slot_minutes=20, buffer_minutes=10, desks=desks,
                          daily_cap_per_desk=cap, min_notice_minutes=120)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def bench_free_slots(n_bookings: int, days: int, queries: int) -> None:
    rnd = random.Random(16)
    cals = {p: calendar(p) for p in PROVINCES}
    grid = {p: all_slots(c, FIRST, days) for p, c in cals.items()}
    per_office: dict[str, list[Booked]] = {p: [] for p in PROVINCES}
    for _ in range(n_bookings):
        p = rnd.choice(PROVINCES)
        s = rnd.choice(grid[p])
        per_office[p].append(Booked(s.desk, s.start, s.end, None))
    times = []
    for i in range(queries):
        p = PROVINCES[i % len(PROVINCES)]
        t0 = time.perf_counter()
        free = free_slots(cals[p], FIRST, days, per_office[p], NOW)
        times.append((time.perf_counter() - t0) * 1000)
    assert free
    total_slots = sum(len(g) for g in grid.values())
    print(f"free slots, 12 offices x {days} days ({total_slots} slots), {n_bookings} bookings, {queries} queries:")
    print(f"  pure computation: median {statistics.median(times):.1f} ms, p95 {pct(times, 95):.1f} ms per office query")


def bench_db_query(url: str, n_bookings: int, days: int, queries: int) -> None:
    from db.migrate import upgrade
    from db.models import Booking, Request
    from db.session import Database
    from scheduling.bookings import booked_in

    db = Database(url)
    upgrade(db.engine)
    rnd = random.Random(17)
    cals = {p: calendar(p) for p in PROVINCES}
    grid = {p: all_slots(c, FIRST, days) for p, c in cals.items()}
    with db.session() as s:
        used = set()
        rows = []
        for i in range(n_bookings):
            p = rnd.choice(PROVINCES)
            sl = rnd.choice(grid[p])
            if (p, sl.desk, sl.start) in used:
                continue
            used.add((p, sl.desk, sl.start))
            r = Request(reference=f"SR-{p}-2027-{i:06d}", province=p, status="booked", version=1)
            s.add(r)
            rows.append((r, p, sl))
        s.flush()
        for r, p, sl in rows:
            s.add(Booking(request_id=r.id, province=p, desk=sl.desk, start=sl.start, end=sl.end, status="active",
                          active_request_id=r.id, active_start=sl.start, uid=f"{uuid.uuid4()}@bench"))
    times = []
    for i in range(queries):
        p = PROVINCES[i % len(PROVINCES)]
        t0 = time.perf_counter()
        with db.session() as s:
            taken = booked_in(s, p, FIRST, days)
        free_slots(cals[p], FIRST, days, taken, NOW)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"  with the bookings loaded from {db.engine.dialect.name} ({len(rows)} rows): "
          f"median {statistics.median(times):.1f} ms, p95 {pct(times, 95):.1f} ms per office query")
    db.dispose()


def bench_booking(url: str, clients: int, per_client: int) -> None:
    from sqlalchemy import func, select

    from db import lifecycle
    from db.migrate import upgrade
    from db.models import Booking, Request
    from db.session import Database
    from scheduling import bookings

    db = Database(url)
    upgrade(db.engine)
    # No daily cap here: the cap is a check of the slot computation, not a database
    # constraint, and racing clients could pass it together (uniqueness they cannot).
    cal = calendar("MI", desks=2, cap=None)
    day = FIRST
    slots = all_slots(cal, day, 5)  # one working week
    refs = []
    with db.session() as s:
        for i in range(clients * per_client):
            r = Request(reference=f"SR-MI-2027-{900000 + i}", province="MI")
            lifecycle.open_request(s, r, "bench")
            s.flush()
            lifecycle.transition(s, r, "ready", "bench")
            refs.append(r.reference)
    ok, refused, other = [0], [0], []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(k: int):
        rnd = random.Random(k)
        mine = refs[k * per_client:(k + 1) * per_client]
        barrier.wait()
        for ref in mine:
            for _ in range(len(slots)):
                s = rnd.choice(slots)
                try:
                    bookings.book(db, cal, ref, s.start, now=NOW, actor="bench", desk=s.desk)
                    with lock:
                        ok[0] += 1
                    break
                except bookings.SlotTaken:
                    with lock:
                        refused[0] += 1
                except Exception as exc:  # noqa: BLE001
                    other.append(repr(exc))
                    break

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    with db.session() as s:
        rows = s.scalar(select(func.count()).select_from(Booking))
        distinct = s.scalar(select(func.count()).select_from(
            select(Booking.desk, Booking.start).where(Booking.status == "active").distinct().subquery()))
    print(f"booking on {db.engine.dialect.name}, {clients} concurrent clients, {len(refs)} requests, "
          f"{len(slots)} slots of one week, each client trying random slots:")
    print(f"  {ok[0]} bookings in {elapsed:.2f} s = {ok[0] / elapsed:.0f} bookings/s; {refused[0]} refusals "
          f"'slot già occupato'; double bookings: {rows - distinct}; other errors: {len(other)}")
    db.dispose()


def _fresh_pg(admin_url: str) -> tuple[str, callable]:
    import psycopg

    name = f"sportello_bench_{uuid.uuid4().hex[:8]}"
    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bookings", type=int, default=5000)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--per-client", type=int, default=6)
    ap.add_argument("--pg", default="postgresql+psycopg://127.0.0.1:5432/test",
                    help="an admin URL: the benchmark makes and drops its own database")
    args = ap.parse_args()
    bench_free_slots(args.bookings, args.days, args.queries)
    url, drop = _fresh_pg(args.pg)
    try:
        bench_db_query(url, args.bookings, args.days, max(24, args.queries // 4))
    finally:
        drop()
    url, drop = _fresh_pg(args.pg)
    try:
        bench_booking(url, args.clients, args.per_client)
    finally:
        drop()


if __name__ == "__main__":
    main()

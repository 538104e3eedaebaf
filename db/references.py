"""Request references: SR-<province>-<year>-<6 digits>, gap-free per province and year."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import ReferenceCounter

FORMAT = "SR-{province}-{year}-{number:06d}"


def next_reference(session: Session, province: str, year: int) -> str:
    """Allocate the next reference inside the caller's transaction.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite), so
    two concurrent intakes never get the same number; the first of a year
    inserts the row, and a racing insert falls back to the UPDATE.
    """
    for _ in range(3):
        res = session.execute(
            update(ReferenceCounter)
            .where(ReferenceCounter.province == province, ReferenceCounter.year == year)
            .values(last=ReferenceCounter.last + 1)
        )
        if res.rowcount == 1:
            break
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(province=province, year=year, last=1))
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - would need three lost races in a row
        raise RuntimeError("could not allocate a request reference")
    number = session.execute(
        select(ReferenceCounter.last).where(
            ReferenceCounter.province == province, ReferenceCounter.year == year
        )
    ).scalar_one()
    return FORMAT.format(province=province, year=year, number=number)

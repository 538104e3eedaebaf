"""Reminders of the call, 24 h and 1 h before: which are due (pure), and claiming one (CAS).

A reminder is due from its lead time before the start until the next one is
due (a 24 h reminder not sent by 1 h before is dropped: the 1 h one says it
all). It belongs to one version of the booking (`sequence`): a moved
booking gets its reminders again, for the new time; a cancelled one none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Booking, as_utc

LEADS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))


def due_kind(start: datetime, now: datetime) -> str | None:
    """'24h', '1h' or None for a call at `start`, seen at `now`."""
    start, now = as_utc(start), as_utc(now)
    if now >= start:
        return None
    if now >= start - timedelta(hours=1):
        return "1h"
    if now >= start - timedelta(hours=24):
        return "24h"
    return None


@dataclass(frozen=True)
class Due:
    booking_id: int
    kind: str
    sequence: int


def due(s: Session, now: datetime) -> list[Due]:
    now = as_utc(now)
    rows = s.scalars(select(Booking).where(Booking.status == "active", Booking.start > now,
                                           Booking.start <= now + timedelta(hours=24))).all()
    out = []
    for b in rows:
        kind = due_kind(b.start, now)
        sent_for = b.reminder_24h_for if kind == "24h" else b.reminder_1h_for
        if kind and sent_for != b.sequence:
            out.append(Due(b.id, kind, b.sequence))
    return out


def claim(s: Session, d: Due) -> Booking | None:
    """Mark the reminder sent for that booking version; None when someone else did, or it changed."""
    col = Booking.reminder_24h_for if d.kind == "24h" else Booking.reminder_1h_for
    done = s.execute(
        update(Booking)
        .where(Booking.id == d.booking_id, Booking.status == "active", Booking.sequence == d.sequence,
               (col.is_(None)) | (col != d.sequence))
        .values({col.key: d.sequence})
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not done:
        return None
    b = s.get(Booking, d.booking_id)
    s.refresh(b)
    return b

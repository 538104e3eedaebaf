"""The expiry of `incomplete` requests: a notice some days before, then `expired`.

The wait is counted from the request's last change (`updated_at`: a reply of
the citizen re-verifies it and moves it). Both steps are claimed by a
compare-and-swap on the request's version, in the transaction that queues
the mail: one notice and one expiry, across restarts and concurrent runners.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db import lifecycle
from db.models import Request, as_utc


def step(updated_at: datetime, now: datetime, timeout_days: int, notice_days: int) -> str | None:
    """'expire', 'notice' or None (pure)."""
    since = as_utc(now) - as_utc(updated_at)
    if since >= timedelta(days=timeout_days):
        return "expire"
    if notice_days and since >= timedelta(days=timeout_days - notice_days):
        return "notice"
    return None


@dataclass(frozen=True)
class Pending:
    request_id: int
    version: int
    step: str


def pending(s: Session, now: datetime, timeout_days: int, notice_days: int) -> list[Pending]:
    horizon = as_utc(now) - timedelta(days=max(0, timeout_days - notice_days))
    rows = s.execute(select(Request.id, Request.version, Request.updated_at, Request.expiry_notice_for)
                     .where(Request.status == "incomplete", Request.updated_at <= horizon)).all()
    out = []
    for rid, version, updated, notice_for in rows:
        what = step(updated, now, timeout_days, notice_days)
        if what == "notice" and notice_for == version:
            continue
        if what:
            out.append(Pending(rid, version, what))
    return out


def claim(s: Session, p: Pending, actor: str, timeout_days: int) -> Request | None:
    """Do the step if the request is still as seen; None when someone else did or it changed."""
    cond = [Request.id == p.request_id, Request.status == "incomplete", Request.version == p.version]
    if p.step == "notice":
        cond.append((Request.expiry_notice_for.is_(None)) | (Request.expiry_notice_for != p.version))
        values = {"expiry_notice_for": p.version, "updated_at": Request.updated_at}
    else:
        values = {"version": Request.version, "updated_at": Request.updated_at}  # takes the row
    if s.execute(update(Request).where(*cond).values(values)
                 .execution_options(synchronize_session=False)).rowcount != 1:
        return None
    req = s.get(Request, p.request_id)
    s.refresh(req)
    if p.step == "notice":
        lifecycle.record(s, req, "expiry_notice", actor, {"days": timeout_days})
    else:
        lifecycle.transition(s, req, "expired", actor, reason=f"nessuna integrazione entro {timeout_days} giorni")
    return req

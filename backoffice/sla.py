"""Service-level targets of the queue: how long a request may wait in a status.

Pure functions: the age of a request is measured from the moment it entered
its current status; the colour says how much of the target it has used.
"""

from __future__ import annotations

from datetime import timedelta

# The office's commitments (hours of waiting in the status, calendar time).
TARGETS: dict[str, timedelta] = {
    "received": timedelta(hours=4),      # the automation should have read it by now
    "needs_review": timedelta(days=2),   # an operator looks within two days
    "ready": timedelta(days=5),          # the citizen is phoned within five days
    "booked": timedelta(days=14),
    "identified": timedelta(days=1),     # codes released the day of the call
}
WARN_FROM = 0.5  # share of the target after which the row turns amber


def target(status: str, incomplete_timeout_days: int = 30) -> timedelta | None:
    if status == "incomplete":
        # Waiting for the citizen: the clock that matters is the expiry time-out.
        return timedelta(days=incomplete_timeout_days)
    return TARGETS.get(status)


def level(status: str, waited: timedelta, incomplete_timeout_days: int = 30) -> str:
    """'ok', 'warn', 'late', or 'none' for statuses without a target (closed ones)."""
    t = target(status, incomplete_timeout_days)
    if t is None:
        return "none"
    if waited >= t:
        return "late"
    if waited >= t * WARN_FROM:
        return "warn"
    return "ok"


LEVEL_LABELS = {
    "ok": "nei tempi",
    "warn": "in scadenza",
    "late": "fuori tempo",
    "none": "",
}


def format_age(waited: timedelta) -> str:
    """A short Italian duration: '3 g 4 h', '5 h 12 min', '12 min'."""
    minutes = max(0, int(waited.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} g {hours} h" if hours else f"{days} g"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    if mins:
        return f"{mins} min"
    return "adesso"

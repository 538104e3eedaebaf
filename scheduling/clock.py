"""The scheduling's clock: the real one, or SPORTELLO_NOW / SPORTELLO_TODAY for tests and checks."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timezone

from scheduling.calendar import ROME


def now() -> datetime:
    """Now, aware, in Europe/Rome.

    SPORTELLO_NOW=YYYY-MM-DDTHH:MM sets it to the minute (Europe/Rome);
    else SPORTELLO_TODAY=YYYY-MM-DD sets it to that day at 00:00 Europe/Rome.
    """
    value = os.environ.get("SPORTELLO_NOW")
    if value:
        try:
            dt = datetime.strptime(value, "%Y-%m-%dT%H:%M")
        except ValueError:
            raise ValueError(f"SPORTELLO_NOW={value!r} is not a time in the form YYYY-MM-DDTHH:MM") from None
        return dt.replace(tzinfo=ROME)
    value = os.environ.get("SPORTELLO_TODAY")
    if value:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"SPORTELLO_TODAY={value!r} is not a date in the form YYYY-MM-DD") from None
        return datetime.combine(day, time(0, 0), tzinfo=ROME)
    return datetime.now(timezone.utc).astimezone(ROME)


def parse_local(text: str) -> datetime:
    """'YYYY-MM-DDTHH:MM' (Europe/Rome wall clock) → aware datetime; ValueError otherwise."""
    try:
        dt = datetime.strptime(text, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise ValueError(f"'{text}' is not a time in the form YYYY-MM-DDTHH:MM") from None
    return dt.replace(tzinfo=ROME)

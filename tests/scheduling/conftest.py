"""Requests in `ready`, made through db.lifecycle, and the office calendar used by the booking tests."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from db import lifecycle
from db.models import Request
from db.references import next_reference
from scheduling.calendar import ROME, OfficeCalendar, TimeRange

# Thursday 10 December 2026, 08:15 in Rome: the booking tests' "now".
NOW = datetime(2026, 12, 10, 8, 15, tzinfo=ROME)


def make_ready(app, count: int, province: str = "MI", phone: str = "+393331234567") -> list[str]:
    refs = []
    with app.db.session() as s:
        for i in range(count):
            r = Request(reference=next_reference(s, province, 2026), province=province, form_type="direct",
                        holder_surname="ROSSI", holder_given_names=f"MARIO{i}", contact_phone=phone,
                        contact_email=f"cittadino{i}@example.org", sender_email=f"cittadino{i}@example.org")
            lifecycle.open_request(s, r, "test")
            s.flush()
            lifecycle.transition(s, r, "ready", "test")
            refs.append(r.reference)
    return refs


@pytest.fixture
def office() -> OfficeCalendar:
    hours = {d: (TimeRange(time(9), time(12)), TimeRange(time(14), time(16))) for d in range(5)}
    return OfficeCalendar(province="MI", weekly=hours, slot_minutes=20, buffer_minutes=10, desks=2,
                          min_notice_minutes=60)

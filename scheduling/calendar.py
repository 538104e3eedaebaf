"""Office calendars and free slots: the pure core of scheduling.

No database, no clock, no configuration file: an `OfficeCalendar` and the
bookings that exist go in, slots come out. Every datetime here is aware and
in UTC (Python compares and subtracts datetimes of one zone by wall clock,
which is wrong twice a year); `Slot.local_start` gives Europe/Rome for people.
The grid of a day is laid in absolute time
from the wall-clock start of each opening range, so the DST change days
(the last Sundays of March and October) have one hour fewer or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

import holidays

from db.models import as_utc

ROME = ZoneInfo("Europe/Rome")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class TimeRange:
    """One opening range of a day, wall-clock time in Europe/Rome."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> "TimeRange":
        """'09:00-12:30' → TimeRange; ValueError with a readable reason."""
        try:
            a, b = (part.strip() for part in text.split("-"))
            start, end = time.fromisoformat(a), time.fromisoformat(b)
        except ValueError:
            raise ValueError(f"'{text}' is not a range HH:MM-HH:MM") from None
        if end <= start:
            raise ValueError(f"range '{text}' ends before it starts")
        return cls(start, end)

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def overlapping(ranges: Iterable[TimeRange]) -> tuple[TimeRange, TimeRange] | None:
    """The first two ranges of a day that overlap, or None."""
    ordered = sorted(ranges, key=lambda r: r.start)
    for a, b in zip(ordered, ordered[1:]):
        if b.start < a.end:
            return a, b
    return None


@dataclass(frozen=True)
class Absence:
    """An operator away: their desk takes no call in [start, end) (aware datetimes)."""

    desk: int
    start: datetime
    end: datetime
    operator: str | None = None


@dataclass(frozen=True)
class OfficeCalendar:
    province: str
    weekly: dict[int, tuple[TimeRange, ...]]  # weekday (0 = Monday) → opening ranges
    slot_minutes: int = 20
    buffer_minutes: int = 10
    desks: int = 1
    daily_cap_per_desk: int | None = None
    closures: tuple[tuple[date, date], ...] = ()  # inclusive date ranges
    absences: tuple[Absence, ...] = ()
    min_notice_minutes: int = 120

    @property
    def slot(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime
    desk: int

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(ROME)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(ROME)

    @property
    def day(self) -> date:
        return self.local_start.date()


@dataclass(frozen=True)
class Booked:
    """An existing booking as the slot computation needs it."""

    desk: int
    start: datetime  # aware (any zone) or naive UTC
    end: datetime
    reference: str | None = None


@lru_cache(maxsize=256)
def _holidays(province: str, year: int) -> holidays.HolidayBase:
    # The national holidays and the capital's patron saint (holidays' Italian subdivisions).
    return holidays.Italy(subdiv=province, years=year, language="it_IT")  # names in Italian


def holiday_name(province: str, day: date) -> str | None:
    return _holidays(province, day.year).get(day)


def closed_reason(cal: OfficeCalendar, day: date) -> str | None:
    """Why the office is closed that day, in Italian ('festività: San Siro', 'chiusura', …), or None."""
    name = holiday_name(cal.province, day)
    if name:
        return f"festività: {name}"
    for first, last in cal.closures:
        if first <= day <= last:
            return "chiusura dell'ufficio"
    if not cal.weekly.get(day.weekday()):
        return "nessun orario di apertura"
    return None



def to_rome(dt: datetime) -> datetime:
    return as_utc(dt).astimezone(ROME)


def _wall(day: date, t: time) -> datetime:
    """The instant of wall-clock `t` on `day` in Rome; a time in the spring gap moves past it."""
    return datetime.combine(day, t, tzinfo=ROME).astimezone(timezone.utc)


def day_slots(cal: OfficeCalendar, day: date) -> list[Slot]:
    """Every slot of every desk on `day`, taken or not; empty on a closed day."""
    if closed_reason(cal, day):
        return []
    out: list[Slot] = []
    step = cal.slot + cal.buffer
    for rng in cal.weekly[day.weekday()]:
        t, end = _wall(day, rng.start), _wall(day, rng.end)
        while t + cal.slot <= end:
            for desk in range(1, cal.desks + 1):
                out.append(Slot(t, t + cal.slot, desk))
            t += step
    return out


def days(first: date, count: int) -> Iterator[date]:
    for i in range(count):
        yield first + timedelta(days=i)


def _blocked(slot: Slot, cal: OfficeCalendar, taken: dict[tuple[int, date], list[Booked]]) -> bool:
    for a in cal.absences:
        if a.desk == slot.desk and a.start < slot.end and slot.start < a.end:
            return True
    # A booking blocks every slot it touches, buffer included: off-grid bookings
    # (left by a change of slot length) keep their margin too. Only the bookings
    # of that desk on that day and its neighbours can touch it.
    day = slot.day
    for d in (day - timedelta(days=1), day, day + timedelta(days=1)):
        for b in taken.get((slot.desk, d), ()):
            if b.start - cal.buffer < slot.end and slot.start < b.end + cal.buffer:
                return True
    return False


def all_slots(cal: OfficeCalendar, first: date, count: int) -> list[Slot]:
    return [s for d in days(first, count) for s in day_slots(cal, d)]


def free_slots(
    cal: OfficeCalendar,
    first: date,
    count: int,
    bookings: Iterable[Booked],
    now: datetime,
) -> list[Slot]:
    """The slots a citizen may be booked into, in order of start then desk.

    Not offered: slots of closed days, past slots and those inside the minimum
    notice, slots of an absent operator's desk, slots a booking (with its
    buffer) touches, and every slot of a desk that reached its daily cap.
    """
    earliest = as_utc(now) + timedelta(minutes=cal.min_notice_minutes)
    per_desk: dict[tuple[int, date], list[Booked]] = {}
    per_desk_day: dict[tuple[int, date], int] = {}
    for b in bookings:
        b = Booked(b.desk, as_utc(b.start), as_utc(b.end), b.reference)
        key = (b.desk, to_rome(b.start).date())
        per_desk.setdefault(key, []).append(b)
        per_desk_day[key] = per_desk_day.get(key, 0) + 1
    out = []
    for d in days(first, count):
        for s in day_slots(cal, d):
            if s.start < earliest:
                continue
            if cal.daily_cap_per_desk is not None and per_desk_day.get((s.desk, d), 0) >= cal.daily_cap_per_desk:
                continue
            if _blocked(s, cal, per_desk):
                continue
            out.append(s)
    out.sort(key=lambda s: (s.start, s.desk))
    return out


def find_slot(cal: OfficeCalendar, start: datetime, desk: int | None = None) -> list[Slot]:
    """The grid slots that begin at `start` (one per desk, or that desk's only)."""
    start = as_utc(start)
    return [s for s in day_slots(cal, to_rome(start).date()) if s.start == start and (desk is None or s.desk == desk)]


__all__ = [
    "ROME", "WEEKDAYS", "TimeRange", "Absence", "OfficeCalendar", "Slot", "Booked",
    "overlapping", "closed_reason", "holiday_name", "day_slots", "all_slots", "free_slots", "find_slot",
    "to_rome", "days",
]

"""`[calendar]` (every office's default) and `[calendar.XX]` (one office's overrides).

An override replaces the keys it names; in `hours` it replaces the days it
names. Each office's effective calendar is checked as a whole: overlapping
ranges, a slot longer than a range, an absence of a desk the office lacks.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PROVINCES = ("BG", "BS", "CO", "CR", "LC", "LO", "MB", "MI", "MN", "PV", "SO", "VA")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def parse_range(text: str) -> tuple[time, time]:
    try:
        a, b = (part.strip() for part in text.split("-"))
        start, end = time.fromisoformat(a), time.fromisoformat(b)
    except ValueError:
        raise ValueError(f"'{text}' is not a range HH:MM-HH:MM") from None
    if end <= start:
        raise ValueError(f"range '{text}' ends before it starts")
    return start, end


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


class WeekHours(_Strict):
    """Opening ranges per weekday, e.g. mon = ["09:00-12:30", "14:00-16:00"]."""

    mon: list[str] | None = None
    tue: list[str] | None = None
    wed: list[str] | None = None
    thu: list[str] | None = None
    fri: list[str] | None = None
    sat: list[str] | None = None
    sun: list[str] | None = None

    @field_validator(*WEEKDAYS)
    @classmethod
    def _ranges(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        parsed = sorted((parse_range(x), x) for x in v)
        for (a, ta), (b, tb) in zip(parsed, parsed[1:]):
            if b[0] < a[1]:
                raise ValueError(f"ranges {ta} and {tb} overlap")
        return v


class ClosureRange(_Strict):
    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _order(self) -> "ClosureRange":
        if self.to < self.from_:
            raise ValueError("a closure ends before it starts")
        return self


class AbsenceSettings(_Strict):
    desk: int = Field(ge=1)
    from_: datetime = Field(alias="from")  # TOML local date-time, Europe/Rome
    to: datetime
    operator: str | None = None

    @model_validator(mode="after")
    def _order(self) -> "AbsenceSettings":
        if self.to <= self.from_:
            raise ValueError("an absence ends before it starts")
        return self


_DEFAULT_HOURS = {d: ["09:00-12:30", "14:00-16:30"] for d in WEEKDAYS[:5]}


class _CalendarFields(_Strict):
    hours: WeekHours | None = None
    slot_minutes: int | None = Field(None, ge=5, le=240)
    buffer_minutes: int | None = Field(None, ge=0, le=120)
    desks: int | None = Field(None, ge=1, le=50)
    daily_cap_per_desk: int | None = Field(None, ge=1)
    min_notice_hours: float | None = Field(None, ge=0)
    closures: list[date | ClosureRange] | None = None
    absences: list[AbsenceSettings] | None = None


class CalendarOverride(_CalendarFields):
    """`[calendar.XX]`: what differs in one office."""


DEFAULTS: dict[str, Any] = {
    "slot_minutes": 20,
    "buffer_minutes": 10,
    "desks": 2,
    "daily_cap_per_desk": None,
    "min_notice_hours": 2,
    "closures": [],
    "absences": [],
}


class CalendarSettings(_CalendarFields):
    """`[calendar]`: the default of every office, plus the offices' overrides."""

    # After this many missed calls the request is rejected and the citizen told.
    no_show_limit: int = Field(2, ge=1)
    # The citizen's booking link in the "pratica completa" mail: hours it stays valid.
    link_valid_hours: int = Field(168, ge=1)
    # The link in the invitation moves or cancels the call until this many hours before it.
    link_closes_hours_before: int = Field(24, ge=0)
    BG: CalendarOverride | None = None
    BS: CalendarOverride | None = None
    CO: CalendarOverride | None = None
    CR: CalendarOverride | None = None
    LC: CalendarOverride | None = None
    LO: CalendarOverride | None = None
    MB: CalendarOverride | None = None
    MI: CalendarOverride | None = None
    MN: CalendarOverride | None = None
    PV: CalendarOverride | None = None
    SO: CalendarOverride | None = None
    VA: CalendarOverride | None = None

    def effective(self, province: str) -> dict[str, Any]:
        """The office's calendar as plain values: defaults < [calendar] < [calendar.XX]."""
        out = dict(DEFAULTS)
        hours = dict(_DEFAULT_HOURS)
        layers = [self, getattr(self, province.upper(), None)]
        for layer in layers:
            if layer is None:
                continue
            for name in _CalendarFields.model_fields:
                if name not in layer.model_fields_set:
                    continue
                value = getattr(layer, name)
                if name == "hours":
                    if value is not None:
                        # A layer that gives `hours` gives the whole week; days it omits are closed.
                        hours = {d: getattr(value, d) for d in WEEKDAYS if getattr(value, d)}
                else:
                    out[name] = value
        out["hours"] = hours
        return out

    @model_validator(mode="after")
    def _each_office(self) -> "CalendarSettings":
        for p in PROVINCES:
            eff = self.effective(p)
            where = f"calendar.{p}" if getattr(self, p) is not None else "calendar"
            for day, ranges in eff["hours"].items():
                for text in ranges:
                    start, end = parse_range(text)
                    if _minutes(end) - _minutes(start) < eff["slot_minutes"]:
                        raise ValueError(
                            f"{where}: a slot of {eff['slot_minutes']} minutes is longer than the range {text} on {day}"
                        )
            for a in eff["absences"]:
                if a.desk > eff["desks"]:
                    raise ValueError(f"{where}: an absence on desk {a.desk}, but the office has {eff['desks']} desks")
        return self

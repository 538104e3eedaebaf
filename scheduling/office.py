"""From the `[calendar]` settings to one office's `OfficeCalendar`."""

from __future__ import annotations


from config.calendar import CalendarSettings, ClosureRange
from scheduling.calendar import ROME, WEEKDAYS, Absence, OfficeCalendar, TimeRange


def office_calendar(settings: CalendarSettings, province: str) -> OfficeCalendar:
    eff = settings.effective(province)
    weekly = {
        WEEKDAYS.index(day): tuple(sorted((TimeRange.parse(t) for t in ranges), key=lambda r: r.start))
        for day, ranges in eff["hours"].items()
    }
    closures = tuple(
        (c.from_, c.to) if isinstance(c, ClosureRange) else (c, c) for c in eff["closures"]
    )
    absences = tuple(
        Absence(a.desk, _rome(a.from_), _rome(a.to), a.operator) for a in eff["absences"]
    )
    return OfficeCalendar(
        province=province.upper(),
        weekly=weekly,
        slot_minutes=eff["slot_minutes"],
        buffer_minutes=eff["buffer_minutes"],
        desks=eff["desks"],
        daily_cap_per_desk=eff["daily_cap_per_desk"],
        closures=closures,
        absences=absences,
        min_notice_minutes=int(round(eff["min_notice_hours"] * 60)),
    )


def _rome(dt):
    return dt.replace(tzinfo=ROME) if dt.tzinfo is None else dt.astimezone(ROME)



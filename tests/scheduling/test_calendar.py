"""The pure slot computation: holidays, DST, buffers, caps, desks, absences, closures, notice."""

from datetime import date, datetime, time, timedelta

import pytest

from scheduling.calendar import (
    ROME, Absence, Booked, OfficeCalendar, TimeRange, closed_reason, day_slots, free_slots, find_slot,
)

WEEKDAYS_9_12 = {d: (TimeRange(time(9), time(12)),) for d in range(5)}
LONG_AGO = datetime(2020, 1, 1, tzinfo=ROME)


def cal(province="MI", **kw) -> OfficeCalendar:
    base = dict(province=province, weekly=WEEKDAYS_9_12, slot_minutes=20, buffer_minutes=10, desks=1,
                min_notice_minutes=0)
    base.update(kw)
    return OfficeCalendar(**base)


def local(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=ROME)


def starts(slots):
    return [(s.local_start.strftime("%H:%M%z"), s.desk) for s in slots]


# --- holidays --------------------------------------------------------------

PATRONS_2026 = {
    "MI": date(2026, 12, 7), "BG": date(2026, 8, 26), "BS": date(2026, 2, 15), "LC": date(2026, 12, 6),
    "PV": date(2026, 12, 9), "CO": date(2026, 8, 31), "CR": date(2026, 11, 13), "LO": date(2026, 1, 19),
    "MB": date(2026, 6, 24), "MN": date(2026, 3, 18), "SO": date(2026, 6, 19), "VA": date(2026, 5, 8),
}


@pytest.mark.parametrize("province,patron", sorted(PATRONS_2026.items()))
def test_every_capitals_patron_saint_is_closed_there_only(province, patron):
    every_day = {d: (TimeRange(time(9), time(12)),) for d in range(7)}
    here = cal(province, weekly=every_day)
    assert closed_reason(here, patron).startswith("festività: ")
    assert day_slots(here, patron) == []
    other = "BG" if province != "BG" else "MI"
    assert day_slots(cal(other, weekly=every_day), patron) != []


NATIONAL_2026 = [date(2026, 1, 1), date(2026, 1, 6), date(2026, 4, 5), date(2026, 4, 6), date(2026, 4, 25),
                 date(2026, 5, 1), date(2026, 6, 2), date(2026, 8, 15), date(2026, 11, 1), date(2026, 12, 8),
                 date(2026, 12, 25), date(2026, 12, 26)]


@pytest.mark.parametrize("day", NATIONAL_2026)
def test_national_holidays_are_closed_in_every_office(day):
    every_day = {d: (TimeRange(time(9), time(12)),) for d in range(7)}
    for p in PATRONS_2026:
        assert day_slots(cal(p, weekly=every_day), day) == [], (p, day)


def test_holiday_names_are_italian():
    assert closed_reason(cal("PV"), date(2026, 12, 9)) == "festività: San Siro"
    assert closed_reason(cal("MI"), date(2026, 12, 7)) == "festività: Sant'Ambrogio"


def test_days_without_hours_are_closed():
    assert day_slots(cal(), date(2026, 12, 12)) == []  # a Saturday
    assert closed_reason(cal(), date(2026, 12, 12)) == "nessun orario di apertura"


# --- the grid, buffers, desks ---------------------------------------------

def test_grid_steps_by_slot_plus_buffer_and_never_overruns_the_range():
    slots = day_slots(cal(), date(2026, 12, 10))
    assert starts(slots) == [(f"{h}+0100", 1) for h in
                             ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30")]
    assert all(s.end - s.start == timedelta(minutes=20) for s in slots)
    short = cal(weekly={3: (TimeRange(time(9), time(9, 50)),)}, slot_minutes=30, buffer_minutes=15)
    assert starts(day_slots(short, date(2026, 12, 10))) == [("09:00+0100", 1)]


def test_several_ranges_a_day_and_several_desks():
    two = cal(weekly={3: (TimeRange(time(9), time(10)), TimeRange(time(14), time(14, 30)))},
              slot_minutes=30, buffer_minutes=0, desks=2)
    assert starts(day_slots(two, date(2026, 12, 10))) == [
        ("09:00+0100", 1), ("09:00+0100", 2), ("09:30+0100", 1), ("09:30+0100", 2),
        ("14:00+0100", 1), ("14:00+0100", 2)]


def test_a_booking_takes_its_desk_only_and_its_buffer_blocks_an_off_grid_neighbour():
    c = cal(desks=2, buffer_minutes=10)
    day = date(2026, 12, 10)
    taken = [Booked(1, local("2026-12-10T09:30"), local("2026-12-10T09:50"), "SR-MI-2026-000001")]
    free = free_slots(c, day, 1, taken, LONG_AGO)
    assert (local("2026-12-10T09:30"), 1) not in [(s.start, s.desk) for s in free]
    assert (local("2026-12-10T09:30"), 2) in [(s.start, s.desk) for s in free]
    # A booking left off the grid (the slot length changed) blocks what its buffer touches.
    odd = [Booked(1, local("2026-12-10T09:55"), local("2026-12-10T10:15"))]
    free = [(s.local_start.strftime("%H:%M"), s.desk) for s in free_slots(c, day, 1, odd, LONG_AGO) if s.desk == 1]
    assert ("09:30", 1) not in free and ("10:00", 1) not in free and ("10:30", 1) in free


def test_daily_cap_per_desk():
    c = cal(desks=2, daily_cap_per_desk=2)
    day = date(2026, 12, 10)
    taken = [Booked(1, local("2026-12-10T09:00"), local("2026-12-10T09:20")),
             Booked(1, local("2026-12-10T10:00"), local("2026-12-10T10:20"))]
    free = free_slots(c, day, 2, taken, LONG_AGO)
    assert {s.desk for s in free if s.day == day} == {2}
    assert {s.desk for s in free if s.day == day + timedelta(days=1)} == {1, 2}


def test_operator_absence_removes_that_desk_for_its_hours():
    c = cal(desks=2, absences=(Absence(2, local("2026-12-10T09:00"), local("2026-12-10T10:15"), "rossi"),))
    free = [(s.local_start.strftime("%H:%M"), s.desk) for s in free_slots(c, date(2026, 12, 10), 1, [], LONG_AGO)]
    assert ("09:00", 2) not in free and ("09:30", 2) not in free and ("10:00", 2) not in free
    assert ("10:30", 2) in free and ("09:00", 1) in free


def test_closures_single_days_and_ranges():
    c = cal(closures=((date(2026, 12, 10), date(2026, 12, 10)), (date(2026, 12, 14), date(2026, 12, 16))))
    free_days = {s.day for s in free_slots(c, date(2026, 12, 9), 10, [], LONG_AGO)}
    assert free_days == {date(2026, 12, 9), date(2026, 12, 11), date(2026, 12, 17), date(2026, 12, 18)}
    assert closed_reason(c, date(2026, 12, 15)) == "chiusura dell'ufficio"


# --- the clock ---------------------------------------------------------------

def test_no_past_slot_and_the_minimum_notice():
    now = local("2026-12-10T09:40")
    free = free_slots(cal(), date(2026, 12, 9), 2, [], now)
    assert min(s.start for s in free) == local("2026-12-10T10:00")
    noticed = free_slots(cal(min_notice_minutes=60), date(2026, 12, 9), 2, [], now)
    assert min(s.start for s in noticed) == local("2026-12-10T11:00")
    # Late in the day: the notice reaches into the next opening day.
    evening = free_slots(cal(min_notice_minutes=120), date(2026, 12, 10), 2, [], local("2026-12-10T10:45"))
    assert min(s.start for s in evening) == local("2026-12-11T09:00")


def test_now_in_another_zone_is_the_same_instant():
    from datetime import timezone
    utc_now = datetime(2026, 12, 10, 8, 40, tzinfo=timezone.utc)  # 09:40 in Rome
    assert min(s.start for s in free_slots(cal(), date(2026, 12, 10), 1, [], utc_now)) == local("2026-12-10T10:00")


# --- DST ---------------------------------------------------------------------

NIGHT = {6: (TimeRange(time(0), time(6)),), 4: (TimeRange(time(9), time(10)),), 0: (TimeRange(time(9), time(10)),)}


def test_spring_forward_2026_03_29_has_no_0200_and_one_hour_less():
    c = cal(weekly=NIGHT, slot_minutes=60, buffer_minutes=0)
    slots = day_slots(c, date(2026, 3, 29))
    assert [s.local_start.isoformat() for s in slots] == [
        "2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00",
        "2026-03-29T04:00:00+02:00", "2026-03-29T05:00:00+02:00"]
    assert all(s.end - s.start == timedelta(hours=1) for s in slots)
    assert day_slots(c, date(2026, 3, 27))[0].local_start.isoformat() == "2026-03-27T09:00:00+01:00"
    assert day_slots(c, date(2026, 3, 30))[0].local_start.isoformat() == "2026-03-30T09:00:00+02:00"


def test_fall_back_2026_10_25_has_0200_twice():
    c = cal(weekly=NIGHT, slot_minutes=60, buffer_minutes=0)
    slots = day_slots(c, date(2026, 10, 25))
    assert [s.local_start.isoformat() for s in slots] == [
        "2026-10-25T00:00:00+02:00", "2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00", "2026-10-25T04:00:00+01:00",
        "2026-10-25T05:00:00+01:00"]
    assert len({s.start for s in slots}) == 7  # distinct instants
    assert day_slots(c, date(2026, 10, 23))[0].local_start.isoformat() == "2026-10-23T09:00:00+02:00"
    assert day_slots(c, date(2026, 10, 26))[0].local_start.isoformat() == "2026-10-26T09:00:00+01:00"


def test_office_hours_across_the_dst_weekends_keep_their_wall_clock():
    c = cal(min_notice_minutes=120)
    now = local("2026-03-27T11:00")  # Friday before the change, +01:00
    free = free_slots(c, date(2026, 3, 27), 4, [], now)
    first_monday = [s for s in free if s.day == date(2026, 3, 30)][0]
    assert first_monday.local_start.isoformat() == "2026-03-30T09:00:00+02:00"
    # The notice counted in real time: Friday 11:00 + 2 h leaves no slot on Friday.
    assert all(s.day != date(2026, 3, 27) for s in free)


def test_find_slot_only_on_the_grid():
    c = cal(desks=2)
    assert [s.desk for s in find_slot(c, local("2026-12-10T09:30"))] == [1, 2]
    assert [s.desk for s in find_slot(c, local("2026-12-10T09:30"), desk=2)] == [2]
    assert find_slot(c, local("2026-12-10T09:15")) == []
    assert find_slot(c, local("2026-12-07T09:30")) == []  # Sant'Ambrogio in Milan

"""`[calendar]` and `[calendar.XX]`: merged per office, checked with one-line errors."""

from datetime import date, time

import pytest

from config.settings import ConfigError, load_settings
from scheduling.office import office_calendar


def load(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text, encoding="utf-8")
    return load_settings(p)


def error(tmp_path, text) -> str:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, text)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_default_calendar_for_every_office():
    s = load_settings(None)
    c = office_calendar(s.calendar, "MI")
    assert c.weekly[0][0].start == time(9) and 5 not in c.weekly  # closed on Saturdays
    assert (c.slot_minutes, c.buffer_minutes, c.desks, c.min_notice_minutes) == (20, 10, 2, 120)


def test_overrides_replace_only_what_they_name(tmp_path):
    s = load(tmp_path, '''
[calendar]
slot_minutes = 30
desks = 2
closures = [2026-12-24, {from = 2026-08-10, to = 2026-08-21}]
hours = {mon = ["09:00-12:00"], tue = ["09:00-12:00", "14:00-16:00"]}

[calendar.MI]
desks = 4
absences = [{desk = 3, from = 2026-12-10T09:00:00, to = 2026-12-10T13:00:00, operator = "rossi"}]

[calendar.BG]
hours = {sat = ["09:00-11:00"]}
''')
    mi, bg, co = (office_calendar(s.calendar, p) for p in ("MI", "BG", "CO"))
    assert (mi.desks, mi.slot_minutes, co.desks) == (4, 30, 2)
    assert mi.closures == ((date(2026, 12, 24), date(2026, 12, 24)), (date(2026, 8, 10), date(2026, 8, 21)))
    assert mi.absences[0].desk == 3 and mi.absences[0].start.utcoffset().total_seconds() == 3600
    assert co.absences == ()
    assert sorted(mi.weekly) == [0, 1] and len(mi.weekly[1]) == 2
    assert sorted(bg.weekly) == [5]


def test_overlapping_ranges(tmp_path):
    assert error(tmp_path, '[calendar.MI]\nhours = {mon = ["09:00-12:00", "11:00-13:00"]}\n').endswith(
        "bad value for 'calendar.MI.hours.mon': ranges 09:00-12:00 and 11:00-13:00 overlap")


def test_slot_longer_than_a_range(tmp_path):
    msg = error(tmp_path, '[calendar]\nslot_minutes = 45\n[calendar.BG]\nhours = {tue = ["09:00-09:30"]}\n')
    assert "calendar.BG: a slot of 45 minutes is longer than the range 09:00-09:30 on tue" in msg


def test_unknown_keys(tmp_path):
    assert error(tmp_path, "[calendar]\nslotminutes = 20\n").endswith("unknown key 'calendar.slotminutes'")
    assert error(tmp_path, "[calendar.MI]\ndeskz = 2\n").endswith("unknown key 'calendar.MI.deskz'")
    assert "calendar.XX" in error(tmp_path, "[calendar.XX]\ndesks = 2\n")


def test_bad_ranges_and_absences(tmp_path):
    assert "is not a range HH:MM-HH:MM" in error(tmp_path, '[calendar]\nhours = {mon = ["9-12"]}\n')
    assert "ends before it starts" in error(tmp_path, '[calendar]\nhours = {mon = ["12:00-09:00"]}\n')
    assert "absence on desk 5" in error(
        tmp_path, '[calendar.MI]\nabsences = [{desk = 5, from = 2026-12-10T09:00:00, to = 2026-12-10T10:00:00}]\n')


def test_config_check_prints_each_offices_calendar(cli, tmp_path):
    import json

    out = json.loads(cli("config", "check").stdout)
    assert out["calendar"]["MI"]["hours"]["mon"] == ["09:00-12:30", "14:00-16:30"]
    assert out["calendar"]["no_show_limit"] == 2

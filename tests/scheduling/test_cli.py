"""`sportello calendar show` and `sportello bookings …`, run as a user would; the .ics they mail."""

import email
import json
from email import policy

from icalendar import Calendar

from tests.scheduling.conftest import make_ready

NOW = {"SPORTELLO_NOW": "2026-12-09T08:00"}


def test_calendar_show_json_closed_days_absent_and_booked_by(app, cli):
    ref, = make_ready(app, 1, province="MI")
    cli("bookings", "add", ref, "--start", "2026-12-09T10:00", "--desk", "2", env=NOW)
    rows = json.loads(cli("calendar", "show", "--province", "MI", "--from", "2026-12-05", "--days", "5",
                          "--json", env=NOW).stdout)
    days = {r["start"][:10] for r in rows}
    # Sat 5, Sun 6, Sant'Ambrogio 7 and the Immacolata 8 are closed: only the 9th is open.
    assert days == {"2026-12-09"}
    assert set(rows[0]) == {"start", "end", "desk", "booked_by"}
    assert rows[0] == {"start": "2026-12-09T09:00:00+01:00", "end": "2026-12-09T09:20:00+01:00",
                       "desk": 1, "booked_by": None}
    assert [r for r in rows if r["booked_by"]] == [
        {"start": "2026-12-09T10:00:00+01:00", "end": "2026-12-09T10:20:00+01:00", "desk": 2, "booked_by": ref}]
    text = cli("calendar", "show", "--province", "MI", "--from", "2026-12-09", "--days", "1", env=NOW).stdout.decode()
    assert "sportello 2  " + ref in text


def test_sportello_today_sets_the_clock(app, cli):
    rows = json.loads(cli("calendar", "show", "--province", "MI", "--days", "1", "--json",
                          env={"SPORTELLO_TODAY": "2026-12-10"}).stdout)
    assert rows[0]["start"].startswith("2026-12-10T09:00")


def test_bookings_add_move_cancel_list(app, cli):
    ref, other, not_ready = make_ready(app, 3, province="MI")
    out = cli("bookings", "add", ref, "--start", "2026-12-10T10:00", env=NOW).stdout.decode()
    assert "10/12/2026 10:00-10:20 (sportello 1), pratica booked" in out
    listing = cli("bookings", "list", "--province", "MI", "--date", "2026-12-10", env=NOW).stdout.decode()
    assert f"{ref}   2026-12-10 10:00 10:20  1" in listing and "1 bookings" in listing

    # Refusals: one line, non-zero exit.
    cli("bookings", "add", other, "--start", "2026-12-10T10:00", "--desk", "2", env=NOW)
    for args, message in [
        (("add", not_ready, "--start", "2026-12-10T10:00"), "slot già occupato"),       # both desks now taken
        (("add", not_ready, "--start", "2026-12-07T10:00"), "chiuso il 07/12/2026 (festività: Sant'Ambrogio)"),
        (("add", ref, "--start", "2026-12-10T11:00"), "in stato 'booked'"),
        (("add", not_ready, "--start", "10/12/2026 10:00"), "not a time in the form YYYY-MM-DDTHH:MM"),
        (("move", not_ready, "--start", "2026-12-10T11:00"), "non ha una prenotazione attiva"),
    ]:
        proc = cli("bookings", *args, env=NOW, check=False)
        err = proc.stderr.decode()
        assert proc.returncode != 0 and message in err and err.count("\n") == 1, (args, err)

    assert "(sportello 2)" in cli("bookings", "move", ref, "--start", "2026-12-11T09:00", "--desk", "2",
                                  env=NOW).stdout.decode()
    assert "cancelled" in cli("bookings", "cancel", ref, env=NOW).stdout.decode()
    exported = {r["reference"]: r for r in json.loads(cli("requests", "export", "--json").stdout)}
    assert exported[ref]["status"] == "ready"
    assert exported[ref]["booking"]["status"] == "cancelled" and exported[ref]["booking"]["reschedules"] == 1
    assert exported[not_ready]["booking"] is None


def _ics_of(path):
    m = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    for part in m.iter_attachments():
        if part.get_content_type() == "text/calendar":
            return m, Calendar.from_ical(part.get_payload(decode=True))
    return m, None


def test_invitation_reschedule_and_cancel_carry_one_uid_and_rising_sequence(app, cli):
    ref, = make_ready(app, 1, province="MI")
    cli("bookings", "add", ref, "--start", "2026-12-10T10:00", env=NOW)
    cli("bookings", "move", ref, "--start", "2026-12-10T11:00", env=NOW)
    cli("bookings", "cancel", ref, env=NOW)
    outbox = sorted((app.settings.outbox_dir).glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    got = [(_ics_of(p)) for p in outbox]
    cals = [(m, c) for m, c in got if c is not None]
    assert len(cals) == 3
    methods = [str(c["METHOD"]) for _, c in cals]
    events = [c.walk("VEVENT")[0] for _, c in cals]
    assert methods == ["REQUEST", "REQUEST", "CANCEL"]
    assert len({str(e["UID"]) for e in events}) == 1
    seqs = [int(e["SEQUENCE"]) for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    first = events[0]
    assert first["DTSTART"].params["TZID"] == "Europe/Rome"
    assert first.decoded("DTSTART").isoformat() == "2026-12-10T10:00:00+01:00"
    assert events[1].decoded("DTSTART").isoformat() == "2026-12-10T11:00:00+01:00"
    assert cals[0][1].walk("VTIMEZONE")[0]["TZID"] == "Europe/Rome"
    body = cals[0][0].get_body(("plain",)).get_content()
    assert "giovedì 10/12/2026 alle 10:00" in body and "TS-CNS" in body and "originali dei documenti" in body
    assert "annullata" in cals[2][0]["Subject"]
    html = cals[0][0].get_body(("html",)).get_content()
    assert "<p>Quando: giovedì 10/12/2026 alle 10:00" in html and 'lang="it"' in html


def test_no_shows_reject_and_tell_the_citizen(app, cli, tmp_path):
    from tests.conftest import write_config

    cfg = write_config(tmp_path / "two.toml", app.settings.data_dir, app.settings.database_url,
                       "\n[calendar]\nno_show_limit = 2\n")
    ref, = make_ready(app, 1, province="MI")
    for start in ("2026-12-10T10:00", "2026-12-10T11:00"):
        cli("--config", str(cfg), "bookings", "add", ref, "--start", start, env=NOW)
        out = cli("--config", str(cfg), "bookings", "no-show", ref, env=NOW).stdout.decode()
    assert "pratica rejected" in out
    subjects = [email.message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"]
                for p in app.settings.outbox_dir.glob("*.eml")]
    assert sum("videochiamate non avvenute" in s for s in subjects) == 1

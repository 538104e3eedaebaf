"""`sportello calendar …` and `sportello bookings …` (SPEC.md "Command line")."""

from __future__ import annotations

import json
import sys
from datetime import date

import click

from config.settings import PROVINCES

ACTOR = "cli"


def _deliver(app) -> None:
    from sportello.service import deliver_outbox

    deliver_outbox(app)


def _run(fn):
    """Run a booking command; a BookingError or a bad time is one line and exit 1."""
    from scheduling.bookings import BookingError
    from sportello.cli_support import _fail

    try:
        return fn()
    except (BookingError, ValueError) as exc:
        _fail(str(exc))


def _describe(out) -> str:
    return (f"{out.reference}: {out.status} {out.start:%d/%m/%Y %H:%M}-{out.end:%H:%M} "
            f"(sportello {out.desk}), pratica {out.request_status}")


def register(cli: click.Group) -> None:
    from sportello.cli_support import config_option, load_app

    @cli.group("calendar")
    def calendar_group() -> None:
        """The offices' calendars."""

    @calendar_group.command("show")
    @config_option
    @click.option("--province", required=True, type=click.Choice(PROVINCES, case_sensitive=False))
    @click.option("--from", "first", default=None, help="First day, YYYY-MM-DD (default: today).")
    @click.option("--days", default=7, type=click.IntRange(1, 366), show_default=True)
    @click.option("--json", "as_json", is_flag=True, help='[{"start", "end", "desk", "booked_by"}]')
    def calendar_show(province: str, first: str | None, days: int, as_json: bool) -> None:
        """The office's slots of those days (closed days absent), with who booked each."""
        from scheduling import wiring as booking

        app = load_app()
        try:
            day = date.fromisoformat(first) if first else booking.now().date()
        except ValueError:
            from sportello.cli_support import _fail

            _fail(f"--from {first!r} is not a date in the form YYYY-MM-DD")
        rows = _run(lambda: booking.day_view(app, province.upper(), day, days))
        if as_json:
            json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
            return
        current = None
        for r in rows:
            d = r["start"][:10]
            if d != current:
                click.echo(d)
                current = d
            click.echo(f"  {r['start'][11:16]}-{r['end'][11:16]}  sportello {r['desk']}  {r['booked_by'] or 'libero'}")
        click.echo(f"{len(rows)} slots, {sum(1 for r in rows if r['booked_by'])} booked")

    @cli.group("bookings")
    def bookings_group() -> None:
        """Book, move, cancel the identification calls."""

    @bookings_group.command("add")
    @config_option
    @click.argument("reference")
    @click.option("--start", required=True, help="YYYY-MM-DDTHH:MM, Europe/Rome.")
    @click.option("--desk", default=None, type=int, help="Desk number (default: any free desk).")
    @click.option("--note", default=None, help="A note of the call.")
    def bookings_add(reference: str, start: str, desk: int | None, note: str | None) -> None:
        """Book the call of a `ready` request."""
        from scheduling.clock import parse_local
        from scheduling import wiring as booking

        app = load_app()
        out = _run(lambda: booking.book(app, reference.strip().upper(), parse_local(start), actor=ACTOR,
                                        desk=desk, note=note))
        _deliver(app)
        click.echo(_describe(out))

    @bookings_group.command("move")
    @config_option
    @click.argument("reference")
    @click.option("--start", required=True, help="YYYY-MM-DDTHH:MM, Europe/Rome.")
    @click.option("--desk", default=None, type=int)
    def bookings_move(reference: str, start: str, desk: int | None) -> None:
        """Reschedule a booking (the same booking, a new slot)."""
        from scheduling.clock import parse_local
        from scheduling import wiring as booking

        app = load_app()
        out = _run(lambda: booking.move(app, reference.strip().upper(), parse_local(start), actor=ACTOR, desk=desk))
        _deliver(app)
        click.echo(_describe(out))

    @bookings_group.command("cancel")
    @config_option
    @click.argument("reference")
    def bookings_cancel(reference: str) -> None:
        """Cancel a booking; the request goes back to `ready`."""
        from scheduling import wiring as booking

        app = load_app()
        out = _run(lambda: booking.cancel(app, reference.strip().upper(), actor=ACTOR))
        _deliver(app)
        click.echo(_describe(out))

    @bookings_group.command("no-show")
    @config_option
    @click.argument("reference")
    def bookings_no_show(reference: str) -> None:
        """The citizen missed the call: back to `ready`, counted ([calendar] no_show_limit rejects)."""
        from scheduling import wiring as booking

        app = load_app()
        out = _run(lambda: booking.no_show(app, reference.strip().upper(), actor=ACTOR))
        _deliver(app)
        click.echo(_describe(out))

    @bookings_group.command("list")
    @config_option
    @click.option("--province", default=None, type=click.Choice(PROVINCES, case_sensitive=False))
    @click.option("--date", "day", default=None, help="Only that day, YYYY-MM-DD.")
    def bookings_list(province: str | None, day: str | None) -> None:
        """The active bookings, in order of time."""
        from scheduling import bookings
        from scheduling.calendar import to_rome
        from sportello.cli_support import _fail

        app = load_app()
        try:
            d = date.fromisoformat(day) if day else None
        except ValueError:
            _fail(f"--date {day!r} is not a date in the form YYYY-MM-DD")
        with app.db.session() as s:
            rows = bookings.listing(s, province.upper() if province else None, d)
            click.echo(f"{'RIFERIMENTO':<19} {'INIZIO':<16} {'FINE':<5} {'SP':>2}  OPERATORE")
            for req, b in rows:
                st, en = to_rome(b.start), to_rome(b.end)
                click.echo(f"{req.reference:<19} {st:%Y-%m-%d %H:%M} {en:%H:%M} {b.desk:>2}  {b.operator or '-'}")
        click.echo(f"{len(rows)} bookings")

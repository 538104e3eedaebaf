"""The `sportello` command line (SPEC.md "Command line").

Errors are one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path

import click

from config.settings import PROVINCES, ConfigError
from db.app import App, NotInitialised
from db.crypto import keyring_from
from sportello import logs
from sportello.cli_support import _fail, config_option, load_app

EXIT_USAGE = 2


class FriendlyGroup(click.Group):
    """Turns any unexpected exception into one line on stderr (details with -v)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # noqa: BLE001 - the one place that may catch everything
            logging.getLogger("sportello").debug("unhandled error", exc_info=True)
            _fail(f"{type(exc).__name__}: {exc}")


@click.group(cls=FriendlyGroup)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@config_option
def cli(verbose: int) -> None:
    """sportello: the back office for the remote release of TS-CNS PIN/PUK codes."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@cli.command()
@config_option
def init() -> None:
    """Create or migrate the database."""
    from db.migrate import upgrade

    app = load_app(initialised=False)
    revision = upgrade(app.db.engine)
    for folder in (app.settings.data_dir, app.settings.blob_dir):
        Path(folder).mkdir(parents=True, exist_ok=True)
    click.echo(f"database ready at revision {revision}")


@cli.command()
@config_option
@click.option("--province", required=True, type=click.Choice(PROVINCES, case_sensitive=False), help="Mailbox the messages count as arrived in.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ingest(province: str, files: tuple[Path, ...]) -> None:
    """Ingest local .eml files as if they had arrived in PROVINCE's mailbox."""
    from intake.mime import NotAnEmail, parse_message
    from sportello.pipeline import ingest as ingest_one, limits_from

    app = load_app()
    # Read and check every file first: one bad file changes nothing.
    raws = []
    for path in files:
        raw = path.read_bytes()
        try:
            parse_message(raw, limits_from(app.settings.limits))
        except NotAnEmail as exc:
            _fail(f"{path}: not an e-mail message ({exc})")
        raws.append((path, raw))
    from db import queries
    from sportello.verify import verify_pending

    from sportello.service import deliver_outbox

    outcomes = [(path, ingest_one(app, raw, province.upper(), strict=True)) for path, raw in raws]
    verify_pending(app)
    deliver_outbox(app)
    with app.db.session() as s:
        for path, out in outcomes:
            status = queries.request_by_reference(s, out.reference).status
            note = f"already stored, {status}" if out.duplicate else status
            click.echo(f"{path.name}: {out.reference} ({note})")


@cli.command()
@config_option
@click.option("--once", is_flag=True, required=True, help="Fetch every mailbox once, process, exit.")
def poll(once: bool) -> None:
    """Fetch every configured mailbox once, process what arrived, exit."""
    from sportello.polling import poll_once

    from sportello.service import deliver_outbox

    app = load_app()
    reports = poll_once(app)
    deliver_outbox(app)  # our answers go out after the commits that decided them
    total = {"stored": 0, "duplicates": 0, "failed": 0}
    errors = 0
    for r in reports:
        for k in total:
            total[k] += getattr(r, k)
        if r.errors:
            errors += 1
            click.echo(f"{r.mailbox}: ERROR {'; '.join(r.errors)}", err=True)
        elif r.skipped:
            click.echo(f"{r.mailbox}: skipped ({r.skipped})", err=True)
    click.echo(
        f"{len(reports)} mailboxes polled: {total['stored']} new messages, "
        f"{total['duplicates']} already stored, {total['failed']} quarantined"
    )
    if errors:
        sys.exit(3)


@cli.command()
@config_option
@click.option("--host", default=None, help="Back-office address (default from config: 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Back-office port (default from config: 8000).")
@click.option("--no-web", is_flag=True, help="Only the scheduler: polling and the outbox.")
def run(host: str | None, port: int | None, no_web: bool) -> None:
    """The long-running service: scheduler, workers, back office."""
    from sportello.service import run as run_service

    app = load_app()
    configured = logging.getLevelName(app.settings.logging.level)  # -v / -vv may ask for more still
    logging.getLogger().setLevel(min(logging.getLogger().level, configured))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per job run
    run_service(app, host=host, port=port, with_web=not no_web)


@cli.command()
@config_option
def status() -> None:
    """Mailboxes: last successful fetch, last error; outbox; requests per status."""
    from sportello.status import collect

    app = load_app()
    report = collect(app)
    for line in report.lines:
        click.echo(line)
    if report.stale:
        sys.exit(4)


@cli.group()
def requests() -> None:
    """Look at requests."""


@requests.command("export")
@config_option
@click.option("--json", "as_json", is_flag=True, required=True, help="Every request as a JSON array on stdout.")
def export(as_json: bool) -> None:
    """Every request as a JSON array (SPEC.md's record)."""
    from db.export import all_requests, request_record

    app = load_app()
    with app.db.session() as s:
        records = [request_record(r) for r in all_requests(s)]
    json.dump(records, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


@requests.command("list")
@config_option
@click.option("--status", default=None, help="Only requests in this status.")
@click.option("--province", default=None, type=click.Choice(PROVINCES, case_sensitive=False))
def list_requests(status: str | None, province: str | None) -> None:
    """One line per request: reference, status, form, findings."""
    from db.export import all_requests

    app = load_app()
    with app.db.session() as s:
        rows = [r for r in all_requests(s)
                if (status is None or r.status == status) and (province is None or r.province == province.upper())]
        click.echo(f"{'RIFERIMENTO':<19} {'STATO':<14} {'MODULO':<9} {'MSG':>3} {'DOC':>3}  RILIEVI")
        for r in rows:
            codes = ", ".join(f.code for f in r.findings) or "-"
            click.echo(f"{r.reference:<19} {r.status:<14} {r.form_type or '-':<9} {len(r.messages):>3} "
                       f"{len(r.documents):>3}  {codes}")
        click.echo(f"{len(rows)} requests")


@requests.command("show")
@config_option
@click.argument("reference")
def show(reference: str) -> None:
    """One request, readable by a person."""
    from db import queries
    from sportello.show import render_request

    app = load_app()
    with app.db.session() as s:
        req = queries.request_by_reference(s, reference.strip().upper())
        if req is None:
            _fail(f"no request {reference}")
        click.echo(render_request(req))


@cli.command()
@config_option
def demo() -> None:
    """Initialise, deliver the bundled sample requests to the local Maildirs, poll once, list."""
    from db.migrate import upgrade
    from sportello.samples import deliver_samples

    app = load_app(initialised=False)
    if app.settings.mailboxes:
        _fail("demo delivers into the local Maildirs: use it with the embedded default (no [[mailboxes]])")
    upgrade(app.db.engine)
    delivered = deliver_samples(app)
    click.echo(f"delivered {delivered} sample messages into {app.settings.maildir_root}/XX/new")
    ctx = click.get_current_context()
    ctx.invoke(poll, once=True)
    ctx.invoke(list_requests)
    from backoffice.users import ensure_demo_operator

    username, password = ensure_demo_operator(app)
    bo = app.settings.backoffice
    click.echo(
        "\nNext: `sportello requests show REFERENCE`, `sportello requests export --json`, `ls var/outbox`."
        f"\nBack office: `sportello run`, then open http://{bo.host}:{bo.port} and log in as "
        f"{username} / {password}"
    )
    from sqlalchemy import select

    from db.models import Request

    with app.db.session() as s:
        ready = s.execute(select(Request.reference, Request.form_type).where(Request.status == "ready")
                          .order_by(Request.id)).all()
    base = f"http://{bo.host}:{bo.port}"
    # the demo call: a direct form's, whose holder is the person on the call, else the first ready request's
    first = next((r for r in ready if r.form_type == "direct"), ready[0] if ready else None)
    ready = [r.reference for r in ready if r is not first]
    if first:
        _demo_call(app, first.reference, base)
        with app.db.session() as s:  # an earlier run's demo call may be another request's
            ready = [r for r in ready if s.scalar(select(Request.status).where(Request.reference == r)) == "ready"]
    if ready:
        ready = ready[0]
        click.echo(
            f"Book the call of {ready}: open http://{bo.host}:{bo.port}/pratiche/{ready} and pick a slot under "
            f"\"Videochiamata\", or `sportello calendar show --province {ready[3:5]}` then "
            f"`sportello bookings add {ready} --start YYYY-MM-DDTHH:MM`."
        )


def _demo_call(app, reference: str, base: str) -> None:
    """Book `reference`'s call for now and say how to take it through the call on this machine."""
    from scheduling import wiring
    from scheduling.bookings import BookingError

    from sqlalchemy import select

    from db.models import Booking, Request
    from scheduling.bookings import DEMO_NOTE
    from scheduling.calendar import to_rome

    with app.db.session() as s:  # a demo call still on from an earlier run: the same one
        row = s.execute(select(Booking, Request.reference).join(Request, Request.id == Booking.request_id)
                        .where(Booking.status == "active", Booking.note == DEMO_NOTE,
                               Request.status == "booked")).first()
        booking_id, end = (row[0].id, to_rome(row[0].end)) if row else (None, None)
        reference = row[1] if row else reference
    if booking_id is None:
        try:
            out = wiring.book_demo_call(app, reference)
        except BookingError as exc:
            click.echo(f"(no demo call: {exc})")
            return
        booking_id, end = out.booking_id, out.end
        from intake import outgoing
        from sportello.service import mail_sender

        outgoing.deliver_pending(app.db, mail_sender(app))  # the invitation, with the citizen's link, now
    with app.db.session() as s:
        link = wiring.call_link(app, s.get(Booking, booking_id)).replace(app.settings.backoffice.base_url, base)
    click.echo(
        f"\nThe call of {reference} is booked for now (until {end:%H:%M}); take it through the call "
        "(README \"Trying the call\"):"
        f"\n  operator's console: {base}/pratiche/{reference}/videochiamata"
        f"\n  citizen's page:     {link}"
        f"\n  the demo phone:     {base}/telefono-di-prova"
    )


@cli.command()
@config_option
@click.option("--dry-run", is_flag=True, help="Only list what would be purged.")
def purge(dry_run: bool) -> None:
    """Purge the files and personal data of requests closed longer than [retention] closed_days."""
    from sportello.retention import purge as run_purge

    app = load_app()
    done = run_purge(app, dry_run=dry_run)
    for p in done:
        click.echo(f"{p.reference}  {p.status:<13}  closed {p.closed_at:%Y-%m-%d}  {p.files} files, "
                   f"{p.size // 1024} kB")
    verb = "would purge" if dry_run else "purged"
    click.echo(f"{verb} {len(done)} requests (closed more than {app.settings.retention.closed_days} days ago)")


@cli.group()
def keys() -> None:
    """The storage encryption keys."""


@keys.command("rotate")
@config_option
def keys_rotate() -> None:
    """Re-encrypt every stored file with the current key (the service may keep running)."""
    from db.crypto import StorageKeyError

    app = load_app(initialised=False)
    if app.blobs.keyring is None:
        _fail("no storage key configured: set [storage] key_env or key_file")
    try:
        done, current = app.blobs.rotate()
    except StorageKeyError as exc:
        _fail(str(exc))
    click.echo(f"re-encrypted {done} files with key {app.blobs.keyring.current_id.hex()}; {current} already were")


@cli.group()
def audit() -> None:
    """The event log's hash chains."""


@audit.command("verify")
@config_option
def audit_verify() -> None:
    """Check every event's hash and link: exit 0 when intact, else 3 naming the first broken event."""
    from sqlalchemy import func, select

    from db import audit as chain
    from db.models import Event

    app = load_app()
    with app.db.engine.connect() as conn:
        breaks = chain.verify(conn)
        total = conn.execute(select(func.count()).select_from(Event)).scalar_one()
    if not breaks:
        click.echo(f"audit log intact: {total} events")
        return
    for b in breaks[:20]:
        click.echo(str(b), err=True)
    first = breaks[0]
    _fail(f"audit log broken: first at {first}" + (f" ({len(breaks)} chains broken)" if len(breaks) > 1 else ""), 3)


@cli.command()
@config_option
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def forms(folder: Path) -> None:
    """Write the three fillable PDF forms into FOLDER."""
    from verification.forms.layout import write_forms

    folder.mkdir(parents=True, exist_ok=True)
    for path in write_forms(folder):
        click.echo(str(path))


@cli.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@config_option
def config_check() -> None:
    """Print the effective configuration, secrets hidden; fail on any bad key or value."""
    app = load_app(initialised=False)
    try:
        for mb in app.settings.mailboxes:
            mb.oauth2_token() if (mb.oauth2_token_env or mb.oauth2_token_file) else mb.password()
        if app.settings.smtp:
            app.settings.smtp.password()
    except ConfigError as exc:
        _fail(str(exc))
    click.echo(json.dumps(app.settings.describe(), indent=2, ensure_ascii=False))


@cli.command("backup")
@config_option
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_command(folder: Path) -> None:
    """A consistent copy of the database and the stored files into a new FOLDER (with a manifest of hashes)."""
    from sportello.backup import BackupError, backup

    try:
        manifest = backup(load_app(), folder)
    except (BackupError, OSError) as exc:
        _fail(str(exc))
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"backup in {folder}: {rows} rows in {len(manifest['tables'])} tables, {len(manifest['blobs'])} files")


@cli.command("restore")
@config_option
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Restore the backup in FOLDER into an empty database and blob store (every hash checked first)."""
    from sportello.backup import BackupError, restore

    try:
        manifest = restore(load_app(initialised=False), folder)
    except (BackupError, OSError) as exc:
        _fail(str(exc))
    click.echo(f"restored {folder} (made {manifest['created_at']}): "
               f"{sum(t['rows'] for t in manifest['tables'].values())} rows, {len(manifest['blobs'])} files")


def _register_users() -> None:
    from backoffice.cli import users

    cli.add_command(users)


_register_users()


def _register_booking() -> None:
    from sportello.booking_cli import register

    register(cli)


_register_booking()


def main() -> None:
    cli(prog_name="sportello")


if __name__ == "__main__":
    main()

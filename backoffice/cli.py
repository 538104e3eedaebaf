"""`sportello users add|disable|reset-password`: the click group the main CLI registers.

Passwords are prompted twice without echo, or read from one line of stdin
(--password-stdin, for scripts); they are never printed or logged.
"""

from __future__ import annotations

import sys

import click

from backoffice import users as accounts
from config.settings import PROVINCES, ConfigError
from db.app import App, NotInitialised


def _app(config_path: str | None) -> App:
    ctx = click.get_current_context()
    # The main `sportello` group keeps its own --config in ctx.meta (sportello.cli.config_option).
    path = config_path or ctx.meta.get("sportello.config")
    try:
        app = App.from_config(path)
        app.require_initialised()
    except (ConfigError, NotInitialised) as exc:
        raise click.ClickException(str(exc)) from None
    ctx.call_on_close(app.close)
    return app


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on stdin")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt="Ripeti la password")


config_opt = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                          help="TOML settings file (default: $SPORTELLO_CONFIG, else the embedded default).")
stdin_opt = click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")


@click.group("users")
def users() -> None:
    """Back-office accounts."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(accounts.ROLES), default="operator", show_default=True)
@click.option("--province", "provinces", multiple=True, required=True,
              type=click.Choice(PROVINCES, case_sensitive=False), help="A province the user works on (repeatable).")
@click.option("--full-name", default="", help="Name shown in the back office.")
@stdin_opt
@config_opt
def add(username: str, role: str, provinces: tuple[str, ...], full_name: str, password_stdin: bool,
        config_path: str | None) -> None:
    """Create an account."""
    app = _app(config_path)
    password = _password(password_stdin)
    try:
        accounts.add_user(app, username, password, role, provinces, full_name)
    except accounts.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {username.strip().lower()} added ({role}; {', '.join(sorted(p.upper() for p in provinces))})")


@users.command("disable")
@click.argument("username")
@config_opt
def disable(username: str, config_path: str | None) -> None:
    """Disable an account; its open sessions stop working at once."""
    app = _app(config_path)
    try:
        accounts.disable_user(app, username)
    except accounts.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {username.strip().lower()} disabled")


@users.command("reset-password")
@click.argument("username")
@stdin_opt
@config_opt
def reset_password(username: str, password_stdin: bool, config_path: str | None) -> None:
    """Set a new password; open sessions of that user end."""
    app = _app(config_path)
    password = _password(password_stdin)
    try:
        accounts.reset_password(app, username, password)
    except accounts.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password of {username.strip().lower()} changed")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of the table.")
@config_opt
def list_users(as_json: bool, config_path: str | None) -> None:
    """Every account: username, role, provinces, active, name (never a password hash)."""
    app = _app(config_path)
    rows = accounts.list_users(app)
    if as_json:
        import json

        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no users (add one with: sportello users add NAME --province MI)")
        return
    width = max(len(r["username"]) for r in rows)
    for r in rows:
        state = "active" if r["active"] else "disabled"
        click.echo(f"{r['username']:<{width}}  {r['role']:<10}  {','.join(r['provinces']):<12}  {state:<8}  "
                   f"{r['full_name']}".rstrip())

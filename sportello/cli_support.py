"""What every command of the `sportello` command line shares: --config, loading the App, failing in one line."""

from __future__ import annotations

import functools
import sys

import click

from config.settings import ConfigError
from db.app import App, NotInitialised
from db.crypto import keyring_from
from sportello import logs


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"sportello: {message}", err=True)
    sys.exit(code)


def config_option(f):
    """--config on every command (and on the group): the last one given wins."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="TOML settings file (default: $SPORTELLO_CONFIG, else the embedded default).",
    )
    @functools.wraps(f)
    def wrapper(*args, config_path=None, **kwargs):
        ctx = click.get_current_context()
        if config_path:
            ctx.meta["sportello.config"] = config_path
        return f(*args, **kwargs)

    return wrapper


def load_app(*, initialised: bool = True) -> App:
    ctx = click.get_current_context()
    try:
        app = App.from_config(ctx.meta.get("sportello.config"))
        logs.configure(app.settings.logging)
        keyring_from(app.settings.storage)  # a missing or malformed storage key: one line, now
        if initialised:
            app.require_initialised()
    except (ConfigError, NotInitialised) as exc:
        _fail(str(exc))
    ctx.call_on_close(app.close)
    return app

"""Alembic, driven from code: `sportello init` creates or upgrades the schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from db.models import Office

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest revision; return that revision."""
    cfg = alembic_config(engine)
    command.upgrade(cfg, "head")
    _seed_offices(engine)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision this code knows (what `sportello init` would migrate to)."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def is_current(engine: Engine) -> bool:
    """The schema is at the code's newest revision: nothing left to migrate."""
    return current_revision(engine) == head_revision()


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version") and current_revision(engine) is not None


def _seed_offices(engine: Engine) -> None:
    from sqlalchemy.orm import Session

    from config.settings import PROVINCE_NAMES

    with Session(engine) as s:
        existing = {o.province for o in s.query(Office)}
        for code, name in PROVINCE_NAMES.items():
            if code not in existing:
                s.add(Office(province=code, name=f"spazioRegione {name}"))
        s.commit()

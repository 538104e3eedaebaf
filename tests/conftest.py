"""Shared fixtures: a fresh database per test, on SQLite or PostgreSQL.

SPORTELLO_TEST_DB=postgresql runs the whole suite against the PostgreSQL
server at SPORTELLO_TEST_PG (default postgresql+psycopg://127.0.0.1:5432/test):
one new database per run, one new schema per test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKEND = os.environ.get("SPORTELLO_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("SPORTELLO_TEST_PG", "postgresql+psycopg://127.0.0.1:5432/test")

pytest_plugins = [p for p in ("tests.conftest_dovecot",) if (ROOT / (p.replace(".", "/") + ".py")).exists()]


def _psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def pg_database():
    """A database of our own for this run, dropped at the end."""
    if BACKEND != "postgresql":
        yield None
        return
    import psycopg

    name = f"sportello_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_psycopg_dsn(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(_psycopg_dsn(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_url(tmp_path, pg_database) -> str:
    """A fresh, empty database URL for one test."""
    if pg_database is None:
        return f"sqlite:///{tmp_path / 'sportello.db'}"
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_psycopg_dsn(pg_database), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{pg_database}?options=-csearch_path%3D{schema}"


def write_config(path: Path, data_dir: Path, db_url: str, extra: str = "") -> Path:
    path.write_text(f'data_dir = "{data_dir}"\n\n[database]\nurl = "{db_url}"\n{extra}', encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path, db_url) -> Path:
    return write_config(tmp_path / "sportello.toml", tmp_path / "data", db_url)


@pytest.fixture
def app(config_file):
    """An initialised App on a fresh database and data folder."""
    from db.migrate import upgrade
    from db.app import App

    a = App.from_config(str(config_file))
    upgrade(a.db.engine)
    yield a
    a.close()


class Cli:
    """Runs the real `sportello` console script, as a user would."""

    def __init__(self, config: Path, cwd: Path):
        self.config = config
        self.cwd = cwd

    def __call__(self, *args: str, env: dict | None = None, check: bool = True, input: bytes | None = None):
        exe = Path(sys.executable).with_name("sportello")
        full_env = {**os.environ, "SPORTELLO_CONFIG": str(self.config), **(env or {})}
        proc = subprocess.run([str(exe), *args], cwd=self.cwd, env=full_env, capture_output=True, input=input, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"sportello {' '.join(args)} exited {proc.returncode}:\n{proc.stderr.decode()}")
        return proc


@pytest.fixture
def cli(config_file, tmp_path) -> Cli:
    return Cli(config_file, tmp_path)


def pytest_collection_modifyitems(config, items):
    """The PostgreSQL pass runs the tests that touch a database (those that use `db_url`, directly or
    through `app`, `config_file`, `cli` …); the others are database-independent and ran on SQLite."""
    if BACKEND != "postgresql":
        return
    skip = pytest.mark.skip(reason="database-independent: runs on the SQLite pass")
    for item in items:
        if "db_url" not in getattr(item, "fixturenames", ()):
            item.add_marker(skip)

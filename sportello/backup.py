"""`sportello backup DIR` and `sportello restore DIR`: the database and the stored files, and back.

The database is copied logically, table by table, inside one read-only
transaction (REPEATABLE READ on PostgreSQL, one SQLite transaction): a
consistent snapshot while the service keeps running, and one that restores
on either engine (a SQLite pilot moved to PostgreSQL, a PostgreSQL major
version upgraded) without pg_dump's version coupling. The blob store
(messages, attachments) is copied file by file; blobs are immutable and
content-addressed, so a blob stored after the snapshot is simply extra.
`manifest.json` lists every file with its SHA-256 and every table with its
row count; restore checks all of it before it writes anything.

Restore wants an empty database (`sportello init` done, no request yet):
it never merges into live data.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import Date, DateTime, Integer, LargeBinary, func, select, text

from db.app import App
from db.migrate import current_revision, head_revision, upgrade
from db.models import Base, Request

FORMAT = 1
TABLES_DIR = "tables"
BLOBS_DIR = "blobs"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _encode(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _decode(column, value):
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value)
    if isinstance(column.type, DateTime):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo or not column.type.timezone else parsed.replace(tzinfo=timezone.utc)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


def backup(app: App, target: Path) -> dict:
    """Write a backup of `app` into the new folder `target`; return its manifest."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new folder")
    (target / TABLES_DIR).mkdir(parents=True, exist_ok=True)
    engine = app.db.engine
    tables = {}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        else:
            conn.exec_driver_sql("BEGIN")  # one read transaction: the snapshot every table comes from
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        for table in Base.metadata.sorted_tables:
            path = target / TABLES_DIR / f"{table.name}.jsonl"
            rows = 0
            with path.open("w", encoding="utf-8") as out:
                primary = list(table.primary_key.columns)
                for row in conn.execute(select(table).order_by(*primary)).mappings():
                    out.write(json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
                    rows += 1
            tables[table.name] = {"rows": rows, "sha256": _sha256(path)}
        conn.rollback()
    blobs = {}
    source = app.settings.blob_dir
    if source.exists():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = path.relative_to(source).as_posix()
            copy = target / BLOBS_DIR / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
            blobs[relative] = _sha256(copy)
    manifest = {"format": FORMAT, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "engine": engine.dialect.name, "revision": revision, "tables": tables, "blobs": blobs}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return manifest


def _checked_manifest(source: Path) -> dict:
    try:
        manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"{source} holds no readable manifest.json: not a sportello backup") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not {FORMAT}: restore it with its own version")
    for name, entry in manifest["tables"].items():
        path = source / TABLES_DIR / f"{name}.jsonl"
        if not path.is_file() or _sha256(path) != entry["sha256"]:
            raise BackupError(f"table {name} of the backup is missing or changed (hash): the backup is damaged")
    for relative, digest in manifest["blobs"].items():
        path = source / BLOBS_DIR / relative
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"stored file {relative} is missing or changed (hash): the backup is damaged")
    if manifest["revision"] != head_revision():
        raise BackupError(f"the backup's schema is {manifest['revision']}, this version's is {head_revision()}: "
                          "restore with the version that made it, then upgrade")
    return manifest


def restore(app: App, source: Path) -> dict:
    """Restore the backup in `source` into `app`'s empty database and blob store; return its manifest."""
    source = Path(source)
    manifest = _checked_manifest(source)
    engine = app.db.engine
    if current_revision(engine) is None:
        upgrade(engine)
    elif current_revision(engine) != head_revision():
        raise BackupError("the target database is not at this version's schema: run `sportello init` first")
    with app.db.session() as s:
        if s.scalar(select(func.count()).select_from(Request)):
            raise BackupError("the target database already holds requests: restore into an empty one")
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())  # what `init` seeded (the offices) comes back from the backup
        for table in Base.metadata.sorted_tables:
            columns = table.columns
            batch = []
            with (source / TABLES_DIR / f"{table.name}.jsonl").open(encoding="utf-8") as lines:
                for line in lines:
                    row = json.loads(line)
                    batch.append({k: _decode(columns[k], v) for k, v in row.items() if k in columns})
                    if len(batch) == 500:
                        conn.execute(table.insert(), batch)
                        batch = []
            if batch:
                conn.execute(table.insert(), batch)
        if engine.dialect.name == "postgresql":
            _reset_sequences(conn)
    target = app.settings.blob_dir
    for relative in manifest["blobs"]:
        path = target / relative
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".part")
            shutil.copy2(source / BLOBS_DIR / relative, tmp)
            os.replace(tmp, path)
    return manifest


def _reset_sequences(conn) -> None:
    """Identity columns continue after the restored rows, not from 1."""
    for table in Base.metadata.sorted_tables:
        primary = list(table.primary_key.columns)
        if len(primary) != 1 or not isinstance(primary[0].type, Integer):
            continue
        column = primary[0].name
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column}).scalar()
        if seq:
            conn.execute(text(f'SELECT setval(:seq, COALESCE((SELECT max("{column}") FROM "{table.name}"), 0) + 1, '
                              "false)"), {"seq": seq})

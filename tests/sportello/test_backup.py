"""sportello backup / restore: a restore on a fresh database gives the same export, the files included."""

from __future__ import annotations

import json
import shutil

from tests import mailfactory as mf
from tests.conftest import Cli, _psycopg_dsn, write_config


def _export(cli) -> list[dict]:
    records = json.loads(cli("requests", "export", "--json").stdout)
    for r in records:
        r.pop("updated_at", None)
    return records


def test_backup_then_restore_on_a_fresh_database_gives_the_same_export(cli, tmp_path, db_url, pg_database):
    cli("init")
    for seed in (1, 2):
        eml = tmp_path / f"m{seed}.eml"
        eml.write_bytes(mf.mail(mf.attachment(mf.jpeg(seed=seed), "fronte.jpg"), seed=seed,
                                sender=f"citizen{seed}@example.org"))
        cli("ingest", "--province", "MI", str(eml))
    before = _export(cli)
    out = cli("backup", str(tmp_path / "bk")).stdout.decode()
    assert "backup in" in out
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["tables"]["requests"]["rows"] == 2 and manifest["blobs"]

    # A fresh installation: another data folder, another database on the same engine.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    other_db = db_url.replace("sportello.db", "fresh/sportello.db") if pg_database is None else _new_schema(db_url)
    restored = Cli(write_config(fresh / "sportello.toml", fresh / "data", other_db), fresh)
    restored("restore", str(tmp_path / "bk"))
    assert _export(restored) == before
    shown = restored("requests", "show", before[0]["reference"]).stdout.decode()
    assert before[0]["reference"] in shown
    # The stored files came back: every blob the first installation had.
    first = sorted(p.name for p in (tmp_path / "data" / "blobs").rglob("*") if p.is_file())
    second = sorted(p.name for p in (fresh / "data" / "blobs").rglob("*") if p.is_file())
    assert first == second and first
    # and the restored database goes on numbering where it left off
    eml = tmp_path / "m3.eml"
    eml.write_bytes(mf.mail(mf.attachment(mf.jpeg(seed=3), "fronte.jpg"), seed=3, sender="citizen3@example.org"))
    restored("ingest", "--province", "MI", str(eml))
    assert len(_export(restored)) == 3


def test_a_damaged_backup_is_refused_before_anything_is_written(cli, tmp_path):
    cli("init")
    eml = tmp_path / "m.eml"
    eml.write_bytes(mf.mail(mf.attachment(mf.jpeg(seed=1), "fronte.jpg"), seed=1))
    cli("ingest", "--province", "MI", str(eml))
    cli("backup", str(tmp_path / "bk"))
    with (tmp_path / "bk" / "tables" / "requests.jsonl").open("a") as f:
        f.write("{}\n")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    restored = Cli(write_config(fresh / "sportello.toml", fresh / "data", f"sqlite:///{fresh / 's.db'}"), fresh)
    proc = restored("restore", str(tmp_path / "bk"), check=False)
    assert proc.returncode != 0 and "requests" in proc.stderr.decode() and "damaged" in proc.stderr.decode()
    assert not (fresh / "data" / "blobs").exists()


def test_restore_never_merges_into_a_live_database_and_backup_wants_a_new_folder(cli, tmp_path):
    cli("init")
    eml = tmp_path / "m.eml"
    eml.write_bytes(mf.mail(mf.attachment(mf.jpeg(seed=1), "fronte.jpg"), seed=1))
    cli("ingest", "--province", "MI", str(eml))
    cli("backup", str(tmp_path / "bk"))
    proc = cli("restore", str(tmp_path / "bk"), check=False)
    assert proc.returncode != 0 and "already holds requests" in proc.stderr.decode()
    proc = cli("backup", str(tmp_path / "bk"), check=False)
    assert proc.returncode != 0 and "not empty" in proc.stderr.decode()
    shutil.rmtree(tmp_path / "bk")


def _new_schema(db_url: str) -> str:
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    base = db_url.split("?")[0]
    with psycopg.connect(_psycopg_dsn(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{base}?options=-csearch_path%3D{schema}"

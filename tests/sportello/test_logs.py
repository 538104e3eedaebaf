"""[logging] format = "json": one JSON object per line, with the request's reference, no personal data."""

from __future__ import annotations

import json

from tests import mailfactory as mf
from tests.conftest import Cli, write_config


def test_json_logs_are_one_object_per_line_with_the_reference(tmp_path, db_url):
    config = write_config(tmp_path / "sportello.toml", tmp_path / "data", db_url, '\n[logging]\nformat = "json"\n')
    cli = Cli(config, tmp_path)
    cli("init")
    eml = tmp_path / "m.eml"
    eml.write_bytes(mf.mail(mf.attachment(mf.jpeg(seed=1), "fronte.jpg"), seed=1,
                            sender="Mario Rossi <mario.rossi@example.org>"))
    err = cli("-v", "ingest", "--province", "BG", str(eml)).stderr.decode()

    lines = [line for line in err.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    referenced = [r for r in records if r.get("reference", "").startswith("SR-BG-")]
    assert referenced and all(r["reference"] in r["message"] for r in referenced)
    assert "mario.rossi@example.org" not in err and "Rossi" not in err


def test_text_logs_stay_the_default(cli, tmp_path):
    cli("init")
    eml = tmp_path / "m.eml"
    eml.write_bytes(mf.mail(seed=2))
    err = cli("-v", "ingest", "--province", "BG", str(eml)).stderr.decode()
    assert err.strip() and not err.lstrip().startswith("{")


def test_an_unknown_log_format_is_a_config_error(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[logging]\nformat = "xml"\n')
    proc = cli("config", "check", "--config", str(bad), check=False)
    assert proc.returncode != 0 and "logging.format" in proc.stderr.decode()

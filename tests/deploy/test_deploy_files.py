"""deploy/: the files a sysadmin installs hold what the README promises."""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(DEPLOY / "sportello.service")
    return unit


def test_the_unit_restarts_runs_unprivileged_and_writes_only_its_data_folder():
    service = _unit()["Service"]
    assert service["Restart"] == "on-failure"
    assert service["User"] == "sportello" and service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    data_dir = tomllib.loads((DEPLOY / "sportello.toml.example").read_text())["data_dir"]
    assert service["ReadWritePaths"].split() == [data_dir]
    assert service["ExecStart"].endswith("sportello run")


def test_the_example_configuration_passes_config_check(cli):
    proc = cli("config", "check", "--config", str(DEPLOY / "sportello.toml.example"),
               env={"SPORTELLO_SECRET_KEY": "k" * 40})
    assert b'"secure_cookies": true' in proc.stdout and b"127.0.0.1" in proc.stdout


def test_nginx_forwards_what_trusted_proxies_believe_and_guards_metrics():
    site = (DEPLOY / "nginx-sportello.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    metrics = site[site.index("location = /metrics"):]
    assert "deny all;" in metrics[: metrics.index("}")]
    trusted = tomllib.loads((DEPLOY / "sportello.toml.example").read_text())["backoffice"]["trusted_proxies"]
    assert "127.0.0.1" in trusted and "server 127.0.0.1:8000;" in site

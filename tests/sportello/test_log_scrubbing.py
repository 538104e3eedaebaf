"""Issue 19, item 11: with DEBUG logging, no codice fiscale, phone, e-mail address or name reaches the log.

Runs the demo and a complete delegate request (two people, two CFs, a phone
and an address on the form) through the real command line with -vv, then
greps everything it logged.
"""

from __future__ import annotations

import re
from dataclasses import asdict

import pytest

from sportello.samples import sample_files
from tests.corpus.cases import build_case, to_email

pytestmark = pytest.mark.slow

_CF_RE = re.compile(r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b")


def _personal_values(case) -> set[str]:
    values = {case.sender, case.expected_holder_cf, case.expected_declarant_cf}
    for person in (case.holder, case.declarant):
        if person is not None:
            p = asdict(person)
            values |= {p["phone"], p["email"], p["surname"], p["address"]}
    form = case.form_values or {}
    values |= {str(form.get(k)) for k in ("phone", "email", "holder_codice_fiscale", "declarant_codice_fiscale",
                                          "holder_card_number") if form.get(k)}
    return {v for v in values if v and len(v) >= 4}


def test_debug_logs_of_the_demo_and_a_full_request_hold_no_personal_data(cli, tmp_path):
    env = {"SPORTELLO_TODAY": "2026-11-26"}
    demo = cli("-vv", "demo", env=env)
    case = build_case("delegate-ready-phone")
    eml = tmp_path / "richiesta.eml"
    eml.write_bytes(to_email(case))
    ingest = cli("-vv", "ingest", "--province", case.province, str(eml), env=env)
    log = demo.stderr.decode() + ingest.stderr.decode()
    assert "DEBUG" in log  # the logging really was at DEBUG
    shown = cli("requests", "list").stdout.decode()
    assert "ready" in shown  # the request was read whole: its data existed to leak

    cases = [case] + [build_case(re.sub(r"^[A-Z]{2}-\d\d-", "", f.name.removesuffix(".eml")))
                      for f in sample_files() if "auto-reply" not in f.name]
    leaked = sorted(v for c in cases for v in _personal_values(c) if v in log)
    assert leaked == []
    assert _CF_RE.findall(log) == []

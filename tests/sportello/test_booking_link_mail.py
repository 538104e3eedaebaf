"""End to end: a complete request's "pratica completa" mail carries a booking link that works."""

import email
import re
from email import policy
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parents[2] / "sportello" / "samples" / "PV-01-direct-ready-phone.eml"


def test_the_complete_mail_links_to_the_booking_page(app, cli, monkeypatch):
    from starlette.testclient import TestClient

    from backoffice.app import create_app

    out = cli("ingest", "--province", "PV", str(SAMPLE), env={"SPORTELLO_TODAY": "2026-11-26"}).stdout.decode()
    assert "(ready)" in out
    bodies = [email.message_from_bytes(p.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
              for p in app.settings.outbox_dir.glob("*.eml")]
    links = [m.group(0) for b in bodies for m in re.finditer(r"http://127\.0\.0\.1:8000/prenota/\S+", b)]
    assert len(links) == 1
    monkeypatch.setenv("SPORTELLO_NOW", "2026-11-27T08:00")
    client = TestClient(create_app(app), base_url="http://127.0.0.1")
    page = client.get(links[0].removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200 and "Videochiamata di riconoscimento" in page.text
    assert "ven 27/11 ore 10:00" in page.text

"""Issue 19: the clerk sees, in Italian, what intake could not read of a message."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sportello.pipeline import ingest
from sportello.verify import verify_pending
from tests import mailfactory as mf
from tests.corpus.cases import build_case, to_email


@pytest.fixture(autouse=True)
def corpus_today(monkeypatch):
    monkeypatch.setenv("SPORTELLO_TODAY", "2026-11-26")


def _thumbnails(n: int) -> list[tuple[str, bytes, str]]:
    return [(f"IMG_{i:04d}.jpg", mf.jpeg(24, 24, seed=100 + i), "image/jpeg") for i in range(n)]


def test_the_clerk_sees_the_notes_in_italian(app, login, seeded):
    case = build_case("direct-ready-phone")
    hostile = replace(case, attachments=[*_thumbnails(30), *case.attachments])
    out = ingest(app, to_email(hostile), "MI")
    verify_pending(app)
    page = login("op.mi").get(f"/pratiche/{out.reference}").text
    assert "Messaggio letto solo in parte" in page
    assert f"Troppi allegati: {len(case.attachments)} non considerati (limite 30)" in page
    assert "contenuto non letto" in page


def test_an_integration_request_threads_on_a_long_outlook_message_id():
    """Defect 3 in the clerk's mail too: In-Reply-To/References never RFC 2047-encoded."""
    from backoffice.integration import build_message
    from db.models import Message, Request

    long_id = "<AM0PR07MB6178D1E0C8E6F1B2A9C3D4E5F60718293A4B5C6D7E8F9A0B1C2D3E4F5@AM0PR07MB6178.eurprd07.prod.outlook.com>"
    req = Request(reference="SR-MI-2026-000009", province="MI",
                  messages=[Message(direction="in", message_id=long_id)])
    raw = build_message(req, "ufficio@example.org", "mario@example.org", "Integrazione", "Ci manca il retro.",
                        "abc").as_bytes()
    head = raw.split(b"\n\n", 1)[0].decode("ascii")
    assert "=?" not in head.split("Subject:")[0] + head.split("Subject:")[1].split("\n", 1)[1]
    assert f"In-Reply-To: {long_id}" in head and long_id in head.split("References:")[1]


def test_the_clerk_reads_why_an_automatic_answer_was_held_back(app, login, seeded):
    first = ingest(app, mf.mail(seed=81, subject="richiesta", sender="Ugo Neri <ugo@example.org>"), "MI")
    verify_pending(app)
    ingest(app, mf.mail(seed=82, subject="richiesta di nuovo", sender="Ugo Neri <ugo@example.org>"), "MI")
    verify_pending(app)
    page = login("op.mi").get(f"/pratiche/{first.reference}").text
    assert "E-mail non inviata" in page
    assert "la stessa risposta era già stata inviata a questo indirizzo nelle ultime 24 ore" in page


def test_a_purged_request_page_still_opens_with_its_record(app, login, seeded):
    from datetime import timedelta

    from sqlalchemy import select, text

    from db import lifecycle
    from db.models import Request, utcnow
    from sportello.retention import purge

    case = build_case("direct-ready-phone")
    out = ingest(app, to_email(case), "MI")
    verify_pending(app)
    with app.db.session() as s:
        lifecycle.transition(s, s.scalar(select(Request).where(Request.reference == out.reference)), "rejected", "op.mi")
    with app.db.engine.begin() as conn:
        conn.execute(text("UPDATE requests SET updated_at = :t WHERE reference = :r"),
                     {"t": utcnow() - timedelta(days=400), "r": out.reference})
    assert out.reference in [p.reference for p in purge(app)]
    r = login("op.mi").get(f"/pratiche/{out.reference}")
    assert r.status_code == 200 and "Documenti eliminati (conservazione scaduta)" in r.text
    assert "periodo di conservazione scaduto" in r.text

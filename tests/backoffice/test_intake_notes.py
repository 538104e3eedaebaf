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

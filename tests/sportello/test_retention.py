"""Issue 19, item 9: a closed request past the retention period loses its files and keeps its record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from db import lifecycle
from db.models import Event, Request, utcnow
from sportello.pipeline import ingest
from sportello.retention import purge
from sportello.verify import verify_pending
from tests.corpus.cases import build_case, to_email


@pytest.fixture(autouse=True)
def corpus_today(monkeypatch):
    monkeypatch.setenv("SPORTELLO_TODAY", "2026-11-26")


def _request(app, case_id: str, *, close: str | None, days_ago: int = 0, seed_sender: str | None = None):
    case = build_case(case_id)
    out = ingest(app, to_email(case), case.province)
    verify_pending(app)
    with app.db.session() as s:
        req = s.scalar(select(Request).where(Request.reference == out.reference))
        if close:
            lifecycle.transition(s, req, close, "op.mi", reason="prova")
    if days_ago:
        with app.db.engine.begin() as conn:
            conn.execute(text("UPDATE requests SET updated_at = :t WHERE reference = :r"),
                         {"t": utcnow() - timedelta(days=days_ago), "r": out.reference})
    return out.reference


def _files(app, reference) -> list:
    with app.db.session() as s:
        req = s.scalar(select(Request).where(Request.reference == reference))
        digests = [m.sha256 for m in req.messages] + [a.sha256 for m in req.messages for a in m.attachments]
        return [app.blobs.path(d) for d in digests]


def test_a_closed_request_past_the_period_loses_its_files_and_keeps_its_record(app):
    old = _request(app, "direct-ready-phone", close="rejected", days_ago=app.settings.retention.closed_days + 1)
    recent = _request(app, "missing-holder_cns_back", close="rejected", days_ago=10)
    open_one = _request(app, "delegate-ready-phone", close=None, days_ago=400)
    kept_before = {ref: [p for p in _files(app, ref) if p.exists()] for ref in (recent, open_one)}
    assert all(kept_before.values())

    preview = purge(app, dry_run=True)
    assert [p.reference for p in preview] == [old] and preview[0].files >= 2
    assert all(p.exists() for p in _files(app, old))  # a dry run changes nothing

    assert [p.reference for p in purge(app)] == [old]
    assert not any(p.exists() for p in _files(app, old))
    for ref, paths in kept_before.items():
        assert all(p.exists() for p in paths), ref
    with app.db.session() as s:
        req = s.scalar(select(Request).where(Request.reference == old))
        assert req.status == "rejected" and req.purged_at is not None
        assert req.holder_codice_fiscale is None and req.contact_phone is None and req.documents == []
        assert {a.status for m in req.messages for a in m.attachments} == {"purged"}
        kinds = [e.kind for e in s.scalars(select(Event).where(Event.request_id == req.id).order_by(Event.id))]
        assert kinds[0] == "created" and "status" in kinds and kinds[-1] == "purged"
        kept = s.scalar(select(Request).where(Request.reference == open_one))
        assert kept.holder_codice_fiscale is not None and kept.purged_at is None
    assert purge(app) == []  # nothing twice
    from db import audit

    with app.db.engine.connect() as conn:
        assert audit.verify(conn) == []  # the record, purge included, is still an intact chain


def test_purge_dry_run_from_the_command_line(app, cli):
    _request(app, "direct-ready-phone", close="rejected", days_ago=app.settings.retention.closed_days + 5)
    out = cli("purge", "--dry-run", env={"SPORTELLO_TODAY": "2026-11-26"}).stdout.decode()
    assert "would purge 1 requests" in out and "rejected" in out
    assert cli("audit", "verify").returncode == 0

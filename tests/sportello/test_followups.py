"""A citizen completes a request over several mails; a stranger's request is not swallowed."""

from dataclasses import replace

import pytest
from sqlalchemy import select

from db.models import Request
from sportello.pipeline import ingest
from sportello.verify import verify_pending
from tests.corpus.cases import build_case, to_email


@pytest.fixture(autouse=True)
def corpus_today(monkeypatch):
    monkeypatch.setenv("SPORTELLO_TODAY", "2026-11-26")


def _request(app, reference):
    with app.db.session() as s:
        r = s.scalar(select(Request).where(Request.reference == reference))
        return r.status, {f.code for f in r.findings}, len(r.messages)


def test_the_missing_scan_sent_as_a_fresh_mail_completes_the_request(app):
    case = build_case("direct-ready-phone")
    first = replace(case, attachments=case.attachments[:-1])
    out = ingest(app, to_email(first), case.province)
    verify_pending(app)
    status, codes, _ = _request(app, out.reference)
    assert status == "incomplete" and codes == {"missing_holder_cns_back"}

    # A new mail (no reference, no In-Reply-To) with just the back of the card.
    second = replace(case, id=case.id + "-2", seed=case.seed + 1, subject="il retro della tessera",
                     attachments=case.attachments[-1:])
    again = ingest(app, to_email(second), case.province)
    assert again.reference == out.reference
    verify_pending(app)
    assert _request(app, out.reference) == ("ready", set(), 2)


def test_a_fresh_mail_with_another_holders_documents_gets_its_own_request(app):
    mine = build_case("missing-holder_cns_back")
    out = ingest(app, to_email(mine), mine.province)
    verify_pending(app)
    assert _request(app, out.reference)[0] == "incomplete"

    # The same sender now writes for someone else (another holder, another CF).
    other = build_case("direct-ready-form-fillable-v1")
    other = replace(other, sender=mine.sender, sender_name=mine.sender_name)
    assert other.expected_holder_cf != mine.expected_holder_cf
    ingest(app, to_email(other), mine.province)
    verify_pending(app)
    with app.db.session() as s:
        requests = {r.reference: r for r in s.scalars(select(Request))}
        assert len(requests) == 2
        split = next(r for ref, r in requests.items() if ref != out.reference)
        assert split.status == "ready" and split.holder_codice_fiscale == other.expected_holder_cf
        original = requests[out.reference]
        assert original.status == "incomplete" and len(original.messages) == 1
        assert "message_moved" in [e.kind for e in original.events]

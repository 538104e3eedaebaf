"""Issue 19 through the pipeline: notes stored and shown, losses to review, replies that thread.

Each hostile message is built here from a generated request (tests/corpus).
"""

from __future__ import annotations

import email
from dataclasses import replace
from email import policy

import pytest
from sqlalchemy import select

from db.models import Message, OutgoingMail, Request
from sportello.pipeline import ingest
from sportello.verify import verify_pending
from tests import mailfactory as mf
from tests.corpus.cases import build_case, to_email


@pytest.fixture(autouse=True)
def corpus_today(monkeypatch):
    monkeypatch.setenv("SPORTELLO_TODAY", "2026-11-26")


def _request(app, reference):
    with app.db.session() as s:
        r = s.scalar(select(Request).where(Request.reference == reference))
        return r.status, {f.code for f in r.findings}


def _ours(app):
    with app.db.session() as s:
        return [(m.kind, email.message_from_bytes(m.raw, policy=policy.default)) for m in s.scalars(select(OutgoingMail))]


def _thumbnails(n: int) -> list[tuple[str, bytes, str]]:
    return [(f"IMG_{i:04d}.jpg", mf.jpeg(24, 24, seed=100 + i), "image/jpeg") for i in range(n)]


def test_a_ready_request_behind_thirty_small_pictures_stays_whole_and_goes_to_review(app):
    """Defect 1: the scans are kept over the thumbnails; the loss is stored; no "manca" letter."""
    case = build_case("direct-ready-phone")
    hostile = replace(case, attachments=[*_thumbnails(30), *case.attachments])
    out = ingest(app, to_email(hostile), case.province)
    verify_pending(app)
    status, codes = _request(app, out.reference)
    assert status == "needs_review"
    assert "message_partly_read" in codes and "form_missing" not in codes
    with app.db.session() as s:
        msg = s.scalar(select(Message).where(Message.message_id == case.message_id))
        kept = {a.filename for a in msg.attachments}
        assert {name for name, _, _ in case.attachments} <= kept
        assert {"text": f"too many attachments: {len(case.attachments)} not kept (limit 30)", "loss": True} in msg.intake_notes
    assert [kind for kind, _ in _ours(app)] == ["acknowledgement"]  # never "missing"


def test_a_request_missing_a_scan_but_partly_read_is_not_told_what_is_missing(app):
    """Defect 1: an incomplete verdict on a partial read is an operator's call, not a letter."""
    case = build_case("direct-ready-phone")
    broken = to_email(replace(case, attachments=case.attachments[:-1]))
    # Append a part whose multipart has no usable boundary: content we could not read.
    head, sep, tail = broken.rpartition(b"--\r\n")
    broken = head + b"\r\nContent-Type: multipart/mixed; boundary=\"nessuno\"\r\n\r\n--x\r\nAAAA\r\n" + b"--" + sep + tail
    out = ingest(app, broken, case.province)
    verify_pending(app)
    status, codes = _request(app, out.reference)
    assert status == "needs_review", codes
    assert "missing_holder_cns_back" in codes and "message_partly_read" in codes
    assert [kind for kind, _ in _ours(app)] == ["acknowledgement"]


# ---- defect 3: replies thread on long Message-IDs -------------------------------------------


def test_a_reply_to_a_long_outlook_message_id_threads(app):
    long_id = "<AM0PR07MB6178D1E0C8E6F1B2A9C3D4E5F60718293A4B5C6D7E8F9A0B1C2D3E4F5@AM0PR07MB6178.eurprd07.prod.outlook.com>"
    assert len(long_id) > 84
    refs = " ".join(f"<thread-{i}-{'q' * 50}@mail.example.org>" for i in range(12))
    raw = mf.mail(mf.attachment(mf.jpeg(), "fronte.jpg"), seed=41,
                  extra_headers={"References": refs}).replace(b"<mail-41@example.org>", long_id.encode())
    ingest(app, raw, "MI")
    verify_pending(app)
    ((_, reply),) = _ours(app)
    with app.db.session() as s:
        wire = s.scalar(select(OutgoingMail.raw))
    assert b"=?" not in wire.split(b"\r\n\r\n", 1)[0].split(b"Subject:")[0]
    header_block = wire.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "=?utf-8?" not in header_block.split("Subject:")[0] + header_block.split("In-Reply-To:")[1]
    assert all(len(line) <= 998 for line in header_block.split("\r\n"))
    assert reply["In-Reply-To"] == long_id
    chain = reply["References"].split()
    assert chain[0] == "<thread-0-" + "q" * 50 + "@mail.example.org>" and chain[-1] == long_id
    # Folded between ids, each line of References within 78 characters unless one id is longer.
    ref_lines = header_block.split("References:")[1].split("\r\n")
    ref_lines = [ref_lines[0]] + [line for line in ref_lines[1:] if line.startswith(" ")]
    assert len(ref_lines) > 1
    assert all(len(line) <= 78 or len(line.split()) == 1 for line in ref_lines)


def test_an_id_that_is_no_msg_id_is_left_out_of_the_reply(app):
    raw = mf.mail(seed=42).replace(b"<mail-42@example.org>", "<caffè con spazi@example.org>".encode())
    ingest(app, raw, "MI")
    verify_pending(app)
    with app.db.session() as s:
        wire = s.scalar(select(OutgoingMail.raw))
    header_block = wire.split(b"\r\n\r\n", 1)[0]
    assert header_block.isascii() and b"con spazi" not in header_block


# ---- defect 4: auto-replies and bounces are never answered -----------------------------------


def test_german_auto_replies_and_repeated_exchange_bounces_are_never_answered(app):
    german = mf.simple(seed=51, subject="Automatische Antwort: Richiesta codici PIN/PUK",
                       sender="Hans Muster <hans.muster@firma.example.de>")
    ndr = "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@comune.example.it"
    outcomes = [ingest(app, german, "MI")]
    for seed in (52, 53):  # the same sender bounces twice
        outcomes.append(ingest(app, mf.simple(seed=seed, subject="Recapito non riuscito: Abbiamo ricevuto",
                                              sender=f"Microsoft Outlook <{ndr}>",
                                              text="Impossibile recapitare il messaggio."), "MI"))
    verify_pending(app)
    assert [o.status for o in outcomes] == ["not_a_request"] * 3
    assert _ours(app) == []


def test_requests_show_lists_the_notes(app):
    from sportello.show import render_request

    case = build_case("direct-ready-phone")
    out = ingest(app, to_email(replace(case, attachments=[*_thumbnails(30), *case.attachments])), case.province)
    with app.db.session() as s:
        text = render_request(s.scalar(select(Request).where(Request.reference == out.reference)))
    assert f"!! non letto: too many attachments: {len(case.attachments)} not kept (limit 30)" in text

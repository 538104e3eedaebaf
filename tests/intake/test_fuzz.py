"""Fuzz: parse_message and the document checks never raise on damaged input (issue 19).

Only NotAnEmail may leave parse_message; every attachment comes out either
accepted (PDF, JPEG or PNG) or rejected with a reason.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake import documents, sniff
from intake.mime import NotAnEmail, parse_message
from tests.fuzzing import bounded, damaged, seed_files, seed_mails

pytestmark = [pytest.mark.fuzz, pytest.mark.slow, pytest.mark.timeout(300),
              pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.filterwarnings("ignore::DeprecationWarning")]

ACCEPTED_TYPES = {sniff.PDF, sniff.JPEG, sniff.PNG}


def _check(raw: bytes) -> None:
    try:
        msg = parse_message(raw)
    except NotAnEmail:
        return
    for att in msg.attachments:
        assert att.rejected or att.content_type in ACCEPTED_TYPES, att
    assert set(msg.losses) <= set(msg.defects)


@bounded(2000)
@given(damaged(seed_mails()))
def test_parse_message_never_raises_on_damaged_mails(raw):
    _check(raw)


@bounded(500)
@given(st.binary(max_size=4096))
def test_parse_message_never_raises_on_random_bytes(raw):
    _check(b"From: a@example.org\r\nSubject: x\r\n" + raw)
    _check(raw)


@bounded(1000)
@given(damaged(seed_files()))
def test_document_checks_never_raise(data):
    kind = sniff.sniff(data)
    for doc in documents.normalise("allegato", kind, data, max_pixels=60_000_000, max_pages=20, max_output=60 << 20):
        assert doc.rejected or doc.content_type in ACCEPTED_TYPES

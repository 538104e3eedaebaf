"""Fuzz: every input, however damaged, ends stored with a status (issue 19).

ingest (the poller's path, not strict) never raises on what a mailbox can
hold; verification then settles every request it opened, without raising.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from sqlalchemy import func, select

from db.lifecycle import STATUSES
from db.models import Message, Request
from sportello.pipeline import ingest
from sportello.verify import verify_pending
from tests.fuzzing import bounded, damaged, seed_mails

pytestmark = [pytest.mark.fuzz, pytest.mark.slow, pytest.mark.timeout(600),
              pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def test_every_damaged_mail_is_stored_with_a_status(app):
    stored: list[str] = []

    @bounded(60)
    @given(damaged(seed_mails()))
    def one(raw):
        if not raw.strip():
            return  # nothing a mailbox can hold
        out = ingest(app, raw, "MI")
        assert out.status in STATUSES
        stored.append(out.message_id)

    one()
    verify_pending(app)
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Request).where(Request.status.not_in(STATUSES))) == 0
        assert s.scalar(select(func.count()).select_from(Message)) >= len(set(stored))
        assert s.scalar(select(func.count()).select_from(Request).where(Request.status == "received")) == 0

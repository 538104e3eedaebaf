"""Lookups shared by intake, the CLI and the back office."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Message, OutgoingMail, Request


def request_by_reference(session: Session, reference: str) -> Request | None:
    return session.scalar(select(Request).where(Request.reference == reference))


def request_by_message_ids(session: Session, message_ids: tuple[str, ...]) -> Request | None:
    """The request owning the first of these Message-IDs, ours or the citizen's."""
    for mid in message_ids:
        req = session.scalar(
            select(Request).join(Message, Message.request_id == Request.id).where(Message.message_id == mid).limit(1)
        )
        if req is None:
            req = session.scalar(
                select(Request).join(OutgoingMail, OutgoingMail.request_id == Request.id).where(OutgoingMail.message_id == mid)
            )
        if req is not None:
            return req
    return None


# A request still gathering its documents: not yet checked (two mails fetched in one poll), waiting
# for the citizen, or held for a person (a question sent before the files).
GATHERING = ("received", "incomplete", "needs_review")


def gathering_request_of_sender(session: Session, sender: str) -> Request | None:
    """The newest request of this sender still gathering documents (see GATHERING)."""
    return session.scalar(
        select(Request)
        .where(Request.sender_email == sender, Request.status.in_(GATHERING))
        .order_by(Request.id.desc())
        .limit(1)
    )


def message_by_dedupe_key(session: Session, key: str) -> Message | None:
    return session.scalar(select(Message).where(Message.dedupe_key == key))


def message_by_uid(session: Session, mailbox_key: str, uidvalidity: int, uid: int) -> Message | None:
    return session.scalar(
        select(Message).where(
            Message.mailbox_key == mailbox_key, Message.uidvalidity == uidvalidity, Message.uid == uid
        )
    )

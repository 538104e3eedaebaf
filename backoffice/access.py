"""Who may see what: every lookup of a request goes through here.

A request outside the user's provinces is "not found" (404), whether asked
for by page, by direct URL or by form post: its existence is not revealed.
"""

from __future__ import annotations

import re

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.auth import CurrentUser
from db.models import Attachment, Message, Request

REFERENCE_RE = re.compile(r"^SR-[A-Z]{2}-\d{4}-\d{6}$")


def in_scope(user: CurrentUser):
    """SQL condition: the request belongs to one of the user's provinces."""
    return Request.province.in_(user.provinces)


def find_request(session: Session, user: CurrentUser, reference: str) -> Request:
    ref = reference.strip().upper()
    if not REFERENCE_RE.match(ref):
        raise HTTPException(404)
    req = session.scalar(select(Request).where(Request.reference == ref, in_scope(user)))
    if req is None:
        raise HTTPException(404)
    return req


def find_attachment(session: Session, user: CurrentUser, reference: str, attachment_id: int) -> tuple[Request, Attachment]:
    """An attachment of a message of this request, only if the request is visible."""
    req = find_request(session, user, reference)
    att = session.scalar(
        select(Attachment).join(Message, Attachment.message_id == Message.id)
        .where(Attachment.id == attachment_id, Message.request_id == req.id)
    )
    if att is None:
        raise HTTPException(404)
    return req, att


def find_message(session: Session, user: CurrentUser, message_id: int) -> Message:
    msg = session.scalar(
        select(Message).join(Request, Message.request_id == Request.id).where(Message.id == message_id, in_scope(user))
    )
    if msg is None:
        raise HTTPException(404)
    return msg

"""Intake of one raw message: store it, thread it, open or re-open its request.

Everything for one message happens in one transaction; side effects on the
outside world (moving the mail on the server, sending mail) come after the
commit, driven by what the committed rows say.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from config.settings import LimitSettings
from db import lifecycle, queries
from db.models import Attachment, Message, Request
from db.references import next_reference
from intake import threading
from intake.autoreply import classify_automatic
from intake.sync import MailOrigin
from intake.mime import Limits, NotAnEmail, ParsedMessage, body_sha256, generated_message_id, parse_message
from db.app import App, today

log = logging.getLogger(__name__)

ACTOR = "intake"
JOINED_BY_SENDER = "sender"


@dataclass(frozen=True)
class IngestOutcome:
    reference: str
    message_id: str
    duplicate: bool
    status: str
    failed: str | None = None  # why intake could not read it (quarantined)


def limits_from(settings: LimitSettings) -> Limits:
    return Limits(
        max_message_bytes=settings.max_message_bytes,
        max_attachments=settings.max_attachments,
        max_unpacked_bytes=settings.max_unpacked_bytes,
        max_zip_ratio=settings.max_zip_ratio,
        max_zip_depth=settings.max_zip_depth,
        max_image_pixels=settings.max_image_pixels,
        max_pdf_pages=settings.max_pdf_pages,
    )


def dedupe_key(message_id: str, raw: bytes) -> str:
    """Message-ID plus the SHA-256 of the body (trace headers differ per mailbox)."""
    return hashlib.sha256(f"{message_id}\0{body_sha256(raw)}".encode()).hexdigest()


def ingest(app: App, raw: bytes, province: str, origin: MailOrigin | None = None, *, strict: bool = False) -> IngestOutcome:
    """Store one message exactly once and attach it to its request.

    strict: raise NotAnEmail for input that is not an e-mail (the CLI);
    otherwise such input is kept and quarantined (a mailbox never loses mail).
    """
    try:
        parsed, failed = _read(app, raw, strict)
        return _store(app, raw, province, origin, parsed, failed)
    except (NotAnEmail, OperationalError, InterfaceError):
        # Not an e-mail (strict only), or the database is down or busy: the
        # caller's pass fails and the message is read again on the next one.
        raise
    except Exception as exc:  # noqa: BLE001 - see below
        if strict:
            raise
        # A mail that breaks intake must not fail again on every pass and hold
        # up every mail behind it: keep it whole, quarantined, for an operator.
        log.exception("intake of a message failed; kept in quarantine")
        return _store(app, raw, province, origin, None, f"intake error: {type(exc).__name__}: {exc}"[:300])


def _read(app: App, raw: bytes, strict: bool) -> tuple[ParsedMessage | None, str | None]:
    failed: str | None = None
    try:
        parsed = parse_message(raw, limits_from(app.settings.limits))
    except NotAnEmail as exc:
        if strict:
            raise
        parsed, failed = None, f"not an e-mail: {exc}"
    if parsed is not None and any("too large" in d for d in parsed.defects):
        failed = "message over the size limit"
    return parsed, failed


def _store(app: App, raw: bytes, province: str, origin: MailOrigin | None, parsed: ParsedMessage | None,
           failed: str | None) -> IngestOutcome:
    message_id = parsed.message_id if parsed else None
    if not message_id or len(message_id) > _length(Message.message_id):
        message_id = generated_message_id(raw)  # none, or too long to be anyone's real id
    key = dedupe_key(message_id, raw)

    try:
        with app.db.session() as s:
            existing = _stored_copy(s, key, origin)
            if existing is not None:
                return _already_stored(existing)
            digest = app.blobs.put(raw)
            msg = _new_message(raw, digest, key, message_id, province, origin, parsed, failed)
            if parsed is not None and failed is None:
                _add_attachments(app, msg, parsed)
            request, joined_by = _thread(s, msg, parsed, province)
            msg.request = request
            s.add(msg)
            s.flush()
            _settle(s, request, msg, parsed, failed, joined_by)
            outcome = IngestOutcome(request.reference, message_id, False, request.status, failed)
    except IntegrityError:
        # Another poller stored it first (unique dedupe key or mailbox UID).
        with app.db.session() as s:
            existing = _stored_copy(s, key, origin)
            if existing is None:
                raise
            return _already_stored(existing)
    log.info("stored message into %s (%s)", outcome.reference, outcome.status, extra={"reference": outcome.reference})
    return outcome


def _stored_copy(s: Session, key: str, origin: MailOrigin | None) -> Message | None:
    existing = queries.message_by_dedupe_key(s, key)
    if existing is None and origin and origin.uid is not None:
        existing = queries.message_by_uid(s, origin.mailbox_key, origin.uidvalidity, origin.uid)
    return existing


def _length(column) -> int:
    return column.property.columns[0].type.length


def _fit(value: str | None, column) -> str | None:
    """A header value cut to its column: PostgreSQL refuses longer ones, and hostile mail has them."""
    return value[: _length(column)] if value else value


def _address(parsed: ParsedMessage | None) -> str | None:
    """The sender's address, or None when it is longer than any real address can be."""
    if parsed is None or not parsed.sender or len(parsed.sender) > _length(Request.sender_email):
        return None
    return parsed.sender


def _already_stored(existing: Message) -> IngestOutcome:
    # The poller moves a duplicate where the stored copy went (failed or processed folder).
    failed = existing.intake_error if existing.intake_status == "failed" else None
    return IngestOutcome(existing.request.reference, existing.message_id, True, existing.request.status, failed)


def _new_message(raw, digest, key, message_id, province, origin, parsed: ParsedMessage | None, failed) -> Message:
    return Message(
        direction="in",
        message_id=message_id,
        dedupe_key=key,
        sha256=digest,
        size=len(raw),
        province=province,
        mailbox_key=origin.mailbox_key if origin else None,
        uidvalidity=origin.uidvalidity if origin else None,
        uid=origin.uid if origin else None,
        sender=_fit(parsed.sender, Message.sender) if parsed else None,
        subject=parsed.subject if parsed else None,
        in_reply_to=parsed.in_reply_to if parsed else None,
        references=" ".join(parsed.references) if parsed else None,
        date_header=_fit(str(parsed.date), Message.date_header) if parsed and parsed.date else None,
        intake_status="failed" if failed else "ok",
        intake_error=failed,
        intake_notes=intake_notes(parsed) if parsed else None,
        server_action="pending" if origin and origin.uid is not None else "none",
    )


MAX_NOTES = 100
MAX_NOTE_CHARS = 300


def intake_notes(parsed: ParsedMessage) -> list[dict]:
    """Every note parse_message made, marked when it cost content (ParsedMessage.losses)."""
    losses = set(parsed.losses)
    notes = [{"text": d[:MAX_NOTE_CHARS], "loss": d in losses} for d in parsed.defects[:MAX_NOTES]]
    if len(parsed.defects) > MAX_NOTES:
        notes.append({"text": f"{len(parsed.defects) - MAX_NOTES} more notes not kept",
                      "loss": any(d in losses for d in parsed.defects[MAX_NOTES:])})
    return notes


def content_lost(message: Message) -> list[str]:
    """The notes of a stored message that say part of it was not read."""
    return [n["text"] for n in (message.intake_notes or []) if n.get("loss")]


def _add_attachments(app: App, msg: Message, parsed: ParsedMessage) -> None:
    for att in parsed.attachments:
        digest = app.blobs.put(att.data)
        msg.attachments.append(
            Attachment(
                filename=_fit(att.filename, Attachment.filename),
                content_type=_fit(att.content_type, Attachment.content_type),
                size=len(att.data),
                sha256=digest,
                origin=_fit(att.origin, Attachment.origin),
                status="rejected" if att.rejected else "ok",
                reject_reason=att.rejected,
                signer_certificate=att.signer_certificate,
            )
        )


def _thread(s: Session, msg: Message, parsed: ParsedMessage | None, province: str) -> tuple[Request, str]:
    """Find the request this message belongs to, or open a new one; say by which clue."""
    if parsed is not None:
        c = threading.clues(parsed.subject, parsed.in_reply_to, parsed.references, parsed.text_body)
        for ref in c.subject_references:
            if (req := queries.request_by_reference(s, ref)) is not None:
                return req, "reference"
        if (req := queries.request_by_message_ids(s, c.message_ids)) is not None:
            return req, "message_id"
        for ref in c.body_references:
            if (req := queries.request_by_reference(s, ref)) is not None:
                return req, "marker"
        # A fresh mail from a citizen whose request is still gathering documents
        # (not checked yet, incomplete, or held for a person) joins it;
        # verification splits it off again if its documents plainly
        # belong to someone else (sportello.verify).
        if parsed.sender and classify_automatic(parsed) is None:
            if (req := queries.gathering_request_of_sender(s, parsed.sender)) is not None:
                return req, JOINED_BY_SENDER
    return open_new_request(s, province, _address(parsed)), "new"


def open_new_request(s: Session, province: str, sender: str | None, **detail) -> Request:
    req = Request(
        reference=next_reference(s, province, today().year),
        province=province,
        sender_email=sender,
        contact_email=sender,
    )
    lifecycle.open_request(s, req, ACTOR, **detail)
    return req


def _settle(s: Session, request: Request, msg: Message, parsed: ParsedMessage | None, failed: str | None,
            joined_by: str) -> None:
    """Record the arrival and decide the request's next status."""
    automatic = classify_automatic(parsed) if parsed is not None else None
    lifecycle.record(
        s,
        request,
        "message_received",
        ACTOR,
        {"message": msg.message_id, "attachments": len(msg.attachments), "automatic": automatic, "failed": failed,
         "joined_by": joined_by},
    )
    new_request = len(request.messages) <= 1
    if failed:
        target = "needs_review"
    elif automatic:
        # An auto-reply opens nothing and changes nothing in a live request.
        target = "not_a_request" if new_request else None
    else:
        # A citizen's message: the whole request must be checked again.
        target = "received"
    if target and target != request.status and lifecycle.can_transition(request.status, target):
        lifecycle.transition(s, request, target, ACTOR, reason=automatic or failed)

"""SQLAlchemy 2 models. The same code and migrations serve SQLite and PostgreSQL.

Uniqueness that matters is a constraint here, not an `if` in Python:
one stored message per (mailbox, UIDVALIDITY, UID) and per dedupe key,
one reference per request.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(dt: datetime | None) -> datetime | None:
    """An aware datetime in UTC (None stays None). SQLite hands timestamps back naive: they were
    stored in UTC. PostgreSQL hands them back aware, in the session's time zone."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict: JSON, list: JSON}


class Office(Base):
    """A spazioRegione office: one per province."""

    __tablename__ = "offices"

    province: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class ReferenceCounter(Base):
    """Last reference number issued per province and year (SR-MI-2026-000042)."""

    __tablename__ = "reference_counters"

    province: Mapped[str] = mapped_column(String(2), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class MailboxState(Base):
    """Sync state of one mailbox: UIDVALIDITY, last UID seen, and the poller lease."""

    __tablename__ = "mailbox_states"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    province: Mapped[str] = mapped_column(String(2))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    # When the administrators were mailed that it went stale; cleared, with a second mail, on recovery.
    stale_alerted_at: Mapped[datetime | None]


class JobRun(Base):
    """A periodic job's claim on one period: the node whose insert lands runs it (db/jobs.py)."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(primary_key=True)
    node: Mapped[str] = mapped_column(String(120))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Request(Base):
    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    province: Mapped[str] = mapped_column(String(2), ForeignKey("offices.province"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    form_type: Mapped[str | None] = mapped_column(String(10))
    # The address the request came from: threading of fresh mails uses it.
    sender_email: Mapped[str | None] = mapped_column(String(320), index=True)

    holder_codice_fiscale: Mapped[str | None] = mapped_column(String(16), index=True)
    holder_surname: Mapped[str | None] = mapped_column(String(120))
    holder_given_names: Mapped[str | None] = mapped_column(String(120))
    holder_birth_date: Mapped[date | None] = mapped_column(Date)

    declarant_codice_fiscale: Mapped[str | None] = mapped_column(String(16))
    declarant_surname: Mapped[str | None] = mapped_column(String(120))
    declarant_given_names: Mapped[str | None] = mapped_column(String(120))
    declarant_birth_date: Mapped[date | None] = mapped_column(Date)
    declarant_relationship: Mapped[str | None] = mapped_column(String(20))

    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(32))

    assigned_to: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Bumped on every status change: optimistic concurrency for claims and actions.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The head of this request's event hash chain (db.audit): last seq and its hash.
    audit_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    audit_hash: Mapped[str | None] = mapped_column(String(64))
    # When retention purged its files and personal data (sportello.retention); the record stays.
    purged_at: Mapped[datetime | None]
    # The `version` an expiry notice was sent for (scheduling.expiry): one notice per wait.
    expiry_notice_for: Mapped[int | None] = mapped_column(Integer)
    # The node verifying it and until when (sportello.verify): past that, another node takes it over.
    verify_owner: Mapped[str | None] = mapped_column(String(120))
    verify_until: Mapped[datetime | None]

    messages: Mapped[list["Message"]] = relationship(back_populates="request", order_by="Message.id")
    documents: Mapped[list["Document"]] = relationship(
        back_populates="request", order_by="Document.id", cascade="all, delete-orphan"
    )
    findings: Mapped[list["Finding"]] = relationship(
        back_populates="request", order_by="Finding.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["Event"]] = relationship(back_populates="request", order_by="Event.id")
    bookings: Mapped[list["Booking"]] = relationship(back_populates="request", order_by="Booking.id")
    identifications: Mapped[list["Identification"]] = relationship(order_by="Identification.id")


class Message(Base):
    """One stored e-mail, incoming or outgoing. The raw bytes live in the blob store."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("mailbox_key", "uidvalidity", "uid", name="uq_message_mailbox_uid"),
        Index("ix_messages_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    # Header Message-ID, or one generated from the content (stable across re-ingestion).
    message_id: Mapped[str] = mapped_column(String(998))
    # Message-ID plus SHA-256 of the body: the same mail reaching two mailboxes
    # (or ingested twice) has the same key; two mails that share a broken
    # Message-ID but differ in content do not.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    province: Mapped[str] = mapped_column(String(2))
    mailbox_key: Mapped[str | None] = mapped_column(String(300))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    sender: Mapped[str | None] = mapped_column(String(998))
    subject: Mapped[str | None] = mapped_column(Text)
    in_reply_to: Mapped[str | None] = mapped_column(Text)
    references: Mapped[str | None] = mapped_column(Text)
    date_header: Mapped[str | None] = mapped_column(String(200))
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Intake outcome: "ok", or "failed" with the reason shown to operators.
    intake_status: Mapped[str] = mapped_column(String(10), default="ok")
    intake_error: Mapped[str | None] = mapped_column(Text)
    # How intake read it, for the clerk: [{"text": note, "loss": whether content was not read}].
    # Any loss sends the request to needs_review (verification.verdict).
    intake_notes: Mapped[list | None] = mapped_column(JSON)
    # Server-side follow-up (move to processed/failed folder): "pending" | "done" | "none".
    server_action: Mapped[str] = mapped_column(String(10), default="none")
    server_target: Mapped[str | None] = mapped_column(String(200))

    request: Mapped[Request] = relationship(back_populates="messages")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="message", order_by="Attachment.id", cascade="all, delete-orphan"
    )


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Where it came from inside the message (e.g. "2/1" for a part of a forwarded mail, "zip:scan.jpg").
    origin: Mapped[str] = mapped_column(String(500), default="")
    # "ok" or "rejected" (reason kept: unsafe, oversized, unsupported).
    status: Mapped[str] = mapped_column(String(10), default="ok")
    reject_reason: Mapped[str | None] = mapped_column(Text)
    # For an attachment that arrived in a .p7m / S/MIME envelope: the signer's certificate (DER).
    signer_certificate: Mapped[bytes | None] = mapped_column(LargeBinary)

    message: Mapped[Message] = relationship(back_populates="attachments")


class Document(Base):
    """A document found in a request's attachments, filling one slot."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    slot: Mapped[str] = mapped_column(String(30))
    doc_type: Mapped[str] = mapped_column(String(20))
    number: Mapped[str | None] = mapped_column(String(40))
    expiry: Mapped[date | None] = mapped_column(Date)
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    page: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[list | None] = mapped_column(JSON)

    request: Mapped[Request] = relationship(back_populates="documents")
    attachment: Mapped[Attachment | None] = relationship()


class Finding(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)

    request: Mapped[Request] = relationship(back_populates="findings")


class Event(Base):
    """Append-only log: who did what, when. Never updated, never deleted."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    # The hash chain (db.audit): place in the request's chain (or the global one), the
    # previous event's hash, and this event's hash over prev_hash and its content.
    seq: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    request: Mapped[Request | None] = relationship(back_populates="events")


class AuditHead(Base):
    """The head of the hash chain of the events of no request ("global": logins, accounts)."""

    __tablename__ = "audit_heads"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class Booking(Base):
    """The identification call of one request: one office desk, one slot.

    Uniqueness is the database's: `active_request_id` and `active_start` are
    set only while the booking is active (NULLs never collide), so there is
    one active booking per request and one per (office, desk, start).
    A reschedule changes this row (same `uid`, `sequence` + 1); a cancel or a
    no-show ends it and frees both keys.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("province", "desk", "active_start", name="uq_booking_slot"),
        UniqueConstraint("active_request_id", name="uq_booking_active_request"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    province: Mapped[str] = mapped_column(String(2), ForeignKey("offices.province"))
    desk: Mapped[int] = mapped_column(Integer)
    # Always stored in UTC (SQLite keeps no offset).
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | cancelled | no_show | done
    active_request_id: Mapped[int | None] = mapped_column(Integer)
    active_start: Mapped[datetime | None]
    operator: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    reschedules: Mapped[int] = mapped_column(Integer, default=0)
    # iCalendar: one UID per booking, SEQUENCE raised on every change.
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Reminders: the `sequence` each was sent for (NULL: not yet). Claimed by
    # compare-and-swap in the transaction that queues the mail: sent exactly once
    # per booking version, across restarts and several `sportello run`.
    reminder_24h_for: Mapped[int | None] = mapped_column(Integer)
    reminder_1h_for: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    request: Mapped[Request] = relationship(back_populates="bookings")


class OutgoingMail(Base):
    """Outbox: a mail we decided to send, sent only after the commit that decided it."""

    __tablename__ = "outgoing_mails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # While 'sending': the node that claimed it and when (a dead node's claim is taken back).
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None]


class User(Base):
    """A back-office account. Passwords are argon2 hashes; provinces limit what one sees."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(12))  # operator | supervisor | admin
    provinces: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on disable / password reset: sessions carrying an older value stop working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identification(Base):
    """One identification call of a request (calls/): what the operator saw and decided.

    Bands and yes/no results only: no face distance, frame, encoding, one-time
    code nor PIN/PUK is ever stored here. `released_at` is set once, by a
    compare-and-swap, by the release of the codes (calls.release).
    """

    __tablename__ = "identifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    province: Mapped[str] = mapped_column(String(2))
    operator: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    face_band: Mapped[str | None] = mapped_column(String(20))  # corrisponde | dubbio | non corrisponde
    liveness_passed: Mapped[bool | None]
    channel_verified: Mapped[bool | None]
    channel_masked: Mapped[str | None] = mapped_column(String(80))  # e.g. "+39 333 *** **67"
    outcome: Mapped[str | None] = mapped_column(String(20))  # identified | needs_review | rejected
    reason: Mapped[str | None] = mapped_column(Text)
    supervisor: Mapped[str | None] = mapped_column(String(80))
    supervisor_confirmed_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(80))

"""Outgoing mail: composed from the Italian templates in config/templates,
queued as OutgoingMail rows in the same transaction as the decision, and
delivered after the commit by `deliver_pending` (retried until it works).
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
import uuid
from datetime import timedelta, timezone
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email import message_from_bytes
from email.message import EmailMessage
from email import policy as email_policy
from email.policy import SMTP
from email.parser import BytesHeaderParser
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config.settings import SmtpSettings
from db import lifecycle
from db.models import OutgoingMail, Request, as_utc, utcnow
from db.session import Database
from intake.sync import owner_is_dead, poller_id
from intake.threading import marker_line

log = logging.getLogger(__name__)

# Our own loop header: a mail carrying it is never answered (intake.autoreply).
LOOP_HEADER = "X-Sportello-Loop"
MAX_ATTEMPTS = 8
NODE = poller_id()  # this process, as the claimer of the mails it sends
# A mail left 'sending' this long (a node died between claim and commit) is queued again.
SENDING_TIME = timedelta(minutes=10)
# Replies to one address within a day, beyond which we stay silent (mail loops, abuse).
MAX_REPLIES_PER_DAY = 6
# References kept in a reply: the thread's first id and the latest ones (RFC 5322 3.6.4
# allows trimming; clients thread on the first and the last).
MAX_REFERENCES = 10
_MSG_ID_RE = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>")  # printable ASCII, no <, >, space


class MessageIdsHeader(UnstructuredHeader):
    """In-Reply-To / References: msg-ids, never RFC 2047-encoded, folded between ids.

    policy.default treats these as unstructured text and encodes any id
    longer than a line (an 84-character Outlook id) as =?utf-8?q?…?=, which
    no mail client threads on (RFC 5322 3.6.4: msg-id is not text).
    """

    def fold(self, *, policy) -> str:
        lines, line = [], f"{self.name}:"
        for mid in str(self).split():
            if len(line) + 1 + len(mid) > policy.max_line_length and line != f"{self.name}:":
                lines.append(line)
                line = ""
            line += " " + mid  # a continuation line starts with the space (RFC 5322 2.2.3)
        lines.append(line)
        return policy.linesep.join(lines) + policy.linesep


_registry = HeaderRegistry()
_registry.map_to_type("in-reply-to", MessageIdsHeader)
_registry.map_to_type("references", MessageIdsHeader)
# The policies our mails are built and serialised with: SMTP (CRLF line ends) and the
# default one (LF), both with msg-id headers that are never encoded.
SMTP_POLICY = SMTP.clone(header_factory=_registry)
MAIL_POLICY = email_policy.default.clone(header_factory=_registry)

_env = Environment(
    loader=PackageLoader("config", "templates"),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,  # plain-text mail
)


def render(kind: str, **context) -> tuple[str, str]:
    """(subject, body) of template `kind`; its first line is `Subject: …`."""
    return _subject_and_body(kind, _env.get_template(f"{kind}.txt.j2").render(
        marker=marker_line(context["reference"]), **context))


def _subject_and_body(kind: str, text: str) -> tuple[str, str]:
    first, _, body = text.partition("\n")
    if not first.startswith("Subject: "):
        raise ValueError(f"template {kind} must start with a Subject: line")
    return first.removeprefix("Subject: ").strip(), body


def _new_mail(sender: str, recipient: str, subject: str) -> EmailMessage:
    """Our mail's envelope headers: From, To, Subject, Date and a fresh Message-ID."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:8], domain="sportello.invalid")
    return msg


def compose(kind: str, *, sender: str, recipient: str, reference: str, in_reply_to: str | None = None,
            references: list[str] | None = None, **context) -> EmailMessage:
    subject, body = render(kind, reference=reference, **context)
    msg = _new_mail(sender, recipient, subject)
    parent = msg_ids([in_reply_to] if in_reply_to else [])
    if parent:
        msg["In-Reply-To"] = parent[0]
        msg["References"] = " ".join(thread_references([*(references or []), parent[0]]))
    # RFC 3834: an automatic reply, which other robots must not answer.
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = reference
    msg.set_content(body)
    return msg


def msg_ids(values: list[str]) -> list[str]:
    """The well-formed <id>s in `values`, in order, once each (others cannot go in a header as they are)."""
    found: dict[str, None] = {}
    for value in values:
        for mid in _MSG_ID_RE.findall(value or ""):
            found.setdefault(mid, None)
    return list(found)


def thread_references(ids: list[str]) -> list[str]:
    ids = msg_ids(ids)
    return ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1) :]]


def replies_today(s: Session, recipient: str) -> int:
    since = utcnow() - timedelta(days=1)
    return s.scalar(
        select(func.count()).select_from(OutgoingMail).where(
            OutgoingMail.recipient == recipient, OutgoingMail.created_at >= since
        )
    )


_REFERENCE_RE = re.compile(r"SR-[A-Z]{2}-\d{4}-\d{6}")


def _gist(kind: str, text: str) -> str:
    """What an automatic answer says, whatever request it is about."""
    return kind + "\0" + " ".join(_REFERENCE_RE.sub("SR-…", text).split())


def repeats_today(s: Session, recipient: str, kind: str, msg: EmailMessage) -> bool:
    """Whether this address had the same automatic answer (same kind, same words) within a day.

    RFC 3834 section 2: a responder answers one address at most once in a
    period for the same thing. A robot we do not recognise, answering each of
    our mails (each in a request of its own), would get the same answer with
    another reference: that one is not sent, and no loop can form.
    """
    gist = _gist(kind, msg.get_content())
    since = utcnow() - timedelta(days=1)
    for raw in s.scalars(select(OutgoingMail.raw).where(OutgoingMail.recipient == recipient, OutgoingMail.kind == kind,
                                                        OutgoingMail.created_at >= since)):
        try:
            sent = message_from_bytes(raw, policy=SMTP_POLICY).get_content()
        except Exception:  # noqa: BLE001 - an unreadable old row never blocks a new answer
            continue
        if _gist(kind, sent) == gist:
            return True
    return False


def queue(s: Session, request: Request, kind: str, msg: EmailMessage, actor: str, *,
          rate_limited: bool = True) -> OutgoingMail | None:
    """Queue a mail in the caller's transaction, unless it repeats one or the address hit the limit.

    `rate_limited=False` for mails that answer no incoming message (the call's
    invitation and reminders): they cannot loop, and a reminder must not be lost.
    """
    recipient = msg["To"]
    if rate_limited and replies_today(s, recipient) >= MAX_REPLIES_PER_DAY:
        lifecycle.record(s, request, "mail_suppressed", actor, {"kind": kind, "reason": "reply rate limit"})
        return None
    if rate_limited and repeats_today(s, recipient, kind, msg):
        lifecycle.record(s, request, "mail_suppressed", actor, {"kind": kind, "reason": "same answer sent within a day"})
        return None
    if request.id is None:
        s.flush()
    row = OutgoingMail(request_id=request.id, kind=kind, recipient=recipient, message_id=msg["Message-ID"],
                       raw=msg.as_bytes(policy=SMTP_POLICY), status="pending")
    s.add(row)
    lifecycle.record(s, request, "mail_queued", actor, {"kind": kind, "message": msg["Message-ID"]})
    return row


def compose_notice(kind: str, *, sender: str, recipient: str, **context) -> EmailMessage:
    """A mail to the administrators about the service itself (no request, no reference)."""
    subject, body = _subject_and_body(kind, _env.get_template(f"{kind}.txt.j2").render(**context))
    msg = _new_mail(sender, recipient, subject)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834
    msg.set_content(body)
    return msg


def queue_notice(s: Session, kind: str, msg: EmailMessage) -> OutgoingMail:
    """Queue an administrators' mail in the caller's transaction (no request: no event, no rate limit)."""
    row = OutgoingMail(request_id=None, kind=kind, recipient=msg["To"], message_id=msg["Message-ID"],
                       raw=msg.as_bytes(policy=SMTP_POLICY), status="pending")
    s.add(row)
    return row


class MailSender(Protocol):
    def send(self, raw: bytes, recipient: str) -> None: ...


class OutboxFolder:
    """The embedded default: mails are written as .eml files instead of sent."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, raw: bytes, recipient: str) -> None:
        """One file per mail, named by its Date and Message-ID: a mail sent again after a crash
        (at-least-once) replaces its own file instead of making a second one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        headers = BytesHeaderParser(policy=email_policy.default).parsebytes(raw)
        try:
            when = parsedate_to_datetime(str(headers["Date"])).astimezone(timezone.utc)
        except (TypeError, ValueError):
            when = utcnow()
        ident = str(headers["Message-ID"] or "") or uuid.uuid4().hex
        name = f"{when:%Y%m%dT%H%M%S}-{hashlib.sha256(ident.encode()).hexdigest()[:12]}.eml"
        tmp = self.folder / f".{name}"
        tmp.write_bytes(raw)
        tmp.rename(self.folder / name)


class SmtpSender:
    def __init__(self, settings: SmtpSettings, timeout: float = 30, ssl_context: ssl.SSLContext | None = None):
        self.settings = settings
        self.timeout = timeout
        self.ssl_context = ssl_context

    def send(self, raw: bytes, recipient: str) -> None:
        st = self.settings
        ctx = self.ssl_context or ssl.create_default_context()
        if st.security == "ssl":
            smtp = smtplib.SMTP_SSL(st.host, st.port, timeout=self.timeout, context=ctx)
        else:
            smtp = smtplib.SMTP(st.host, st.port, timeout=self.timeout)
        with smtp:
            if st.security == "starttls":
                smtp.starttls(context=ctx)
            if st.username:
                smtp.login(st.username, st.password() or "")
            # SMTP wants CRLF line ends; smtplib sends bytes as they are, and
            # servers refuse bare LF (RFC 5321 2.3.8, SMTP smuggling defences).
            smtp.sendmail(st.sender, [recipient], re.sub(rb"(?<!\r)\n", b"\r\n", raw))


def requeue_interrupted(db: Database) -> int:
    """Mails left 'sending' by a node that died go back to the queue: at service start and
    periodically. A claim is taken back when its node was a process of this host that is gone,
    or after SENDING_TIME (a node elsewhere); a live node's sending is left alone.

    At-least-once: a crash after the SMTP server accepted the mail but before
    the commit sends it again, which beats losing it.
    """
    cutoff = utcnow() - SENDING_TIME
    with db.session() as s:
        rows = s.execute(select(OutgoingMail.id, OutgoingMail.claimed_by, OutgoingMail.claimed_at)
                         .where(OutgoingMail.status == "sending")).all()
        back = [i for i, by, at in rows
                if by is None or at is None or as_utc(at) < cutoff or (by != NODE and owner_is_dead(by))]
        if not back:
            return 0
        return s.execute(update(OutgoingMail).where(OutgoingMail.id.in_(back), OutgoingMail.status == "sending")
                         .values(status="pending", claimed_by=None, claimed_at=None)).rowcount


def deliver_pending(db: Database, sender: MailSender, limit: int = 100) -> tuple[int, int]:
    """Send queued mails; each row is claimed with a compare-and-swap first.

    Returns (sent, failed attempts). A failed attempt leaves the row pending
    until MAX_ATTEMPTS, then marks it failed for an operator to see.
    """
    sent = failed = 0
    with db.session() as s:
        ids = s.scalars(select(OutgoingMail.id).where(OutgoingMail.status == "pending")
                        .order_by(OutgoingMail.id).limit(limit)).all()
    for mail_id in ids:
        with db.session() as s:
            claimed = s.execute(update(OutgoingMail).where(OutgoingMail.id == mail_id, OutgoingMail.status == "pending")
                                .values(status="sending", claimed_by=NODE, claimed_at=utcnow())).rowcount == 1
        if not claimed:
            continue
        with db.session() as s:
            row = s.get(OutgoingMail, mail_id)
            try:
                sender.send(row.raw, row.recipient)
            except Exception as exc:  # noqa: BLE001 - any failure is retried later
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
                failed += 1
                log.warning("outgoing mail %s not sent (attempt %s): %s", mail_id, row.attempts, row.last_error)
                continue
            row.attempts += 1
            row.status = "sent"
            row.sent_at = utcnow()
            if row.request_id:
                req = s.get(Request, row.request_id)
                lifecycle.record(s, req, "mail_sent", "outbox", {"kind": row.kind, "message": row.message_id})
            sent += 1
    return sent, failed

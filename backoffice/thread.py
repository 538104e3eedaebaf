"""The e-mail thread of a request: what the citizen wrote and what we sent.

Bodies are read from the stored raw messages and shown as plain text; an
HTML-only mail is reduced to its text (tags dropped, never rendered).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesParser
from html.parser import HTMLParser

from backoffice.labels import intake_note_label
from db.blobs import BlobStore
from db.models import Attachment, Message, OutgoingMail, as_utc

MAX_BODY = 20_000


class _TextOf(HTMLParser):
    BREAKS = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    p = _TextOf()
    p.feed(html)
    p.close()
    lines = [" ".join(line.split()) for line in "".join(p.parts).splitlines()]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def body_text(raw: bytes) -> str:
    """The readable text of a raw RFC 5322 message ('' if it has none)."""
    try:
        # A leading UTF-8 BOM (an .eml saved by a Windows tool) would hide the first header.
        msg = BytesParser(policy=policy.default).parsebytes(raw.removeprefix(b"\xef\xbb\xbf"))
        part = msg.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        try:
            text = part.get_content()
        except (LookupError, UnicodeError, AttributeError):
            payload = part.get_payload(decode=True) or b""
            text = payload.decode("utf-8", "replace")
        if not isinstance(text, str):
            return ""
        if part.get_content_type() == "text/html":
            text = html_to_text(text)
    except Exception:  # noqa: BLE001 - a malformed mail is shown without body, never breaks the page
        return ""
    text = text.replace("\r\n", "\n").strip()
    return text[:MAX_BODY] + ("\n[…]" if len(text) > MAX_BODY else "")


@dataclass
class ThreadItem:
    direction: str                 # "in" | "out"
    at: datetime
    sender: str | None
    recipient: str | None
    subject: str | None
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    state: str | None = None       # outgoing: pending | sending | sent | failed
    intake_status: str = "ok"
    intake_error: str | None = None
    kind: str | None = None
    notes: list[IntakeNote] = field(default_factory=list)
    lost: bool = False  # part of it was not read: the request went to review


@dataclass(frozen=True)
class IntakeNote:
    label: str  # Italian, for the clerk
    text: str  # intake's own note
    loss: bool


def intake_notes(message: Message) -> list[IntakeNote]:
    return [IntakeNote(intake_note_label(str(n.get("text", ""))), str(n.get("text", "")), bool(n.get("loss")))
            for n in (message.intake_notes or []) if isinstance(n, dict)]


def thread(blobs: BlobStore, messages: list[Message], outgoing: list[OutgoingMail]) -> list[ThreadItem]:
    items: list[ThreadItem] = []
    for m in messages:
        try:
            body = body_text(blobs.get(m.sha256))
        except OSError:
            body = ""
        notes = intake_notes(m)
        items.append(ThreadItem(m.direction, m.stored_at, m.sender, None, m.subject, body, list(m.attachments),
                                intake_status=m.intake_status, intake_error=m.intake_error, notes=notes,
                                lost=any(n.loss for n in notes)))
    for o in outgoing:
        raw = o.raw or b""
        subject = None
        try:
            subject = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)["Subject"]
        except Exception:  # noqa: BLE001
            pass
        items.append(ThreadItem("out", o.created_at, None, o.recipient, subject, body_text(raw), state=o.status,
                                kind=o.kind))
    items.sort(key=lambda i: as_utc(i.at))
    return items

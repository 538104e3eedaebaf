"""The typed result of reading one raw e-mail: ParsedMessage → ExtractedAttachment.

Defined apart from `intake.mime` so the unpacking modules can build them
without importing the parser; `intake.mime` re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

MIB = 1024 * 1024


class NotAnEmail(ValueError):
    """The bytes are plainly not an RFC 5322 message (a PDF, a photo, garbage, nothing)."""


@dataclass(frozen=True)
class Limits:
    """How much one message may make us read, unpack and decode (config.settings.LimitSettings)."""

    max_message_bytes: int = 25 * MIB
    max_attachments: int = 30
    max_unpacked_bytes: int = 60 * MIB
    max_zip_ratio: int = 100
    max_zip_depth: int = 2
    max_image_pixels: int = 60_000_000
    max_pdf_pages: int = 20


@dataclass(frozen=True)
class ExtractedAttachment:
    """One file found in a message, ready for verification unless `rejected` says why not.

    content_type is sniffed from `data`. Accepted files are always PDF, JPEG or
    PNG (HEIC becomes JPEG, TIFF pages and other images become PNG). A rejected
    file keeps its bytes when we had them, or b"" when it was never unpacked
    (an archive member over the limits).
    """

    filename: str
    content_type: str
    data: bytes = field(repr=False)
    origin: str
    rejected: str | None = None
    signer_certificate: bytes | None = field(default=None, repr=False)  # DER
    signed: bool = False
    page_count: int | None = None

    @property
    def accepted(self) -> bool:
        return self.rejected is None


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str | None
    sender: str | None  # address only, lower-cased
    sender_name: str | None
    subject: str
    date: datetime | None
    in_reply_to: str | None
    references: list[str]
    to: list[str]
    text_body: str = field(repr=False)  # the citizen's words: kept out of logs and tracebacks
    attachments: list[ExtractedAttachment]
    defects: list[str]  # every note on how the message was read, for the clerk
    # Top-level headers by lower-cased name, decoded, in message order: what
    # intake.autoreply needs (Auto-Submitted, Precedence, List-Id, Return-Path …).
    headers: dict[str, list[str]] = field(default_factory=dict, repr=False)
    content_type: str = "text/plain"  # top-level, e.g. multipart/report
    report_type: str | None = None  # its report-type parameter (delivery-status for a DSN)
    # The defects that cost content (a part or file not read, a limit reached): the
    # request must go to an operator, not be answered as if we had read it all.
    losses: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """The first value of header `name`, or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

"""One raw e-mail (bytes) → ParsedMessage with typed, checked attachments.

Pure functions: no IMAP, no database, no network. The only exception that
leaves parse_message is NotAnEmail, for bytes that are plainly not a mail;
everything else that is wrong with a message becomes a defect or a
rejected attachment, so a mailbox never stalls on one bad message.

Where the work happens:
  headers.py    header values decoded (policy.default's header classes,
                compat32 decoding as the fallback), never raising
  extract.py    the MIME walk: parts, bodies, forwarded mails, S/MIME, PEC
  unpack.py     files and containers within the message's budgets
  sniff.py      what a file really is
  documents.py  images and PDFs checked and normalised
  archives.py, tnef.py, cms.py   zip, winmail.dat, .p7m
"""

from __future__ import annotations

import hashlib
import logging
import re
from email import policy
from email.message import Message

from intake import headers, sniff
from intake.extract import Context, Extractor, parse_structure
from intake.model import ExtractedAttachment, Limits, NotAnEmail, ParsedMessage

__all__ = [
    "ExtractedAttachment",
    "Limits",
    "NotAnEmail",
    "ParsedMessage",
    "body_sha256",
    "generated_message_id",
    "parse_message",
    "strip_bom",
]

log = logging.getLogger(__name__)

_HEADER_END_RE = re.compile(rb"\r?\n\r?\n")
UTF8_BOM = b"\xef\xbb\xbf"  # some Windows tools save an .eml as "UTF-8 with BOM"
_MBOX_FROM_RE = re.compile(rb"^From [^\r\n]*\r?\n")


def parse_message(raw: bytes, limits: Limits | None = None) -> ParsedMessage:
    """Read a raw RFC 5322 message; raises NotAnEmail only for input that is not a mail at all."""
    limits = limits or Limits()
    raw = strip_bom(raw)
    _require_email(raw)
    defects: list[str] = []
    if len(raw) > limits.max_message_bytes:
        # Headers only: enough to thread and quarantine it, nothing decoded.
        msg = parse_structure(_header_block(raw))
        defects.append(f"message too large ({len(raw)} bytes, limit {limits.max_message_bytes})")
        return _parsed(msg, Extractor(limits), defects, losses=defects[-1:])
    try:
        msg = parse_structure(raw)
    except Exception as exc:  # noqa: BLE001 - e.g. RecursionError on absurd multipart nesting
        log.debug("message structure not parseable", exc_info=True)
        msg = parse_structure(_header_block(raw))
        defects.append(f"mime: structure unreadable, headers only ({type(exc).__name__})")
        return _parsed(msg, Extractor(limits), defects, losses=defects[-1:])
    extractor = Extractor(limits)
    try:
        extractor.message(msg, "", Context(pec=_is_pec(msg)))
    except Exception as exc:  # noqa: BLE001 - a bug or an input we did not foresee: keep what we have
        log.warning("attachment extraction stopped early: %s", type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
        defects.append(f"mime: extraction stopped ({type(exc).__name__})")
    losses = list(defects)  # only losses so far: the two above
    extractor.finish()
    defects.extend(extractor.defects)
    defects.extend(_parser_defects(msg))
    return _parsed(msg, extractor, defects, losses=losses + extractor.losses)


def strip_bom(raw: bytes) -> bytes:
    """The message without a leading UTF-8 byte order mark (it hides the first header)."""
    return raw[len(UTF8_BOM) :] if isinstance(raw, (bytes, bytearray)) and raw.startswith(UTF8_BOM) else raw


def generated_message_id(raw: bytes) -> str:
    """The id of a message that has none: the same bytes always give the same id."""
    return f"<{hashlib.sha256(raw).hexdigest()}@sportello.invalid>"


def body_sha256(raw: bytes) -> str:
    """SHA-256 of everything after the header block, line endings normalised to LF.

    The same mail delivered to two mailboxes differs only in its trace
    headers; fetched over IMAP (CRLF) or read from a Maildir (LF) it differs
    in line endings too.
    """
    match = _HEADER_END_RE.search(raw)
    body = raw[match.end() :] if match else b""
    return hashlib.sha256(body.replace(b"\r\n", b"\n")).hexdigest()


# ---- internals ------------------------------------------------------------------


def _require_email(raw: bytes) -> None:
    if not isinstance(raw, (bytes, bytearray)):
        raise NotAnEmail("input is not bytes")
    if not raw.strip():
        raise NotAnEmail("empty input")
    body = _MBOX_FROM_RE.sub(b"", raw[:16384], count=1)  # an mbox "From " line is fine
    if not sniff.looks_like_email(body):
        kind = sniff.sniff(raw[:4096])
        detail = f"looks like {kind}" if kind not in (sniff.UNKNOWN, sniff.TEXT) else "no RFC 5322 header block"
        raise NotAnEmail(detail)


def _header_block(raw: bytes) -> bytes:
    match = _HEADER_END_RE.search(raw)
    return raw[: match.end()] if match else raw[:65536]


def _is_pec(msg: Message) -> bool:
    """A PEC (posta elettronica certificata) envelope: the provider wraps and signs the citizen's mail."""
    return bool(headers.first_raw(msg, "x-trasporto") or headers.first_raw(msg, "x-ricevuta"))


def _parsed(msg: Message, extractor: Extractor, defects: list[str], losses: list[str]) -> ParsedMessage:
    sender_name, sender = _sender(msg)
    content_type, report_type = _top_content_type(msg)
    references: list[str] = []
    for value in headers.raw_values(msg, "references"):
        references += [m for m in headers.message_ids(value) if m not in references]
    in_reply_to = headers.message_ids(headers.first_raw(msg, "in-reply-to"))
    return ParsedMessage(
        message_id=headers.single_message_id(headers.first_raw(msg, "message-id")),
        sender=sender,
        sender_name=sender_name,
        subject=headers.unstructured(headers.first_raw(msg, "subject")),
        date=headers.date(headers.first_raw(msg, "date")),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=references,
        to=[addr for value in headers.raw_values(msg, "to") for _, addr in headers.addresses(value)],
        text_body=extractor.text_body(),
        attachments=list(extractor.attachments),
        defects=list(dict.fromkeys(defects)),
        losses=list(dict.fromkeys(losses)),
        headers=headers.header_map(msg),
        content_type=content_type,
        report_type=report_type,
    )


def _sender(msg: Message) -> tuple[str | None, str | None]:
    names = ("reply-to", "from", "sender") if _is_pec(msg) else ("from", "sender")
    # PEC: From is the provider ("Per conto di: …"); Reply-To is the citizen's address.
    for name in names:
        pairs = headers.addresses(headers.first_raw(msg, name))
        if pairs:
            display, address = pairs[0]
            return display or None, address
    return None, None


def _top_content_type(msg: Message) -> tuple[str, str | None]:
    raw = headers.first_raw(msg, "content-type")
    if raw is None:
        return "text/plain", None
    try:
        parsed = policy.default.header_factory("content-type", headers.recover_8bit(raw)[:4096])
        report_type = parsed.params.get("report-type")
        return parsed.content_type, report_type.lower() if report_type else None
    except Exception:  # noqa: BLE001
        match = re.match(r"\s*([\w.+-]+/[\w.+-]+)", raw)
        return (match.group(1).lower() if match else "text/plain"), None


def _parser_defects(msg: Message) -> list[str]:
    """The stdlib parser's complaints, by kind (e.g. 'mime: StartBoundaryNotFoundDefect')."""
    kinds: dict[str, None] = {}
    todo, seen = [msg], 0
    while todo and seen < 1000:
        part = todo.pop()
        seen += 1
        for defect in getattr(part, "defects", []):
            kinds.setdefault(f"mime: {type(defect).__name__}", None)
        try:
            payload = part.get_payload()
        except Exception:  # noqa: BLE001 - e.g. ValueError on a NUL in the charset (found by tests/intake/test_fuzz.py)
            continue
        if isinstance(payload, list):
            todo.extend(p for p in payload if isinstance(p, Message))
    return list(kinds)

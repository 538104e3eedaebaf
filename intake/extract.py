"""The MIME side of extraction: parts, bodies, forwarded mails, S/MIME and PEC envelopes.

Extractor walks a parsed message and hands every file to intake.unpack
(containers, documents, budgets). Nothing here raises on bad input: a part
that cannot be read becomes a defect and the walk goes on with the next one.
"""

from __future__ import annotations

import base64
import logging
import quopri
import re
from dataclasses import dataclass, field, replace
from email import policy
from email.message import Message
from email.parser import BytesParser

from intake import cms, documents, headers, sniff
from intake.filenames import clean_filename
from intake.text import cid_references, html_to_text, part_text
from intake.unpack import MAX_NESTING, Context, Unpacker

log = logging.getLogger(__name__)

MAX_MIME_DEPTH = 30  # multipart in multipart
LOGO_MAX_BYTES = 2048
LOGO_MIN_SIDE = 64
TRACKING_PIXEL_SIDE = 2
MAX_BODY_CHARS = 200_000
MAX_REPAIRS = 5  # broken-boundary repairs per message

_MESSAGE_TYPES = {"message/rfc822", "message/global"}
_SIGNATURE_TYPES = {"application/pkcs7-signature", "application/x-pkcs7-signature"}
_SMIME_TYPES = {"application/pkcs7-mime", "application/x-pkcs7-mime"}
# Parts that belong to the mail's machinery, not to the citizen's documents.
_SKIPPED_TYPES = _SIGNATURE_TYPES | {
    "message/delivery-status",
    "message/disposition-notification",
    "message/feedback-report",
    "text/rfc822-headers",
    "application/pgp-signature",
    "application/pgp-keys",
}
# Exchange and Apple Mail split a body around inline images into ATT00001.htm / .txt.
_BODY_FRAGMENT_RE = re.compile(r"^ATT\d{3,}\.(?:txt|htm|html)$", re.I)
# The PEC provider's envelope: the certificate data and its transport signature.
_PEC_ENVELOPE_FILES = {"daticert.xml", "smime.p7s"}


@dataclass
class Extractor(Unpacker):
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    repairs: int = 0

    # ---- results -------------------------------------------------------------

    def text_body(self) -> str:
        text = "\n\n".join(t.strip() for t in self.plain if t.strip())
        if not text:
            text = "\n\n".join(html_to_text(h) for h in self.html)
        if not text.strip():
            text = "\n\n".join(t.strip() for t in self.fallback_text)
        return text[:MAX_BODY_CHARS]

    def finish(self) -> None:
        if self.dropped:
            self.loss(f"too many attachments: {self.dropped} not kept (limit {self.limits.max_attachments})")

    # ---- MIME ---------------------------------------------------------------------

    def message(self, msg: Message, prefix: str, ctx: Context) -> None:
        """Walk one message (the top one, a forwarded one, an S/MIME content)."""
        try:
            cids = frozenset(_html_cids(msg))
        except Exception:  # noqa: BLE001 - then no image counts as a logo
            cids = frozenset()
        ctx = replace(ctx, cids=cids)
        if _is_multipart(msg):
            self.multipart(msg, prefix, ctx, mime_depth=0)
        else:
            self.single(msg, _join(prefix, "1"), ctx)

    def multipart(self, part: Message, origin: str, ctx: Context, mime_depth: int) -> None:
        if mime_depth >= MAX_MIME_DEPTH:
            self.loss(f"part {origin or '0'}: multipart nesting too deep")
            return
        children = part.get_payload()
        if _content_type(part) == "multipart/signed" and len(children) >= 1:
            ctx = self._signature_context(children[1] if len(children) > 1 else None, origin, ctx)
            children = children[:1]
        for index, child in enumerate(children, 1):
            child_origin = _join(origin, str(index))
            if self.full and not _is_multipart(child) and not self.worth_a_look(_encoded_size(child), _declares_pdf(child)):
                self.dropped += 1  # no room left and no better than what we kept: not worth decoding
                continue
            try:
                if _is_multipart(child):
                    self.multipart(child, child_origin, ctx, mime_depth + 1)
                else:
                    self.single(child, child_origin, ctx)
            except Exception as exc:  # noqa: BLE001 - one bad part must not cost the others
                log.debug("part %s not readable", child_origin, exc_info=True)
                self.loss(f"part {child_origin}: unreadable ({type(exc).__name__})")

    def _signature_context(self, signature: Message | None, origin: str, ctx: Context) -> Context:
        """multipart/signed: the content counts as signed by the certificate in the signature part."""
        try:
            if ctx.pec or signature is None or _content_type(signature) not in _SIGNATURE_TYPES:
                return ctx  # PEC transport signature, PGP, or no signature at all
            der = sniff.pkcs7_der(_payload(signature))
            certificate = cms.read_signed_data(der).signer_certificate if der else None
        except Exception:  # noqa: BLE001 - CmsError, or a signature part too broken to decode
            certificate = None
        if certificate is None:
            self.defects.append(f"part {_join(origin, '2')}: unreadable S/MIME signature")
            return ctx
        return replace(ctx, signed=True, signer=certificate)

    def single(self, part: Message, origin: str, ctx: Context) -> None:
        ctype = _content_type(part)
        if ctype in _MESSAGE_TYPES:
            self.forwarded(part, origin, ctx)
            return
        if ctype.startswith("multipart/"):
            self._broken_multipart(part, origin, ctx)
            return
        if ctype in _SKIPPED_TYPES:
            return
        name = clean_filename(headers.param(part, "content-disposition", "filename") or headers.param(part, "content-type", "name"))
        if ctype in ("text/plain", "text/html") and self._body_text(part, ctype, name, ctx):
            return
        if ctx.pec and name.lower() in _PEC_ENVELOPE_FILES:
            return
        data = _payload(part)
        if self._decoration(part, data, ctx):
            return
        self.file(name, data, origin, ctx, declared=ctype, smime=ctype in _SMIME_TYPES)

    def _body_text(self, part: Message, ctype: str, name: str, ctx: Context) -> bool:
        """Collect a body part's text; False if the part is really an attached file."""
        if name and not _BODY_FRAGMENT_RE.match(name):
            return False
        if not name and _disposition(part) == "attachment":
            return False
        if ctx.body:
            (self.plain if ctype == "text/plain" else self.html).append(part_text(part))
        return True

    def _broken_multipart(self, part: Message, origin: str, ctx: Context) -> None:
        """A multipart whose declared boundary never occurs: find the one the mailer really used."""
        raw = _payload(part)
        lines = [b.removesuffix(b"--") for b in re.findall(rb"^--([^\s]{1,70})\r?$", raw, re.M)]
        candidates = [b for b in dict.fromkeys(lines) if b and lines.count(b) >= 2]
        if not candidates or self.repairs >= MAX_REPAIRS:
            if ctx.body and raw.strip():
                self.plain.append(part_text(part))
            self.loss(f"part {origin}: multipart without usable boundary")
            return
        self.repairs += 1
        boundary = candidates[0].decode("ascii", "replace")
        rebuilt = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode() + raw
        self.defects.append(f"part {origin}: boundary repaired")
        self.multipart(parse_structure(rebuilt), origin, ctx, mime_depth=1)

    def forwarded(self, part: Message, origin: str, ctx: Context) -> None:
        """A message/rfc822 part: a forwarded mail or an attached .eml."""
        if ctx.depth >= MAX_NESTING:
            self.emit("", sniff.EML, b"", origin, ctx, rejected="too deeply nested", lost=True)
            return
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        encoding = (headers.first_raw(part, "content-transfer-encoding") or "").strip().lower()
        if inner is not None and encoding not in ("base64", "quoted-printable"):
            self.message(inner, origin, self._inner_message_context(ctx))
            return
        # Not allowed for message/rfc822 (RFC 2046 5.2.1) but some mailers
        # base64 it anyway; the stdlib then parsed the base64 text as a mail.
        text = inner.get_payload() if inner is not None else payload
        data = _decode_transfer(text if isinstance(text, str) else "", encoding)
        self.eml(data, origin, ctx)

    def _inner_message_context(self, ctx: Context) -> Context:
        # In a PEC envelope, postacert.eml is the citizen's own mail: its text is the body.
        return ctx.inner(body=ctx.pec and ctx.depth == 0, pec=False)

    def eml(self, data: bytes, origin: str, ctx: Context) -> None:
        if ctx.depth >= MAX_NESTING:
            self.emit("", sniff.EML, data, origin, ctx, rejected="too deeply nested", lost=True)
            return
        try:
            msg = parse_structure(data)
        except Exception:  # noqa: BLE001
            self.emit("", sniff.EML, data, origin, ctx, rejected="eml: unreadable")
            return
        self.message(msg, origin, self._inner_message_context(ctx))

    def entity(self, data: bytes, origin: str, ctx: Context) -> None:
        try:
            entity = parse_structure(data)
        except Exception:  # noqa: BLE001
            self.emit("", sniff.UNKNOWN, data, origin, ctx, rejected="smime: unreadable content")
            return
        self.message(entity, origin, ctx)

    def _decoration(self, part: Message, data: bytes, ctx: Context) -> bool:
        """A tracking pixel, or a logo the HTML body shows by Content-ID: not a document."""
        if sniff.sniff(data[:64]) not in (sniff.PNG, sniff.GIF, sniff.JPEG, sniff.WEBP, sniff.BMP):
            return False
        size = documents.image_size(data)
        if size and size[0] <= TRACKING_PIXEL_SIDE and size[1] <= TRACKING_PIXEL_SIDE:
            return True
        cid = (headers.first_raw(part, "content-id") or "").strip().strip("<>").strip().lower()
        if not cid or cid not in ctx.cids:
            return False
        return len(data) < LOGO_MAX_BYTES or (size is not None and min(size) < LOGO_MIN_SIDE)


# ---- helpers ---------------------------------------------------------------------


def parse_structure(data: bytes) -> Message:
    """The MIME tree of `data`, parsed with compat32.

    policy.default's parser runs its full header grammar on every structured
    header while it parses (a 100 KB Content-Type takes seconds, 20,000 small
    parts take five), so the tree is parsed with compat32, which is linear and
    never raises on headers; header values are then decoded by intake.headers
    with policy.default's header classes, on bounded input.
    """
    return BytesParser(policy=policy.compat32).parsebytes(bytes(data))


def _join(prefix: str, part: str) -> str:
    return f"{prefix}/{part}" if prefix else part


def _encoded_size(part: Message) -> int:
    """About how many bytes a leaf part decodes to, without decoding it (base64: 3/4)."""
    payload = part.get_payload()
    size = len(payload) if isinstance(payload, (str, bytes)) else 0
    encoding = (headers.first_raw(part, "content-transfer-encoding") or "").strip().lower()
    return size * 3 // 4 if encoding == "base64" else size


def _declares_pdf(part: Message) -> bool:
    name = headers.param(part, "content-disposition", "filename") or headers.param(part, "content-type", "name") or ""
    return _content_type(part) == "application/pdf" or name.lower().endswith(".pdf")


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001 - a Content-Type policy.default cannot parse
        raw = headers.first_raw(part, "content-type") or ""
        match = re.match(r"\s*([\w.+-]+/[\w.+-]+)", headers.recover_8bit(raw))
        return match.group(1).lower() if match else "application/octet-stream"


def _is_multipart(part: Message) -> bool:
    return _content_type(part).startswith("multipart/") and isinstance(part.get_payload(), list)


def _disposition(part: Message) -> str | None:
    raw = headers.first_raw(part, "content-disposition")
    return raw.split(";")[0].strip().lower() if raw else None


def _payload(part: Message) -> bytes:
    """The part's decoded bytes; lenient with bad base64, never None."""
    encoding = (headers.first_raw(part, "content-transfer-encoding") or "").strip().lower()
    payload = part.get_payload()
    if encoding == "base64" and isinstance(payload, str):
        # The stdlib hands back the undecoded text when the base64 is cut
        # short (a truncated mail); decoding what is there is more useful.
        return _decode_transfer(payload, "base64")
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


_NOT_BASE64 = bytes(b for b in range(256) if not (chr(b).isascii() and (chr(b).isalnum() or chr(b) in "+/")))


def _decode_transfer(text: str, encoding: str) -> bytes:
    raw = text.encode("utf-8", "surrogateescape")
    if encoding == "base64":
        clean = raw.translate(None, _NOT_BASE64)  # line breaks, padding, junk: as re.sub, ~20x faster
        clean = clean[: len(clean) - len(clean) % 4] if len(clean) % 4 == 1 else clean
        return base64.b64decode(clean + b"=" * (-len(clean) % 4))
    if encoding == "quoted-printable":
        return quopri.decodestring(raw)
    return raw


def _html_cids(msg: Message) -> set[str]:
    """Content-IDs shown by this message's own HTML parts (not those of forwarded mails)."""
    refs: set[str] = set()
    todo = [msg]
    while todo:
        part = todo.pop()
        ctype = _content_type(part)
        if _is_multipart(part):
            todo.extend(part.get_payload())
        elif ctype == "text/html":
            refs |= cid_references(part_text(part))
    return refs

"""Files and the containers they come in: .p7m, winmail.dat, zip, within the message's budgets.

One Unpacker per message keeps the budgets (attachment count, unpacked
bytes) that every container draws from, so a zip inside a forwarded mail
inside a .p7m is held to the same limits as a plain attachment. A file that
cannot be read becomes a rejected attachment, never an exception.
intake.extract subclasses it with the MIME side (parts, forwarded mails).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace

from intake import cms, documents, sniff
from intake.archives import ArchiveError, ZipReader
from intake.filenames import clean_filename, final_filename, without_suffix
from intake.model import ExtractedAttachment, Limits
from intake.tnef import TnefError, TnefFile, read_tnef

log = logging.getLogger(__name__)

MAX_NESTING = 8  # messages in messages, envelopes in envelopes: deeper than any real mail
# A MIME entity (S/MIME content): header lines, one of them Content-Type.
_MIME_ENTITY_RE = re.compile(rb"^(?:[!-9;-~]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)*?content-type:", re.I)


@dataclass(frozen=True)
class Context:
    """Where the walk is, and what the envelopes around it said."""

    depth: int = 0  # messages and containers entered
    zip_depth: int = 0
    signed: bool = False
    signer: bytes | None = None
    body: bool = True  # text parts here are the citizen's message text
    pec: bool = False  # inside a PEC transport envelope: its signature is the provider's
    cids: frozenset[str] = frozenset()  # Content-IDs the enclosing message's HTML shows

    def inner(self, **changes) -> Context:
        return replace(self, depth=self.depth + 1, **changes)


@dataclass
class Unpacker:
    limits: Limits
    attachments: list[ExtractedAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    fallback_text: list[str] = field(default_factory=list)  # body text found in a winmail.dat
    # The notes of defects that cost content (a file or part not read): the request
    # then goes to an operator, never to a "manca …" letter built on a partial read.
    losses: list[str] = field(default_factory=list)
    unpacked: int = 0
    dropped: int = 0
    contenders: int = 0  # files decoded after the attachment limit was reached, to compete for a place

    # ---- the MIME side, provided by intake.extract.Extractor ------------------------

    def eml(self, data: bytes, origin: str, ctx: Context) -> None:
        """A whole message found inside a file (an attached .eml)."""
        raise NotImplementedError

    def entity(self, data: bytes, origin: str, ctx: Context) -> None:
        """A MIME entity found inside a file (the content of an S/MIME signature)."""
        raise NotImplementedError

    # ---- files and containers ---------------------------------------------------

    def file(self, name: str, data: bytes, origin: str, ctx: Context, declared: str = sniff.UNKNOWN, smime: bool = False) -> None:
        """One file's bytes: unpack it if it is a container, else check it as a document."""
        kind = sniff.sniff(data)
        if kind == sniff.EML and (declared.startswith("message/") or declared == sniff.UNKNOWN or name.lower().endswith(".eml")):
            self.eml(data, origin, ctx)
        elif kind == sniff.TNEF:
            self.tnef(name, data, origin, ctx)
        elif kind == sniff.PKCS7:
            self.pkcs7(name, data, origin, ctx, smime=smime or name.lower() == "smime.p7m")
        elif kind == sniff.ZIP:
            self.zip(name, data, origin, ctx)
        else:
            self.document(name, kind, data, origin, ctx)

    def document(self, name: str, kind: str, data: bytes, origin: str, ctx: Context) -> None:
        docs = documents.normalise(
            name,
            kind,
            data,
            max_pixels=self.limits.max_image_pixels,
            max_pages=self.limits.max_pdf_pages,
            max_output=self.limits.max_unpacked_bytes - self.unpacked,
        )
        for doc in docs:
            body, rejected = doc.data, doc.rejected
            if doc.data and doc.data is not data and not self._charge(len(doc.data)):
                body, rejected = b"", "unpacked size limit reached"
            for note in doc.notes:
                self.defects.append(f"attachment {origin + doc.suffix or '1'} ({clean_filename(doc.filename) or '?'}): {note}")
            self.emit(
                doc.filename,
                doc.content_type,
                body,
                origin + doc.suffix,
                ctx,
                rejected=rejected,
                lost=bool(rejected) and any(r in rejected for r in LIMIT_REASONS),
                page_count=doc.page_count,
                signed=doc.signed,
                signer=doc.signer_certificate,
            )

    def pkcs7(self, name: str, data: bytes, origin: str, ctx: Context, smime: bool) -> None:
        """A .p7m (CAdES) file or an S/MIME opaque-signed part: keep the content and the signer."""
        der = sniff.pkcs7_der(data) or data
        if ctx.depth >= MAX_NESTING:
            self.emit(name, sniff.PKCS7, data, origin, ctx, rejected="too deeply nested", lost=True)
            return
        try:
            envelope = cms.read_signed_data(der)
        except cms.CmsError as exc:
            self.emit(name, sniff.PKCS7, data, origin, ctx, rejected=f"p7m: {exc}")
            return
        if envelope.content is None:
            self.emit(name, sniff.PKCS7, data, origin, ctx, rejected="p7m: signature without content (detached)")
            return
        if not self._charge(len(envelope.content)):
            self.emit(name, sniff.PKCS7, b"", origin, ctx, rejected="unpacked size limit reached", lost=True)
            return
        inner = ctx.inner(signed=True, signer=envelope.signer_certificate or ctx.signer)
        inner_name = without_suffix(name, ".p7m")
        if (smime or inner_name == name) and _MIME_ENTITY_RE.match(envelope.content):
            self.entity(envelope.content, origin, inner)  # S/MIME: the signed content is MIME
            return
        inner_name = inner_name if inner_name != name else ""
        self.file(inner_name, envelope.content, f"{origin}/p7m:{inner_name or 'content'}", inner)

    def tnef(self, name: str, data: bytes, origin: str, ctx: Context) -> None:
        try:
            content = read_tnef(data)
        except TnefError as exc:
            self.emit(name, sniff.TNEF, data, origin, ctx, rejected=f"tnef: {exc}")
            return
        if content.body and ctx.body:
            self.fallback_text.append(content.body)  # Outlook's rich-text mails carry their only text here
        self._tnef_files(content.files, origin, ctx.inner())
        if content.damage:
            # Like every bad container: kept whole, rejected with the reason (what it did yield is kept too).
            self.emit(name, sniff.TNEF, data, origin, ctx, rejected=f"tnef: damaged ({content.damage})", lost=True)

    def _tnef_files(self, files: list[TnefFile], origin: str, ctx: Context) -> None:
        for item in files:
            item_name = clean_filename(item.name)
            item_origin = f"{origin}/tnef:{item_name or '?'}"
            if item.embedded is not None:
                if ctx.depth < MAX_NESTING:
                    self._tnef_files(item.embedded.files, item_origin, ctx.inner(body=False))
                continue
            if not self._charge(len(item.data)):
                self.emit(item_name, sniff.UNKNOWN, b"", item_origin, ctx, rejected="unpacked size limit reached",
                          lost=True)
                continue
            self.file(item_name, item.data, item_origin, ctx)

    def zip(self, name: str, data: bytes, origin: str, ctx: Context) -> None:
        if ctx.zip_depth >= self.limits.max_zip_depth or ctx.depth >= MAX_NESTING:
            self.emit(name, sniff.ZIP, data, origin, ctx, rejected="zip: too many nested archives", lost=True)
            return
        try:
            archive = ZipReader(data)
        except ArchiveError as exc:
            self.emit(name, sniff.ZIP, data, origin, ctx, rejected=str(exc))
            return
        inner = ctx.inner(zip_depth=ctx.zip_depth + 1)
        try:
            for member in archive.members():
                member_origin = f"{origin}/zip:{member.name}"
                if self.full and not self.worth_a_look(member.size, member.name.lower().endswith(".pdf")):
                    self.dropped += 1
                elif member.encrypted:
                    self.emit(member.name, sniff.UNKNOWN, b"", member_origin, ctx, rejected="zip: encrypted member")
                elif member.ratio_exceeds(self.limits.max_zip_ratio):
                    self.emit(member.name, sniff.UNKNOWN, b"", member_origin, ctx, rejected="zip: compression ratio too high",
                              lost=True)
                elif not self._charge(member.size):
                    self.emit(member.name, sniff.UNKNOWN, b"", member_origin, ctx, rejected="unpacked size limit reached",
                              lost=True)
                else:
                    try:
                        content = archive.read(member)
                    except ArchiveError as exc:
                        self.emit(member.name, sniff.UNKNOWN, b"", member_origin, ctx, rejected=str(exc))
                        continue
                    self.file(member.name, content, member_origin, inner)
        finally:
            archive.close()

    # ---- bookkeeping ------------------------------------------------------------

    @property
    def full(self) -> bool:
        return len(self.attachments) >= self.limits.max_attachments

    def loss(self, note: str) -> None:
        """A defect that cost content: noted, and counted as a loss."""
        self.defects.append(note)
        self.losses.append(note)

    def worth_a_look(self, size: int, pdf: bool = False) -> bool:
        """With every place taken: whether a file of about `size` bytes may still win one.

        A phone that attaches 30 small pictures before the real scans must not
        lose the scans, so a file larger than the weakest kept one is decoded
        and competes (emit), and so is a PDF (most likely the form) while a
        kept file is not one; at most max_attachments of them, so a
        20,000-part mail still costs no more than twice the limit.
        """
        if self.contenders >= self.limits.max_attachments:
            return False
        pdf_wins = pdf and any(a.content_type != sniff.PDF for a in self.attachments)
        if not pdf_wins and size <= min((len(a.data) for a in self.attachments), default=0):
            return False
        self.contenders += 1
        return True

    def _charge(self, size: int) -> bool:
        """Draw `size` unpacked bytes from the message's budget; False if it would overflow."""
        if self.unpacked + size > self.limits.max_unpacked_bytes:
            return False
        self.unpacked += size
        return True

    def emit(
        self,
        name: str,
        content_type: str,
        data: bytes,
        origin: str,
        ctx: Context,
        *,
        rejected: str | None = None,
        lost: bool = False,
        page_count: int | None = None,
        signed: bool = False,
        signer: bytes | None = None,
    ) -> None:
        """Keep one file; lost: it was rejected by one of our limits, not for what it is."""
        if rejected:
            log.debug("attachment at %s rejected: %s", origin, rejected)
        if lost and rejected:
            self.loss(f"attachment {origin or '1'}: not read ({rejected})")
        attachment = ExtractedAttachment(
                filename=final_filename(clean_filename(name), content_type, len(self.attachments) + 1),
                content_type=content_type,
                data=data,
                origin=origin or "1",
                rejected=rejected,
                signer_certificate=ctx.signer or signer,
                signed=ctx.signed or signed,
                page_count=page_count,
            )
        if not self.full:
            self.attachments.append(attachment)
            return
        # No place left: the most likely document keeps it (see _likelihood).
        self.dropped += 1
        weakest = min(range(len(self.attachments)), key=lambda i: _likelihood(self.attachments[i]))
        if _likelihood(attachment) > _likelihood(self.attachments[weakest]):
            self.attachments[weakest] = attachment


# Rejections by our own limits (not by what the file is): the content was not read.
LIMIT_REASONS = ("size limit", "too many pixels", "too many pages", "too deeply nested", "too many nested")
_DOCUMENT_PRIORITY = {sniff.PDF: 2, sniff.JPEG: 1, sniff.PNG: 1}


def _likelihood(att: ExtractedAttachment) -> tuple:
    """How likely a file is to be one of the request's documents: readable, a PDF (the form), then larger."""
    return att.accepted, _DOCUMENT_PRIORITY.get(att.content_type, 0), len(att.data)

"""Reading one attachment: which pages hold the form, which hold cards, and what they say.

The cheap paths first: a fillable PDF's fields, then a PDF's text layer;
only pages without text are rendered to images, and on an image the form
check (a small band of OCR) runs before the card reader.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from verification.evidence import SourceRef
from verification.readings import CardReading, FormReading

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/jpeg", "image/png", "image/tiff", "image/gif", "image/webp", "image/heic", "image/heif", "image/bmp")


@dataclass
class AttachmentReading:
    forms: list[FormReading] = field(default_factory=list)
    cards: list[CardReading] = field(default_factory=list)
    unreadable: str | None = None  # the file could not be opened at all


def _textless_pages(data: bytes) -> list[int]:
    """0-based indexes of PDF pages with no text layer (scans inside a PDF)."""
    from verification.images.pdf import textless_pages

    return textless_pages(data)


def read_attachment(filename: str, content_type: str, data: bytes, *, today: date,
                    signer_certificate: bytes | None = None) -> AttachmentReading:
    from verification.forms import pdf_reader
    from verification.images import decode
    from verification.cards import page

    out = AttachmentReading()
    signer: tuple[bool, str | None] = (signer_certificate is not None, None)
    try:
        if content_type == "application/pdf":
            form = pdf_reader.read_form_pdf(data, filename, signer_certificate=signer_certificate)
            if form is not None:
                out.forms.append(form)
                wanted = set(_textless_pages(data))
            else:
                wanted = None  # every page
                # A scanned PDF signed digitally: the form is read from its
                # pictures, and the PDF's signature still signs it.
                signer = pdf_reader.digital_signer(data, signer_certificate)
            if wanted is None or wanted:
                pages = decode.pdf_page_images(data)
                pages = [(i + 1, img) for i, img in enumerate(pages) if wanted is None or i in wanted]
            else:
                pages = []  # the form's text layer is on every page: nothing to render
        elif content_type in IMAGE_TYPES:
            pages = list(enumerate(decode.load_image(data), start=1))
            if signer_certificate is not None:  # a picture inside a .p7m
                signer = pdf_reader.digital_signer(data, signer_certificate)
        else:
            return out
    except Exception as exc:  # noqa: BLE001 - a file we cannot open is a finding, not a crash
        log.info("attachment could not be opened: %s", type(exc).__name__)
        out.unreadable = f"{type(exc).__name__}"
        return out

    for number, img in pages:
        source = SourceRef(filename, number)
        if pdf_reader.looks_like_form(img):
            form = pdf_reader.read_form_image(img, source)
            if form is not None:
                if signer[0]:
                    form = pdf_reader.with_digital_signature(form, signer[1])
                out.forms.append(form)
                continue
        found = page.read_cards_on_image(img, source, today)
        if not found:
            # The citizen sent a picture we cannot make out: they must hear
            # "send it again, readable", not "it is missing".
            found = [CardReading(doc_type=None, side=None, source=source, readable=False,
                                 unreadable_reason="no_document_found")]
        out.cards.extend(found)
    return out

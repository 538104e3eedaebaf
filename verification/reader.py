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
from verification.reading import CardReading, FormReading

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/jpeg", "image/png", "image/tiff", "image/gif", "image/webp", "image/heic", "image/heif", "image/bmp")


@dataclass
class AttachmentReading:
    forms: list[FormReading] = field(default_factory=list)
    cards: list[CardReading] = field(default_factory=list)
    unreadable: str | None = None  # the file could not be opened at all


def _textless_pages(data: bytes) -> list[int]:
    """0-based indexes of PDF pages with no text layer (scans inside a PDF)."""
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [i for i, page in enumerate(pdf.pages) if len(page.chars) < 20]


def read_attachment(filename: str, content_type: str, data: bytes, *, today: date,
                    signer_certificate: bytes | None = None) -> AttachmentReading:
    from verification import form_reader, imaging, page_reader

    out = AttachmentReading()
    try:
        if content_type == "application/pdf":
            form = form_reader.read_form_pdf(data, filename, signer_certificate=signer_certificate)
            if form is not None:
                out.forms.append(form)
                wanted = set(_textless_pages(data))
            else:
                wanted = None  # every page
            pages = imaging.pdf_page_images(data)
            pages = [(i + 1, img) for i, img in enumerate(pages) if wanted is None or i in wanted]
        elif content_type in IMAGE_TYPES:
            pages = list(enumerate(imaging.load_image(data), start=1))
        else:
            return out
    except Exception as exc:  # noqa: BLE001 - a file we cannot open is a finding, not a crash
        log.info("attachment could not be opened: %s", type(exc).__name__)
        out.unreadable = f"{type(exc).__name__}"
        return out

    for number, img in pages:
        source = SourceRef(filename, number)
        if form_reader.looks_like_form(img):
            form = form_reader.read_form_image(img, source)
            if form is not None:
                out.forms.append(form)
                continue
        found = page_reader.read_cards_on_image(img, source, today)
        if not found:
            # The citizen sent a picture we cannot make out: they must hear
            # "send it again, readable", not "it is missing".
            found = [CardReading(doc_type=None, side=None, source=source, readable=False,
                                 unreadable_reason="no_document_found")]
        out.cards.extend(found)
    return out

"""The request form as citizens send it back: filled PDF, "print to PDF", printed and scanned or photographed.

A signature is ink in the signature box: vector strokes added to a PDF (as a
PDF editor's "sign" tool does), or pen strokes drawn on the printed page.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from tests.corpus import capture
from tests.corpus.drawing import draw_signature, font, signature_points
from tests.corpus.foreign_forms import foreign_fillable
from verification.forms import layout as forms

COPY_STYLES = ("fillable", "flattened", "scanned", "scanned_pdf", "photographed", "photographed_blurred",
               "foreign_fillable")
_PAGE_H = A4[1]


def _signature_overlay(form_type: str, variant: int, rng: random.Random) -> bytes:
    """One A4 page holding only the signature strokes, placed in the form's signature box."""
    x0, y0, x1, y1 = forms.signature_box(form_type, variant)
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, invariant=1)
    canvas.setStrokeColorRGB(0.08, 0.12, 0.45)
    canvas.setLineWidth(1.1)
    canvas.setLineCap(1)
    canvas.setLineJoin(1)
    # signature_points works with y growing downwards, like an image.
    for stroke in signature_points(rng, (x0 + 4, _PAGE_H - y1 + 4, x1 - 4, _PAGE_H - y0 - 4)):
        path = canvas.beginPath()
        path.moveTo(stroke[0][0], _PAGE_H - stroke[0][1])
        for x, y in stroke[1:]:
            path.lineTo(x, _PAGE_H - y)
        canvas.drawPath(path, stroke=1, fill=0)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def sign_pdf(pdf: bytes, form_type: str, variant: int, rng: random.Random) -> bytes:
    """The PDF with a drawn signature merged into the page content; form fields are kept."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(_signature_overlay(form_type, variant, rng))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def form_pdf(form_type: str, values: dict, *, variant: int, flatten: bool, signed: bool,
             rng: random.Random) -> bytes:
    pdf = forms.fill_form(form_type, values, flatten=flatten, variant=variant)
    return sign_pdf(pdf, form_type, variant, rng) if signed else pdf


def printed_page(form_type: str, values: dict, *, variant: int, signed: bool, rng: random.Random,
                 dpi: int = 200, retitle: str | None = None) -> Image.Image:
    """The flattened form printed on paper and signed with a pen, as an image at `dpi`.

    `retitle` replaces the form's second title line (a form we do not know).
    """
    import pypdfium2 as pdfium

    pdf = forms.fill_form(form_type, values, flatten=True, variant=variant)
    document = pdfium.PdfDocument(pdf)
    page = document[0].render(scale=dpi / 72).to_pil().convert("RGB")
    document.close()
    scale = dpi / 72
    if retitle is not None:
        import pdfplumber

        with pdfplumber.open(io.BytesIO(pdf)) as plumber:
            hit = plumber.pages[0].search(forms.FORM_TITLES[form_type], regex=False)[0]
        draw = ImageDraw.Draw(page)
        box = (0, hit["top"] * scale - 4, page.width, hit["bottom"] * scale + 4)
        draw.rectangle(box, fill="white")
        draw.text((page.width / 2, (box[1] + box[3]) / 2), retitle, font=font("sans_bold", round(12 * scale)),
                  fill=(20, 20, 20), anchor="mm")
    if signed:
        x0, y0, x1, y1 = forms.signature_box(form_type, variant)
        box = (x0 * scale + 6, (_PAGE_H - y1) * scale + 6, x1 * scale - 6, (_PAGE_H - y0) * scale - 6)
        draw_signature(page, box, rng, colour=(20, 30, 120), width=max(2, dpi // 70))
    return page


def form_file(style: str, form_type: str, values: dict, *, variant: int, signed: bool, rng: random.Random,
              retitle: str | None = None) -> tuple[str, bytes, str]:
    """(filename, bytes, content type) of the form returned in `style` (see COPY_STYLES)."""
    stem = {"direct": "modulo_attivazione_diretta", "delegate": "modulo_delegato",
            "guardian": "modulo_genitore_tutore"}[form_type]
    if style == "foreign_fillable" and retitle is None:  # another office's edition (tests/corpus/foreign_forms.py)
        pdf = foreign_fillable(form_type, values, signed=signed, rng=rng)
        return rng.choice(("modulo pin puk.pdf", "Modulo_richiesta_PIN.pdf", f"{stem}.pdf")), pdf, "application/pdf"
    if style in ("fillable", "flattened") and retitle is None:
        pdf = form_pdf(form_type, values, variant=variant, flatten=style == "flattened", signed=signed, rng=rng)
        suffix = "_compilato" if style == "fillable" else "_stampa"
        return f"{stem}{suffix}.pdf", pdf, "application/pdf"
    page = printed_page(form_type, values, variant=variant, signed=signed, rng=rng, retitle=retitle)
    if style == "scanned_pdf":
        data, content_type = capture.encode([capture.flat_scan([page], rng, dpi=200, source_dpi=200, grey=True)],
                                            "pdf", rng, dpi=200)
        return f"scansione_{stem}.pdf", data, content_type
    if style in ("scanned", "fillable", "flattened", "foreign_fillable"):
        scan = capture.flat_scan([page], rng, dpi=200, source_dpi=200, grey=rng.random() < 0.5)
        data, content_type = capture.encode(scan, "jpeg", rng, dpi=200, quality=85)
        return f"{stem}_firmato.jpg", data, content_type
    if style == "photographed_blurred":
        photo = capture.blurred(page, rng)
    else:
        photo = capture.phone_photo(page, rng, frame=(1800, 2400))
    data, content_type = capture.encode(photo, "jpeg", rng)
    return f"IMG_{rng.randrange(1000, 9999)}.jpg", data, content_type

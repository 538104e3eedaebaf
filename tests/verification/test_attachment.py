"""Reading one attachment end to end: which pages hold the form, and what signs it."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from tests.verification.forms import samples as fs
from verification.attachment import read_attachment

TODAY = date(2026, 11, 26)


def _scanned_pdf(sample: fs.Sample) -> bytes:
    """The form printed, not signed in ink, scanned into an image-only PDF."""
    scan = fs.scan_of(sample, 0, ink=False, dpi=150)
    jpeg = io.BytesIO()
    Image.fromarray(scan).save(jpeg, format="JPEG", quality=85)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.drawImage(ImageReader(io.BytesIO(jpeg.getvalue())), 0, 0, *A4)
    c.showPage()
    c.save()
    return out.getvalue()


def test_a_digitally_signed_scan_is_signed_by_its_certificate():
    """No text layer: the form is read from the picture, and the PDF's CNS signature still signs it."""
    sample = fs.SAMPLES["direct"]
    pdf = _scanned_pdf(sample)
    key, _, cert = fs.certificate(f"TINIT-{fs.HOLDER.codice_fiscale}")

    unsigned = read_attachment("scansione.pdf", "application/pdf", pdf, today=TODAY)
    signed = read_attachment("scansione.pdf", "application/pdf", fs.signed_pdf(pdf, key, cert), today=TODAY)

    assert [f.method for f in unsigned.forms] == ["ocr"]
    assert unsigned.forms[0].evidence.form_type == "direct"
    assert not unsigned.forms[0].evidence.signed  # no ink in the box, no signature on the file
    [form] = signed.forms
    assert form.method == "ocr" and form.evidence.form_type == "direct"
    assert (form.evidence.signed, form.evidence.signature_kind) == (True, "digital")
    assert form.evidence.signer_cf == fs.HOLDER.codice_fiscale


def test_a_scan_inside_a_p7m_is_signed_by_the_envelope_certificate():
    """A JPEG of the form in a .p7m: intake hands over the signer's certificate with the picture."""
    sample = fs.SAMPLES["direct"]
    jpeg = io.BytesIO()
    Image.fromarray(fs.scan_of(sample, 0, ink=False, dpi=150)).save(jpeg, format="JPEG", quality=85)
    _, der, _ = fs.certificate(f"TINIT-{fs.HOLDER.codice_fiscale}")

    reading = read_attachment("modulo.jpg", "image/jpeg", jpeg.getvalue(), today=TODAY, signer_certificate=der)

    [form] = reading.forms
    assert (form.evidence.signed, form.evidence.signature_kind) == (True, "digital")
    assert form.evidence.signer_cf == fs.HOLDER.codice_fiscale

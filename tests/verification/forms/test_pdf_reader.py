"""Reading a request form back from a PDF: filled fields, flattened copies, digital signatures.

The forms come from verification.forms.layout (both layout variants), filled for
the synthetic people of form_samples; paper copies are in test_form_image.py.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from tests.verification.forms import samples as fs
from verification.forms import layout as forms
from verification.evidence import FormEvidence
from verification.evidence import SourceRef
from verification.forms.pdf_reader import (
    digital_signer,
    read_form_pdf,
    relationship_code,
    signer_cf_from_certificate,
    with_digital_signature,
)
from verification.readings import FormReading

FORM_TYPES = ("direct", "delegate", "guardian")
VARIANTS = (0, 1)


def assert_reads(evidence: FormEvidence, sample: fs.Sample) -> None:
    """Everything the citizen wrote, read back (SPEC.md "The three forms")."""
    assert evidence.form_type == sample.form_type
    holder = evidence.holder
    assert (holder.surname, holder.given_names) == (sample.holder.surname, sample.holder.given_names)
    assert holder.codice_fiscale == sample.holder.codice_fiscale
    assert holder.birth_date == sample.holder.birth_date
    assert holder.birth_place == sample.holder.birth_place
    if sample.declarant is None:
        assert evidence.declarant is None and evidence.relationship is None
    else:
        declarant = evidence.declarant
        assert (declarant.surname, declarant.given_names) == (sample.declarant.surname, sample.declarant.given_names)
        assert declarant.codice_fiscale == sample.declarant.codice_fiscale
        assert declarant.birth_date == sample.declarant.birth_date
        assert evidence.relationship == sample.relationship
    assert evidence.phone == sample.phone_e164
    assert evidence.email == sample.email
    assert evidence.ts_card_number == sample.ts_card_number
    assert evidence.ts_expiry == sample.ts_expiry


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_filled_fillable_pdf_is_read_from_its_fields(form_type, variant):
    sample = fs.SAMPLES[form_type]
    reading = read_form_pdf(fs.fillable_pdf(sample, variant), "modulo.pdf")
    assert reading.method == "fields" and reading.readable
    assert_reads(reading.evidence, sample)
    assert not reading.evidence.signed  # fields filled on screen, nothing in the signature box
    assert reading.source.filename == "modulo.pdf"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_flattened_pdf_is_read_by_its_labels(form_type, variant):
    sample = fs.SAMPLES[form_type]
    reading = read_form_pdf(fs.flattened_pdf(sample, variant), "stampa.pdf")
    assert reading.method == "text" and reading.readable
    assert_reads(reading.evidence, sample)
    assert not reading.evidence.signed
    assert reading.raw_fields["Cognome"] == sample.holder.surname


@pytest.mark.parametrize(("form_type", "variant", "ink"), [
    ("direct", 0, "strokes"), ("delegate", 1, "strokes"), ("guardian", 0, "image"), ("direct", 1, "image"),
])
def test_flattened_pdf_signed_with_ink_in_the_box(form_type, variant, ink):
    reading = read_form_pdf(fs.flattened_pdf(fs.SAMPLES[form_type], variant, ink=ink), "firmato.pdf")
    assert reading.evidence.signed and reading.evidence.signature_kind == "ink"
    assert reading.evidence.signer_cf is None


def test_fillable_pdf_with_a_pasted_signature_is_signed():
    pdf = fs.with_signature(fs.fillable_pdf(fs.SAMPLES["delegate"], 1), "delegate", 1, "image")
    reading = read_form_pdf(pdf, "modulo.pdf")
    assert reading.method == "fields"
    assert reading.evidence.signed and reading.evidence.signature_kind == "ink"


def test_ink_outside_the_signature_box_does_not_sign():
    x0, y0, x1, y1 = forms.signature_box("direct", 0)
    elsewhere = (x0, y0 + 500, x1, y1 + 500)  # a scribble over the holder's section
    pdf = fs.with_signature(fs.flattened_pdf(fs.SAMPLES["direct"], 0), "direct", 0, "strokes", box=elsewhere)
    assert not read_form_pdf(pdf, "x.pdf").evidence.signed


@pytest.mark.parametrize("form_type", ["direct", "guardian"])
def test_digitally_signed_pdf(form_type):
    sample = fs.SAMPLES[form_type]
    signer = sample.declarant or sample.holder
    key, _, cert = fs.certificate(f"TINIT-{signer.codice_fiscale}", f"{signer.given_names} {signer.surname}")
    reading = read_form_pdf(fs.signed_pdf(fs.fillable_pdf(sample, 1), key, cert), "modulo_firmato.pdf")
    assert reading.method == "fields"
    assert_reads(reading.evidence, sample)
    assert reading.evidence.signed and reading.evidence.signature_kind == "digital"
    assert reading.evidence.signer_cf == signer.codice_fiscale


def test_digitally_signed_flattened_pdf():
    key, _, cert = fs.certificate(f"IT:{fs.HOLDER.codice_fiscale}")
    reading = read_form_pdf(fs.signed_pdf(fs.flattened_pdf(fs.SAMPLES["direct"]), key, cert), "x.pdf")
    assert reading.method == "text"
    assert (reading.evidence.signature_kind, reading.evidence.signer_cf) == ("digital", fs.HOLDER.codice_fiscale)


def test_p7m_signer_certificate_from_the_caller():
    _, der, _ = fs.certificate(f"TINIT-{fs.DECLARANT.codice_fiscale}")
    reading = read_form_pdf(fs.flattened_pdf(fs.SAMPLES["delegate"], 0), "modulo.pdf.p7m", signer_certificate=der)
    assert reading.evidence.signed and reading.evidence.signature_kind == "digital"
    assert reading.evidence.signer_cf == fs.DECLARANT.codice_fiscale


@pytest.mark.parametrize(("serial", "cn", "expected"), [
    ("TINIT-{cf}", "Rossi Mario", True),
    ("IT:{cf}", "Rossi Mario", True),
    (None, "{cf}/7420091000012345.Ab3dE", True),
    (None, "ROSSI MARIO/{cf}", True),
    ("TINIT-{cf}".lower(), "Rossi Mario", True),
    ("CA12345AB", "Rossi Mario", False),
])
def test_signer_cf_from_certificate(serial, cn, expected):
    code = fs.HOLDER.codice_fiscale
    written = code.lower() if serial and serial.islower() else code
    _, der, _ = fs.certificate(serial and serial.format(cf=written), cn.format(cf=code))
    assert signer_cf_from_certificate(der) == (code if expected else None)


def test_signer_cf_from_garbage_is_none():
    assert signer_cf_from_certificate(b"not a certificate") is None


def test_two_ticked_boxes_give_no_relationship():
    sample = fs.SAMPLES["delegate"]
    values = sample.values() | {forms.RELATIONSHIP_PREFIX + "cousin": True}
    for flatten in (False, True):
        reading = read_form_pdf(forms.fill_form("delegate", values, flatten=flatten), "x.pdf")
        assert reading.evidence.relationship is None
        assert reading.evidence.declarant.surname == "Bianchi"


def test_blank_fillable_form_is_a_form_with_nothing_written():
    reading = read_form_pdf(forms.blank_form("guardian", 1), "modulo_genitore_tutore.pdf")
    assert reading.method == "text" and not reading.readable
    assert reading.evidence.form_type == "guardian"
    assert reading.evidence.holder.surname is None and not reading.evidence.signed


def _pdf_with(draw) -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    draw(c)
    c.showPage()
    c.save()
    return out.getvalue()


def test_pdf_that_is_not_a_form_is_none():
    letter = _pdf_with(lambda c: c.drawString(72, 700, "Gentile ufficio, allego la carta d'identità. Cognome: Rossi"))
    assert read_form_pdf(letter, "lettera.pdf") is None
    assert read_form_pdf(b"%PDF-1.4 broken", "rotto.pdf") is None


def test_pdf_without_text_layer_is_left_to_the_image_reader():
    scan = fs.scan_of(fs.SAMPLES["direct"], 0, ink=True, dpi=120)
    jpeg = io.BytesIO()
    Image.fromarray(scan).save(jpeg, format="JPEG", quality=80)
    pdf = _pdf_with(lambda c: c.drawImage(ImageReader(io.BytesIO(jpeg.getvalue())), 0, 0, *A4))
    assert read_form_pdf(pdf, "scansione.pdf") is None


@pytest.mark.parametrize("ink", [True, False])
def test_scan_with_a_text_layer_measures_marks_on_the_picture(ink):
    """A scanner's "searchable PDF": the page is a picture, the words an invisible layer over it."""
    sample = fs.SAMPLES["delegate"]
    scan = fs.scan_of(sample, 0, ink=ink, seed=1, dpi=120)
    jpeg = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(scan)).save(jpeg, format="JPEG", quality=80)
    picture = _pdf_with(lambda c: c.drawImage(ImageReader(io.BytesIO(jpeg.getvalue())), 0, 0, *A4))
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(picture)))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(fs.flattened_pdf(sample, 0))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    reading = read_form_pdf(out.getvalue(), "scansione_ocr.pdf")
    assert reading.method == "text"
    assert reading.evidence.relationship == sample.relationship
    assert reading.evidence.signed is ink


@pytest.mark.parametrize(("name", "code"), [
    ("declarant_relationship_spouse", "spouse"),
    ("declarant_relationship_coniuge", "spouse"),
    ("rapporto_figlio_figlia", "child"),
    ("nipote (figlio di un fratello o sorella)", "nephew_niece"),
    ("Nipote (figlio di un figlio)", "grandchild"),
    ("bisnonno/bisnonna", "great_grandparent"),
    ("declarant_relationship_unknown", None),
])
def test_relationship_codes_from_box_names(name, code):
    assert relationship_code(name) == code


def _fillable(title: str, fields: dict[str, str], boxes: dict[str, bool] = {}) -> bytes:  # noqa: B006
    """Someone else's fillable PDF: a title line and fields with their own names."""

    def draw(c):
        c.drawString(40, 800, title)
        for i, (name, value) in enumerate(fields.items()):
            c.drawString(40, 760 - 24 * i, name)
            c.acroForm.textfield(name=name, value=value, x=200, y=755 - 24 * i, width=200, height=16)
        for i, (name, checked) in enumerate(boxes.items()):
            c.acroForm.checkbox(name=name, checked=checked, x=420, y=755 - 24 * i, size=10)

    return _pdf_with(draw)


def test_fields_named_otherwise_are_read_by_their_names():
    """An older edition of the form, its fields named in Italian."""
    pdf = _fillable(
        f"{forms.COMMON_TITLE} {forms.FORM_TITLES['delegate']}",
        {"Cognome_titolare": "Rossi", "Nome_titolare": "Mario", "CF_titolare": fs.HOLDER.codice_fiscale,
         "Data_nascita_dichiarante": "02/07/1961", "Cognome_dichiarante": "Bianchi", "Cellulare": "3331234567",
         "Email": "a.b@example.org"},
        {"rapporto_coniuge": True, "rapporto_cugino_cugina": False},
    )
    reading = read_form_pdf(pdf, "vecchio_modulo.pdf")
    assert reading.method == "fields"
    ev = reading.evidence
    assert ev.form_type == "delegate"
    assert (ev.holder.surname, ev.holder.given_names, ev.holder.codice_fiscale) == ("Rossi", "Mario",
                                                                                    fs.HOLDER.codice_fiscale)
    assert (ev.declarant.surname, ev.declarant.birth_date) == ("Bianchi", fs.DECLARANT.birth_date)
    assert (ev.relationship, ev.phone, ev.email) == ("spouse", "+393331234567", "a.b@example.org")


def test_someone_elses_fillable_pdf_is_not_a_form():
    gym = _fillable("Modulo iscrizione palestra", {"Cognome": "Rossi", "Nome": "Mario"})
    assert read_form_pdf(gym, "iscrizione.pdf") is None


def test_a_signed_scan_signs_the_form_read_from_its_pictures():
    """A scanned PDF signed with a CNS: no text layer, so the pictures are read; the signature still counts."""
    scan = fs.scan_of(fs.SAMPLES["direct"], 0, ink=False, dpi=120)
    jpeg = io.BytesIO()
    Image.fromarray(scan).save(jpeg, format="JPEG", quality=80)
    pdf = _pdf_with(lambda c: c.drawImage(ImageReader(io.BytesIO(jpeg.getvalue())), 0, 0, *A4))
    key, der, cert = fs.certificate(f"TINIT-{fs.HOLDER.codice_fiscale}")
    signed = fs.signed_pdf(pdf, key, cert)
    assert read_form_pdf(signed, "scansione_firmata.pdf") is None
    assert digital_signer(signed) == (True, fs.HOLDER.codice_fiscale)
    assert digital_signer(pdf) == (False, None)
    assert digital_signer(b"not a pdf", signer_certificate=der) == (True, fs.HOLDER.codice_fiscale)
    unsigned = FormReading(SourceRef("scansione_firmata.pdf", 1), FormEvidence("direct"), "ocr")
    reading = with_digital_signature(unsigned, fs.HOLDER.codice_fiscale)
    assert (reading.evidence.signed, reading.evidence.signature_kind) == (True, "digital")
    assert reading.evidence.signer_cf == fs.HOLDER.codice_fiscale


# --- the pages as pdfium shows them: what pdfplumber would show, faster ---------------------------


def _plumber_view(pdf: bytes):
    import pdfplumber

    from verification.images.pdf import PlumberPage

    document = pdfplumber.open(io.BytesIO(pdf))
    return document, [PlumberPage(page) for page in document.pages]


def _same_boxes(a, b, ordered: bool = False) -> bool:
    if not ordered:
        a, b = (sorted(boxes, key=lambda box: tuple(round(v, 2) for v in box)) for boxes in (a, b))
    return len(a) == len(b) and all(np.allclose(x, y, atol=1e-3) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(("form_type", "variant", "copy"), [
    ("direct", 0, "fillable"), ("delegate", 1, "fillable"), ("guardian", 0, "flattened"), ("delegate", 0, "strokes"),
    ("guardian", 1, "image"), ("direct", 1, "blank"),
])
def test_pdfium_pages_match_pdfplumber(form_type, variant, copy):
    """Words, character boxes, rects, lines, curves and pictures as pdfplumber finds them (the fast path)."""
    from verification.images.pdf import Document, PdfiumPage

    sample = fs.SAMPLES[form_type]
    pdf = {
        "fillable": lambda: fs.fillable_pdf(sample, variant),
        "flattened": lambda: fs.flattened_pdf(sample, variant),
        "strokes": lambda: fs.flattened_pdf(sample, variant, ink="strokes"),
        "image": lambda: fs.flattened_pdf(sample, variant, ink="image"),
        "blank": lambda: forms.blank_form(form_type, variant),
    }[copy]()
    plumber, expected = _plumber_view(pdf)
    with plumber, Document.open(pdf) as document:
        assert all(isinstance(page, PdfiumPage) for page in document.pages)
        assert len(document.pages) == len(expected)
        for page, other in zip(document.pages, expected, strict=True):
            assert (page.number, page.width, page.height, page.doctop) == (other.number, other.width, other.height,
                                                                           other.doctop)
            words, others = page.words(), other.words()
            assert [w.text for w in words] == [w.text for w in others]
            assert np.allclose([(w.x0, w.top, w.x1, w.bottom) for w in words],
                               [(w.x0, w.top, w.x1, w.bottom) for w in others], atol=1e-3)
            assert _same_boxes(page.char_boxes(), other.char_boxes(), ordered=True)
            for kind in ("rect", "line", "curve", "image", "annot"):
                ours = [(o["x0"], o["x1"], o["top"], o["bottom"]) for o in page.marks()[kind]]
                theirs = [(o["x0"], o["x1"], o["top"], o["bottom"]) for o in other.marks()[kind]]
                assert _same_boxes(ours, theirs), kind
        if copy in ("strokes", "image"):  # the signature is there to be found
            kind = "curve" if copy == "strokes" else "image"
            assert len(document.pages[0].marks()[kind]) > 0


def test_pages_pdfium_cannot_show_as_pdfplumber_go_to_pdfplumber():
    """A rotated page (or turned text, a ligature, text in a Form XObject) is parsed by pdfplumber."""
    from pypdf import PdfReader, PdfWriter

    from verification.images.pdf import Document, PdfiumPage, PlumberPage

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(fs.flattened_pdf(fs.SAMPLES["direct"]))))
    writer.pages[0].rotate(90)
    out = io.BytesIO()
    writer.write(out)
    with Document.open(out.getvalue()) as document:
        assert isinstance(document.pages[0], PlumberPage)
    plain = _pdf_with(lambda c: (c.setFont("Helvetica", 12), c.drawString(72, 700, "Modulo di attivazione")))
    with Document.open(plain) as document:
        assert isinstance(document.pages[0], PdfiumPage)
        assert [w.text for w in document.pages[0].words()] == ["Modulo", "di", "attivazione"]


def test_a_ligature_goes_to_pdfplumber():
    """pdfium splits "ﬁ" into two characters at one place; pdfplumber keeps the glyph and spells it "fi"."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from verification.images.pdf import Document, PlumberPage

    font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    try:
        pdfmetrics.registerFont(TTFont("DejaVuSans", font))
    except Exception:  # noqa: BLE001 - no such font here
        pytest.skip("DejaVu Sans not installed")
    pdf = _pdf_with(lambda c: (c.setFont("DejaVuSans", 12), c.drawString(72, 700, "Codice \ufb01scale")))
    with Document.open(pdf) as document:
        assert isinstance(document.pages[0], PlumberPage)
        assert [w.text for w in document.pages[0].words()] == ["Codice", "fiscale"]


def test_textless_pages():
    from pypdf import PdfReader, PdfWriter

    from verification.images.pdf import textless_pages

    scan = fs.scan_of(fs.SAMPLES["direct"], 0, ink=True, dpi=120)
    jpeg = io.BytesIO()
    Image.fromarray(scan).save(jpeg, format="JPEG", quality=80)
    picture = _pdf_with(lambda c: c.drawImage(ImageReader(io.BytesIO(jpeg.getvalue())), 0, 0, *A4))
    form = fs.flattened_pdf(fs.SAMPLES["delegate"])
    writer = PdfWriter()
    for pdf in (form, picture, form):
        writer.append(PdfReader(io.BytesIO(pdf)))
    both = io.BytesIO()
    writer.write(both)
    assert textless_pages(form) == []
    assert textless_pages(picture) == [0]
    assert textless_pages(both.getvalue()) == [1]


def test_drawings_pdfium_cannot_read_are_read_by_pdfplumber(monkeypatch):
    from verification.images import pdf as pdf_pages

    def broken(*args):
        raise RuntimeError("no path")

    monkeypatch.setattr(pdf_pages, "_subpaths", broken)
    reading = read_form_pdf(fs.flattened_pdf(fs.SAMPLES["delegate"], 1, ink="strokes"), "firmato.pdf")
    assert reading.evidence.relationship == fs.SAMPLES["delegate"].relationship
    assert reading.evidence.signed and reading.evidence.signature_kind == "ink"


def test_a_signature_whose_der_ends_in_a_zero_byte_still_names_its_signer():
    """A PDF's /Contents is zero padded; the CMS inside may itself end in 0x00 (1 signature in 256)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    from intake.cms import signer_certificate_in

    key, der_cert, cert = fs.certificate(f"TINIT-{fs.HOLDER.codice_fiscale}")
    for attempt in range(5000):
        signed = pkcs7.PKCS7SignatureBuilder().set_data(b"%d" % attempt).add_signer(
            cert, key, hashes.SHA256()).sign(Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])
        if signed.endswith(b"\x00"):
            break
    assert signed.endswith(b"\x00")
    assert signer_certificate_in(signed + b"\x00" * 300) == der_cert

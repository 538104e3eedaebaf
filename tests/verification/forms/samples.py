"""Request forms for the form-reader tests, in every way a citizen returns them.

The forms themselves come from verification.forms.layout (both layout variants).
Here they are filled for synthetic people, signed (vector strokes or a pasted
image in a PDF; ink strokes on paper), printed and scanned a little askew,
or photographed on a desk with perspective, uneven light and JPEG. A photo of
an ID-1 card is the "not a form" case. Deterministic by seed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache

import cv2
import numpy as np
import pypdfium2
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from verification import codice_fiscale as cf
from verification.forms import layout as forms


@dataclass(frozen=True)
class SamplePerson:
    surname: str
    given_names: str
    sex: str
    birth_date: date
    birth_place: str = "Milano"
    birthplace_code: str = "F205"

    @property
    def codice_fiscale(self) -> str:
        return cf.generate(self.surname, self.given_names, self.sex, self.birth_date, self.birthplace_code)


HOLDER = SamplePerson("Rossi", "Mario", "M", date(1958, 3, 14))
DECLARANT = SamplePerson("Bianchi", "Anna Maria", "F", date(1961, 7, 2), "Brescia", "B157")
MINOR = SamplePerson("Esposito", "Luca", "M", date(2012, 4, 20))


@dataclass(frozen=True)
class Sample:
    """What a citizen wrote on the form, and so what the reader must find."""

    form_type: str
    holder: SamplePerson = HOLDER
    declarant: SamplePerson | None = None
    relationship: str | None = None  # SPEC code: "spouse", …
    phone: str = "333 123 4567"
    phone_e164: str = "+393331234567"
    email: str = "mario.rossi@example.org"
    ts_card_number: str = "80380000500012345678"
    ts_expiry: date = date(2029, 9, 30)

    def values(self) -> dict[str, str | bool]:
        """verification.forms.layout field name → value."""
        values: dict[str, str | bool] = {"phone": self.phone, "email": self.email, "place_date": "Milano, 20/11/2026"}
        for role, person in (("holder", self.holder), ("declarant", self.declarant)):
            if person is not None:
                values |= {
                    f"{role}_surname": person.surname,
                    f"{role}_given_names": person.given_names,
                    f"{role}_codice_fiscale": person.codice_fiscale,
                    f"{role}_birth_date": person.birth_date.strftime("%d/%m/%Y"),
                }
        values |= {
            "holder_birth_place": self.holder.birth_place,
            "holder_card_number": self.ts_card_number,
            "holder_card_expiry": self.ts_expiry.strftime("%d/%m/%Y"),
        }
        if self.relationship:
            values[forms.RELATIONSHIP_PREFIX + self.relationship] = True
        return values


SAMPLES = {
    "direct": Sample("direct"),
    "delegate": Sample(
        "delegate", declarant=DECLARANT, relationship="nephew_niece", email="anna.bianchi@example.org",
        phone="+39 347 765 4321", phone_e164="+393477654321",
    ),
    "guardian": Sample(
        "guardian", holder=MINOR, declarant=DECLARANT, relationship="parent", email="anna.bianchi@example.org",
        phone="0039 320 111 2233", phone_e164="+393201112233",
    ),
}


# --- PDFs -----------------------------------------------------------------------------------------


def fillable_pdf(sample: Sample, variant: int = 0) -> bytes:
    return forms.fill_form(sample.form_type, sample.values(), flatten=False, variant=variant)


def flattened_pdf(sample: Sample, variant: int = 0, *, ink: str | None = None, seed: int = 0) -> bytes:
    """A printed-to-PDF copy; `ink` "strokes" draws a signature as vector paths, "image" pastes a picture."""
    pdf = forms.fill_form(sample.form_type, sample.values(), flatten=True, variant=variant)
    return pdf if ink is None else with_signature(pdf, sample.form_type, variant, ink, seed)


def with_signature(pdf: bytes, form_type: str, variant: int, ink: str = "strokes", seed: int = 0,
                   box: tuple[float, float, float, float] | None = None) -> bytes:
    """`pdf` with a signature drawn in its signature box (or `box`), as page content (not an annotation)."""
    box = box or forms.signature_box(form_type, variant)
    overlay = io.BytesIO()
    c = canvas.Canvas(overlay, pagesize=A4)
    if ink == "image":
        x0, y0, x1, y1 = box
        picture = np.full((140, 420), 255, np.uint8)
        points = [((x - x0) * 420 / (x1 - x0), 140 - (y - y0) * 140 / (y1 - y0)) for x, y in _signature_path(box, seed)]
        cv2.polylines(picture, [np.array(points, np.int32)], False, 20, 3, cv2.LINE_AA)
        png = cv2.imencode(".png", picture)[1].tobytes()
        c.drawImage(ImageReader(io.BytesIO(png)), x0 + 4, y0 + 4, x1 - x0 - 8, y1 - y0 - 8)
    else:
        points = _signature_path(box, seed)
        path = c.beginPath()
        path.moveTo(*points[0])
        for i in range(1, len(points) - 2, 3):
            path.curveTo(*points[i], *points[i + 1], *points[i + 2])
        c.setLineWidth(1.1)
        c.drawPath(path, stroke=1, fill=0)
    c.showPage()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(overlay.getvalue())).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _signature_path(box, seed: int, n: int = 61) -> list[tuple[float, float]]:
    """A scribble across the box: points in PDF coordinates (origin bottom left)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    t = np.linspace(0, 1, n)
    xs = x0 + w * (0.15 + 0.65 * t) + 0.05 * w * np.sin(t * 40 + rng.uniform(0, 6))
    ys = y0 + h * (0.35 + 0.25 * np.sin(t * 14 + rng.uniform(0, 6)) * np.cos(t * 3)) + rng.normal(0, 0.02 * h, n)
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


# --- paper: print, sign, scan, photograph ---------------------------------------------------------


def render(pdf: bytes, dpi: int = 200) -> np.ndarray:
    """The first page as a greyscale image."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        bitmap = document[0].render(scale=dpi / 72, grayscale=True, may_draw_forms=True)
        return np.array(bitmap.to_pil().convert("L"))
    finally:
        document.close()


@cache
def _printed(form_type: str, variant: int, dpi: int, pen_tick: bool = False) -> np.ndarray:
    values = SAMPLES[form_type].values()
    if pen_tick:  # the box is left empty in print: the citizen ticks it with a pen
        values = {k: v for k, v in values.items() if not k.startswith(forms.RELATIONSHIP_PREFIX)}
    return render(forms.fill_form(form_type, values, flatten=True, variant=variant), dpi)


def checkbox_rect(form_type: str, variant: int, relationship: str) -> tuple[float, float, float, float]:
    """Where the form puts a relationship box (x0, y0, x1, y1 in points from the bottom left): its widget."""
    reader = PdfReader(io.BytesIO(forms.blank_form(form_type, variant)))
    for annot in reader.pages[0]["/Annots"]:
        annot = annot.get_object()
        if annot.get("/T") == forms.RELATIONSHIP_PREFIX + relationship:
            return tuple(float(v) for v in annot["/Rect"])
    raise KeyError(relationship)


def scan_of(sample: Sample, variant: int = 0, *, ink: bool, seed: int = 0, dpi: int = 200,
            pen_tick: bool = False) -> np.ndarray:
    """The flattened form printed, signed with a pen in the box (or not), scanned a little askew.

    `pen_tick`: the relationship is ticked by hand, a check mark running out of its box.
    """
    assert sample == SAMPLES[sample.form_type], "scans are cached per form type"
    page = _printed(sample.form_type, variant, dpi, pen_tick).copy()
    scale, height = dpi / 72, page.shape[0]
    if pen_tick and sample.relationship:
        x0, y0, x1, y1 = checkbox_rect(sample.form_type, variant, sample.relationship)
        s = x1 - x0
        mark = [(x0 + 0.15 * s, y0 + 0.55 * s), (x0 + 0.45 * s, y0 + 0.1 * s), (x0 + 1.5 * s, y0 + 1.6 * s)]
        points = [(x * scale, height - y * scale) for x, y in mark]
        cv2.polylines(page, [np.array(points, np.int32)], False, 35, max(2, dpi // 60), cv2.LINE_AA)
    if ink:
        box = forms.signature_box(sample.form_type, variant)
        points = [(x * scale, height - y * scale) for x, y in _signature_path(box, seed, 91)]
        cv2.polylines(page, [np.array(points, np.int32)], False, 30, max(2, dpi // 80), cv2.LINE_AA)
    rng = np.random.default_rng(seed)
    h, w = page.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-1.5, 1.5), 1.0)
    page = cv2.warpAffine(page, matrix, (w, h), borderValue=255)
    noisy = page.astype(np.float32) * 0.92 + 12 + rng.normal(0, 5, page.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def photo_of(sample: Sample, variant: int = 0, *, ink: bool, seed: int = 0, pen_tick: bool = False) -> np.ndarray:
    """A phone photo of the signed print on a dark desk: perspective, uneven light, colour, JPEG."""
    page = scan_of(sample, variant, ink=ink, seed=seed, dpi=200, pen_tick=pen_tick)
    h, w = page.shape
    rng = np.random.default_rng(seed + 1)
    out_w, out_h = 1900, 2500
    m = 0.07
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-50, 50, (4, 2))
    target = np.float32(
        [[out_w * m, out_h * m], [out_w * (1 - m), out_h * m * 1.4], [out_w * (1 - m * 0.6), out_h * (1 - m)],
         [out_w * m * 0.8, out_h * (1 - m * 0.7)]]
    ) + jitter.astype(np.float32)
    matrix = cv2.getPerspectiveTransform(corners, target)
    warped = cv2.warpPerspective(page, matrix, (out_w, out_h), borderValue=0)
    mask = cv2.warpPerspective(np.full_like(page, 255), matrix, (out_w, out_h), borderValue=0)
    desk = np.full((out_h, out_w), 70, np.float32) + rng.normal(0, 8, (out_h, out_w))
    image = np.where(mask > 0, warped.astype(np.float32), desk)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    image = image * (0.78 + 0.22 * (xx / out_w) * (1 - 0.5 * yy / out_h))
    image = cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.uint8), (3, 3), 0.8)
    colour = cv2.merge([image, (image * 0.97).astype(np.uint8), (image * 0.92).astype(np.uint8)])
    jpeg = cv2.imencode(".jpg", colour, [cv2.IMWRITE_JPEG_QUALITY, 85])[1]
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def card_image(seed: int = 0, scan: bool = False) -> np.ndarray:
    """An ID-1 card (TS-CNS-like front) photographed on a desk, or scanned on an A4 page."""
    rng = np.random.default_rng(seed)
    card = np.full((540, 856, 3), (200, 225, 235), np.uint8)
    cv2.rectangle(card, (60, 180), (170, 300), (60, 170, 215), -1)  # the chip
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(card, "TESSERA SANITARIA", (230, 80), font, 1.3, (40, 40, 40), 3)
    cv2.putText(card, "Carta Nazionale dei Servizi", (230, 130), font, 0.9, (40, 40, 40), 2)
    lines = ("Codice fiscale RSSMRA58C14F205X", "Cognome ROSSI", "Nome MARIO", "Data di scadenza 30/09/2029")
    for i, line in enumerate(lines):
        cv2.putText(card, line, (230, 220 + 60 * i), font, 0.8, (30, 30, 30), 2)
    if scan:  # a white A4 page at 200 dpi with the card near the top left
        page = np.full((2339, 1654, 3), 245, np.uint8)
        small = cv2.resize(card, (674, 425))
        page[150:575, 150:824] = small
        return page
    desk = np.full((1500, 2000, 3), (90, 100, 110), np.float32) + rng.normal(0, 6, (1500, 2000, 3))
    desk = np.clip(desk, 0, 255).astype(np.uint8)
    matrix = cv2.getRotationMatrix2D((428, 270), rng.uniform(-8, 8), 1.3)
    matrix[:, 2] += (500, 400)
    mask = cv2.warpAffine(np.full(card.shape[:2], 255, np.uint8), matrix, (2000, 1500))
    warped = cv2.warpAffine(card, matrix, (2000, 1500))
    desk[mask > 0] = warped[mask > 0]
    return desk


# --- digital signatures ---------------------------------------------------------------------------


def certificate(subject_serial: str | None, common_name: str = "Rossi Mario"):
    """A self-signed certificate shaped like an Italian qualified one: (key, DER, cryptography cert)."""
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if subject_serial:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, subject_serial))
    name = x509.Name(attributes)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1234567).not_valid_before(now).not_valid_after(now + timedelta(days=1000))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.DER), cert


def signed_pdf(pdf: bytes, key, cert) -> bytes:
    """`pdf` with a PAdES-style signature field: /ByteRange over the whole file, a detached PKCS#7 in /Contents."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
    from pypdf.generic import (
        ArrayObject,
        ByteStringObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    placeholder = 10**9
    signature = DictionaryObject({
        NameObject("/Type"): NameObject("/Sig"),
        NameObject("/Filter"): NameObject("/Adobe.PPKLite"),
        NameObject("/SubFilter"): NameObject("/adbe.pkcs7.detached"),
        NameObject("/ByteRange"): ArrayObject([NumberObject(placeholder)] * 4),
        NameObject("/Contents"): ByteStringObject(b"\x00" * 4096),
    })
    field = DictionaryObject({
        NameObject("/FT"): NameObject("/Sig"),
        NameObject("/Type"): NameObject("/Annot"),
        NameObject("/Subtype"): NameObject("/Widget"),
        NameObject("/T"): TextStringObject("signature"),
        NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
        NameObject("/F"): NumberObject(132),
        NameObject("/V"): writer._add_object(signature),
        NameObject("/P"): writer.pages[0].indirect_reference,
    })
    field_ref = writer._add_object(field)
    writer.pages[0].setdefault(NameObject("/Annots"), ArrayObject()).append(field_ref)
    root = writer._root_object
    if "/AcroForm" not in root:
        root[NameObject("/AcroForm")] = DictionaryObject({NameObject("/Fields"): ArrayObject()})
    acroform = root["/AcroForm"].get_object()
    acroform.setdefault(NameObject("/Fields"), ArrayObject()).append(field_ref)
    acroform[NameObject("/SigFlags")] = NumberObject(3)
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    start = data.index(b"/Contents <") + len(b"/Contents ")
    end = data.index(b">", start) + 1
    ranges = f"[ 0 {start} {end} {len(data) - end} ]".encode()
    old = b"[ %d %d %d %d ]" % ((placeholder,) * 4)
    data = data.replace(old, ranges.ljust(len(old)), 1)
    signed = pkcs7.PKCS7SignatureBuilder().set_data(data[:start] + data[end:]).add_signer(
        cert, key, hashes.SHA256()
    ).sign(Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])
    hexed = signed.hex().encode().ljust(end - start - 2, b"0")
    assert len(hexed) == end - start - 2, "signature larger than its placeholder"
    return data[: start + 1] + hexed + data[end - 1 :]

"""Reading a request form back from a PDF: its fields, else its text layer.

1. A fillable PDF with its fields filled: values by field name (method "fields").
2. A PDF whose text layer holds the form's title (flattened, printed to PDF,
   or a scan with a text layer): values by label (method "text", see
   verification.form_labels).
3. Anything else: None — the caller renders the pages and calls
   `read_form_image` (verification.form_image) on each.

Signed: a digital signature on the PDF (or the .p7m signer certificate the
caller passes) counts first; else ink in the signature box — in a PDF that can
only be an image, drawn strokes or an ink/stamp annotation inside the box
found by its label, never typed text.
"""

from __future__ import annotations

import io
import logging
import re

import numpy as np
import pdfplumber
from pypdf import PdfReader

from verification import forms
from verification.evidence import RELATIONSHIPS, SourceRef
from verification.form_image import looks_like_form, read_form_image  # noqa: F401 - the reader's API
from verification.form_labels import LabelledForm, evidence_from_values, guess_sections, raw_fields_of, read_labels
from verification.form_marks import SIGNATURE_MIN_FILL, best_tick, binarize, relationship_fills, signature_ink
from verification.form_text import Box, Hit, classify_form_text, fold_words, is_form_text
from verification.reading import FormReading
from verification.signature import pdf_digital_signature, signer_cf_from_certificate

log = logging.getLogger(__name__)

__all__ = ["looks_like_form", "read_form_image", "read_form_pdf", "signer_cf_from_certificate"]

_RENDER_DPI = 150  # for a scan with a text layer: ticks and ink are measured on the picture


def read_form_pdf(data: bytes, filename: str, signer_certificate: bytes | None = None) -> FormReading | None:
    """The form in a PDF, read from its fields or its text layer; None when neither holds a form."""
    try:
        reader = PdfReader(io.BytesIO(data))
        fields = _field_values(reader)
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - not a PDF we can open: the caller tries the pictures
        log.info("PDF not readable as a form: %s", type(exc).__name__)
        return None
    with pdf:
        boxes = _words(pdf)
        text = " ".join(b.text for b in boxes)
        form_type = classify_form_text(text) or classify_form_text(_title(reader))
        values, ticked, ours = fields
        if not (is_form_text(text) or form_type or ours):
            return None
        labelled = read_labels(boxes, form_type or guess_sections(text))
        marks = _PageMarks(pdf)
        if values:
            method = "fields"
            relationship = _one(ticked)
        else:
            method = "text"
            values = labelled.values
            relationship = _relationship_from_marks(labelled, marks)
        if not values and not text.strip():
            return None
        signed, kind, signer_cf = _signature(reader, data, signer_certificate, labelled, marks)
    evidence = evidence_from_values(form_type, values, relationship, signed=signed, signature_kind=kind,
                                    signer_cf=signer_cf)
    raw = raw_fields_of(values)
    if ticked or relationship:
        raw["Rapporto con il titolare"] = ", ".join(ticked) if ticked else relationship
    readable = bool(values)
    return FormReading(SourceRef(filename, 1), evidence, method, readable=readable,
                       unreadable_reason=None if readable else "no_values", raw_fields=raw)


# --- fields ---------------------------------------------------------------------------------------

_KNOWN_FIELDS = set(
    n for t in forms.FORM_TYPES for n in (*forms.text_fields(t), *forms.checkbox_fields(t))
)
_ATTRIBUTES = (  # field-name keywords (ours and likely Italian ones) → our attribute
    (("surname", "cognome", "lastname"), "surname"),
    (("given", "nome", "firstname", "name"), "given_names"),
    (("codice_fiscale", "codicefiscale", "fiscal", "cf"), "codice_fiscale"),
    (("birth_date", "data_nascita", "datanascita", "dob"), "birth_date"),
    (("birth_place", "luogo_nascita", "luogo"), "birth_place"),
    (("card_number", "numero", "number"), "card_number"),
    (("expiry", "scadenza"), "card_expiry"),
)


def _canonical(name: str) -> str | None:
    """Our field name for a text field: ours as they are, others by keywords."""
    if name in _KNOWN_FIELDS:
        return name
    low = re.sub(r"[^a-z0-9]+", "_", name.lower())
    if any(k in low for k in ("phone", "cellulare", "telefono", "mobile")):
        return "phone"
    if "mail" in low:
        return "email"
    role = "declarant" if ("declarant" in low or "dichiarante" in low) else "holder"
    for keywords, attribute in _ATTRIBUTES:
        if any(k in low.split("_") or (len(k) > 4 and k in low) for k in keywords):
            if attribute == "given_names" and "cognome" in low:
                continue
            return f"{role}_{attribute}"
    return None


_RELATIONSHIP_SLUGS = {"_".join(fold_words(label)).lower(): code for code, label in forms.RELATIONSHIP_LABELS.items()}


def relationship_code(text: str) -> str | None:
    """A SPEC relationship code from a box name or export value ("spouse", "coniuge", "figlio_figlia")."""
    slug = "_".join(fold_words(text)).lower()
    for prefix in ("declarant_relationship_", "relationship_", "rapporto_con_il_titolare_", "rapporto_"):
        slug = slug.removeprefix(prefix)
    return slug if slug in RELATIONSHIPS else _RELATIONSHIP_SLUGS.get(slug)


def _field_values(reader: PdfReader) -> tuple[dict[str, str], list[str], bool]:
    """Filled text fields by our names, the relationship boxes ticked (SPEC order), and
    whether the fields are our published form's (by their exact names)."""
    values: dict[str, str] = {}
    ticked: list[str] = []
    try:
        fields = reader.get_fields() or {}
    except Exception as exc:  # noqa: BLE001 - a broken form tree: read the text instead
        log.info("PDF form fields unreadable: %s", type(exc).__name__)
        return values, ticked, False
    for name, field in fields.items():
        value = field.get("/V")
        if value is None:
            continue
        if field.get("/FT") == "/Btn":
            state = str(value).lstrip("/")
            if state and state.lower() not in ("off", "no", "false", "0"):
                code = relationship_code(name) or relationship_code(state)
                if code and code not in ticked:
                    ticked.append(code)
        elif field.get("/FT") == "/Tx" and str(value).strip():
            key = _canonical(name.rsplit(".", 1)[-1])
            if key:
                values[key] = str(value).strip()
    ticked.sort(key=RELATIONSHIPS.index)
    return values, ticked, any(name.rsplit(".", 1)[-1] in _KNOWN_FIELDS for name in fields)


def _one(ticked: list[str]) -> str | None:
    # Two boxes ticked is the citizen's ambiguity, not ours to resolve: no relationship.
    return ticked[0] if len(ticked) == 1 else None


def _title(reader: PdfReader) -> str:
    try:
        return str((reader.metadata or {}).get("/Title") or "")
    except Exception:  # noqa: BLE001 - metadata is a hint only
        return ""


def _words(pdf) -> list[Box]:
    """Every word of every page; `top` counts down the whole document (pdfplumber's doctop)."""
    out = []
    for page in pdf.pages:
        for w in page.extract_words(x_tolerance=1.5, keep_blank_chars=False):
            top = w["doctop"]
            out.append(Box(w["text"], w["x0"], top, w["x1"], top + (w["bottom"] - w["top"])))
    return out


# --- marks in the PDF: tick boxes and the signature box -------------------------------------------


class _PageMarks:
    """Vector objects and images of the pages, addressed in document coordinates (doctop)."""

    def __init__(self, pdf):
        self.pdf = pdf
        self._rendered: dict[int, np.ndarray] = {}

    def page_of(self, hit: Hit):
        for page in self.pdf.pages:
            if page.initial_doctop <= hit.top < page.initial_doctop + page.height:
                return page
        return self.pdf.pages[-1]

    @staticmethod
    def is_scan(page) -> bool:
        """A page that is one big picture (a scan with a text layer): marks are in the picture."""
        area = float(page.width * page.height)
        return any((i["x1"] - i["x0"]) * (i["bottom"] - i["top"]) > 0.5 * area for i in page.images)

    def binary(self, page) -> np.ndarray:
        if page.page_number not in self._rendered:
            image = page.to_image(resolution=_RENDER_DPI).original.convert("L")
            self._rendered[page.page_number] = binarize(np.array(image))
        return self._rendered[page.page_number]


def _local(page, hit: Hit) -> tuple[float, float, float, float]:
    offset = page.initial_doctop
    return hit.x0, hit.top - offset, hit.x1, hit.bottom - offset


def _scaled(rect, factor: float):
    return tuple(v * factor for v in rect)


def _relationship_from_marks(labelled: LabelledForm, marks: _PageMarks) -> str | None:
    fills: dict[str, float] = {}
    pictured: dict[int, dict[str, tuple]] = {}  # page number -> labels on a scanned page, in pixels
    for code, hit in labelled.relationship_labels.items():
        page = marks.page_of(hit)
        label = _local(page, hit)
        if marks.is_scan(page):
            pictured.setdefault(page.page_number, {})[code] = _scaled(label, _RENDER_DPI / 72)
        else:
            fill = _vector_tick(page, label)
            if fill is not None:
                fills[code] = fill
    for number, labels in pictured.items():
        binary = marks.binary(marks.pdf.pages[number - 1])
        fills |= relationship_fills(binary, labels, forms.RELATIONSHIP_LABELS)
    return best_tick(fills)


def _vector_tick(page, label) -> float | None:
    """1.0 when strokes or a glyph sit inside the small square left of the label, 0.0 when empty."""
    x0, top, x1, bottom = label
    h = bottom - top
    squares = [
        r for r in page.rects
        if 0.5 * h <= r["width"] <= 2.5 * h and 0.7 <= r["width"] / max(r["height"], 0.1) <= 1.43
        and x0 - 4 * h <= r["x1"] <= x0 + 0.5 * h and abs((r["top"] + r["bottom"]) / 2 - (top + bottom) / 2) < h
    ]
    if not squares:
        return None
    box = max(squares, key=lambda r: r["x1"])
    inside = [o for o in (*page.lines, *page.curves, *page.chars, *page.images)
              if o is not box and _within(o, box, 0.15 * box["width"])]
    return 1.0 if inside else 0.0


def _within(obj, box, slack: float) -> bool:
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    small = (obj["x1"] - obj["x0"]) < box["width"] + 2 * slack
    return small and box["x0"] < cx < box["x1"] and box["top"] < cy < box["bottom"]


def _signature(reader, data, signer_certificate, labelled: LabelledForm, marks: _PageMarks):
    """(signed, kind, signer_cf): digital first, else ink in the box."""
    digital = pdf_digital_signature(reader, data)
    if signer_certificate is not None or digital is not None:
        der = signer_certificate or (digital.signer_certificate if digital else None)
        return True, "digital", signer_cf_from_certificate(der) if der else None
    hit = labelled.signature_label
    if hit is None:
        return False, None, None
    page = marks.page_of(hit)
    label = _local(page, hit)
    if marks.is_scan(page):
        factor = _RENDER_DPI / 72
        ink = signature_ink(marks.binary(page), _scaled(label, factor))
        return (True, "ink", None) if ink.fill >= SIGNATURE_MIN_FILL else (False, None, None)
    region = _signature_region(page, label)
    if _vector_ink(page, region):
        return True, "ink", None
    return False, None, None


def _signature_region(page, label) -> tuple[float, float, float, float]:
    """The box holding the label or just below it; else the space below the label."""
    x0, top, x1, bottom = label
    h = bottom - top
    best = None
    for r in page.rects:
        if r["width"] < max(x1 - x0, 8 * h) or r["height"] < 2.5 * h or r["x1"] < x0 or r["x0"] > x1:
            continue
        holds = r["x0"] <= x0 and r["top"] <= top and r["x1"] >= x1 and r["bottom"] >= bottom
        below = top - h <= r["top"] <= bottom + 3 * h
        if holds or below:
            key = (0 if holds else 1, abs(r["top"] - bottom))
            if best is None or key < best[0]:
                best = (key, (r["x0"], r["top"], r["x1"], r["bottom"]))
    if best:
        return best[1]
    return x0 - h, bottom, x0 + max(2.5 * (x1 - x0), 22 * h), bottom + 7 * h


def _vector_ink(page, region) -> bool:
    """Drawn strokes, a picture or an ink/stamp annotation inside `region` (box edges and text ignored)."""
    rx0, rtop, rx1, rbottom = region

    def inside(o) -> bool:
        cx, cy = (o["x0"] + o["x1"]) / 2, (o["top"] + o["bottom"]) / 2
        return rx0 < cx < rx1 and rtop < cy < rbottom

    area = float(page.width * page.height)
    for obj in (*page.curves, *page.lines):
        if inside(obj) and min(obj["x1"] - obj["x0"], obj["bottom"] - obj["top"]) > 1.5:
            return True  # a rule or a box edge is flat in one direction; a signature is not
    if any(inside(i) and (i["x1"] - i["x0"]) * (i["bottom"] - i["top"]) < 0.5 * area for i in page.images):
        return True
    for annot in page.annots or []:
        subtype = str((annot.get("data") or {}).get("Subtype", "")).strip("/'")
        if subtype.endswith(("Ink", "Stamp")) and inside(annot):
            return True
    return False

"""Reading a request form back from a PDF: its fields, else its text layer.

1. A fillable PDF with its fields filled (method "fields"): our own form by its
   field names; anyone else's by the label printed beside or above each widget,
   inside its section, as the page shows it (names are whatever the author's
   tool gave: `h_cognome`, `Testo12`); by names only where the page has no
   sections to read.
2. A PDF whose text layer holds the form's title (flattened, printed to PDF,
   or a scan with a text layer): values by label (method "text", see
   verification.forms.labels).
3. Anything else: None — the caller renders the pages and calls
   `read_form_image` (verification.forms.picture_reader) on each; `digital_signer`
   and `with_digital_signature` carry a PDF's (or .p7m's) digital signature
   over to what is read from those pictures.

Signed: a digital signature on the PDF (or the .p7m signer certificate the
caller passes) counts first; else ink in the signature box — in a PDF that can
only be an image, drawn strokes or an ink/stamp annotation inside the box
found by its label, never typed text.

The pages are read through pdfium (C): characters, paths and pictures in
pdfplumber's coordinates and categories, which the label and mark heuristics
were written for, at a small fraction of pdfminer's cost; a page pdfium
cannot show exactly as pdfplumber would goes to pdfplumber (see verification.images.pdf).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, replace

import numpy as np
from pypdf import PdfReader

from verification.forms import layout as forms
from verification.evidence import RELATIONSHIPS, SourceRef
from verification.forms.picture_reader import looks_like_form, read_form_image  # noqa: F401 - the reader's API
from verification.forms.labels import LabelledForm, evidence_from_values, guess_sections, raw_fields_of, read_labels
from verification.forms.marks import SIGNATURE_MIN_FILL, best_tick, binarize, relationship_fills, signature_ink
from verification.images.boxes import Box
from verification.forms.text import Hit, classify_form_text, find_phrase, fold_words, is_form_text
from verification.images.pdf import Document, Page
from verification.readings import FormReading
from verification.forms.signature import pdf_digital_signature, signer_cf_from_certificate

log = logging.getLogger(__name__)

__all__ = [
    "digital_signer",
    "looks_like_form",
    "read_form_image",
    "read_form_pdf",
    "signer_cf_from_certificate",
    "with_digital_signature",
]

_RENDER_DPI = 150  # for a scan with a text layer: ticks and ink are measured on the picture


def read_form_pdf(data: bytes, filename: str, signer_certificate: bytes | None = None) -> FormReading | None:
    """The form in a PDF, read from its fields or its text layer; None when neither holds a form."""
    try:
        reader = PdfReader(io.BytesIO(data))
        fields = _field_values(reader)
        document = Document.open(data)
    except Exception as exc:  # noqa: BLE001 - not a PDF we can open: the caller tries the pictures
        log.info("PDF not readable as a form: %s", type(exc).__name__)
        return None
    with document:
        boxes = _words(document.pages)
        text = " ".join(b.text for b in boxes)
        form_type = classify_form_text(text) or classify_form_text(_title(reader))
        values, ticked, ours = fields
        if not (is_form_text(text) or form_type or ours):
            return None
        widgets = [] if ours else _widgets(reader, document.pages)
        filled = [w.box for w in widgets if w.box is not None]
        labelled = read_labels(boxes + filled, form_type or guess_sections(text))
        marks = _PageMarks(document.pages)
        if ours and values:
            method = "fields"
            relationship = _one(ticked)
        elif filled and find_phrase(fold_words(text), forms.HOLDER_SECTION):
            # Someone else's fillable form: each value by the label printed beside or above its
            # widget, in its section, as a reader of the page would; never by the widget's name.
            method = "fields"
            by_name, values = values, dict(labelled.values)
            used = {" ".join(v.split()) for v in values.values()}
            # A widget no label claimed keeps what its name says, where the labels said nothing.
            values |= {k: v for k, v in by_name.items() if k not in values and " ".join(v.split()) not in used}
            ticked = _ticked_by_label(widgets, labelled) or ticked
            relationship = _one(ticked)
        elif values:  # filled fields with no box on any page: their names are all there is
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


def digital_signer(data: bytes, signer_certificate: bytes | None = None) -> tuple[bool, str | None]:
    """(digitally signed?, the signer's codice fiscale) of any file whose form is read elsewhere.

    For the caller of `read_form_image` on the pages of a scanned PDF (no text
    layer, so `read_form_pdf` said None): the PDF's own signature, or the
    .p7m signer certificate, still signs the form on those pages.
    """
    der = signer_certificate
    if der is None and data[:5] == b"%PDF-":
        try:
            found = pdf_digital_signature(PdfReader(io.BytesIO(data)), data)
        except Exception as exc:  # noqa: BLE001 - an unreadable PDF carries no signature we can see
            log.info("PDF unreadable while looking for a signature: %s", type(exc).__name__)
            return False, None
        if found is None:
            return False, None
        der = found.signer_certificate
        if der is None:
            return True, None
    return True, signer_cf_from_certificate(der) if der else None


def with_digital_signature(reading: FormReading, signer_cf: str | None) -> FormReading:
    """The reading of a form that a digital signature signs (see `digital_signer`)."""
    evidence = replace(reading.evidence, signed=True, signature_kind="digital", signer_cf=signer_cf)
    return replace(reading, evidence=evidence)


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


@dataclass(frozen=True)
class _Widget:
    """A form field's widget on a page: its value placed where it is printed, or its tick box."""

    name: str
    tooltip: str
    box: Box | None  # a filled text field's value, in document coordinates
    checked: bool
    rect: tuple[float, float, float, float]  # x0, top, x1, bottom in document coordinates


def _inherited(obj, key: str):
    while obj is not None:
        if key in obj:
            return obj[key]
        parent = obj.get("/Parent")
        obj = parent.get_object() if parent is not None else None
    return None


def _font_size(obj) -> float | None:
    match = re.search(r"([\d.]+)\s+Tf", str(_inherited(obj, "/DA") or ""))
    try:
        return float(match.group(1)) if match and float(match.group(1)) > 0 else None
    except ValueError:
        return None


def _widgets(reader: PdfReader, pages: list[Page]) -> list[_Widget]:
    """Every text and tick-box widget of the form, placed in the pages' document coordinates."""
    out: list[_Widget] = []
    try:
        for pdf_page, page in zip(reader.pages, pages):
            box = pdf_page.mediabox
            left, top = float(box.left), float(box.top)
            for ref in pdf_page.get("/Annots") or []:
                obj = ref.get_object()
                if obj.get("/Subtype") != "/Widget" or "/Rect" not in obj:
                    continue
                (x0, x1), (y0, y1) = sorted(map(float, obj["/Rect"][0::2])), sorted(map(float, obj["/Rect"][1::2]))
                rect = (x0 - left, page.doctop + top - y1, x1 - left, page.doctop + top - y0)
                name = str(_inherited(obj, "/T") or "")
                tooltip = str(_inherited(obj, "/TU") or "")
                kind, value = _inherited(obj, "/FT"), _inherited(obj, "/V")
                if kind == "/Tx" and value is not None and str(value).strip():
                    out.append(_Widget(name, tooltip, _value_box(str(value).strip(), rect, _font_size(obj)), False, rect))
                elif kind == "/Btn":
                    state = str(obj.get("/AS") or value or "").lstrip("/")
                    out.append(_Widget(name, tooltip, None, state.lower() not in ("", "off", "no", "false", "0"), rect))
    except Exception as exc:  # noqa: BLE001 - a broken annotation tree: the labels of the page still read
        log.info("PDF widgets unreadable: %s", type(exc).__name__)
    return out


def _value_box(value: str, rect: tuple[float, float, float, float], size: float | None) -> Box:
    """The value as a word box where the viewer shows it: left in the widget, centred on its height."""
    x0, top, x1, bottom = rect
    height = min(size or 10.0, bottom - top) if bottom > top else (size or 10.0)
    middle = (top + bottom) / 2
    start = x0 + min(2.0, (x1 - x0) / 10)
    width = min(x1 - start, 0.55 * height * len(value)) if x1 > start else 0.55 * height * len(value)
    return Box(" ".join(value.split()), start, middle - height / 2, start + max(width, 1.0), middle + height / 2)


def _ticked_by_label(widgets: list[_Widget], labelled: LabelledForm) -> list[str]:
    """The relationship of each ticked box: by the label beside it, else its tooltip, else its name.

    Which side a box's label is on is the form's own habit: the side where the boxes' labels
    sit closest, over all its boxes (a box between two labels belongs to the nearer habit).
    """
    boxes = [w for w in widgets if w.box is None]
    near = [_labels_beside(w.rect, labelled) for w in boxes]
    totals = {side: sum(n[side][0] for n in near if n[side]) / max(1, sum(1 for n in near if n[side]))
              for side in ("right", "left")}
    counts = {side: sum(1 for n in near if n[side]) for side in ("right", "left")}
    side = max(("right", "left"), key=lambda k: (counts[k], -totals[k]))
    ticked: list[str] = []
    for w, n in zip(boxes, near):
        if not w.checked:
            continue
        code = (n[side][1] if n[side] else None) or relationship_code(w.tooltip) or relationship_code(w.name)
        if code and code not in ticked:
            ticked.append(code)
    return sorted(ticked, key=RELATIONSHIPS.index)


def _labels_beside(rect: tuple[float, float, float, float], labelled: LabelledForm) -> dict:
    """The nearest relationship label on the box's line on each side: {"right": (gap, code) | None, "left": …}."""
    x0, top, x1, bottom = rect
    middle, size = (top + bottom) / 2, max(bottom - top, labelled.word_height, 1.0)
    best: dict = {"right": None, "left": None}
    for code, hit in labelled.relationship_labels.items():
        if abs((hit.top + hit.bottom) / 2 - middle) > size:
            continue
        for side, gap in (("right", hit.x0 - x1), ("left", x0 - hit.x1)):
            if -size / 2 <= gap < 6 * size and (best[side] is None or gap < best[side][0]):
                best[side] = (gap, code)
    return best


def _one(ticked: list[str]) -> str | None:
    # Two boxes ticked is the citizen's ambiguity, not ours to resolve: no relationship.
    return ticked[0] if len(ticked) == 1 else None


def _title(reader: PdfReader) -> str:
    try:
        return str((reader.metadata or {}).get("/Title") or "")
    except Exception:  # noqa: BLE001 - metadata is a hint only
        return ""


def _words(pages: list[Page]) -> list[Box]:
    """Every word of every page; `top` counts down the whole document (pdfplumber's doctop)."""
    return [box for page in pages for box in page.words()]


# --- marks in the PDF: tick boxes and the signature box -------------------------------------------


class _PageMarks:
    """Vector objects and images of the pages, addressed in document coordinates (doctop)."""

    def __init__(self, pages: list[Page]):
        self.pages = pages
        self._rendered: dict[int, np.ndarray] = {}
        self._small: dict[int, np.ndarray] = {}

    def page_of(self, hit: Hit) -> Page:
        for page in self.pages:
            if page.doctop <= hit.top < page.doctop + page.height:
                return page
        return self.pages[-1]

    @staticmethod
    def is_scan(page: Page) -> bool:
        """A page that is one big picture (a scan with a text layer): marks are in the picture."""
        area = float(page.width * page.height)
        return any((i["x1"] - i["x0"]) * (i["bottom"] - i["top"]) > 0.5 * area for i in page.images)

    def binary(self, page: Page) -> np.ndarray:
        if page.number not in self._rendered:
            self._rendered[page.number] = binarize(page.gray(_RENDER_DPI))
        return self._rendered[page.number]

    def strokes(self, page: Page) -> np.ndarray:
        """Centre x, centre y and width of each line, curve, character and picture: what can tick a box."""
        if page.number not in self._small:
            marks = page.marks()
            boxes = [(o["x0"], o["x1"], o["top"], o["bottom"]) for kind in ("line", "curve") for o in marks[kind]]
            boxes += page.char_boxes()
            boxes += [(o["x0"], o["x1"], o["top"], o["bottom"]) for o in marks["image"]]
            b = np.array(boxes, dtype=float).reshape(-1, 4)
            self._small[page.number] = np.stack([(b[:, 0] + b[:, 1]) / 2, (b[:, 2] + b[:, 3]) / 2, b[:, 1] - b[:, 0]])
        return self._small[page.number]


def _local(page: Page, hit: Hit) -> tuple[float, float, float, float]:
    offset = page.doctop
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
            pictured.setdefault(page.number, {})[code] = _scaled(label, _RENDER_DPI / 72)
        else:
            fill = _vector_tick(page, label, marks.strokes(page))
            if fill is not None:
                fills[code] = fill
    for number, labels in pictured.items():
        binary = marks.binary(marks.pages[number - 1])
        fills |= relationship_fills(binary, labels, forms.RELATIONSHIP_LABELS)
    return best_tick(fills)


def _vector_tick(page: Page, label, strokes: np.ndarray) -> float | None:
    """1.0 when strokes or a glyph sit inside the small square left of the label, 0.0 when empty.

    `strokes`: centre x, centre y and width of the page's lines, curves, characters and pictures
    (`_PageMarks.strokes`); one counts when its centre is inside the square and it is no wider than
    the square and a little.
    """
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
    cx, cy, width = strokes
    slack = 0.15 * box["width"]
    inside = ((width < box["width"] + 2 * slack) & (box["x0"] < cx) & (cx < box["x1"]) & (box["top"] < cy)
              & (cy < box["bottom"]))
    return 1.0 if inside.any() else 0.0


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
    return any(inside(annot) for annot in page.annots)  # ink and stamp annotations

"""The three request forms of SPEC.md "The three forms": fillable PDFs, and filled copies of them.

The office publishes these; citizens return them filled (fields), flattened
("print to PDF") or printed, signed and scanned. The wording lives here, once,
so the reader and the tests use the same constants. Layouts change over time
(`variant`); readers must find things by these labels, never by coordinates.

Field names are stable: `holder_*`, `declarant_*`, one check box per
relationship named `declarant_relationship_<value>` with the export value of
SPEC.md "Command line" (`declarant_relationship_spouse` is the `coniuge` box),
`phone`, `email`, `place_date`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reportlab.lib.colors import Color, black, transparent
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

FORM_TYPES = ("direct", "delegate", "guardian")
FormType = Literal["direct", "delegate", "guardian"]
VARIANTS = (0, 1)

COMMON_TITLE = "RICHIESTA DEI CODICI PIN/PUK DELLA TESSERA SANITARIA – CARTA NAZIONALE DEI SERVIZI (TS-CNS)"
FORM_TITLES: dict[str, str] = {
    "direct": "MODULO DI ATTIVAZIONE DIRETTA",
    "delegate": "MODULO DELEGATO – IMPEDIMENTO TEMPORANEO PER MOTIVI DI SALUTE",
    "guardian": "MODULO GENITORE / TUTORE – TITOLARE MINORENNE O TUTELATO",
}
FILE_NAMES: dict[str, str] = {
    "direct": "modulo_attivazione_diretta.pdf",
    "delegate": "modulo_delegato.pdf",
    "guardian": "modulo_genitore_tutore.pdf",
}

HOLDER_SECTION = "DATI DEL TITOLARE DELLA TESSERA"
DECLARANT_SECTION = "DATI DEL DICHIARANTE"
CONTACT_SECTION = "RECAPITI PER L'INVIO DELLA SECONDA PARTE DEI CODICI"
RELATIONSHIP_LABEL = "Rapporto con il titolare"
PLACE_DATE_LABEL = "Luogo e data"
SIGNATURE_LABELS: dict[str, str] = {
    "direct": "Firma del titolare",
    "delegate": "Firma del dichiarante",
    "guardian": "Firma del dichiarante",
}

HOLDER_FIELDS: tuple[tuple[str, str], ...] = (
    ("holder_surname", "Cognome"),
    ("holder_given_names", "Nome"),
    ("holder_codice_fiscale", "Codice fiscale"),
    ("holder_birth_date", "Data di nascita"),
    ("holder_birth_place", "Luogo di nascita"),
    ("holder_card_number", "Numero identificativo della tessera"),
    ("holder_card_expiry", "Data di scadenza della tessera"),
)
DECLARANT_FIELDS: tuple[tuple[str, str], ...] = (
    ("declarant_surname", "Cognome"),
    ("declarant_given_names", "Nome"),
    ("declarant_codice_fiscale", "Codice fiscale"),
    ("declarant_birth_date", "Data di nascita"),
)
# SPEC.md order of the tick boxes; keys are the export relationship values.
RELATIONSHIP_LABELS: dict[str, str] = {
    "spouse": "coniuge",
    "child": "figlio/figlia",
    "parent": "genitore",
    "sibling": "fratello/sorella",
    "grandparent": "nonno/nonna",
    "grandchild": "nipote (figlio di un figlio)",
    "uncle_aunt": "zio/zia",
    "nephew_niece": "nipote (figlio di un fratello o sorella)",
    "great_grandparent": "bisnonno/bisnonna",
    "great_grandchild": "pronipote",
    "cousin": "cugino/cugina",
    "guardian": "tutore",
    "other": "altro",
}
RELATIONSHIP_PREFIX = "declarant_relationship_"
CONTACT_FIELDS: tuple[tuple[str, str], ...] = (("phone", "Cellulare"), ("email", "E-mail"))
PLACE_DATE_FIELD = "place_date"

_FALSE_DECLARATIONS = (
    "consapevole delle sanzioni penali previste dall'art. 76 del D.P.R. 28 dicembre 2000, n. 445, "
    "per le dichiarazioni mendaci e per la formazione o l'uso di atti falsi, dichiara ai sensi degli "
    "artt. 46 e 47 del medesimo decreto"
)
_CLOSING = (
    "Dichiara inoltre che i dati riportati nel presente modulo sono veritieri, che le copie dei documenti "
    "allegati sono conformi agli originali e di aver preso visione dell'informativa sul trattamento dei "
    "dati personali ai sensi del Regolamento (UE) 2016/679."
)
DECLARATIONS: dict[str, str] = {
    "direct": f"Il/La sottoscritto/a, {_FALSE_DECLARATIONS} di essere il titolare della Tessera Sanitaria – "
    "Carta Nazionale dei Servizi sopra indicata e chiede il rilascio dei relativi codici PIN/PUK. " + _CLOSING,
    "delegate": f"Il/La sottoscritto/a, {_FALSE_DECLARATIONS} che il titolare della tessera sopra indicata è "
    "temporaneamente impedito per motivi di salute a presentare personalmente la richiesta, di essere "
    "legato al titolare dal rapporto indicato e chiede in sua vece il rilascio dei codici PIN/PUK. " + _CLOSING,
    "guardian": f"Il/La sottoscritto/a, {_FALSE_DECLARATIONS} di essere genitore esercente la responsabilità "
    "genitoriale o tutore del titolare della tessera sopra indicata, minorenne o tutelato, e chiede in sua "
    "vece il rilascio dei codici PIN/PUK. " + _CLOSING,
}
ATTACHMENTS_NOTE: dict[str, str] = {
    "direct": "Allegare copia leggibile, fronte e retro, del documento d'identità valido del titolare "
    "e della TS-CNS.",
    "delegate": "Allegare copia leggibile, fronte e retro, del documento d'identità valido del titolare, "
    "della TS-CNS e del documento d'identità valido del dichiarante.",
    "guardian": "Allegare copia leggibile, fronte e retro, del documento d'identità valido del titolare, "
    "della TS-CNS e del documento d'identità valido del dichiarante.",
}

_PAGE_W, _PAGE_H = A4
_INK = Color(0.1, 0.1, 0.1)
_BAND = Color(0.85, 0.89, 0.94)
_LINE = Color(0.25, 0.25, 0.25)
_FIELD_FONT = "Helvetica"


def has_declarant(form_type: str) -> bool:
    return form_type in ("delegate", "guardian")


def text_fields(form_type: str) -> tuple[str, ...]:
    """The names of the text fields of that form, in reading order."""
    names = [n for n, _ in HOLDER_FIELDS]
    if has_declarant(form_type):
        names += [n for n, _ in DECLARANT_FIELDS]
    return (*names, *(n for n, _ in CONTACT_FIELDS), PLACE_DATE_FIELD)


def checkbox_fields(form_type: str) -> tuple[str, ...]:
    return tuple(RELATIONSHIP_PREFIX + r for r in RELATIONSHIP_LABELS) if has_declarant(form_type) else ()


def tooltip(field_name: str) -> str:
    """The Italian hint a PDF viewer shows over a field."""
    if field_name.startswith(RELATIONSHIP_PREFIX):
        return f"{RELATIONSHIP_LABEL}: {RELATIONSHIP_LABELS[field_name.removeprefix(RELATIONSHIP_PREFIX)]}"
    groups = ((HOLDER_FIELDS, " del titolare"), (DECLARANT_FIELDS, " del dichiarante"), (CONTACT_FIELDS, ""))
    for fields, whose in groups:
        for name, label in fields:
            if name == field_name:
                return label + whose
    return PLACE_DATE_LABEL


def wording(form_type: str) -> list[str]:
    """The fixed texts of the form, in reading order (titles, sections, labels; not the declaration)."""
    lines = [COMMON_TITLE, FORM_TITLES[form_type], HOLDER_SECTION, *(label for _, label in HOLDER_FIELDS)]
    if has_declarant(form_type):
        lines += [DECLARANT_SECTION, *(label for _, label in DECLARANT_FIELDS), RELATIONSHIP_LABEL]
        lines += list(RELATIONSHIP_LABELS.values())
    lines += [CONTACT_SECTION, *(label for _, label in CONTACT_FIELDS), PLACE_DATE_LABEL, SIGNATURE_LABELS[form_type]]
    return lines


@dataclass(frozen=True)
class _Style:
    margin: float
    label_size: float
    section_size: float
    row_height: float
    labels_above: bool  # variant 1: small label above each field, two fields per row
    relationship_split: float  # share of the width taken by the first column of tick boxes
    signature_stacked: bool


_STYLES = {
    0: _Style(margin=36, label_size=10, section_size=10.5, row_height=21, labels_above=False,
              relationship_split=0.5, signature_stacked=False),
    1: _Style(margin=42, label_size=8.5, section_size=9.5, row_height=30, labels_above=True,
              relationship_split=0.4, signature_stacked=True),
}


class _Page:
    """Draws one form: with AcroForm fields (`values` is None) or with values printed in the boxes."""

    def __init__(self, canvas: Canvas, form_type: str, variant: int, values: dict[str, str | bool] | None):
        self.c, self.form_type, self.values = canvas, form_type, values
        self.s = _STYLES[variant]
        self.variant = variant
        self.left, self.right = self.s.margin, _PAGE_W - self.s.margin
        self.y = _PAGE_H - self.s.margin
        self.signature_box: tuple[float, float, float, float] = (0, 0, 0, 0)

    # -- primitives --------------------------------------------------------

    def text(self, x: float, y: float, text: str, font: str = "Helvetica", size: float | None = None) -> None:
        self.c.setFillColor(_INK)
        self.c.setFont(font, size or self.s.label_size)
        self.c.drawString(x, y, text)

    def field(self, name: str, x: float, y: float, w: float, h: float) -> None:
        # The line is page content, so every viewer and every printout shows it; the widget is transparent.
        self.c.setStrokeColor(_LINE)
        self.c.setLineWidth(0.8)
        self.c.line(x, y, x + w, y)
        if self.values is None:
            self.c.acroForm.textfield(
                name=name, tooltip=tooltip(name), x=x, y=y + 0.6, width=w, height=h, borderWidth=0,
                fillColor=transparent, borderColor=transparent, textColor=black,
                fontName=_FIELD_FONT, fontSize=10, maxlen=200,
            )
            return
        value = str(self.values.get(name) or "")
        if value:
            size = 10.0
            while size > 6 and stringWidth(value, _FIELD_FONT, size) > w - 4:
                size -= 0.5
            self.text(x + 2, y + (h - size) / 2 + 1, value, _FIELD_FONT, size)

    def checkbox(self, name: str, x: float, y: float, size: float) -> None:
        self.c.setStrokeColor(_LINE)
        self.c.setLineWidth(0.8)
        self.c.rect(x, y, size, size)
        if self.values is None:
            self.c.acroForm.checkbox(
                name=name, tooltip=tooltip(name), x=x, y=y, size=size, buttonStyle="cross", borderWidth=0,
                fillColor=transparent, borderColor=transparent, textColor=black, fieldFlags="",
            )
            return
        if self.values.get(name) in (True, "/Yes", "Yes"):
            self.c.setStrokeColor(_INK)
            self.c.setLineWidth(1.2)
            self.c.line(x + 2, y + 2, x + size - 2, y + size - 2)
            self.c.line(x + 2, y + size - 2, x + size - 2, y + 2)

    def section(self, title: str) -> None:
        self.y -= 10
        h = self.s.section_size + 8
        self.c.setFillColor(_BAND)
        self.c.rect(self.left, self.y - h, self.right - self.left, h, stroke=0, fill=1)
        self.text(self.left + 6, self.y - h + 5, title, "Helvetica-Bold", self.s.section_size)
        self.y -= h + 6

    def centred(self, text: str, font: str, max_size: float) -> None:
        size = max_size
        while stringWidth(text, font, size) > self.right - self.left:
            size -= 0.25
        self.c.setFillColor(_INK)
        self.c.setFont(font, size)
        self.c.drawCentredString(_PAGE_W / 2, self.y - size, text)
        self.y -= size + 6

    def paragraph(self, text: str, size: float, font: str = "Helvetica") -> None:
        for line in simpleSplit(text, font, size, self.right - self.left):
            self.text(self.left, self.y - size, line, font, size)
            self.y -= size * 1.35

    # -- blocks ------------------------------------------------------------

    def rows(self, fields: tuple[tuple[str, str], ...]) -> None:
        if not self.s.labels_above:
            label_w = 205
            for name, label in fields:
                self.y -= self.s.row_height
                self.text(self.left + 4, self.y + 5, label)
                self.field(name, self.left + label_w, self.y + 1, self.right - self.left - label_w, 17)
            return
        # Two fields per row, label above; the last row's field may take the full width.
        gap, pairs = 14, [fields[i : i + 2] for i in range(0, len(fields), 2)]
        for pair in pairs:
            self.y -= self.s.row_height
            width = (self.right - self.left - gap * (len(pair) - 1)) / len(pair)
            for i, (name, label) in enumerate(pair):
                x = self.left + i * (width + gap)
                self.text(x, self.y + 20, label, size=self.s.label_size)
                self.field(name, x, self.y, width, 17)

    def relationships(self) -> None:
        self.y -= 18
        self.text(self.left + 4, self.y, RELATIONSHIP_LABEL, "Helvetica-Bold", self.s.label_size)
        items = list(RELATIONSHIP_LABELS.items())
        # Two columns filled row by row, so the text reads in SPEC order; the split differs by variant.
        width = self.right - self.left - 8
        lefts = (self.left + 8, self.left + 8 + width * self.s.relationship_split)
        box, step = 10, 15
        top = self.y - 6
        for i, (value, label) in enumerate(items):
            x, y = lefts[i % 2], top - (i // 2 + 1) * step
            self.checkbox(RELATIONSHIP_PREFIX + value, x, y, box)
            self.text(x + box + 5, y + 1.5, label, size=self.s.label_size)
        self.y = top - (-(-len(items) // 2)) * step - 4

    def closing(self) -> None:
        self.y -= 8
        self.paragraph(DECLARATIONS[self.form_type], self.s.label_size - 0.5)
        self.y -= 16
        half = (self.right - self.left) / 2
        box_w, box_h = half - 20, 70
        top = self.y
        self.text(self.left, top - 12, PLACE_DATE_LABEL)
        self.field(PLACE_DATE_FIELD, self.left, top - 38, box_w, 17)
        if self.s.signature_stacked:  # variant 1: the signature box below "Luogo e data", on the left
            sign_x, top = self.left, top - 52
        else:
            sign_x = self.right - box_w
        self.text(sign_x, top - 12, SIGNATURE_LABELS[self.form_type])
        self.c.setStrokeColor(_LINE)
        self.c.setLineWidth(1)
        self.c.rect(sign_x, top - 20 - box_h, box_w, box_h)
        self.signature_box = (sign_x, top - 20 - box_h, sign_x + box_w, top - 20)
        self.y = top - 20 - box_h - 16

    def draw(self) -> None:
        self.text(self.left, self.y - 8, "Regione Lombardia – spazioRegione", "Helvetica-Oblique", 8)
        self.y -= 22
        self.centred(COMMON_TITLE, "Helvetica-Bold", 10.5 if self.variant == 0 else 10)
        self.centred(FORM_TITLES[self.form_type], "Helvetica-Bold", 12.5 if self.variant == 0 else 11.5)
        self.section(HOLDER_SECTION)
        self.rows(HOLDER_FIELDS)
        if has_declarant(self.form_type):
            self.section(DECLARANT_SECTION)
            self.rows(DECLARANT_FIELDS)
            self.relationships()
        self.section(CONTACT_SECTION)
        self.rows(CONTACT_FIELDS)
        self.closing()
        self.paragraph(ATTACHMENTS_NOTE[self.form_type], 7.5, "Helvetica-Oblique")


def _render(form_type: str, variant: int, values: dict[str, str | bool] | None) -> tuple[bytes, _Page]:
    if form_type not in FORM_TYPES:
        raise ValueError(f"unknown form type {form_type!r}")
    if variant not in _STYLES:
        raise ValueError(f"unknown layout variant {variant!r}")
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)  # invariant: same bytes every time
    canvas.setTitle(f"{COMMON_TITLE} – {FORM_TITLES[form_type]}")
    canvas.setAuthor("Regione Lombardia – spazioRegione")
    page = _Page(canvas, form_type, variant, values)
    page.draw()
    canvas.showPage()
    canvas.save()
    return buf.getvalue(), page


def blank_form(form_type: str, variant: int = 0) -> bytes:
    """The fillable PDF (AcroForm) of that form."""
    return _render(form_type, variant, None)[0]


def signature_box(form_type: str, variant: int = 0) -> tuple[float, float, float, float]:
    """The signature box (x0, y0, x1, y1) in PDF points from the bottom-left corner of the A4 page."""
    return _render(form_type, variant, {})[1].signature_box


def write_forms(folder: str | Path, variant: int = 0) -> list[Path]:
    """Write the three fillable forms into `folder` (created if needed); return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for form_type in FORM_TYPES:
        path = folder / FILE_NAMES[form_type]
        path.write_bytes(blank_form(form_type, variant))
        paths.append(path)
    return paths


def _check_names(form_type: str, values: dict[str, str | bool]) -> None:
    unknown = set(values) - set(text_fields(form_type)) - set(checkbox_fields(form_type))
    if unknown:
        raise KeyError(f"not fields of the {form_type} form: {sorted(unknown)}")


def fill_form(form_type: str, values: dict[str, str | bool], *, flatten: bool, variant: int = 0) -> bytes:
    """The form with `values` filled in: text fields take strings, relationship boxes take booleans.

    `flatten=False` fills the AcroForm fields (NeedAppearances set and appearance
    streams generated, so every viewer shows the values); `flatten=True` returns
    what "print to PDF" gives: the values drawn as page text, no fields left.
    """
    _check_names(form_type, values)
    if flatten:
        return _render(form_type, variant, values)[0]
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(blank_form(form_type, variant))))
    writer.set_need_appearances_writer(True)
    texts = {k: str(v) for k, v in values.items() if not k.startswith(RELATIONSHIP_PREFIX)}
    boxes = {k: ("/Yes" if v else "/Off") for k, v in values.items() if k.startswith(RELATIONSHIP_PREFIX)}
    page = writer.pages[0]
    writer.update_page_form_field_values(page, {**texts, **boxes}, auto_regenerate=True)
    for annot in page.get("/Annots", []):  # pypdf sets /V; the box shows its state through /AS
        annot = annot.get_object()
        name = annot.get("/T")
        if name in boxes:
            annot[NameObject("/AS")] = NameObject(boxes[name])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()

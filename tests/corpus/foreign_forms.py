"""Fillable request forms drawn by another hand than verification.forms.layout's.

An office's older edition, or a copy remade in someone's office suite: the
SPEC wording (titles, sections, labels), but its own layout, fonts and field
names. Labels sit above their boxes in two columns, or beside them; tick
boxes come after their label; page A4 or Letter; field names are opaque
(`Testo12`), meaningful but not ours (`h_cognome`), with or without a
tooltip. The reader must read it by what the page says, not by how
verification.forms.layout draws or names it.
"""

from __future__ import annotations

import io
import random

from reportlab.lib.colors import Color, black, transparent
from reportlab.lib.pagesizes import A4, letter
from reportlab.pdfgen import canvas

from verification.forms import layout as forms

_FONTS = (("Times-Roman", "Times-Bold"), ("Helvetica", "Helvetica-Bold"), ("Courier", "Courier-Bold"))


class _Drawer:
    def __init__(self, rng: random.Random, form_type: str):
        self.rng = rng
        self.form_type = form_type
        self.page_size = rng.choice((A4, letter))
        self.w, self.h = self.page_size
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=self.page_size, invariant=1)
        self.font, self.bold = rng.choice(_FONTS)
        self.names = rng.choice(("opaque", "meaningful"))
        self.tooltips = rng.random() < 0.5
        self.beside = rng.random() < 0.4  # labels beside the boxes, else above them
        self.ink = Color(*rng.choice(((0.1, 0.1, 0.1), (0.05, 0.15, 0.35), (0.3, 0.1, 0.1))))
        self.y = self.h - 50
        self.n = rng.randrange(1, 30)

    def name(self, section: str, label: str) -> str:
        self.n += 1
        if self.names == "opaque":
            return f"Testo{self.n}"
        return f"{section.split()[-1][:4].lower()}_{label.split()[0].lower()}_{self.n}"

    def text(self, x: float, y: float, text: str, size: float = 9, bold: bool = False) -> None:
        self.c.setFillColor(self.ink)
        self.c.setFont(self.bold if bold else self.font, size)
        self.c.drawString(x, y, text)

    def field(self, section: str, label: str, value: str, x: float, width: float) -> None:
        if self.beside:
            self.text(x, self.y, label)
            bx = x + self.c.stringWidth(label, self.font, 9) + 6
            box = (bx, self.y - 4, max(60.0, x + width - bx), 15)
        else:
            self.text(x, self.y, label)
            box = (x, self.y - 20, width, 15)
        self.c.setStrokeColor(self.ink)
        self.c.rect(*box, stroke=1, fill=0)
        self.c.acroForm.textfield(name=self.name(section, label), value=value or "",
                                  tooltip=label if self.tooltips else None, x=box[0], y=box[1], width=box[2],
                                  height=box[3], borderWidth=0, fillColor=transparent, textColor=black,
                                  fontName="Helvetica", fontSize=9)

    def section(self, title: str, fields: list[tuple[str, str]]) -> None:
        self.y -= 8
        self.text(40, self.y, title, 10, bold=True)
        self.y -= 22
        half = (self.w - 80) / 2
        for i in range(0, len(fields), 2):
            for col, (label, value) in enumerate(fields[i:i + 2]):
                self.field(title, label, value, 40 + col * (half + 10), half - 20)
            self.y -= 26 if self.beside else 36

    def ticks(self, chosen: str | None) -> None:
        self.text(40, self.y, forms.RELATIONSHIP_LABEL)
        self.y -= 18
        x = 40.0
        for code, label in forms.RELATIONSHIP_LABELS.items():
            width = self.c.stringWidth(label, self.font, 9) + 26
            if x + width > self.w - 40:
                x, self.y = 40.0, self.y - 18
            self.text(x, self.y, label)
            bx = x + width - 20
            self.c.rect(bx, self.y - 2, 10, 10, stroke=1, fill=0)
            self.c.acroForm.checkbox(name=self.name("rapporto", "casella"), checked=code == chosen, x=bx,
                                     y=self.y - 2, size=10, borderWidth=0, fillColor=transparent,
                                     buttonStyle="check", tooltip=label if self.tooltips else None)
            x += width + 8
        self.y -= 28

    def closing(self, place_date: str, signed: bool) -> None:
        self.c.setFont(self.font, 7)
        words, line = forms.DECLARATIONS[self.form_type].split(), ""
        for word in words:
            if self.c.stringWidth(f"{line} {word}", self.font, 7) > self.w - 80:
                self.text(40, self.y, line, 7)
                self.y, line = self.y - 10, word
            else:
                line = f"{line} {word}".strip()
        self.text(40, self.y, line, 7)
        self.y -= 30
        self.field("firma", forms.PLACE_DATE_LABEL, place_date, 40, 200)
        label = forms.SIGNATURE_LABELS[self.form_type]
        self.text(320, self.y, label)
        box = (320, self.y - 60, 200, 50)
        self.c.rect(*box, stroke=1, fill=0)
        if signed:  # pen strokes, as a PDF editor's "sign" tool draws them
            self.c.setStrokeColor(Color(0.08, 0.12, 0.45))
            path = self.c.beginPath()
            x, y = box[0] + 15, box[1] + 20
            path.moveTo(x, y)
            for _ in range(14):
                x += self.rng.uniform(6, 12)
                path.lineTo(x, box[1] + self.rng.uniform(8, 42))
            self.c.drawPath(path, stroke=1, fill=0)

    def pdf(self) -> bytes:
        self.c.save()
        return self.buf.getvalue()


def foreign_fillable(form_type: str, values: dict, *, signed: bool, rng: random.Random) -> bytes:
    """The form filled in another hand's fillable PDF; `values` by verification.forms.layout field names."""
    d = _Drawer(rng, form_type)
    d.text(40, d.y, forms.COMMON_TITLE, 9)
    d.y -= 22
    d.text(40, d.y, forms.FORM_TITLES[form_type], 12, bold=True)
    d.y -= 24
    d.section(forms.HOLDER_SECTION, [(label, str(values.get(name, ""))) for name, label in forms.HOLDER_FIELDS])
    if forms.has_declarant(form_type):
        d.section(forms.DECLARANT_SECTION,
                  [(label, str(values.get(name, ""))) for name, label in forms.DECLARANT_FIELDS])
        chosen = next((name.removeprefix(forms.RELATIONSHIP_PREFIX) for name, v in values.items()
                       if name.startswith(forms.RELATIONSHIP_PREFIX) and v is True), None)
        d.ticks(chosen)
    d.section(forms.CONTACT_SECTION, [(label, str(values.get(name, ""))) for name, label in forms.CONTACT_FIELDS])
    d.closing(str(values.get(forms.PLACE_DATE_FIELD, "")), signed)
    return d.pdf()

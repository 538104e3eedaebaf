"""Fillable forms made by someone else's tool: other layouts, opaque field names, with or without tooltips.

Offices change their forms and citizens fill old copies: the widgets are
called whatever the author's tool called them (`Testo12`, `h_cognome`). Each
value must be read by the label printed beside or above its widget, inside
its section, as a person reading the page would. The forms here are drawn in
this file, in layouts verification.forms.layout never draws: labels above the
boxes in two columns, and labels beside boxes with the tick box after its
label.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from reportlab.lib.colors import black, transparent
from reportlab.lib.pagesizes import A4, letter
from reportlab.pdfgen import canvas

from verification.forms import layout as forms
from verification.forms.pdf_reader import read_form_pdf

HOLDER = {"Cognome": "RUSSO", "Nome": "ENRICO", "Codice fiscale": "RSSNRC62R10F133Z",
          "Data di nascita": "10/10/1962", "Luogo di nascita": "MERATE (LC)",
          "Numero identificativo della tessera": "80380977255372667228",
          "Data di scadenza della tessera": "21/01/2031"}
DECLARANT = {"Cognome": "FARINA", "Nome": "CATERINA", "Codice fiscale": "FRNCRN59E62A794U",
             "Data di nascita": "22/05/1959"}
CONTACT = {"Cellulare": "+39 345 4324324", "E-mail": "caterina.farina@example.net"}


class _Drawer:
    def __init__(self, page_size, names: str, tooltips: bool):
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=page_size)
        self.w, self.h = page_size
        self.y = self.h - 60
        self.n = 0
        self.names, self.tooltips = names, tooltips

    def name(self, section: str, label: str) -> str:
        self.n += 1
        if self.names == "opaque":
            return f"Testo{self.n + 11}"
        return f"{section[0].lower()}_{label.split()[0].lower()}{self.n}"  # meaningful, not ours

    def title(self, text: str, size: float = 13) -> None:
        self.c.setFont("Times-Bold", size)
        self.c.drawString(40, self.y, text)
        self.y -= 26

    def field(self, section: str, label: str, value: str, x: float, y: float, width: float) -> None:
        self.c.setFont("Times-Roman", 9)
        self.c.drawString(x, y, label)
        self.c.rect(x, y - 20, width, 15, stroke=1, fill=0)  # the box under its label
        self.c.acroForm.textfield(name=self.name(section, label), value=value,
                                  tooltip=label if self.tooltips else None, x=x, y=y - 20, width=width, height=15,
                                  borderWidth=0, fillColor=transparent, textColor=black, fontName="Courier",
                                  fontSize=9)

    def two_columns(self, section: str, fields: dict[str, str]) -> None:
        self.title(section, 10)
        items = list(fields.items())
        for i in range(0, len(items), 2):
            for col, (label, value) in enumerate(items[i:i + 2]):
                self.field(section, label, value, 40 + col * (self.w / 2 - 20), self.y, self.w / 2 - 70)
            self.y -= 34

    def tick(self, section: str, label: str, checked: bool, x: float, y: float) -> float:
        """The label first, then its box (the other way round from ours); returns the next x."""
        self.c.setFont("Times-Roman", 9)
        self.c.drawString(x, y, label)
        bx = x + self.c.stringWidth(label, "Times-Roman", 9) + 4
        self.c.rect(bx, y - 2, 10, 10)
        self.c.acroForm.checkbox(name=self.name(section, "casella"), checked=checked, x=bx, y=y - 2, size=10,
                                 tooltip=None, borderWidth=0, fillColor=transparent, buttonStyle="check")
        return bx + 22

    def pdf(self, form_type: str) -> bytes:
        self.y -= 10
        self.c.setFont("Times-Roman", 8)
        self.c.drawString(40, self.y, forms.DECLARATIONS[form_type][:110])
        self.y -= 40
        self.c.drawString(40, self.y, forms.PLACE_DATE_LABEL)
        self.c.drawString(320, self.y, forms.SIGNATURE_LABELS[form_type])
        self.c.save()
        return self.buf.getvalue()


def _delegate_form(page_size, names: str, tooltips: bool, relationship: str) -> bytes:
    d = _Drawer(page_size, names, tooltips)
    d.title("REGIONE LOMBARDIA – spazioRegione", 9)
    d.title(forms.FORM_TITLES["delegate"])
    d.two_columns(forms.HOLDER_SECTION, HOLDER)
    d.two_columns(forms.DECLARANT_SECTION, DECLARANT)
    d.c.setFont("Times-Roman", 9)
    d.c.drawString(40, d.y, forms.RELATIONSHIP_LABEL)
    d.y -= 16
    x = 40.0
    for code, label in list(forms.RELATIONSHIP_LABELS.items())[:5]:
        x = d.tick(forms.DECLARANT_SECTION, label, code == relationship, x, d.y)
    d.y -= 26
    d.two_columns(forms.CONTACT_SECTION, CONTACT)
    return d.pdf("delegate")


@pytest.mark.parametrize("names,tooltips,page_size", [
    ("opaque", False, A4), ("opaque", True, letter), ("meaningful", False, A4)])
def test_values_are_read_by_the_labels_printed_above_their_boxes(names, tooltips, page_size):
    reading = read_form_pdf(_delegate_form(page_size, names, tooltips, "parent"), "modulo.pdf")

    assert reading is not None and reading.method == "fields"
    ev = reading.evidence
    assert ev.form_type == "delegate"
    assert (ev.holder.surname, ev.holder.given_names, ev.holder.codice_fiscale) == ("RUSSO", "ENRICO", HOLDER["Codice fiscale"])
    assert ev.holder.birth_date == date(1962, 10, 10)
    # the declarant's values stay the declarant's: the sections bound the labels, not the field names
    assert (ev.declarant.surname, ev.declarant.codice_fiscale) == ("FARINA", DECLARANT["Codice fiscale"])
    assert ev.declarant.birth_date == date(1959, 5, 22)
    assert ev.phone == "+393454324324"
    assert ev.email == CONTACT["E-mail"]
    assert ev.relationship == "parent"


def test_the_ticked_box_is_the_one_beside_its_label():
    for relationship in ("spouse", "sibling"):
        reading = read_form_pdf(_delegate_form(A4, "opaque", False, relationship), "modulo.pdf")
        assert reading.evidence.relationship == relationship


def test_an_unfilled_foreign_form_has_no_values():
    d = _Drawer(A4, "opaque", False)
    d.title(forms.FORM_TITLES["direct"])
    d.two_columns(forms.HOLDER_SECTION, {label: "" for label in HOLDER})
    d.two_columns(forms.CONTACT_SECTION, {label: "" for label in CONTACT})
    reading = read_form_pdf(d.pdf("direct"), "modulo.pdf")

    assert reading is not None and reading.evidence.form_type == "direct"
    assert reading.evidence.holder.codice_fiscale is None and reading.evidence.phone is None

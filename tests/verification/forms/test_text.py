"""The pure part of form reading: titles, labels on positioned words, values."""

from __future__ import annotations

from datetime import date

import pytest

from verification.forms import layout as forms
from verification.forms.labels import read_labels
from verification.forms.marks import best_tick
from verification.forms.text import (
    Box,
    classify_form_text,
    is_form_text,
    parse_cf,
    parse_date,
    parse_email,
    parse_phone,
)

TITLE = forms.COMMON_TITLE


@pytest.mark.parametrize(("text", "form_type"), [
    (f"{TITLE}\nMODULO DI ATTIVAZIONE DIRETTA\nDATI DEL TITOLARE", "direct"),
    ("Modulo delegato - impedimento temporaneo per motivi di salute", "delegate"),
    ("MODULO DELEGATO — IMPEDIMENTO TEMPORANE0 PER MOTIVl Dl SALUTE", "delegate"),  # OCR slips, em dash
    ("MODULO GENITORE/TUTORE – TITOLARE MINORENNE O TUTELATO", "guardian"),
    ("modulo genitore / tutore - titolare minorenne o tutelato", "guardian"),
    ("MODULO GENITORE ITUTORE — TITOLARE MINORENNE 0 TUTELATO", "guardian"),
    ("Rapporto con il titolare: genitore, tutore, altro", None),  # the tick labels are not the title
    ("TESSERA SANITARIA Carta Nazionale dei Servizi", None),
])
def test_classify_form_text(text, form_type):
    assert classify_form_text(text) == form_type


@pytest.mark.parametrize(("text", "expected"), [
    (TITLE, True),
    ("RICHIESTA DEI CODICI PIN/PUK DELLA TESSERA SANITARIA - CARTA NAZIONALE DEI SERVIZI (TS-CNS)", True),
    ("richiesta dei codici pin/puk della tessera sanitaria – carta nazionale dei servizi (ts-cns)", True),
    ("RlCHIESTA DEl CODICI PIN/PUK DELLA TESSERA SANlTARIA", True),
    ("MODULO DI ATTIVAZIONE DIRETTA", True),
    ("TESSERA SANITARIA - CARTA NAZIONALE DEI SERVIZI  Codice fiscale RSSMRA58C14F205N", False),
    ("REPUBBLICA ITALIANA CARTA DI IDENTITÀ", False),
    ("", False),
])
def test_is_form_text(text, expected):
    assert is_form_text(text) is expected


def _words(rows: list[list[tuple[float, str]]], line_height: float = 20, char: float = 6) -> list[Box]:
    """Positioned words from rows of (x, text): each text split into words laid out left to right."""
    boxes = []
    for i, row in enumerate(rows):
        top = 100 + i * line_height
        for x, text in row:
            for word in text.split():
                boxes.append(Box(word, x, top, x + char * len(word), top + 10))
                x += char * (len(word) + 1)
    return boxes


def test_labels_with_colons_and_values_on_the_same_line():
    """A third layout: "Label: value" runs, two per line, OCR-ish case and spacing."""
    rows = [
        [(10, "DATI DEL TITOLARE DELLA TESSERA")],
        [(10, "Cognome: DE LUCA"), (300, "Nome: GIAN MARIA")],
        [(10, "Codice fiscale: DLCGMR80A01F2O5D"), (300, "Data di nascita: 1/1/1980")],
        [(10, "Luogo di nascita: Milano")],
        [(10, "RECAPITI PER L'INVIO DELLA SECONDA PARTE DEI CODICI")],
        [(10, "Cellulare: 333.123.45.67"), (300, "E-mail: gm.deluca @ example.it")],
    ]
    labelled = read_labels(_words(rows), "direct")
    assert labelled.values["holder_surname"] == "DE LUCA"
    assert labelled.values["holder_given_names"] == "GIAN MARIA"
    assert labelled.values["holder_birth_place"] == "Milano"
    assert parse_cf(labelled.values["holder_codice_fiscale"]) == "DLCGMR80A01F205D"
    assert parse_date(labelled.values["holder_birth_date"]) == date(1980, 1, 1)
    assert parse_phone(labelled.values["phone"]) == "+393331234567"
    assert parse_email(labelled.values["email"]) == "gm.deluca@example.it"


def test_empty_value_does_not_borrow_the_next_label_or_value():
    rows = [
        [(10, "DATI DEL TITOLARE DELLA TESSERA")],
        [(10, "Cognome")],
        [(10, "Nome"), (200, "Mario")],
        [(10, "RECAPITI PER L'INVIO DELLA SECONDA PARTE DEI CODICI")],
        [(10, "Cellulare"), (200, "3331234567")],
        [(10, "E-mail")],
    ]
    labelled = read_labels(_words(rows), "direct")
    assert "holder_surname" not in labelled.values
    assert labelled.values["holder_given_names"] == "Mario"
    assert "email" not in labelled.values


def test_holder_and_declarant_labels_are_told_apart_by_section():
    rows = [
        [(10, "DATI DEL TITOLARE DELLA TESSERA")],
        [(10, "Cognome"), (200, "Rossi")],
        [(10, "DATI DEL DICHIARANTE")],
        [(10, "Cognome"), (200, "Bianchi")],
        [(10, "Rapporto con il titolare")],
        [(10, "coniuge"), (200, "figlio/figlia")],
    ]
    labelled = read_labels(_words(rows), "delegate")
    assert labelled.values["holder_surname"] == "Rossi"
    assert labelled.values["declarant_surname"] == "Bianchi"
    assert set(labelled.relationship_labels) == {"spouse", "child"}


@pytest.mark.parametrize(("text", "expected"), [
    ("14/03/1958", date(1958, 3, 14)),
    ("14.3.1958", date(1958, 3, 14)),
    ("(gg/mm/aaaa) 02-07-1961", date(1961, 7, 2)),
    ("l4/O3/1958", date(1958, 3, 14)),
    ("31/02/1958", None),
    ("", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("333 123 4567", "+393331234567"),
    ("+39 347 765 4321", "+393477654321"),
    ("0039 320 111 2233", "+393201112233"),
    ("347/7654321", "+393477654321"),
    ("02 1234 5678", "+390212345678"),  # a landline is still a number; the rules decide
    ("telefono", None),
])
def test_parse_phone(text, expected):
    assert parse_phone(text) == expected


def test_parse_cf_repairs_ocr_slips_confirmed_by_the_check_character():
    assert parse_cf("BNCNMR61L42B1570") == "BNCNMR61L42B157O"
    assert parse_cf("rss mra 58c14 f205n") == "RSSMRA58C14F205N"
    assert parse_cf("RSSMRA58C14F205X") == "RSSMRA58C14F205X"  # as written: the rules say cf_invalid


def test_best_tick():
    assert best_tick({"spouse": 0.4, "child": 0.01}) == "spouse"
    assert best_tick({"spouse": 0.4, "child": 0.35}) is None  # two boxes ticked
    assert best_tick({"spouse": 0.4, "child": 0.13}) == "spouse"  # a smudge beside a cross
    assert best_tick({"spouse": 0.02}) is None


@pytest.mark.parametrize("threshold", [0.0, 0.6, 0.74, 0.8])
def test_similar_is_difflibs_ratio_with_its_cheap_bounds(threshold):
    """The cached, matcher-free bounds give exactly what SequenceMatcher's three ratios gave."""
    import random
    from difflib import SequenceMatcher

    from verification.forms.text import _similar

    rng = random.Random(7)
    words = ["COGNOME", "NOME", "C0GNOME", "DATA", "NASCITA", "DATADINASCITA", "", "A", "TESSERA", "TESSFRA"]
    pairs = [(a, b) for a in words for b in words]
    pairs += [("".join(rng.choice("ACDEIMNOST") for _ in range(rng.randint(0, 12))),
               "".join(rng.choice("ACDEIMNOST") for _ in range(rng.randint(1, 12)))) for _ in range(400)]
    for a, b in pairs:
        matcher = SequenceMatcher(None, a, b, autojunk=False)
        if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
            expected = 0.0
        else:
            expected = matcher.ratio()
        assert _similar(a, b, threshold) == expected, (a, b)

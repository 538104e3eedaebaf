"""names.py: when two written names can be the same person's."""

from __future__ import annotations

import pytest

from verification.names import name_tokens, names_compatible


def test_tokens():
    assert name_tokens("D'Angelo-Rossi") == ("DANGELO", "ROSSI")
    assert name_tokens("Nicolò") == name_tokens("NICOLO'") == ("NICOLO",)
    assert name_tokens("ROSSI<<BIANCA<MARIA") == ("ROSSI", "BIANCA", "MARIA")
    assert name_tokens(None) == ()


@pytest.mark.parametrize(
    "a, b",
    [
        (("Rossi", "Mario"), ("ROSSI", "MARIO")),
        (("Rossi", "Mario"), ("Mario", "Rossi")),
        (("De Luca", "Anna"), ("DELUCA", "ANNA")),
        (("Rossi Bianchi", "Anna"), ("Bianchi", "Anna")),
        (("Verdi", "Anna Maria"), ("Verdi", "Maria")),
        (("Verdi", None), ("VERDI", "ANNA")),
    ],
)
def test_compatible(a, b):
    assert names_compatible(*a, *b)
    assert names_compatible(*b, *a)


@pytest.mark.parametrize(
    "a, b",
    [
        (("Rossi", "Mario"), ("Bianchi", "Mario")),
        (("Rossi", "Mario"), ("Rossi", "Luigi")),
        (("Rossi", "Maria Antonietta"), ("ROSSI", "MARIA ANTON")),  # a prefix only counts for the MRZ
    ],
)
def test_incompatible(a, b):
    assert not names_compatible(*a, *b)


def test_mrz_truncation_is_allowed_on_request():
    assert names_compatible("Rossi", "Maria Antonietta", "ROSSI", "MARIA ANTON", allow_prefix=True)
    assert not names_compatible("Rossi", "Maria", "ROSSI", "LUCIA", allow_prefix=True)
    # A long name cut down to an initial (ICAO 9303 part 3, 4.6).
    assert names_compatible("DELL'ORTO", "CARLO ALBERTO GIOVANNI", "DELLORTO", "CARLO A", allow_prefix=True)
    assert not names_compatible("DELL'ORTO", "CARLO ALBERTO GIOVANNI", "DELLORTO", "CARLO A")


def test_ocr_slips_are_tolerated_only_when_asked_and_only_a_few():
    from verification.names import edit_distance, names_compatible

    assert edit_distance("GRAZIA", "GRAII") == 2
    assert names_compatible("DE LUCA BRAMBILLA", "MARIA GRAZIA", "E LUCA BRAMBILLA", "MARIA GRAII", ocr=True)
    assert not names_compatible("DE LUCA BRAMBILLA", "MARIA GRAZIA", "E LUCA BRAMBILLA", "MARIA GRAII")
    # Another person's name is not an OCR slip.
    assert not names_compatible("ROSSI", "MARIO", "ROSSI", "GIUSEPPE", ocr=True)
    assert not names_compatible("ROSSI", "MARIO", "BIANCHI", "MARIO", ocr=True)
    # The MRZ's legacy OCR lost the first letter and misread the next one.
    assert names_compatible("DI STEFANO", "FEDERICA", "U STEFANO", "FEDERICA", ocr=True)
    assert not names_compatible("DI STEFANO", "FEDERICA", "DI STEFANO", "FABRIZIO", ocr=True)

"""The codice fiscale barcode: Code 39 and Code 128 through zxing-cpp."""

from __future__ import annotations

import random

import numpy as np
import pytest
import zxingcpp

from tests.verification import card_cases as cc
from verification.barcode import read_barcodes, read_cf_barcodes
from verification.imaging import find_cards

CF = "RSSMRA80A01F205X"


def barcode(text: str, fmt=zxingcpp.BarcodeFormat.Code39, scale: int = 2) -> np.ndarray:
    bars = np.asarray(zxingcpp.create_barcode(text, fmt).to_image(scale=scale))
    return np.pad(bars, 40, constant_values=255)


@pytest.mark.parametrize("fmt", [zxingcpp.BarcodeFormat.Code39, zxingcpp.BarcodeFormat.Code128])
def test_cf_barcode_is_read(fmt):
    assert read_cf_barcodes(barcode(CF, fmt)) == [CF]


def test_only_codes_shaped_like_a_cf_are_kept():
    img = np.hstack([barcode("SSN-500001"), barcode(CF)])
    assert "SSN-500001" in read_barcodes(img)
    assert read_cf_barcodes(img) == [CF]


def test_a_wrong_check_character_is_returned_as_read():
    wrong = CF[:15] + "Y"
    assert read_cf_barcodes(barcode(wrong)) == [wrong]  # the rules flag cf_invalid


def test_barcode_on_photographed_cards():
    for doc_type in ("cie", "ts_cns"):
        card = find_cards(cc.captured(doc_type, "back", "photo"))[0]
        assert read_cf_barcodes(card.image) == [cc.expected(doc_type)["codice_fiscale"]]


def test_no_barcode():
    rng = np.random.default_rng(random.Random(1).randrange(100))
    assert read_cf_barcodes(rng.integers(0, 255, (200, 300), dtype=np.uint8)) == []


def test_bars_must_stand_upright():
    """Cards are read landscape, their barcodes across: a barcode turned a quarter is not looked for."""
    upright = barcode(CF)
    assert read_cf_barcodes(upright[::-1, ::-1]) == [CF]  # upside down reads
    assert read_cf_barcodes(np.ascontiguousarray(np.rot90(upright))) == []

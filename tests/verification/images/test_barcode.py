"""The codice fiscale barcode: Code 39 and Code 128 through zxing-cpp."""

from __future__ import annotations

import random

import numpy as np
import pytest
import zxingcpp

from tests.verification.cards import cases as cc
from verification.images.barcode import read_barcodes, read_cf_barcodes, read_fine_cf_barcodes
from verification.cards.find import find_cards

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


def test_bars_scanned_too_fine_read_drawn_wider():
    """A CIE back's bars (2 px a module at 300 dpi) scanned at 200 dpi: a module in 1.33 px, the narrow
    bars blurred to grey, where zxing often finds nothing; twice as wide and sharpened, they read."""
    import cv2

    from tests.corpus.drawing import code39

    drawn = np.asarray(code39(CF, narrow=2, wide=5, height=64, quiet=16).convert("L"))
    plain = []
    for shift in np.linspace(0, 1, 8, endpoint=False):  # where the bars fall on the scanner's pixels
        moved = cv2.warpAffine(drawn, np.float32([[1, 0, shift], [0, 1, 0]]), drawn.shape[::-1], borderValue=255)
        scanned = cv2.GaussianBlur(cv2.resize(moved, None, fx=2 / 3, fy=2 / 3, interpolation=cv2.INTER_AREA),
                                   (0, 0), 0.5)
        scanned = np.pad(scanned, 20, constant_values=235)  # on the card's light grey
        plain.append(read_cf_barcodes(scanned) == [CF])
        assert read_fine_cf_barcodes(scanned) == [CF], shift
    assert not all(plain)  # else this would show nothing

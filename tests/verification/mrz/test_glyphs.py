"""The MRZ read by matching OCR-B glyphs: clean, blurred and slanted bands, cut edges, and what is no MRZ."""

from __future__ import annotations

from datetime import date

import cv2
import numpy as np
import pytest

from tests.verification.images.test_ocr import OCRB, SANS, text_image
from verification.cards import side as cards
from verification.mrz import glyphs as mrz_glyphs
from verification.cards.regions import Sheet
from verification.mrz.build import make_td1, make_td3

TODAY = date(2026, 11, 26)


def td1(surname: str = "ROSSI", given: str = "MARIO", number: str = "CA12345AB") -> tuple[str, ...]:
    return make_td1(number=number, birth_date=date(1958, 3, 14), sex="M", expiry=date(2031, 5, 1),
                    surname=surname, given_names=given)


def td3(surname: str = "BRAMBILLA", given: str = "ANNA MARIA") -> tuple[str, ...]:
    return make_td3(number="YA1234567", birth_date=date(1990, 12, 1), sex="F", expiry=date(2033, 2, 28),
                    surname=surname, given_names=given)


def band(lines: tuple[str, ...]) -> np.ndarray:
    return text_image(list(lines), OCRB, 41, pitch=30)  # ICAO's pitch (2.54 mm) at 300 dpi


def photographed(img: np.ndarray, seed: int = 0) -> np.ndarray:
    """Blurred, noisy and a degree off level: a phone's picture of the band."""
    h, w = img.shape
    turned = cv2.warpAffine(img, cv2.getRotationMatrix2D((w / 2, h / 2), 1.0, 1.0), (w, h), borderValue=255)
    blurred = cv2.GaussianBlur(turned, (0, 0), 1.6).astype(np.int16)
    noise = np.random.default_rng(seed).normal(0, 12, img.shape)
    return np.clip(blurred + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("lines", [td1(), td1("D ANGELO", "PIER PAOLO", "CQ98968BL"), td3()],
                         ids=["td1", "td1-long-names", "td3"])
def test_a_printed_mrz_reads_exactly(lines):
    reading = mrz_glyphs.read_glyphs(band(lines))
    assert reading is not None
    assert reading.lines == list(lines)


def test_a_blurred_slanted_noisy_band_still_verifies():
    lines = td1("FUMAGALLI", "GIULIA", "CS26344BI")
    mrz = cards._read_mrz_glyphs(photographed(band(lines)), TODAY)
    assert mrz is not None and mrz.valid
    assert (mrz.surname, mrz.given_names, mrz.number) == ("FUMAGALLI", "GIULIA", "CS26344BI")


def test_glyphs_cut_by_the_band_edge_keep_every_line_on_one_grid():
    """The card warped tight to its print: the first column cut down to slivers, too small to count
    as glyphs. The lines must still start at the first column, not at the second."""
    lines = td1("COSTA", "CHIARA", "CB11111AA")
    img = band(lines)
    cols = np.flatnonzero((img < 128).any(axis=0))
    cut = img[:, cols[0] + 12 :]
    reading = mrz_glyphs.read_glyphs(cut)
    assert reading is not None
    assert [line[1:] for line in reading.lines] == [line[1:] for line in lines]
    mrz = cards._read_mrz_glyphs(cut, TODAY)
    assert mrz is not None and mrz.valid and mrz.number == "CB11111AA" and mrz.surname == "COSTA"


def test_a_close_call_is_settled_by_the_check_digits(monkeypatch):
    """A cell read wrong whose second choice makes every check digit verify: the second choice is kept."""
    lines = td1()
    reading = mrz_glyphs.read_glyphs(band(lines))
    wrong = reading.lines[1][:3] + ("7" if reading.lines[1][3] != "7" else "1") + reading.lines[1][4:]
    doubt = mrz_glyphs.Doubt(0.001, 1, 3, reading.lines[1][3])
    monkeypatch.setattr(cards, "read_glyphs",
                        lambda rows: mrz_glyphs.GlyphReading([reading.lines[0], wrong, reading.lines[2]], [doubt]))
    mrz = cards._read_mrz_glyphs(band(lines), TODAY)
    assert mrz is not None and mrz.valid and mrz.birth_date == date(1958, 3, 14)


def test_positions_allow_what_icao_puts_there():
    first, second, names = mrz_glyphs.allowed(30)
    assert first[0] == "ACI" and first[14] == "0123456789<"
    assert second[0] == second[29] == "0123456789" and second[7] == "MF<"
    assert set(names) == {mrz_glyphs.LETTERS}
    top, bottom = mrz_glyphs.allowed(44)
    assert top[0] == "P" and bottom[43] == "0123456789" and bottom[42] == "0123456789<"


def test_text_that_is_no_mrz_reads_as_nothing():
    assert mrz_glyphs.read_glyphs(text_image(["COGNOME / SURNAME", "ROSSI", "NOME / NAME", "MARIO"], SANS)) is None
    assert mrz_glyphs.read_glyphs(np.full((120, 900), 255, np.uint8)) is None
    assert mrz_glyphs.read_glyphs(band(td1())[:, :200]) is None  # a few glyphs: no line of 30


def test_whatever_the_band_holds_it_reads_or_says_nothing():
    """Bands that pass for an MRZ's from afar (rows of specks, bars, fillers alone) never raise."""
    rng = np.random.default_rng(5)
    bands = [rng.integers(0, 256, (150, 900), dtype=np.uint8) for _ in range(5)]
    bands.append(band(("<" * 30,) * 3))
    bars = np.full((150, 900), 255, np.uint8)
    for y in (20, 70, 120):
        for x in range(30, 880, 30):
            bars[y : y + 25, x : x + 4] = 0
    bands.append(bars)
    bands.append(cv2.resize(band(td1()), (900, 40)))  # squashed flat
    for img in bands:
        reading = mrz_glyphs.read_glyphs(img)
        assert reading is None or all(len(line) == 30 for line in reading.lines)


def test_without_the_font_tesseract_reads_the_mrz(monkeypatch):
    monkeypatch.setattr(mrz_glyphs, "FONT", mrz_glyphs.FONT.with_name("missing.otf"))
    mrz_glyphs._templates.cache_clear()
    try:
        assert mrz_glyphs.read_glyphs(band(td1())) is None
        img = cv2.cvtColor(band(td1()), cv2.COLOR_GRAY2BGR)
        sheet = Sheet(img)
        mrz = cards._read_mrz(sheet, ("bottom", (0, 0, img.shape[1], img.shape[0])), TODAY)
        assert mrz is not None and mrz.valid and mrz.surname == "ROSSI"
    finally:
        mrz_glyphs._templates.cache_clear()


def test_the_font_is_installed():
    """scripts/setup installs fonts-ocr-b: without it every MRZ costs tesseract's ~50 ms."""
    assert mrz_glyphs.FONT.exists()


def in_perspective(img: np.ndarray, slant: float, growth: float) -> np.ndarray:
    """The band as a card warped from an outline a little off leaves it: dropping `slant` of its height
    from end to end, its right end `growth` taller than its left (the glyphs grow along the line)."""
    h, w = img.shape
    source = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    target = np.float32([[0, 0], [w, slant * h], [w, (slant + 1 + growth) * h], [0, h]])
    size = (w, int((1 + slant + growth) * h) + 2)
    return cv2.warpPerspective(img, cv2.getPerspectiveTransform(source, target), size, borderValue=255)


def test_a_band_left_in_perspective_keeps_its_lines_and_cells():
    """Lines that drop by more than their spacing from end to end are still told apart, and cells that
    widen along the line still fall on their glyphs (a straight grid missed both ends by half a cell)."""
    lines = td1("VITALE", "GIULIA", "CP76999NW")
    img = in_perspective(band(lines), slant=0.25, growth=0.12)
    reading = mrz_glyphs.read_glyphs(img)
    assert reading is not None
    assert reading.lines == list(lines)

"""Tesseract on small regions: both engines, the MRZ model, boxes in image coordinates."""

from __future__ import annotations

import os
import shutil
from datetime import date

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from verification.images import ocr
from verification.mrz.build import make_td1, make_td3
from verification.mrz.lines import find_mrz

SANS = "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"
OCRB = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"


def text_image(lines: list[str], font: str = SANS, size: int = 30, pitch: int | None = None) -> np.ndarray:
    face = ImageFont.truetype(font, size)
    width = max(int(face.getlength(line)) for line in lines) + 60
    image = Image.new("L", (width, len(lines) * int(size * 1.6) + 30), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        y = 15 + i * int(size * 1.6)
        if pitch:  # OCR-B in the MRZ: one character every `pitch` px
            for j, char in enumerate(line):
                draw.text((30 + j * pitch, y), char, font=face, fill=0)
        else:
            draw.text((30, y), line, font=face, fill=0)
    return np.asarray(image)


def test_thread_limit_is_set_for_every_call():
    assert os.environ["OMP_THREAD_LIMIT"] == "1"


def test_ocr_text_reads_italian_wording():
    text = ocr.ocr_text(text_image(["TESSERA SANITARIA", "Carta Nazionale dei Servizi"]))
    assert "TESSERA SANITARIA" in text and "Nazionale" in text


def test_ocr_words_boxes_are_in_image_coordinates():
    img = text_image(["SCADENZA 01.05.2031"])
    words = ocr.ocr_words(img)
    assert [w.text for w in words] == ["SCADENZA", "01.05.2031"]
    first = words[0]
    assert 25 <= first.x <= 40 and 10 <= first.y <= 30 and first.conf > 80
    assert words[1].x > first.x + first.w


def test_whitelist():
    assert ocr.ocr_text(text_image(["80380 00001"]), psm=7, whitelist="0123456789").replace(" ", "").strip() == "8038000001"


@pytest.mark.parametrize("td", ["TD1", "TD3"])
def test_ocr_mrz_reads_ocr_b_with_the_legacy_engine(td):
    birth, expiry = date(1958, 3, 14), date(2031, 5, 1)
    if td == "TD1":
        lines = make_td1(number="CA12345AB", birth_date=birth, sex="M", expiry=expiry, surname="ROSSI",
                         given_names="MARIO")
    else:
        lines = make_td3(number="YA1234567", birth_date=birth, sex="M", expiry=expiry, surname="ROSSI",
                         given_names="MARIO")
    read = ocr.ocr_mrz(text_image(list(lines), OCRB, 41, pitch=30))  # ICAO pitch 2.54 mm at 300 dpi
    mrz = find_mrz(read, date(2026, 11, 26))
    assert mrz is not None and mrz.valid and mrz.format == td
    assert (mrz.birth_date, mrz.expiry, mrz.surname) == (birth, expiry, "ROSSI")


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="no tesseract binary")
def test_the_subprocess_engine_reads_the_same():
    img = text_image(["CARTA DI IDENTITA", "IDENTITY CARD"])
    in_process = ocr._run(img, psm=6)
    subprocess = ocr._run(img, psm=6, eng=ocr._Subprocess())
    assert in_process.split() == subprocess.split() == ["CARTA", "DI", "IDENTITA", "IDENTITY", "CARD"]


def test_parse_tsv_skips_the_header_and_keeps_line_numbers():
    tsv = (
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
        "5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t95.5\tNOME\n"
        "5\t1\t1\t1\t2\t1\t10\t40\t50\t14\t91\tMARIO\n"
        "5\t1\t1\t1\t2\t2\t70\t40\t5\t14\t-1\t \n"
    )
    words = ocr.parse_tsv(tsv)
    assert [(w.text, w.line, w.x, w.y) for w in words] == [("NOME", 0, 10, 20), ("MARIO", 1, 10, 40)]


def test_an_empty_region_reads_nothing():
    assert ocr.ocr_words(np.full((40, 200), 255, np.uint8)) == []


@pytest.mark.skipif(os.environ.get("SPORTELLO_TEST_DB") == "postgresql",
                    reason="database-independent and slow (~45 s): runs on the SQLite pass")
def test_an_mrz_reads_the_same_whatever_was_read_before():
    """The legacy engine adapts to what it reads: in-process, that must not carry over to the next request."""
    import cv2

    rng = np.random.default_rng(0)

    def band(surname: str, number: str) -> np.ndarray:
        lines = make_td1(number=number, birth_date=date(1958, 3, 14), sex="M", expiry=date(2031, 5, 1),
                         surname=surname, given_names="MARIO")
        img = cv2.GaussianBlur(text_image(list(lines), OCRB, 41, pitch=30), (0, 0), 2.3).astype(np.int16)
        return np.clip(img + rng.normal(0, 40, img.shape), 0, 255).astype(np.uint8)

    target = band("BRAMBILLA", "CQ98968BL")
    first = ocr.ocr_mrz(target)
    for surname, number in (("ROSSI", "CA12345AB"), ("FUMAGALLI", "CS26344BI"), ("D ANGELO", "CE29743JS"),
                            ("VERDI", "CB11111AA"), ("NERI", "CC22222BB")):
        ocr.ocr_mrz(band(surname, number))
    assert ocr.ocr_mrz(target) == first

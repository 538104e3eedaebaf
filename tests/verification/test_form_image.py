"""Reading a paper form: printed, filled, signed (or not), then scanned or photographed.

Each case costs one full-page OCR (~1.3 s of CPU), so the matrix is cut to
cover every form type on a scan and on a photo, both layout variants, and a
signed and an empty signature box for each form type.
"""

from __future__ import annotations

import time

import cv2
import pytest

from tests.verification import form_samples as fs
from tests.verification.test_form_reader import assert_reads
from verification.evidence import SourceRef
from verification.form_reader import looks_like_form, read_form_image

CASES = [  # form type, layout variant, how it came back, signed
    ("direct", 0, "scan", True),
    ("direct", 1, "photo", False),
    ("delegate", 1, "scan", False),
    ("delegate", 0, "photo", True),
    ("guardian", 0, "scan", False),
    ("guardian", 1, "photo", True),
]


def _image(form_type: str, variant: int, how: str, ink: bool):
    sample = fs.SAMPLES[form_type]
    make = fs.scan_of if how == "scan" else fs.photo_of
    return make(sample, variant, ink=ink, seed=variant + 2 * ink)


@pytest.mark.parametrize(("form_type", "variant", "how", "ink"), CASES)
def test_paper_form_is_read(form_type, variant, how, ink):
    img = _image(form_type, variant, how, ink)
    assert looks_like_form(img)
    reading = read_form_image(img, SourceRef("IMG_0042.jpg", 1))
    assert reading.method == "ocr" and reading.readable
    assert reading.source == SourceRef("IMG_0042.jpg", 1)
    assert_reads(reading.evidence, fs.SAMPLES[form_type])
    assert reading.evidence.signed is ink
    assert reading.evidence.signature_kind == ("ink" if ink else None)


@pytest.mark.parametrize("scan", [False, True], ids=["card_photo", "card_on_a4_scan"])
def test_a_card_does_not_look_like_a_form(scan):
    assert not looks_like_form(fs.card_image(seed=4, scan=scan))


def test_a_card_is_not_read_as_a_form():
    assert read_form_image(fs.card_image(scan=True), SourceRef("tessera.jpg")) is None


def test_looks_like_form_is_cheap():
    img = _image("delegate", 0, "photo", True)
    looks_like_form(img)  # warm the OCR engine
    started = time.process_time()
    for _ in range(3):
        assert looks_like_form(img)
    assert (time.process_time() - started) / 3 < 0.35  # 0.15 s measured; generous for a loaded CI


@pytest.mark.parametrize(("form_type", "variant", "how", "turn"), [
    ("delegate", 0, "scan", cv2.ROTATE_180),  # fed into the scanner upside down
    ("guardian", 1, "photo", cv2.ROTATE_90_CLOCKWISE),  # a photo whose orientation tag was lost
])
def test_pen_tick_over_the_label_on_a_turned_page(form_type, variant, how, turn):
    """A check mark drawn by hand runs out of its box and over the label above (OCR may lose it)."""
    sample = fs.SAMPLES[form_type]
    make = fs.scan_of if how == "scan" else fs.photo_of
    img = cv2.rotate(make(sample, variant, ink=True, seed=7, pen_tick=True), turn)
    assert looks_like_form(img)
    reading = read_form_image(img, SourceRef("IMG_0043.jpg"))
    assert reading.evidence.relationship == sample.relationship
    assert reading.evidence.holder.codice_fiscale == sample.holder.codice_fiscale
    assert reading.evidence.signed

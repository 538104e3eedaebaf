"""Fuzz: the image and PDF openers of verification raise only what they promise (issue 19).

load_image and pdf_page_images raise ImageError (ImageTooLarge included) for
anything they cannot read; read_attachment never raises: a file it cannot
open is `unreadable`, a finding for the citizen.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given

from intake import sniff
from tests.fuzzing import bounded, damaged, seed_files
from verification.attachment import read_attachment
from verification.images.decode import ImageError, load_image, pdf_page_images

pytestmark = [pytest.mark.fuzz, pytest.mark.slow, pytest.mark.timeout(300),
              pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.filterwarnings("ignore::DeprecationWarning")]

_IMAGES = tuple(f for f in seed_files() if sniff.sniff(f) in (sniff.JPEG, sniff.PNG, sniff.GIF, sniff.TIFF))
_PDFS = tuple(f for f in seed_files() if sniff.sniff(f) == sniff.PDF)


@bounded(1000)
@given(damaged(_IMAGES))
def test_load_image_raises_only_image_error(data):
    try:
        pages = load_image(data)
    except ImageError:
        return
    assert all(p.ndim == 3 and p.shape[2] == 3 for p in pages)


@bounded(400)
@given(damaged(_PDFS))
def test_pdf_page_images_raises_only_image_error(data):
    try:
        pdf_page_images(data, dpi=50)
    except ImageError:
        pass


@bounded(40)
@given(damaged(_IMAGES + _PDFS))
def test_read_attachment_never_raises(data):
    kind = sniff.sniff(data)
    content_type = kind if kind in (sniff.PDF, sniff.JPEG, sniff.PNG) else "image/png"
    reading = read_attachment("allegato", content_type, data, today=date(2026, 11, 26))
    assert reading.unreadable or reading.forms or reading.cards or content_type == sniff.PDF

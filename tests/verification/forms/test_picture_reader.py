"""Reading a paper form: printed, filled, signed (or not), then scanned or photographed.

Each case costs one full-page OCR (~1.3 s of CPU), so the matrix is cut to
cover every form type on a scan and on a photo, both layout variants, and a
signed and an empty signature box for each form type.
"""

from __future__ import annotations

import time

import cv2
import pytest

from tests.verification.forms import samples as fs
from tests.verification.forms.test_pdf_reader import assert_reads
from verification.evidence import SourceRef
from verification.forms.pdf_reader import looks_like_form, read_form_image
from verification.images.ocr import ocr_text as _real_ocr_text

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


def _upright_page(form_type: str, variant: int):
    from verification.forms.picture_reader import PAGE_WIDTH, _rules_erased
    from verification.images.sheet import straighten

    img = fs.scan_of(fs.SAMPLES[form_type], variant, ink=True, seed=1)
    return _rules_erased(straighten(img, PAGE_WIDTH, 0))


@pytest.mark.parametrize(("form_type", "variant"), [("direct", 0), ("guardian", 1)])
def test_the_declaration_is_painted_over_but_its_first_words(form_type, variant):
    """Half of the page's letters hold no value: only the declaration's start is left to read."""
    import numpy as np

    from verification.images import ocr
    from verification.forms.picture_reader import _text_bands, _without_boilerplate

    erased, ink, paper = _upright_page(form_type, variant)
    shortened, kept = _without_boilerplate(erased, ink, paper)
    top, bottom, x0, x1 = kept
    assert "sottoscritto" in ocr.ocr_text(shortened[top - 4 : bottom + 4], psm=7)
    assert np.array_equal(shortened[: top - 20], erased[: top - 20])  # the fields are untouched
    below = [b for b in _text_bands(ink) if b[0] > bottom]
    first_painted = below[0]
    assert (shortened[first_painted[0] : first_painted[1]] == paper).all()  # the declaration's 2nd line
    # what is left below the declaration: place and date, the signature's label and its ink
    left = ocr.ocr_text(shortened[bottom + 4 :], psm=6)
    assert "Luogo" in left and "Firma" in left and "Allegare" not in left


@pytest.mark.parametrize(("form_type", "variant", "how"), [("delegate", 0, "scan"), ("direct", 1, "photo"),
                                                        ("guardian", 1, "scan")])
def test_the_sections_bars_are_found_from_the_grey(form_type, variant, how):
    """The pale bars the sections' headers stand on, one per section, found without OCR."""
    from verification.images import ocr
    from verification.forms.picture_reader import PAGE_WIDTH, _bars_for_headers, _rules_erased, _without_boilerplate
    from verification.images.sheet import straighten

    sample = fs.SAMPLES[form_type]
    make = fs.scan_of if how == "scan" else fs.photo_of
    page = straighten(make(sample, variant, ink=True, seed=5), PAGE_WIDTH, 0)
    _, kept = _without_boilerplate(*_rules_erased(page))
    bars = _bars_for_headers(page, form_type, kept)
    headers = ["TITOLARE", *(["DICHIARANTE"] if form_type != "direct" else []), "RECAPITI"]
    assert bars is not None and len(bars) == len(headers)
    for (top, bottom, _, _), word in zip(bars, headers):
        assert word in ocr.ocr_text(page[top:bottom], psm=6)


def test_a_form_whose_bars_lost_their_shade_is_read_by_its_headers(monkeypatch):
    """A photocopy turns the pale bars white: the headers are then read, as any other words."""
    from verification.forms import picture_reader as form_image

    sample = fs.SAMPLES["delegate"]
    img = fs.scan_of(sample, 0, ink=True, seed=6)
    copy = cv2.threshold(img, 150, 255, cv2.THRESH_BINARY)[1]  # a grey scan: one channel
    read: list[str] = []
    real = form_image._ocr_boxes

    def spy(page):
        boxes = real(page)
        read.extend(b.text for b in boxes)
        return boxes

    monkeypatch.setattr(form_image, "_ocr_boxes", spy)
    for picture, headers_read in ((img, False), (copy, True)):
        read.clear()
        assert looks_like_form(picture)  # as the reader asks first: the title says which form
        reading = read_form_image(picture, SourceRef("modulo.jpg"))
        assert_reads(reading.evidence, sample)
        assert ("DICHIARANTE" in read) is headers_read


def test_declaration_bands_need_a_paragraph():
    from verification.forms.picture_reader import _declaration_bands

    line = [(100 + 40 * i, 117 + 40 * i, 80, 600 + 60 * (i % 2)) for i in range(8)]  # fields: spaced, short
    assert _declaration_bands(line) is None
    paragraph = [(500 + 25 * i, 517 + 25 * i, 80, 1150) for i in range(5)]
    bars = [(490, 494, 80, 1150)]  # a shaded bar's edge: wide, but no line of text
    found = _declaration_bands(line[:6] + bars + paragraph)
    assert found == paragraph


def test_the_title_read_by_looks_like_form_is_not_read_again():
    """looks_like_form then read_form_image (as the reader calls them) read the same as read_form_image alone."""
    from verification.forms import picture_reader as form_image

    sample = fs.SAMPLES["delegate"]
    img = fs.scan_of(sample, 0, ink=True, seed=2)
    alone = read_form_image(img, SourceRef("a.jpg"))
    form_image._memo.picture = None
    assert looks_like_form(img)
    assert form_image._picture(img).titles[0] is not None
    after = read_form_image(img, SourceRef("a.jpg"))
    assert after.evidence == alone.evidence
    assert_reads(after.evidence, sample)


def test_an_empty_field_is_blank_but_a_written_one_is_not():
    """Read closer, an empty field's paper grain turns into letters: it is not read again at all."""
    import numpy as np

    from verification.forms.picture_reader import _blank

    rng = np.random.default_rng(3)
    field = np.clip(rng.normal(236, 6, (40, 600)), 0, 255).astype(np.uint8)
    field[33:35, 10:590] = 60  # its underline
    assert _blank(field, 16.0)
    written = field.copy()
    cv2.putText(written, "3331234567", (20, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 40, 2)
    assert not _blank(written, 16.0)


def _ticks_of(form_type: str, variant: int):
    """(the relationship block read from its boxes, the declaration's first line) of a scanned form."""
    from verification.forms.picture_reader import PAGE_WIDTH, _rules_erased, _ticks, _without_boilerplate
    from verification.forms.marks import binarize
    from verification.images.sheet import straighten

    page = straighten(fs.scan_of(fs.SAMPLES[form_type], variant, ink=True, seed=1), PAGE_WIDTH, 0)
    _, kept = _without_boilerplate(*_rules_erased(page))
    return _ticks(page, binarize(page), kept), kept


@pytest.mark.parametrize(("form_type", "variant"), [("delegate", 0), ("delegate", 1), ("guardian", 0)])
def test_the_ticked_relationship_is_read_from_its_box_alone(form_type, variant):
    """The 13 boxes are found from the ink, the ticked one told by its fill, and only its label read."""
    ticks, kept = _ticks_of(form_type, variant)
    assert ticks is not None and ticks.relationship == fs.SAMPLES[form_type].relationship
    assert ticks.rows[1] <= kept[0]  # the block stands above the declaration


@pytest.mark.parametrize("variant", [0, 1])
def test_the_relationship_block_goes_with_its_label_but_not_the_field_above(variant):
    from verification.images import ocr
    from verification.forms.picture_reader import PAGE_WIDTH, _rules_erased, _ticks, _without_boilerplate, _without_ticks
    from verification.forms.marks import binarize
    from verification.images.sheet import straighten

    page = straighten(fs.photo_of(fs.SAMPLES["guardian"], variant, ink=True, seed=3), PAGE_WIDTH, 0)
    _, kept = _without_boilerplate(*_rules_erased(page))
    ticks = _ticks(page, binarize(page), kept)
    assert "Rapporto" in ocr.ocr_text(page[: ticks.rows[1]], psm=6)
    left = ocr.ocr_text(_without_ticks(page, ticks, 255)[: ticks.rows[1]], psm=6)
    assert "Rapporto" not in left and "nascita" in left  # the declarant's last field, just above, stays


def test_a_direct_form_has_no_relationship_boxes():
    assert _ticks_of("direct", 0)[0] is None


@pytest.mark.parametrize(("page_read", "looks"), [
    ("anna.bianchi @example.org", 1),  # right, with low confidence: the first closer look agrees
    ("aanna.bianchi@example.org", 2),  # a slip: the two closer looks agree against it
])
def test_a_doubtful_value_is_read_again_closer(monkeypatch, page_read, looks):
    import numpy as np
    from PIL import Image, ImageDraw

    from tests.corpus.drawing import font
    from verification.forms import picture_reader as form_image
    from verification.images import ocr
    from verification.forms.labels import LabelledForm
    from verification.images.boxes import Box

    img = Image.new("L", (1240, 120), 250)
    ImageDraw.Draw(img).text((100, 50), "anna.bianchi@example.org", font=font("sans", 17), fill=25)
    page = np.array(img)
    labelled = LabelledForm("direct", [], values={"email": page_read}, word_height=13.0,
                            value_boxes={"email": [Box(page_read, 100, 52, 330, 68, conf=55)]},
                            value_regions={"email": (90, 50, 600, 70)})
    calls = []
    monkeypatch.setattr(ocr, "ocr_text", lambda *a, **k: calls.append(1) or _real_ocr_text(*a, **k))
    form_image._reread_doubtful(page, labelled)
    assert "".join(labelled.values["email"].split()) == "anna.bianchi@example.org"
    assert len(calls) == looks


def test_the_page_is_read_only_where_it_holds_ink(monkeypatch):
    """The paper painted over around the fields is not handed to tesseract; boxes come back in page pixels."""
    import numpy as np

    from verification.forms import picture_reader as form_image

    from verification.images import ocr

    page = np.full((1754, 1240), 240, np.uint8)
    cv2.putText(page, "Cognome ROSSI", (300, 800), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 20, 2)
    seen, real = [], ocr.ocr_words
    monkeypatch.setattr(ocr, "ocr_words", lambda img, **kw: seen.append(img.shape) or real(img, **kw))
    boxes = form_image._ocr_boxes(page)
    assert seen and seen[0][0] < 100 and seen[0][1] < 400  # one line's rectangle, not the A4 page
    rossi = next(b for b in boxes if b.text == "ROSSI")
    assert 450 < rossi.x0 < 520 and 770 < rossi.top < 800 and rossi.bottom <= 805  # where it was drawn
    assert form_image._ocr_boxes(np.full((100, 100), 240, np.uint8)) == []

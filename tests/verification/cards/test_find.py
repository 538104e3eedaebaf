"""Decoding attachments and finding the cards on them: every file kind and capture style."""

from __future__ import annotations

import io
import random

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.corpus import capture
from tests.verification.cards import cases as cc
from verification.cards import find as imaging
from verification.images import decode
from verification.cards.find import assess, find_cards
from verification.images.decode import ImageError, ImageTooLarge, load_image, pdf_page_images


def encoded(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


@pytest.fixture(scope="module")
def card_photo() -> Image.Image:
    return Image.fromarray(cv2.cvtColor(cc.captured("cie", "front", "photo"), cv2.COLOR_BGR2RGB))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_load_image_formats(card_photo, fmt):
    pages = load_image(encoded(card_photo.convert("RGB"), fmt))
    assert len(pages) == 1 and pages[0].shape == (1200, 1600, 3) and pages[0].dtype == np.uint8


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_plain_jpeg_or_png_decodes_to_the_same_pixels_as_through_pillow(card_photo, fmt, monkeypatch):
    data = encoded(card_photo.convert("RGB"), fmt)
    fast = load_image(data)[0]
    monkeypatch.setattr(decode, "_plain", lambda image, data: False)
    assert np.array_equal(fast, load_image(data)[0])


def test_load_heic_and_every_tiff_page(card_photo):
    heic, _ = capture.encode(card_photo, "heic", random.Random(1))
    assert load_image(heic)[0].shape == (1200, 1600, 3)
    tiff, _ = capture.encode([card_photo, card_photo.rotate(90, expand=True)], "tiff", random.Random(1))
    assert [p.shape for p in load_image(tiff)] == [(1200, 1600, 3), (1600, 1200, 3)]


def test_exif_orientation_is_applied(card_photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    pages = load_image(encoded(card_photo, "JPEG", exif=exif.tobytes()))
    assert pages[0].shape == (1600, 1200, 3)


def test_huge_images_are_refused_before_decoding():
    bomb = encoded(Image.new("1", (8000, 8000)), "PNG")  # 64 Mpx in a few kB
    assert len(bomb) < 100_000
    with pytest.raises(ImageTooLarge, match="Mpx"):
        load_image(bomb)


def test_truncated_and_foreign_bytes_are_errors(card_photo):
    data = encoded(card_photo.convert("RGB"), "JPEG")
    with pytest.raises(ImageError):
        load_image(data[: len(data) // 2])
    with pytest.raises(ImageError):
        load_image(b"%PDF-1.7 not an image")


def test_pdf_pages_are_rendered_at_the_dpi_asked():
    pdf = capture.image_pdf([cc.rendered("cie", "front"), cc.rendered("cie", "back")], dpi=300)
    pages = pdf_page_images(pdf, dpi=150)
    assert len(pages) == 2 and abs(pages[0].shape[1] - 506) <= 2  # 1012 px at 300 dpi → 506 at 150


def test_two_cards_on_a_scan_come_out_apart_and_upright():
    images = [cc.rendered("ts_cns", "front"), cc.rendered("passport", "data_page")]
    page = cc.bgr(capture.flat_scan(images, random.Random(2), dpi=200))
    cards = find_cards(page)
    assert [c.kind for c in cards] == ["id1", "page"]
    assert cards[0].image.shape == (638, 1012, 3) and cards[1].image.shape == (845, 1200, 3)
    assert all(assess(c) == (True, None) for c in cards)
    # The chip is on the left: the TS came out the right way up.
    assert imaging.chip_mask(cards[0].image)[:, :300].mean() > imaging.chip_mask(cards[0].image)[:, 700:].mean()


@pytest.mark.parametrize("rotation", [None, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_COUNTERCLOCKWISE])
def test_photo_of_one_card_in_any_rotation(rotation):
    img = cc.captured("ts_cns", "front", "photo")
    img = cv2.rotate(img, rotation) if rotation is not None else img
    (card,) = find_cards(img)
    assert card.kind == "id1" and card.image.shape == (638, 1012, 3) and not card.cut_off
    assert 1000 < card.source_width < 1500
    assert imaging.chip_mask(card.image)[:, :300].mean() > 0.05  # chip on the left: upright


def test_picture_cropped_to_the_card_is_the_card():
    (card,) = find_cards(cc.bgr(cc.rendered("driving_licence", "front")))
    assert card.region == (0, 0, 1012, 638) and assess(card) == (True, None)


@pytest.mark.parametrize(("style", "reason"), [("blurred", "blurred"), ("cut_off", "cut_off"), ("low_res", "too_small")])
def test_quality(style, reason):
    cards = find_cards(cc.captured("cie", "back", style))
    assert len(cards) == 1
    assert assess(cards[0]) == (False, reason)


def test_sharpness_orders_captures():
    sharp = find_cards(cc.captured("cie", "front", "scan"))[0]
    blurred = find_cards(cc.captured("cie", "front", "blurred"))[0]
    assert imaging.sharpness(sharp.image) > imaging.BLUR_THRESHOLD > imaging.sharpness(blurred.image)


def test_a_truncated_file_is_an_error_even_after_face_recognition_was_imported(monkeypatch, card_photo):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # what `import face_recognition` does
    test_truncated_and_foreign_bytes_are_errors(card_photo)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the process-wide setting is left as it was


@pytest.mark.parametrize("q", [0, 1, 37.5, 50, 99, 99.5, 100])
def test_percentile_from_counts_is_numpys(q):
    values = np.random.default_rng(3).integers(0, 300, 5001)
    assert imaging._percentile(np.bincount(values), q) == pytest.approx(float(np.percentile(values, q)))


def test_sharpness_is_the_laplacians_percentile_over_the_contrast():
    """As defined at 640 px wide (linear scaling) in floats; counted in integers, it must come out the same."""
    image = cc.captured("cie", "front", "photo")
    grey = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY),
                      (640, int(640 * image.shape[0] / image.shape[1])), interpolation=cv2.INTER_LINEAR)
    grey = grey.astype(np.float32) / 255.0
    high, low = np.percentile(grey, [99, 1])
    expected = float(np.percentile(np.abs(cv2.Laplacian(grey, cv2.CV_32F)), 99.5)) / float(high - low)
    assert imaging.sharpness(image) == pytest.approx(expected, rel=1e-5)


def test_the_sheet_and_the_cards_are_looked_for_on_one_copy_of_a_picture():
    from verification.images import sheet

    photo = cc.captured("cie", "front", "photo")
    big = cv2.resize(photo, None, fx=2, fy=2)
    copy = sheet.downscaled(big)
    assert max(copy.shape[:2]) == sheet.WORK_SIDE and sheet.downscaled(big) is copy
    assert np.array_equal(copy, cv2.resize(big, None, fx=sheet.WORK_SIDE / max(big.shape[:2]),
                                           fy=sheet.WORK_SIDE / max(big.shape[:2]), interpolation=cv2.INTER_AREA))
    big[:200] = 0  # the same array, drawn on: a new copy
    assert sheet.downscaled(big) is not copy
    small = photo[:300, :400]
    assert sheet.downscaled(small) is small


def test_opencv_runs_on_one_thread_once_verification_is_imported():
    import verification  # noqa: F401

    assert cv2.getNumThreads() == 1


@pytest.mark.parametrize("shape", [(2339, 1654, 3), (2339, 1654), (1200, 1600, 3), (701, 499)])
def test_shrinking_by_blocks_then_linear_matches_the_area_filter(shape):
    """A 200 dpi page to the working size: whole blocks averaged, then the area filter for the rest."""
    from verification.images.sheet import shrink

    rng = np.random.default_rng(1)
    # print-like content: smooth shading with sharp dark strokes
    img = np.full(shape, 230, np.uint8)
    for _ in range(300):
        y, x = int(rng.integers(0, shape[0] - 20)), int(rng.integers(0, shape[1] - 60))
        img[y : y + 12, x : x + int(rng.integers(3, 60))] = int(rng.integers(0, 120))
    scale = 800 / max(shape[:2]) if max(shape[:2]) > 800 else 0.45
    out = shrink(img, scale)
    area = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    assert out.shape == area.shape
    assert float(np.abs(out.astype(int) - area).mean()) < 4.0
    if abs(1 / scale - round(1 / scale)) < 1e-9:
        assert np.array_equal(out, area)


def test_a_page_warped_much_smaller_is_averaged_not_sampled():
    """Fine print (one-pixel lines) warped to a quarter of its width comes out grey, not black or white."""
    from verification.images.sheet import warp

    stripes = np.zeros((2339, 1654), np.uint8)
    stripes[::2] = 255  # alternate rows: a linear warp at a quarter samples only some of them
    quad = np.float32([[0, 0], [1654, 0], [1654, 2339], [0, 2339]])
    small = warp(stripes, quad, 400)
    assert small.shape == (int(400 * 297 / 210), 400)
    middle = small[20:-20, 20:-20].astype(int)
    assert abs(middle.mean() - 127.5) < 12 and middle.std() < 25

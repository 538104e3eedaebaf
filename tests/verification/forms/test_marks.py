"""Ticks and signatures measured on synthetic pictures (no OCR: the label boxes are given)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from verification.forms.marks import SIGNATURE_MIN_FILL, binarize, relationship_fills, signature_ink

H = 14  # label text height in pixels (~8.5 pt at 150 dpi)


def _page() -> np.ndarray:
    return np.full((700, 900), 235, np.uint8)


def _label(img, x, y, width) -> tuple[int, int, int, int]:
    """A label drawn as a row of letter-sized blobs; returns its box (x0, top, x1, bottom)."""
    for lx in range(x, x + width, 10):
        cv2.rectangle(img, (lx, y + 3), (lx + 6, y + H - 2), 40, 1)
    return x, y, x + width, y + H


def _grid(img, ticked: set[int], pen: bool = False):
    """Thirteen tick boxes in two columns, each with its label; returns {code: label box}."""
    labels = {}
    for i in range(13):
        x, y = 60 + (i // 7) * 400, 60 + (i % 7) * 30
        cv2.rectangle(img, (x, y), (x + 20, y + 20), 50, 2)
        if i in ticked:
            if pen:  # a check mark running out of the box, up and right
                cv2.polylines(img, [np.array([(x + 3, y + 11), (x + 9, y + 18), (x + 32, y - 14)])], False, 30, 3)
            else:
                cv2.line(img, (x + 4, y + 4), (x + 16, y + 16), 30, 2)
                cv2.line(img, (x + 4, y + 16), (x + 16, y + 4), 30, 2)
        labels[f"r{i}"] = _label(img, x + 30, y + 3, 80 + 7 * (i % 3))
    return labels


@pytest.mark.parametrize("pen", [False, True])
def test_the_ticked_box_is_the_fullest(pen):
    img = _page()
    labels = _grid(img, {3}, pen)
    fills = relationship_fills(binarize(img), labels, labels)
    assert fills["r3"] > 0.12
    assert all(f < 0.05 for code, f in fills.items() if code != "r3")


def test_a_lost_label_keeps_its_box():
    img = _page()
    labels = _grid(img, {9})
    lost = dict(labels)
    del lost["r9"]  # OCR could not read that label under the pen stroke
    fills = relationship_fills(binarize(img), lost, labels)
    assert fills["r9"] > 0.12


def test_letters_of_a_half_read_label_are_not_boxes():
    img = _page()
    labels = _grid(img, set())
    x0, top, x1, bottom = labels["r10"]
    labels["r10"] = (x0 + 40, top, x1, bottom)  # its first word lost: letters stand between box and label
    fills = relationship_fills(binarize(img), labels, labels)
    assert fills.get("r10", 0.0) < 0.05


def _signature_box(img, label_inside: bool):
    if label_inside:
        cv2.rectangle(img, (400, 400), (800, 560), 50, 2)
        return _label(img, 408, 406, 120)
    label = _label(img, 400, 380, 120)
    cv2.rectangle(img, (400, 400), (800, 560), 50, 2)
    return label


@pytest.mark.parametrize("label_inside", [False, True])
def test_signature_ink_in_the_box(label_inside):
    img = _page()
    label = _signature_box(img, label_inside)
    empty = signature_ink(binarize(img), label)
    assert empty.box_found and empty.fill < SIGNATURE_MIN_FILL
    t = np.linspace(0, 1, 80)
    points = np.stack([470 + 250 * t, 500 + 30 * np.sin(t * 20)], axis=1).astype(np.int32)
    cv2.polylines(img, [points], False, 25, 3)
    signed = signature_ink(binarize(img), label)
    assert signed.fill >= SIGNATURE_MIN_FILL


def test_printed_words_in_the_box_are_not_a_signature():
    img = _page()
    label = _signature_box(img, False)
    cv2.putText(img, "Mario Rossi", (480, 490), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.4, 30, 3)  # typed in
    typed = (470, 455, 700, 500)  # the words OCR read there with confidence
    assert signature_ink(binarize(img), label).fill >= SIGNATURE_MIN_FILL  # as ink it would count
    assert signature_ink(binarize(img), label, [typed]).fill < SIGNATURE_MIN_FILL


def test_speckles_are_not_a_signature():
    img = _page()
    label = _signature_box(img, False)
    rng = np.random.default_rng(0)
    for x, y in rng.integers((420, 420), (780, 540), (40, 2)):
        img[y, x] = 0
    assert signature_ink(binarize(img), label).fill < SIGNATURE_MIN_FILL

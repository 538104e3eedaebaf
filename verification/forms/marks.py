"""Marks on a form image: ticks in the relationship boxes and ink in the signature box.

Everything is located from a label's box (found by its words), never from
page coordinates: the tick box is the small square just left of its label;
the signature box is the rectangle holding or just below "Firma del …".
Sizes are in units of the label's height, so any resolution works.
Images are binary here: 255 where there is ink.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

TICK_MIN_FILL = 0.12  # an empty box reads 0-3 %; a cross or a check mark 20-60 %
SIGNATURE_MIN_FILL = 0.004  # a short signature in a wide box is still ~1 %; a scanned empty box < 0.1 %

Rect = tuple[float, float, float, float]  # x0, top, x1, bottom


@dataclass(frozen=True)
class Ink:
    fill: float  # share of the box interior that is ink, after removing rules and specks
    region: tuple[int, int, int, int]  # x0, y0, x1, y1 measured
    box_found: bool


def binarize(gray: np.ndarray) -> np.ndarray:
    """Ink = 255. Adaptive, so a photo's uneven light and a scan's grey paper both work."""
    block = max(15, (gray.shape[1] // 45) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 18)


def _clip(binary: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    h, w = binary.shape[:2]
    return max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1))


def squares_in(binary: np.ndarray, region: Rect, h: float) -> list[tuple[int, int, int, int]]:
    """Tick boxes in `region` (x0, y0, x1, y1 of the image), for text about `h` high.

    A box is found by its frame alone (straight runs at least half its side),
    so letters are never taken for a box and a tick that runs over the border
    does not hide it.
    """
    rx0, ry0, rx1, ry1 = _clip(binary, *region)
    roi = binary[ry0:ry1, rx0:rx1]
    if roi.size == 0:
        return []
    run = max(3, int(0.85 * h))  # a box's side (~1.5 h) survives; a letter's stroke (< h) does not
    frame = cv2.morphologyEx(roi, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1)))
    frame |= cv2.morphologyEx(roi, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, run)))
    frame = cv2.dilate(frame, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(frame, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    squares = []
    for contour in contours:
        x, y, w, hh = cv2.boundingRect(contour)
        if not (0.6 * h <= w and 0.6 * h <= hh and w <= 4 * h and hh <= 4 * h):
            continue
        outline = _outline(frame[y : y + hh, x : x + w])
        if outline is None:
            continue
        bx0, by0, bx1, by1 = outline
        w, hh = bx1 - bx0, by1 - by0
        if 0.6 * h <= w <= 2.8 * h and 0.6 * h <= hh <= 2.8 * h and 0.7 <= w / hh <= 1.43:
            squares.append((x + bx0 + rx0, y + by0 + ry0, x + bx1 + rx0, y + by1 + ry0))
    return squares


def _outline(frame: np.ndarray) -> tuple[int, int, int, int] | None:
    """The rectangle drawn by a straight line along each side, wherever the frame's box ends
    (a pen stroke over the border sticks out of it); None when a side has no line."""
    h, w = frame.shape
    if h < 4 or w < 4:
        return None
    cols, rows = (frame > 0).mean(axis=0), (frame > 0).mean(axis=1)
    left, right = int(np.argmax(cols[: w // 2])), w // 2 + int(np.argmax(cols[w // 2 :]))
    top, bottom = int(np.argmax(rows[: h // 2])), h // 2 + int(np.argmax(rows[h // 2 :]))
    if min(cols[left], cols[right], rows[top], rows[bottom]) < 0.55:
        return None
    return left, top, right + 1, bottom + 1


def square_fill(binary: np.ndarray, square: tuple[int, int, int, int]) -> float:
    """The share of ink inside a box, away from its frame."""
    x0, y0, x1, y1 = square
    dx, dy = 0.22 * (x1 - x0), 0.22 * (y1 - y0)
    inner = binary[int(y0 + dy) : int(y1 - dy), int(x0 + dx) : int(x1 - dx)]
    return float(np.count_nonzero(inner)) / inner.size if inner.size else 0.0


def _level_squares(binary: np.ndarray, label: Rect, h: float) -> list[tuple[int, int, int, int]]:
    """Boxes on the label's line, left of it, for text `h` high.

    Searched wide to the left: OCR may lose the label's first word ("nipote"
    under a pen stroke); and as high as the label's box, which a pen stroke
    through the word can stretch.
    """
    x0, top, x1, bottom = label
    cy = (top + bottom) / 2
    slack = 0.6 * h + max(0.0, (bottom - top) - h) / 2
    region = (x0 - 8 * h, cy - slack - 1.2 * h, x0 + 0.4 * h, cy + slack + 1.2 * h)
    return [s for s in squares_in(binary, region, h) if abs((s[1] + s[3]) / 2 - cy) <= slack]


def _side(square) -> float:
    return ((square[2] - square[0]) + (square[3] - square[1])) / 2


def relationship_fills(binary: np.ndarray, labels: dict[str, Rect], codes) -> dict[str, float]:
    """The fill of each relationship box, found left of its label.

    The boxes of a form share one size and stand in columns: a square of
    another size, or out of every column, is a letter of a half-read label,
    never a box. A pen tick running over a label can make OCR lose that label
    ("visore" for a ticked "genitore"): when exactly one label is lost and
    exactly one box in the columns has no label, it is the lost label's.
    """
    h = float(np.median([max(b - t, 6.0) for _, t, _, b in labels.values()])) if labels else 0.0
    candidates = {code: _level_squares(binary, label, h) for code, label in labels.items()}
    largest = [_side(max(c, key=_side)) for c in candidates.values() if c]
    if not largest:
        return {}
    side = float(np.median(largest))

    def right_size(square) -> bool:
        return 0.8 * side <= _side(square) <= 1.4 * side  # a pen stroke over a border adds a little

    nearest = {}
    for code, squares in candidates.items():
        squares = [s for s in squares if right_size(s)]
        if squares:
            nearest[code] = max(squares, key=lambda s: s[2])
    lefts = [s[0] for s in nearest.values()]
    columns = [x for x in lefts if sum(abs(x - other) <= 0.3 * side for other in lefts) >= 2]

    def in_column(square) -> bool:
        return any(abs(square[0] - x) <= 0.3 * side for x in columns)

    # Each box to one label: the nearest pairs first, in height (a pen stroke can stretch a
    # label's box over the next row), then across.
    pairs = []
    for code, squares in candidates.items():
        cy = (labels[code][1] + labels[code][3]) / 2
        pairs += [(abs((s[1] + s[3]) / 2 - cy), -s[2], code, s) for s in squares if right_size(s) and in_column(s)]
    fills, used = {}, []
    for _, _, code, box in sorted(pairs):
        if code not in fills and not any(_overlap(box, u) for u in used):
            fills[code] = square_fill(binary, box)
            used.append(box)
    missing = [c for c in codes if c not in labels]
    if len(missing) == 1:
        area = (min(r[0] for r in labels.values()) - 8 * h, min(r[1] for r in labels.values()) - 2 * h,
                max(r[2] for r in labels.values()), max(r[3] for r in labels.values()) + 2 * h)
        free = [s for s in squares_in(binary, area, h)
                if right_size(s) and in_column(s) and not any(_overlap(s, u) for u in used)]
        if len(free) == 1:
            fills[missing[0]] = square_fill(binary, free[0])
    return fills


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def best_tick(fills: dict[str, float]) -> str | None:
    """The ticked relationship: the one full box, or one clearly fuller than any other.

    Two boxes ticked is the citizen's ambiguity, not ours to resolve: None.
    """
    ticked = sorted(((f, c) for c, f in fills.items() if f >= TICK_MIN_FILL), reverse=True)
    if not ticked:
        return None
    if len(ticked) == 1 or ticked[0][0] >= 2 * ticked[1][0]:
        return ticked[0][1]
    return None


def _box_around(binary: np.ndarray, label: Rect) -> tuple[int, int, int, int] | None:
    """The rectangle holding the label, or the one just below it (x0, y0, x1, y1), or None."""
    x0, top, x1, bottom = label
    h = max(bottom - top, 6.0)
    rx0, ry0, rx1, ry1 = _clip(binary, x0 - 6 * h, top - 6 * h, x0 + 45 * h, bottom + 16 * h)
    roi = binary[ry0:ry1, rx0:rx1]
    if roi.size == 0:
        return None
    contours, _ = cv2.findContours(roi, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    best = None
    for contour in contours:
        x, y, w, hh = cv2.boundingRect(contour)
        if w < max(x1 - x0, 8 * h) or hh < 2.5 * h:
            continue
        bx0, by0, bx1, by1 = x + rx0, y + ry0, x + rx0 + w, y + ry0 + hh
        if bx1 < x0 or bx0 > x1:  # no horizontal overlap with the label
            continue
        holds_label = bx0 <= x0 and by0 <= top and bx1 >= x1 and by1 >= bottom
        below = top - h <= by0 <= bottom + 3 * h
        if not (holds_label or below):
            continue
        # An outline: most of its bounding box's edge is ink (not a blob of signature).
        edge = _edge_ink(binary, bx0, by0, bx1, by1)
        if edge < 0.6:
            continue
        key = (0 if holds_label else 1, abs(by0 - bottom), w * hh)
        if best is None or key < best[0]:
            best = (key, (bx0, by0, bx1, by1))
    return best[1] if best else None


def _edge_ink(binary: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> float:
    """How much of the rectangle's four edges is ink (mean over the edges)."""
    t = 3
    strips = [binary[y0 : y0 + t, x0:x1], binary[y1 - t : y1, x0:x1],
              binary[y0:y1, x0 : x0 + t], binary[y0:y1, x1 - t : x1]]
    covered = [np.any(s, axis=0 if i < 2 else 1).mean() for i, s in enumerate(strips) if s.size]
    return float(np.mean(covered)) if len(covered) == 4 else 0.0


def signature_ink(binary: np.ndarray, label: Rect, words: list[Rect] = ()) -> Ink:
    """Ink in the signature box of `label`, border, label and printed `words` excluded."""
    x0, top, x1, bottom = label
    h = max(bottom - top, 6.0)
    box = _box_around(binary, label)
    if box is not None:
        bx0, by0, bx1, by1 = box
        margin = max(3, int(0.35 * h))
        region = _clip(binary, bx0 + margin, by0 + margin, bx1 - margin, by1 - margin)
    else:  # no outline: the space below the label, as wide as a signature
        region = _clip(binary, x0 - h, bottom + 0.3 * h, x0 + max(2.5 * (x1 - x0), 22 * h), bottom + 7 * h)
    rx0, ry0, rx1, ry1 = region
    roi = binary[ry0:ry1, rx0:rx1].copy()
    if roi.size == 0:
        return Ink(0.0, region, box is not None)
    pad = 0.25 * h
    for wx0, wtop, wx1, wbottom in (label, *words):
        roi[
            max(0, int(wtop - pad - ry0)) : max(0, int(wbottom + pad - ry0)),
            max(0, int(wx0 - pad - rx0)) : max(0, int(wx1 + pad - rx0)),
        ] = 0
    roi = _without_rules(roi, h)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(roi, connectivity=8)
    keep = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= max(6, 0.08 * h * h)]
    ink = sum(int(stats[i, cv2.CC_STAT_AREA]) for i in keep)
    widest = max((int(stats[i, cv2.CC_STAT_WIDTH]) for i in keep), default=0)
    fill = ink / roi.size if widest >= 1.5 * h else 0.0  # a signature is a stroke, not a dot
    return Ink(fill, region, box is not None)


def _without_rules(roi: np.ndarray, h: float) -> np.ndarray:
    """Remove long straight rules (box edges, underlines) that the box search left in."""
    out = roi.copy()
    for kernel in ((max(8, int(6 * h)), 1), (1, max(8, int(4 * h)))):
        lines = cv2.morphologyEx(roi, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        out[cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0] = 0
    return out

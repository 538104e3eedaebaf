"""A card being read: its image, lighting flattened, and the words OCR'd from it region by region.

Regions are fractions of the canonical card (verification.cards.find warps
every card to a fixed size), their edges moved to the nearest gap between
text lines, and a region already read is not read again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from verification.cards import fields as cfd
from verification.images import ocr

Region = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the card
HEADER: Region = (0.0, 0.0, 1.0, 0.22)
REST: Region = (0.0, 0.0, 1.0, 1.0)
# Where each document keeps what we read, in the order to try (fractions of the canonical card).
FIELD_REGIONS: dict[tuple[str, str], tuple[Region, ...]] = {
    # Contiguous bands: each edge moves to the nearest gap between lines, and two edges moved apart
    # would leave a line (the birth date) in neither.
    ("cie", "front"): ((0.28, 0.30, 1.0, 0.58), (0.28, 0.58, 1.0, 0.86)),
    ("cie", "back"): ((0.0, 0.0, 0.55, 0.2),),
    ("ts_cns", "front"): ((0.23, 0.20, 1.0, 0.86),),  # right of the chip: its contacts confuse line finding
    ("ts_no_chip", "front"): ((0.0, 0.20, 1.0, 0.86),),
    # From the title's left edge: the small field labels left of it cost a third of the read and OCR
    # rarely gets them; the values (fields 3 to 9) are found by their shape and order instead.
    ("ts_cns", "back"): ((0.16, 0.20, 1.0, 0.80),),
    ("driving_licence", "front"): ((0.28, 0.20, 1.0, 0.75),),
    ("paper_id", "front"): ((0.0, 0.08, 0.5, 0.45), (0.74, 0.25, 1.0, 0.6)),  # right of the photo and stamp
    ("paper_id", "back"): ((0.0, 0.25, 1.0, 0.75),),
}
PHOTO_REGIONS: dict[str, Region] = {
    "cie": (0.0, 0.15, 0.36, 0.85),
    "driving_licence": (0.0, 0.15, 0.36, 0.85),
    "passport": (0.0, 0.12, 0.34, 0.82),
    "paper_id": (0.5, 0.05, 0.8, 0.65),
}


def light_background(grey: np.ndarray) -> np.ndarray:
    """Dark print on light ground everywhere: bands of light print on a dark ground are inverted.

    A TS-CNS prints TESSERA SANITARIA in white on a blue band, and tesseract
    reads dark on light only. A row is of such a band when its ground (the
    median) is dark, its print (the few pixels far from the median) is much
    lighter than the ground, and nothing in it is much darker; the decision is
    smoothed over a band's height, and the band's empty rows around its lines
    go with them (a few at most). A grey card, or a dimly lit one, keeps its
    dark print darker than its ground, and is left alone.
    """
    lo, ground, hi = np.percentile(grey, (2, 50, 98), axis=1)
    dark = (ground < 125) & (ground - lo < 30)  # a dark ground with nothing darker on it
    light_print = dark & (hi - ground > 60)
    k = max(3, grey.shape[0] // 20) | 1
    share = cv2.blur(light_print.astype(np.float32).reshape(-1, 1), (1, k)).ravel()
    flip = (share > 0.3) & dark
    if not flip.any():
        return grey
    # A row through a line of big letters may look bright: gaps shorter than a band close.
    kernel = np.ones((k, 1), np.uint8)
    flip = cv2.morphologyEx(flip.astype(np.uint8).reshape(-1, 1), cv2.MORPH_CLOSE, kernel).ravel().astype(bool)
    for _ in range(k):  # the band's empty edges, above its first line and below its last
        flip[1:] |= flip[:-1] & dark[1:]
        flip[:-1] |= flip[1:] & dark[:-1]
    out = grey.copy()
    out[flip] = 255 - out[flip]
    return out


@dataclass
class Sheet:
    """A card being read: its image and every word OCR'd from it so far, in card coordinates."""

    image: np.ndarray
    sharpen: bool = False  # the card was enlarged to its canonical size: give the strokes their edges back
    words: list[ocr.Word] = field(default_factory=list)
    read: list[tuple[int, int, int, int]] = field(default_factory=list)
    ink_rows: np.ndarray | None = None
    values: dict[tuple, list[ocr.Word] | None] = field(default_factory=dict)  # ocr_values, by its arguments
    _flat: np.ndarray | None = None

    @property
    def flat(self) -> np.ndarray:
        """Grey, with the lighting divided out: tesseract's global Otsu threshold fails on an unevenly lit photo."""
        if self._flat is None:
            grey = light_background(cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY))
            background = cv2.dilate(grey, cv2.getStructuringElement(cv2.MORPH_RECT, (21, 21)))
            flat = cv2.divide(grey, background, scale=255)
            if self.sharpen:  # unsharp mask: a 200 dpi scan enlarged 1.5x otherwise loses whole lines
                flat = cv2.addWeighted(flat, 1.8, cv2.GaussianBlur(flat, (0, 0), 1.5), -0.8, 0)
            self._flat = flat
        return self._flat

    def resized(self, size: tuple[int, int]) -> Sheet:
        """The same card at another shape (an ID-1 card warped as a data page), with the words read so far."""
        h, w = self.image.shape[:2]
        fx, fy = size[0] / w, size[1] / h
        out = Sheet(cv2.resize(self.image, size, interpolation=cv2.INTER_AREA), self.sharpen)
        out.words = [ocr.Word(wd.text, wd.conf, round(wd.x * fx), round(wd.y * fy), round(wd.w * fx),
                              round(wd.h * fy), wd.line) for wd in self.words]
        out.read = [(round(x0 * fx), round(y0 * fy), round(x1 * fx), round(y1 * fy)) for x0, y0, x1, y1 in self.read]
        return out

    def ocr(self, region: Region) -> list[ocr.Word]:
        """The words in `region`, read now; rows an earlier read already covered at this width are not read again.

        Such rows are cut out of the middle of a region as well as off its
        ends (the rest of the card after its field band: only the strips
        above and below the band are read), and edges fall on gaps between
        lines, so no line is cut.
        """
        h, w = self.image.shape[:2]
        x0, x1 = int(region[0] * w), int(region[2] * w)
        y0, y1 = self._gap(region[1] * h), self._gap(region[3] * h)
        if x1 - x0 < 12:
            return []
        spans = [(y0, y1)]
        for rx0, ry0, rx1, ry1 in self.read:  # a read across at least this width covers these rows
            if rx0 <= x0 and rx1 >= x1:
                pieces = (piece for a, b in spans for piece in ((a, min(b, ry0)), (max(a, ry1), b)))
                spans = [(a, b) for a, b in pieces if b > a]
        found = []
        for a, b in spans:
            if b - a >= 12:
                found += self._read(x0, a, x1, b)
        return found

    def _read(self, x0: int, y0: int, x1: int, y1: int) -> list[ocr.Word]:
        self.read.append((x0, y0, x1, y1))
        found = [
            ocr.Word(wd.text, wd.conf, wd.x + x0, wd.y + y0, wd.w, wd.h, wd.line)
            for wd in ocr.ocr_words(self.flat[y0:y1, x0:x1], psm=4, invert=False)
        ]
        # Regions overlap: a word read twice counts once (the first reading).
        new = [wd for wd in found if not any(_same_place(wd, old) for old in self.words)]
        self.words.extend(new)
        return found

    def ocr_values(self, region: Region, expected: int, pick: tuple[int, ...],
                   tails: tuple[int, ...] = ()) -> list[ocr.Word] | None:
        """The words of a few value rows only, or None when the region does not hold `expected` of them.

        A card prints each value in type about twice as tall as its label, and
        tesseract's cost grows with the width of every line it reads, once
        scaled to one height: small labels cost more than their values. Here
        the rows of print are found from the ink's row profile (no OCR), rows
        of small print are left out (and, when there are too many, rows the
        region's edge cuts through), and of the `expected` value rows only
        those at the indexes `pick` are read, in one OCR call on a copy of
        the region with everything else painted white. Nothing is recorded as
        read: the caller falls back to reading the region whole when these
        rows do not give what it needs. Asked again, it answers from memory.
        Of the rows in `tails` (indexes as in `pick`) only the last word is
        kept: what follows the row's last space (see last_word).
        """
        key = (region, expected, pick, tails)
        if key not in self.values:
            self.values[key] = self._read_values(region, expected, pick, tails)
        return self.values[key]

    def _read_values(self, region: Region, expected: int, pick: tuple[int, ...],
                     tails: tuple[int, ...] = ()) -> list[ocr.Word] | None:
        h, w = self.image.shape[:2]
        x0, y0, x1, y1 = int(region[0] * w), int(region[1] * h), int(region[2] * w), int(region[3] * h)
        crop = self.flat[y0:y1, x0:x1]
        rows = value_rows(text_rows(crop))
        if len(rows) > expected:
            # A row the region's edge cuts through is the next field's, beyond the region: a card
            # warped a little short moves every row by a few pixels (the whole region read instead
            # costs three times as much).
            rows = [(a, b) for a, b in rows if a > 0 and b < crop.shape[0]]
        if len(rows) != expected:
            return None
        last_only = [i in tails for i in pick]
        rows = [rows[i] for i in pick]
        pad = max(2, min(b - a for a, b in rows) // 8)  # the faint tops and tails of letters the profile cut
        top, bottom = max(0, rows[0][0] - 3 * pad), min(crop.shape[0], rows[-1][1] + 3 * pad)
        canvas = np.full((bottom - top, crop.shape[1]), 255, np.uint8)
        for (a, b), tail in zip(rows, last_only, strict=True):
            a, b = max(top, a - pad), min(bottom, b + pad)
            start = last_word(crop[a:b], b - a - 2 * pad) - 2 * pad if tail else 0
            canvas[a - top : b - top, max(0, start) :] = crop[a:b, max(0, start) :]
        # Across only as far as the rows' ink goes: tesseract's layout pass costs by the pixel.
        ink = np.flatnonzero((canvas < 128).any(axis=0))
        left = max(0, int(ink[0]) - 2 * pad) if ink.size else 0
        right = min(canvas.shape[1], int(ink[-1]) + 2 * pad + 1) if ink.size else canvas.shape[1]
        found = [
            ocr.Word(wd.text, wd.conf, wd.x + x0 + left, wd.y + y0 + top, wd.w, wd.h, wd.line)
            for wd in ocr.ocr_words(canvas[:, left:right], psm=6, invert=False)
        ]
        self.words.extend(wd for wd in found if not any(_same_place(wd, old) for old in self.words))
        return found

    def _gap(self, y: float) -> int:
        """The emptiest row near `y`: a region edge must not cut a line of text in half."""
        h = self.image.shape[0]
        if y <= 0 or y >= h:
            return int(min(max(y, 0), h))
        if self.ink_rows is None:
            grey = cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY)
            ink = cv2.adaptiveThreshold(grey, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
            self.ink_rows = np.convolve(ink.sum(axis=1), np.ones(5) / 5, mode="same")
        lo, hi = max(0, int(y - 0.05 * h)), min(h, int(y + 0.05 * h))
        return lo + int(np.argmin(self.ink_rows[lo:hi] + np.abs(np.arange(lo, hi) - y) * 0.5))

    @property
    def text(self) -> str:
        return cfd.all_text(self.words)


def last_word(row: np.ndarray, height: int) -> int:
    """The column where the last word of a row of print starts: after the last gap of paper wider
    than a third of the letters' height (a space; letters stand closer, a date's dots too); 0 when
    there is no such gap."""
    inked = np.flatnonzero((row < 128).any(axis=0))
    if inked.size < 2:
        return 0
    gaps = np.flatnonzero(np.diff(inked) > max(2, height / 3))
    return int(inked[gaps[-1] + 1]) if gaps.size else 0


SMALL_PRINT = 0.72  # a row of print less tall than this share of the value rows' height is a label


def text_rows(gray: np.ndarray) -> list[tuple[int, int, float]]:
    """(top, bottom, glyph height) of each row of print in a lighting-flattened crop, top to bottom.

    A row is a run of pixel rows holding ink; the threshold follows the
    crop's own densest rows, so that a phone photo's grain (a few specks on
    every row) does not join all the rows into one. The glyph height is the
    median height of the row's letters, not the row's: a card warped a
    degree off slants a long label over more pixel rows than its letters,
    and a security print's wavy line joins letters into taller components.
    """
    ink = cv2.adaptiveThreshold(gray, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    profile = ink.sum(axis=1)
    on = profile > max(3.0, 0.004 * gray.shape[1], 0.12 * float(np.percentile(profile, 95)))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], on.astype(np.int8), [0]))))
    _, _, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights, middles = stats[1:, cv2.CC_STAT_HEIGHT], centroids[1:, 1]
    rows = []
    for top, bottom in _joined(list(zip(edges[::2], edges[1::2], strict=True)), stats):
        # A component taller than its row is no letter of it: a background's wavy line through the letters.
        glyphs = heights[(middles >= top) & (middles < bottom) & (heights >= 3) & (heights <= bottom - top + 2)]
        rows.append((int(top), int(bottom), float(np.median(glyphs)) if glyphs.size else float(bottom - top)))
    return rows


def _joined(runs: list[tuple[int, int]], stats: np.ndarray) -> list[tuple[int, int]]:
    """Runs of inked pixel rows, those that one letter spans joined: a short word of capitals
    ("ZOE") has rows of little ink between its bars, which a long row's threshold drops. A letter
    is a component about as wide as tall (a wavy line of a security print is much wider), and no
    taller than the tallest print."""
    tops, heights, widths = stats[1:, cv2.CC_STAT_TOP], stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    letters = (heights >= 3) & (widths <= 2 * heights)
    if not letters.any():
        return runs
    letters &= heights <= 1.25 * np.percentile(heights[letters], 90)
    tops, bottoms = tops[letters], tops[letters] + heights[letters]
    out = runs[:1]
    for top, bottom in runs[1:]:
        last_top, last_bottom = out[-1]
        spanning = (tops < last_bottom) & (bottoms > top) & (tops >= last_top - 2)
        # two letters at least: a stray mark at the card's edge spans a label and its value
        out[-1:] = [(last_top, bottom)] if np.count_nonzero(spanning) >= 2 else [out[-1], (top, bottom)]
    return out


def value_rows(rows: list[tuple[int, int, float]]) -> list[tuple[int, int]]:
    """(top, bottom) of the rows in value type: letters as tall as the taller half of the rows' (see SMALL_PRINT).

    Labels are half the height of values on every card we read; a label and
    its value run together make one row, which is kept (and then the count
    of rows tells the caller the layout was not seen as expected).
    """
    heights = sorted(h for top, bottom, h in rows if bottom - top >= 4)
    if not heights:
        return []
    reference = float(np.median(heights[len(heights) // 2 :]))
    return [(top, bottom) for top, bottom, h in rows if bottom - top >= 4 and h >= SMALL_PRINT * reference]


def _same_place(a: ocr.Word, b: ocr.Word) -> bool:
    dx = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    dy = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    return dx > 0.5 * min(a.w, b.w) and dy > 0.5 * min(a.h, b.h)


def crop(image: np.ndarray, region: Region) -> np.ndarray:
    h, w = image.shape[:2]
    return image[int(region[1] * h) : int(region[3] * h), int(region[0] * w) : int(region[2] * w)]

"""Reading an MRZ by matching its OCR-B glyphs against the font itself: a few ms instead of tesseract's ~50.

ICAO 9303 prints the MRZ in one font (OCR-B), monospaced, on a fixed grid:
3 lines of 30 characters (TD1) or 2 of 44 (TD3), every line starting in the
same column. So there is no layout to find and no alphabet to guess: the
glyphs are found as ink components (grouped into lines across the band's
slant), the grid (start and pitch) is fitted to them and bent where the pitch
grows along a line (perspective left by a card's warp), and each cell is
compared (normalised cross-correlation) with the 37 characters drawn from
Debian's OCR-B font (fonts-ocr-b), among those the position allows: digits
where the standard puts a date or a check digit, letters in the names and the
issuing state. A cell cut by the band's edge (a card photographed or warped
tight to its print) is compared on its visible part alone.

The check digits decide, as for tesseract: the caller (verification.cards.side)
parses the lines, tries the second choice of the closest calls, and falls
back to tesseract's renderings when they do not verify. A font that is not
installed, or a band that is not two or three lines of glyphs on a grid,
reads as nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

FONT = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")
CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
CELL = (16, 24)  # width, height: every cell and template is compared at this size
MARGIN = 0.15  # of the capital height, above and below a cell: a pixel off is then no bar lost
SHIFT = 2  # CELL pixels a cell is moved either way, across and down, to find its glyph
MIN_VISIBLE = 0.3  # of a cell's width: less than that of a glyph is not read
MIN_ON_GRID = 0.6  # of a line's cells that must hold a glyph found on the grid
DOUBTS = 8  # closest calls kept as second choices


@dataclass(frozen=True)
class Doubt:
    """A close call: the cell at (line, position) could be `second`, `margin` behind the one read."""

    margin: float
    line: int
    position: int
    second: str


@dataclass(frozen=True)
class GlyphReading:
    lines: list[str]
    doubts: list[Doubt]  # closest first


@dataclass(frozen=True)
class _Templates:
    normalised: np.ndarray  # one row per character of CHARS
    raw: list[np.ndarray]  # the full-size cells, for the part of a cut cell


def _normalised(cell: np.ndarray) -> np.ndarray:
    small = cv2.resize(cell.astype(np.float32), CELL, interpolation=cv2.INTER_AREA)
    small -= small.mean()
    norm = float(np.linalg.norm(small))
    return (small / norm if norm else small).ravel()


@cache
def _templates() -> _Templates | None:
    """Each character drawn in OCR-B, cut to its cell: one advance wide, cap top to baseline high."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        face = ImageFont.truetype(str(FONT), 200)
    except OSError:
        log.warning("OCR-B font not found at %s (Debian package fonts-ocr-b): the MRZ is read by tesseract only", FONT)
        return None
    _, top, _, bottom = face.getbbox("H")
    margin = MARGIN * (bottom - top)
    advance = face.getlength("H")  # monospaced: every glyph has this advance
    origin = int(advance / 2)
    raw = []
    for char in CHARS:
        image = Image.new("L", (int(2 * advance), 2 * bottom), 255)
        ImageDraw.Draw(image).text((origin, 0), char, font=face, fill=0)
        rows = slice(int(round(top - margin)), int(round(bottom + margin)))
        raw.append(np.asarray(image, np.float32)[rows, origin : origin + int(advance)])
    return _Templates(np.stack([_normalised(cell) for cell in raw]), raw)


def allowed(width: int) -> list[list[str]]:
    """For each line and position of a TD1 (width 30) or TD3 (44) MRZ, the characters ICAO 9303 puts there."""
    anything = CHARS
    if width == 30:
        first = [anything] * 30
        first[0] = "ACI"  # the document code of an identity card
        first[2:5] = [LETTERS] * 3  # issuing state
        first[14] = DIGITS + "<"  # the number's check digit ('<' when the number runs on)
        second = [anything] * 30
        for i in [*range(0, 7), *range(8, 15), 29]:  # birth date, expiry, their check digits, the composite
            second[i] = DIGITS
        second[7] = "MF<"
        second[15:18] = [LETTERS] * 3  # nationality
        return [first, second, [LETTERS] * 30]
    first = [LETTERS] * 44
    first[0] = "P"
    second = [anything] * 44
    for i in [9, *range(13, 20), *range(21, 28), 43]:
        second[i] = DIGITS
    second[10:13] = [LETTERS] * 3
    second[20] = "MF<"
    second[42] = DIGITS + "<"  # the optional data's check digit
    return [first, second]


def _lines(ink: np.ndarray) -> tuple[list[np.ndarray], float]:
    """The band's glyphs grouped into text lines (each an array of x0, y0, w, h, cx), and the capital height."""
    count, _, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    height = ink.shape[0]
    keep = [i for i in range(1, count) if stats[i, cv2.CC_STAT_HEIGHT] >= 0.08 * height
            and stats[i, cv2.CC_STAT_AREA] >= 8]
    if not keep:
        return [], 0.0
    cap = float(np.percentile(stats[keep, cv2.CC_STAT_HEIGHT], 75))
    # Specks and the card's edge out: a glyph is no taller than a capital, no wider than one and a half.
    glyphs = [i for i in keep if 0.3 * cap <= stats[i, cv2.CC_STAT_HEIGHT] <= 1.3 * cap
              and stats[i, cv2.CC_STAT_WIDTH] <= 1.5 * cap]
    # Lines are told apart by height across the band's slant: a band a degree or two off (a card warped
    # from an outline a little off) drops by more than a line's spacing from end to end.
    level = centroids[:, 1] - _slant(centroids[glyphs], cap) * centroids[:, 0]
    glyphs.sort(key=lambda i: level[i])
    lines: list[list[int]] = []
    for i in glyphs:
        if lines and level[i] - float(np.mean(level[lines[-1]])) <= 0.6 * cap:
            lines[-1].append(i)
        else:
            lines.append([i])
    return [np.column_stack([stats[line, :4], centroids[line, 0]]) for line in lines if len(line) >= 15], cap


def _slant(centres: np.ndarray, cap: float) -> float:
    """The band's slope (dy/dx) from each glyph's next neighbour along its line: the nearest one to its
    right within two pitches, less than half a capital higher or lower."""
    dx = centres[None, :, 0] - centres[:, None, 0]
    dy = centres[None, :, 1] - centres[:, None, 1]
    near = (dx > 0.3 * cap) & (dx < 2 * cap) & (np.abs(dy) < 0.5 * cap)
    has = near.any(axis=1)
    if np.count_nonzero(has) < 10:
        return 0.0
    nearest = np.argmin(np.where(near, dx, np.inf), axis=1)[has]
    rows = np.flatnonzero(has)
    return float(np.median(dy[rows, nearest] / dx[rows, nearest]))


def _grid(xs: np.ndarray, pitch: float, width: int, extent: tuple[float, float]) -> tuple[float, float] | None:
    """(x of the first cell's centre, pitch) of a line whose glyph centres are `xs`, within the band's
    `extent` (x0, x1). Each glyph is numbered from its neighbour's gap; of the windows of `width`
    consecutive cells, the line is the one with the most glyphs and the fewest empty cells well inside
    the band (every MRZ cell holds a glyph, a filler too: an empty one is a cell past the band's edge,
    where a glyph was cut off). A speck or print beside the MRZ falls outside."""
    xs = np.sort(xs)
    index = np.concatenate(([0], np.cumsum(np.round(np.diff(xs) / pitch)))).astype(int)
    held = set(index.tolist())

    def score(start: int) -> tuple[int, int]:
        found = int(np.count_nonzero((index >= start) & (index < start + width)))
        centres = xs[0] + (np.arange(start, start + width) - index[0]) * pitch
        empty = sum(1 for k, c in zip(range(start, start + width), centres, strict=True)
                    if k not in held and extent[0] + pitch / 2 <= c <= extent[1] - pitch / 2)
        # Tied, the window reaching past the nearer edge: there a glyph is likelier to have been cut.
        past = max(0, index[0] - start) * (xs[0] - extent[0]) + max(0, start + width - 1 - last) * (extent[1] - xs[-1])
        return found - empty, -past

    last = int(index[-1])
    start = max(range(min(0, last - width + 1), max(0, last - width + 1) + 1), key=score)
    inside = (index >= start) & (index < start + width)
    if np.count_nonzero(inside) < MIN_ON_GRID * width or len(set(index[inside])) < 2:
        return None
    slope, intercept = np.polyfit(index[inside] - start, xs[inside], 1)
    return float(intercept), float(slope)


def _bend(xs: np.ndarray, first: float, step: float, width: int) -> np.ndarray:
    """The cells' centres along a line: on the fitted grid, bent where its glyphs say the pitch changes
    along the line (a card warped from an outline a little off keeps some perspective: its glyphs grow
    from one end to the other, and a straight grid fitted to the middle misses both ends by half a cell)."""
    cells = first + step * np.arange(width)
    xs = np.sort(xs)
    index = np.round((xs - first) / step)
    on = (index >= 0) & (index < width)
    if np.count_nonzero(on) < MIN_ON_GRID * width:
        return cells
    curve, slope, intercept = np.polyfit(index[on], xs[on], 2)
    bent = np.polyval((curve, slope, intercept), np.arange(width))
    # Only a bend worth a fifth of a cell at the line's ends, and not more than a cell: else the straight grid.
    shift = np.abs(bent - cells).max()
    return bent if 0.2 * step <= shift <= step else cells


def _window(image: np.ndarray, rows: slice, x0: int, x1: int) -> np.ndarray:
    """The cell with SHIFT of its CELL pixels more on every side, at CELL size plus those margins."""
    width, height = CELL
    top, bottom = rows.start, rows.stop
    dx = (x1 - x0) * SHIFT / width
    dy = (bottom - top) * SHIFT / height
    y0, y1 = max(0, int(round(top - dy))), min(image.shape[0], int(round(bottom + dy)))
    window = image[y0:y1, max(0, int(round(x0 - dx))) : int(round(x1 + dx))].astype(np.float32)
    return cv2.resize(window, (width + 2 * SHIFT, height + 2 * SHIFT), interpolation=cv2.INTER_AREA)


def _shifted_scores(windows: np.ndarray, templates: np.ndarray) -> np.ndarray:
    """For each cell's window, each template's best correlation over the cell's shifts of up to SHIFT
    pixels either way, across and down: the grid and the fitted lines stand a pixel or two off a
    glyph; the best shift is the glyph's place. One array operation for all the cells of a line."""
    width, height = CELL
    crops = np.lib.stride_tricks.sliding_window_view(windows, (height, width), axis=(1, 2))
    crops = crops.reshape(len(windows), -1, height * width)
    crops = crops - crops.mean(axis=2, keepdims=True)
    crops /= np.maximum(np.linalg.norm(crops, axis=2, keepdims=True), 1e-6)
    return (crops @ templates.T).max(axis=1)


@lru_cache(maxsize=512)
def _template_parts(a: int, b: int) -> np.ndarray:
    """Columns a to b of every template, normalised at CELL size: a cell cut by the band's edge is
    compared on its visible part alone. The same few cuts come back (a card warped tight to its print)."""
    return np.stack([_normalised(t[:, a:b]) for t in _templates().raw])


def read_glyphs(band: np.ndarray) -> GlyphReading | None:
    """The MRZ lines in a grey band (lighting flattened, the MRZ's lines across it), or None when the
    band does not show two lines of 44 or three of 30 glyphs on a grid, or the font is missing."""
    templates = _templates()
    if templates is None or band.ndim != 2 or min(band.shape) < 8:
        return None
    ink = cv2.threshold(band, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    lines, cap = _lines(ink)
    width = {3: 30, 2: 44}.get(len(lines))
    if width is None:
        return None
    pitches = []
    for line in lines:
        gaps = np.diff(np.sort(line[:, 4]))
        gaps = gaps[gaps > 0.5 * np.median(gaps)]
        if not gaps.size:
            return None
        pitches.append(float(np.median(gaps)))
    pitch = float(np.median(pitches))
    if not 0.3 * cap <= pitch <= 2 * cap:  # OCR-B's advance is 0.72 of its size: no MRZ's pitch
        return None
    pad = int(2 * cap)  # room for the cells of glyphs cut by the band's edge
    padded = cv2.copyMakeBorder(band, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    rules = allowed(width)
    texts, doubts = [], []
    grids = [_grid(line[:, 4] + pad, pitch, width, (pad, pad + band.shape[1])) for line in lines]
    if None in grids:
        return None
    # Every line starts in the same column: a line whose first glyph was lost (cut by the card's edge)
    # is put back on the others' start.
    start = float(np.median([first for first, _ in grids]))
    for number, line in enumerate(lines):
        first, step = grids[number]
        first -= round((first - start) / step) * step
        # The line's top and baseline as straight lines across it: a card warped a degree off slants them
        # by a third of a glyph from end to end.
        tall = line[line[:, 3] >= 0.8 * cap]
        if len(tall) < 2:
            return None  # fillers only: not an MRZ line
        centres = tall[:, 0] + tall[:, 2] / 2 + pad
        tops, bottoms = tall[:, 1] + pad, tall[:, 1] + tall[:, 3] + pad
        top_line = np.polyfit(centres, tops, 1) if len(tall) >= 5 else (0.0, float(np.median(tops)))
        bottom_line = np.polyfit(centres, bottoms, 1) if len(tall) >= 5 else (0.0, float(np.median(bottoms)))
        scores: dict[int, np.ndarray] = {}  # by position; none for a cell off the band
        whole: dict[int, np.ndarray] = {}  # the windows of the cells seen whole, scored together below
        cells = _bend(line[:, 4] + pad, first, step, width)
        cell_tops, cell_bottoms = np.polyval(top_line, cells), np.polyval(bottom_line, cells)
        pitches = np.gradient(cells)
        for position in range(width):
            centre, pitch = cells[position], pitches[position]
            x0, x1 = int(round(centre - pitch / 2)), int(round(centre + pitch / 2))
            v0, v1 = max(x0, pad), min(x1, padded.shape[1] - pad)
            if v1 - v0 < MIN_VISIBLE * (x1 - x0):
                continue  # off the band: a filler, if the check digits agree
            top, bottom = float(cell_tops[position]), float(cell_bottoms[position])
            margin = MARGIN * (bottom - top)
            rows = slice(max(0, int(round(top - margin))), int(round(bottom + margin)))
            if rows.stop - rows.start < 4:
                return None  # the fitted top and baseline cross: no line of glyphs
            if (v0, v1) == (x0, x1):
                whole[position] = _window(padded, rows, x0, x1)
            else:
                cell = _normalised(padded[rows, v0:v1])
                columns = templates.raw[0].shape[1]  # OCR-B is monospaced: every template as wide
                a = int((v0 - x0) / (x1 - x0) * columns)
                scores[position] = _template_parts(a, max(a + 1, int((v1 - x0) / (x1 - x0) * columns))) @ cell
        if whole:
            scores |= dict(zip(whole, _shifted_scores(np.stack(list(whole.values())), templates.normalised)))
        text = []
        for position in range(width):
            if position not in scores:
                text.append("<")
                continue
            ranked = [k for k in np.argsort(-scores[position]) if CHARS[k] in rules[number][position]]
            text.append(CHARS[ranked[0]])
            if len(ranked) > 1:
                lead = float(scores[position][ranked[0]] - scores[position][ranked[1]])
                doubts.append(Doubt(lead, number, position, CHARS[ranked[1]]))
        texts.append("".join(text))
    return GlyphReading(texts, sorted(doubts, key=lambda d: d.margin)[:DOUBTS])

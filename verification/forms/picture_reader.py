"""Reading a paper form from a scan or a phone photo.

Straighten first (verification.images.sheet): a photo's page is found by its
outline and warped flat, every page is evened out, deskewed and scaled to
150 dpi. One OCR pass of the page (Italian model, psm 6) gives words with
boxes; values are read by their labels (verification.forms.labels), tick
boxes and the signature by the ink next to their labels (verification.forms.marks).
The pass skips what holds no value, found from the ink alone: the
declaration's paragraph (bar its first words, which end the fields), the
footnote, and the title when looks_like_form has read it already; the
sections' headers, by their pale bars, when the title has said which form
(the bars' order says which header is which); and the relationship's 13
labels, when its boxes are all found: the ticked box is told by its ink and
only its label is read. Tesseract's time goes with the
letters it reads, so that is a third of it. When the words do not bear the
skipping out, the whole page is read as before (the labels with it).

`looks_like_form` is the cheap gate the caller runs before choosing between
this reader and the card reader: one small OCR of the page's title band.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from difflib import SequenceMatcher

import cv2
import numpy as np

from verification.forms import layout as forms

from verification.images import ocr
from verification.evidence import FormEvidence, SourceRef
from verification.forms.labels import (
    DECLARATION_START,
    LabelledForm,
    evidence_from_values,
    guess_sections,
    read_labels,
)
from verification.forms.marks import (
    SIGNATURE_MIN_FILL,
    TICK_MIN_FILL,
    best_tick,
    binarize,
    relationship_fills,
    signature_ink,
    square_fill,
    squares_in,
)
from verification.images.boxes import Box
from verification.forms.text import (
    cf_doubtful,
    classify_form_text,
    clean_value,
    fold_words,
    group_lines,
    is_form_text,
    label_hits,
    parse_date,
    parse_email,
    parse_phone,
)
from verification.readings import FormReading
from verification.images.sheet import (
    fingerprint,
    flatten_light,
    gray_of,
    orientations,
    quad_size,
    sheet,
    straighten,
    turned,
    warp,
)

PAGE_WIDTH = 1240  # A4 at 150 dpi: enough for 7 pt print (tesseract scales each line to its own height anyway)
BAND_WIDTH = 800  # the title band for looks_like_form: ~14 px capitals
BAND_HEIGHT = 0.15  # of the page: the two title lines sit in its top eighth


TITLE_ROWS = 0.12  # of the page: the title's lines end above it, the first section's bar starts below

_memo = threading.local()


class _Picture:
    """What is known of one picture: grey, sheet corners, whether photographed, title bands read."""

    def __init__(self, img: np.ndarray) -> None:
        self.img = img
        self.quad, self.photographed = sheet(img)
        self.titles: dict[int, str | None] = {}  # quarter turns -> the title band's text if a form's, else None

    @cached_property
    def gray(self) -> np.ndarray:
        """The picture in grey, made when first needed: a card photographed lying is refused by its shape alone."""
        return gray_of(self.img)

    def title(self, turns: int) -> str | None:
        """The text of the title band, the sheet turned `turns` quarter turns, when it reads as a form's."""
        if turns not in self.titles:
            self.titles[turns] = _title_band_text(self.gray, self.quad, turns)
        return self.titles[turns]


def _picture(img: np.ndarray) -> _Picture:
    """The picture's _Picture; the last one is kept: the caller asks looks_like_form, then
    read_form_image about the same picture (its sheet, ~25 ms, and its title band, ~0.1 s)."""
    last = getattr(_memo, "picture", None)
    mark = fingerprint(img)
    if last is not None and last[0] is img and last[1] == mark:
        return last[2]
    picture = _Picture(img)
    _memo.picture = (img, mark, picture)
    return picture


def _title_band_text(gray: np.ndarray, quad: np.ndarray, turns: int) -> str | None:
    band = flatten_light(warp(gray, turned(quad, turns), BAND_WIDTH, BAND_HEIGHT))
    rows = _title_rows(band)
    if rows is None:
        return None
    top, split, bottom = rows
    # The form's own title, the second line, says which form in a third of the two lines' letters;
    # the common title above is read too only when that does not.
    if bottom > split:
        own = ocr.ocr_text(band[split:bottom], psm=6, invert=False)
        if classify_form_text(own):
            return own
    # The two title lines alone: the office's name above them and the first section's header
    # below are a third of the band's letters, so of its OCR.
    text = ocr.ocr_text(band[top:bottom], psm=6, invert=False)
    return text if is_form_text(text) else None


def _title_rows(band: np.ndarray) -> tuple[int, int, int] | None:
    """The rows of the title: its first line, the one that runs across more than half the band as
    the title's ~90 characters do, and the line just below it (the form's own title), as (top,
    where the second line starts, bottom); None when no line runs that long.

    Words are smeared into lines; a card's few short words never make one. It spares the OCR
    (~0.1 s) on every picture of a card scanned on an A4 sheet.
    """
    ink = cv2.threshold(band, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))  # paper grain
    smeared = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (band.shape[1] // 40, 1)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(smeared)
    h, w = band.shape
    lines = [(stats[i, cv2.CC_STAT_TOP], stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT],
              stats[i, cv2.CC_STAT_WIDTH]) for i in range(1, count)]
    long = [line for line in lines if line[2] > w / 2 and line[1] - line[0] < h / 4]
    if not long:
        return None
    top, bottom, _ = min(long)
    height = bottom - top
    # The second title starts within a line's height below the first (the first section's
    # header stands two below); specks and accents are no line.
    below = [(t, b) for t, b, lw in lines if top + height / 2 < t <= bottom + 1.5 * height and lw > w / 20]
    pad = max(4, height // 3)
    split = (bottom + min(t for t, _ in below)) // 2 if below else bottom + pad
    return max(0, top - pad), max(bottom, split), min(h, max([bottom, *(b for _, b in below)]) + pad)


def looks_like_form(img: np.ndarray) -> bool:
    """Whether the picture is a page of a request form: the title read in the top band of the sheet.

    Cheap (one OCR of an 800 x 180 band, ~0.12 s; a second one for a sheet
    that is not upright): the caller runs it on every picture before choosing
    between this reader and the card reader. An identity card is refused by
    its shape when photographed lying (ID-1 is 1.59:1 across, a page stands
    up), else by its words (a TS-CNS says TESSERA SANITARIA but never
    RICHIESTA DEI CODICI PIN/PUK).
    """
    picture = _picture(img)
    quad, photographed = picture.quad, picture.photographed
    w, h = quad_size(quad)
    ratio = max(w, h) / max(min(w, h), 1.0)
    if not 1.1 <= ratio <= 1.75:  # A4 is 1.41, stretched or squashed a little by the camera's angle
        return False
    if photographed and w > h and ratio > 1.5:
        return False  # an ID-1 card (1.59), photographed as people hold it: lying, long side across
    if not photographed and w > h:
        return False  # no sheet in sight and wider than tall: cards on a desk, not a page (scans stand up)
    if any(picture.title(turns) is not None for turns in orientations(quad)):
        return True
    return h > w and blurred_page(picture.gray, quad)


# Edge energy against contrast, at 600 px wide (var(Laplacian) / var(page)): sharp pages
# (forms, cards on a sheet, a few cards on a blank page) 2-4; a shaken photo of a form 0.1.
BLUR_MAX_SHARPNESS = 0.5


def blurred_page(gray: np.ndarray, quad: np.ndarray) -> bool:
    """A standing sheet too blurred to read anything: a form, as far as anyone can tell, but unreadable.

    The corpus of cards never comes this blurred standing up; the finding it
    leads to (unreadable_form) asks the citizen for a better copy.
    """
    page = flatten_light(warp(gray, quad, 600))
    contrast = float(np.var(page))
    if contrast < 9.0:
        return False  # a blank sheet, or nothing at all
    return bool(cv2.Laplacian(page, cv2.CV_64F).var() / contrast < BLUR_MAX_SHARPNESS)


REREAD_BELOW_CONF = 80  # tesseract's word confidence under which a value is read again, closer
REREAD_MIN_CONTRAST = 64  # grey levels from paper to ink: print and pen have 120 or more, paper grain < 30


def _doubtful(name: str, value: str | None, words: list[Box]) -> bool:
    """A value worth a second look: missing, not of its kind, or read with low confidence."""
    if not value:
        return name != forms.PLACE_DATE_FIELD
    if name.endswith("codice_fiscale"):
        return cf_doubtful(value)  # its check character repairs it better than a second look
    if name.endswith(("birth_date", "card_expiry")) and parse_date(value) is None:
        return True
    if (name == "phone" and parse_phone(value) is None) or (name == "email" and parse_email(value) is None):
        return True
    return min((w.conf for w in words), default=0.0) < REREAD_BELOW_CONF


def _reread_doubtful(page: np.ndarray, labelled: LabelledForm) -> None:
    """OCR again each doubtful value, alone on its line, at two and three times the size.

    The full-page pass at 150 dpi sometimes slips on a small glyph
    ("aanna.bianchi") or loses a whole line on a photo; two looks at the
    value's own line cost ~50 ms. They replace the first reading when they
    agree and are of the right kind (a date that parses, an e-mail address …),
    or when the first one was not of its kind. When the first closer look
    agrees with the page's reading (most often an e-mail address read with
    low confidence for its "@"), that is two looks agreeing: no third.
    """
    h = labelled.word_height or 10.0
    for name, (x0, top, x1, bottom) in labelled.value_regions.items():
        old = labelled.values.get(name)
        if not _doubtful(name, old, labelled.value_boxes.get(name, [])):
            continue
        crop = page[max(0, int(top - 0.6 * h)) : int(bottom + 0.6 * h), max(0, int(x0)) : int(x1)]
        if crop.shape[0] < 4 or crop.shape[1] < 4 or (not old and _blank(crop, h)):
            continue
        crop = _without_rules(crop, h)

        def closer(f: int) -> str:
            big = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
            return clean_value(" ".join(ocr.ocr_text(big, psm=7).split()))

        def fits(value: str) -> bool:
            return not _doubtful(name, value, [Box(value, 0, 0, 0, 0, REREAD_BELOW_CONF)])

        old_fits = bool(old) and fits(old)
        first = closer(2)
        if old_fits and first and "".join(first.split()) == "".join(old.split()):
            labelled.values[name] = first if fits(first) else old  # two looks agree: no third
            continue
        readings = {first, closer(3)}
        readings.discard("")
        fitting = [r for r in readings if fits(r)]
        agree = len({"".join(r.split()) for r in readings}) == 1  # "anna.bianchi @example.org" is the same
        # Two closer looks that agree beat the first one; one of the right kind beats one that is not.
        if agree and fitting:
            labelled.values[name] = fitting[0]
        elif fitting and not old_fits:
            labelled.values[name] = fitting[0]
        elif readings and not old:
            labelled.values[name] = sorted(readings)[0]


def _blank(gray: np.ndarray, h: float) -> bool:
    """Whether a field's crop holds nothing written: no mark well darker than the paper but its rules.

    Read closer, an empty field's paper grain comes out as letters ("Nap pini ce lire"),
    and digits among them make a phone number.
    """
    dark = (gray < np.median(gray) - REREAD_MIN_CONTRAST).astype(np.uint8)
    rules = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(8, int(3 * h)), 1)))
    rules |= cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(8, int(1.8 * h)))))
    dark[cv2.dilate(rules, np.ones((3, 3), np.uint8)) > 0] = 0
    return np.count_nonzero(dark) < max(8.0, 0.2 * h * h)


def _without_rules(gray: np.ndarray, h: float) -> np.ndarray:
    """The crop on white paper, the field's underline and any box edge erased: psm 7 reads a rule as text."""
    if gray.size == 0:
        return gray
    ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(8, int(3 * h)), 1)))
    # and box edges standing taller than any letter
    rules |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(8, int(1.8 * h)))))
    paper = float(np.median(gray))
    out = gray.astype(np.float32)
    out[cv2.dilate(rules, np.ones((3, 3), np.uint8)) > 0] = paper
    dark = float(out.min())
    out = (out - dark) * (255.0 / max(paper - dark, 1.0))  # paper white, ink black, as on a scan
    return np.clip(out, 0, 255).astype(np.uint8)


def _rules_erased(page: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(the page without its long rules, its ink without them, the paper's grey).

    Tesseract runs a value into the line it is written on ("_____m_anna.bianchi@example.org")
    and loses it. Marks are measured on the page as it is."""
    ink = cv2.adaptiveThreshold(page, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (page.shape[1] // 12, 1)))
    # box edges too (taller than two lines of text): left alone, tesseract takes them for letters
    rules |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, page.shape[0] // 50)))
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8)) > 0
    paper = int(np.median(page))
    out = page.copy()
    out[rules] = paper
    ink[rules] = 0
    return out, ink, paper


Band = tuple[int, int, int, int]  # top, bottom, x0, x1 of a row of text, in page pixels


def _text_bands(ink: np.ndarray) -> list[Band]:
    """The rows of text of a page, top to bottom, from its ink's row profile."""
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))  # paper grain
    on = np.count_nonzero(ink, axis=1) > max(2, ink.shape[1] // 400)  # a descender touching the next line is not
    edges = np.flatnonzero(np.diff(np.concatenate(([0], on.view(np.int8), [0]))))
    bands = []
    for top, bottom in zip(edges[::2], edges[1::2]):
        cols = np.flatnonzero(np.count_nonzero(ink[top:bottom], axis=0) > 0)
        if bottom - top >= 4 and cols.size:
            bands.append((int(top), int(bottom), int(cols[0]), int(cols[-1]) + 1))
    return bands


PARAGRAPH_MIN_LINES = 3  # the declaration runs over 4-6 full lines; the title has two
PARAGRAPH_WIDE = 0.8  # of the page's widest row of text: a line of the declaration (fields and ticks end sooner)
# Of its first line: "Il/La sottoscritto/a," (~0.21 of it), where the fields end; the cut moves on to the
# next space, so it lands after "sottoscritto/a," from anywhere past "Il/La" (~0.05).
DECLARATION_KEEP = 0.2


def _declaration_bands(bands: list[Band]) -> list[Band] | None:
    """The declaration's lines: the first run of full-width lines set close together, below
    the title; None when the page shows none."""
    if len(bands) < 6:
        return None
    widest = max(x1 - x0 for _, _, x0, x1 in bands)
    line = float(np.median([b - t for t, b, _, _ in bands]))
    bands = [b for b in bands if b[1] - b[0] >= 0.6 * line]  # not the edges of a section's shaded bar

    def wide(band: Band) -> bool:
        return band[3] - band[2] >= PARAGRAPH_WIDE * widest and band[1] - band[0] <= 1.6 * line

    def follows(i: int, lines: int = 1) -> bool:  # band i continues the paragraph of band i - 1
        above, below = bands[i - 1], bands[i]
        height = min(above[1] - above[0], below[1] - below[0])
        return below[0] - above[1] <= 0.8 * height and below[1] - below[0] <= (lines + 0.6) * line

    for first in range(3, len(bands) - PARAGRAPH_MIN_LINES + 1):
        run = range(first, first + PARAGRAPH_MIN_LINES)
        if all(wide(bands[i]) for i in run) and all(follows(i) for i in run[1:]):
            end = first + PARAGRAPH_MIN_LINES
            while end < len(bands) and follows(end, lines=2):  # two lines of a photo may run together
                end += 1
            return bands[first:end]
    return None


def _without_boilerplate(erased: np.ndarray, ink: np.ndarray, paper: int,
                         without_title: bool = False) -> tuple[np.ndarray, Band] | None:
    """The page with the declaration (bar the start of its first line) and the footnote painted over,
    and the band kept of the declaration's first line; None when they cannot be told from the ink.
    `without_title`: the lines above TITLE_ROWS painted over too (the title, read already).

    They hold no value and are half of the page's letters, so half of tesseract's time. The
    first words of the declaration stay: they end the fields (form_labels), and reading them
    where they were expected is what proves that the paragraph painted over was the declaration.
    """
    bands = _text_bands(ink)
    declaration = _declaration_bands(bands)
    if declaration is None:
        return None
    out = erased.copy()
    top, bottom, x0, x1 = declaration[0]
    cut = x0 + int(DECLARATION_KEEP * (x1 - x0))
    blank = np.flatnonzero(np.count_nonzero(ink[top:bottom, cut:x1], axis=0) == 0)
    cut += int(blank[0]) if blank.size else 0  # at a space, not through a letter
    # Painted from the middle of the spaces between lines: a letter's tails left over are
    # specks tesseract would still try to read.
    above = max([b for _, b, _, _ in bands if b <= top], default=0)
    between = (bottom + declaration[1][0]) // 2
    out[(above + top) // 2 : between, cut:] = paper
    last = declaration[-1]
    below = min([t for t, _, _, _ in bands if t >= last[1]], default=out.shape[0])
    out[between : (last[1] + below) // 2] = paper
    # The footnote: the page's last row, a line of small print, well below the declaration
    # (place and date, the signature's label and its box come between).
    after = [band for band in bands if band[0] >= declaration[-1][1] and band[1] - band[0] >= 0.6 * (bottom - top)]
    t, b, fx0, fx1 = bands[-1]
    # Place and date's label and the value or the signature's row come between (a v0 form sets the
    # signature box beside place and date: three rows with the footnote).
    if len(after) >= 3 and after[-1] == bands[-1] and b - t <= 1.3 * (bottom - top) and fx1 - fx0 >= 0.4 * (x1 - x0):
        out[(after[-2][1] + t) // 2 :] = paper
    if without_title:
        limit = TITLE_ROWS * out.shape[0]
        above = [b for b in bands if b[1] <= limit]
        nxt = min([b[0] for b in bands if b[1] > limit], default=int(limit))
        if above:
            out[: (above[-1][1] + nxt) // 2] = paper
    return out, declaration[0]


def _declaration_read(boxes: list[Box], band: Band) -> bool:
    """Whether the declaration's first words were read at the start of the band kept of it."""
    top, bottom = band[0], band[1]
    lines = group_lines([b for b in boxes if b.text.strip() and top - 2 <= b.cy <= bottom + 2])
    return any(hit.first == 0 for _, hit in label_hits(lines, DECLARATION_START))


def _first_section_read(boxes: list[Box]) -> bool:
    """Whether the holder's section header was read (not painted over with the title)."""
    lines = group_lines([b for b in boxes if b.text.strip()])
    return any(hit.first <= 1 for _, hit in label_hits(lines, forms.HOLDER_SECTION))


# --- the sections' shaded bars, found from the grey alone ----------------------------------------

# A row's median grey under the paper's: a section's pale bar 5-15 levels (the whole row shaded), a row
# of text none (mostly paper between the letters), a row along a rule or a line of print far more.
SECTION_SHADE = (2.5, 40)


def _section_bars(page: np.ndarray, line: float) -> list[Band]:
    """The shaded bars the sections' headers are printed on, top to bottom: runs of rows whose median
    grey is a little under the paper's, between one and a half and four text lines tall."""
    narrow = cv2.resize(page, (max(1, page.shape[1] // 4), page.shape[0]), interpolation=cv2.INTER_AREA)
    paper = float(np.median(narrow))
    rows = np.convolve(np.median(narrow, axis=1), np.ones(3) / 3, mode="same")  # grain: a level or two
    shaded = (rows < paper - SECTION_SHADE[0]) & (rows > paper - SECTION_SHADE[1])
    edges = np.flatnonzero(np.diff(np.concatenate(([0], shaded.view(np.int8), [0]))))
    return [(int(top), int(bottom), 0, page.shape[1]) for top, bottom in zip(edges[::2], edges[1::2])
            if 1.5 * line <= bottom - top <= 4 * line]


def _section_headers(form_type: str) -> list[str]:
    return [forms.HOLDER_SECTION, *([forms.DECLARANT_SECTION] if forms.has_declarant(form_type) else []),
            forms.CONTACT_SECTION]


def _bars_for_headers(page: np.ndarray, form_type: str, declaration: Band) -> list[Band] | None:
    """The bars of `form_type`'s sections, when the page shows exactly as many above the declaration's
    first line `declaration`; None when it does not (a photocopy may lose the shade)."""
    top, bottom = declaration[0], declaration[1]
    bars = [bar for bar in _section_bars(page, float(bottom - top)) if bar[1] <= top]
    return bars if len(bars) == len(_section_headers(form_type)) else None


def _header_boxes(bars: list[Band], form_type: str, line: float) -> list[Box]:
    """Each bar's header as words where it is printed, in the form's order: the labels' reading bounds
    its sections by them ("Cognome" under the holder's is the holder's), and they need not be read."""
    boxes = []
    for (top, bottom, x0, _), header in zip(bars, _section_headers(form_type)):
        mid, x = (top + bottom) / 2, x0 + line
        for word in header.split():
            width = 0.7 * line * len(word)
            boxes.append(Box(word, x, mid - line / 2, x + width, mid + line / 2, 99.0))
            x += width + 0.5 * line
    return boxes


def _without_bars(page: np.ndarray, bars: list[Band], paper: int) -> np.ndarray:
    out = page.copy()
    for top, bottom, _, _ in bars:
        out[max(0, top - 2) : bottom + 2] = paper  # and the flattened light's halo just around them
    return out


# --- the relationship's tick boxes, read from the ink ----------------------------------------------

TICK_LABEL_MIN_RATIO = 0.8  # the ticked box's label against the nearest relationship label, letters only


@dataclass(frozen=True)
class _Ticks:
    """The relationship block found from its boxes: where it is, and the ticked relationship."""

    rows: tuple[int, int]  # top and bottom of the block's rows, in page pixels
    relationship: str | None  # the ticked box's relationship; None when no box, or more than one, is ticked


def _tick_boxes(binary: np.ndarray, line: float, end: int) -> list[tuple[int, int, int, int]] | None:
    """The relationship's tick boxes above row `end` (the declaration's), one per relationship, all
    of a size; None when the page has not exactly those there (a direct form has none; a pen
    stroke may break a box's frame)."""

    def side(square) -> float:
        return ((square[2] - square[0]) + (square[3] - square[1])) / 2

    # Largest first: a capital's frame (a "D" of a value, small print's "O") may pass for a
    # smaller square, never for one of the boxes' size.
    squares = sorted(squares_in(binary, (0, 0, binary.shape[1], end), line), key=side, reverse=True)
    count = len(forms.RELATIONSHIP_LABELS)
    if len(squares) < count:
        return None
    boxes, rest = squares[:count], squares[count:]
    size = float(np.median([side(b) for b in boxes]))
    if not all(0.8 * size <= side(b) <= 1.25 * size for b in boxes) or (rest and side(rest[0]) >= 0.8 * size):
        return None
    return sorted(boxes, key=lambda q: (q[1], q[0]))


def _ticked_label(page: np.ndarray, binary: np.ndarray, box: tuple[int, int, int, int],
                  boxes: list[tuple[int, int, int, int]]) -> str | None:
    """The relationship whose label stands right of `box`: its words read alone (psm 7) and matched
    whole against every label, so "nipote (figlio di un figlio)" is never found inside the
    longer nephew's label. None when the words match no label well."""
    x0, y0, x1, y1 = box
    side = y1 - y0
    cy = (y0 + y1) / 2
    # up to the next box on its row, else to the row's last ink
    right = min([b[0] for b in boxes if b[0] > x1 and abs((b[1] + b[3]) / 2 - cy) < 0.5 * side],
                default=page.shape[1])
    top, bottom = max(0, int(y0 - 0.4 * side)), int(y1 + 0.4 * side)
    cols = np.flatnonzero(np.count_nonzero(binary[top:bottom, x1 + side // 4 : right], axis=0))
    if not cols.size:
        return None
    end = min(x1 + side // 4 + int(cols[-1]) + side // 2, right - side // 4)  # short of the next box's frame
    crop = page[top:bottom, x1 + side // 4 : end]
    # At twice the size: a label's small print at 150 dpi, crossed by a pen stroke, reads badly.
    crop = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    read = "".join(fold_words(ocr.ocr_text(crop, psm=7, invert=False)))
    scores = sorted(((SequenceMatcher(None, read, "".join(fold_words(label)), autojunk=False).ratio(), code)
                     for code, label in forms.RELATIONSHIP_LABELS.items()), reverse=True)
    return scores[0][1] if scores[0][0] >= TICK_LABEL_MIN_RATIO else None


def _ticks(page: np.ndarray, binary: np.ndarray, declaration: Band) -> _Ticks | None:
    """The relationship block read from its boxes alone: the ticked box's label is the only
    text of it read, instead of the 13 labels (~170 letters, a fifth of the page's OCR).
    `declaration`: the band of the declaration's first line; the boxes stand above it.

    None (the labels are then read with the page, as before) when the boxes are not all
    found, or the ticked box's label cannot be read and matched; a pen tick running over
    its label is the usual cause, which the labels' reading copes with (form_marks).
    """
    top, bottom = declaration[0], declaration[1]
    boxes = _tick_boxes(binary, float(bottom - top), top)  # a line of text high, as its labels
    if boxes is None:
        return None
    side = boxes[0][3] - boxes[0][1]
    margin = 0.4 * side  # the rows' letters stand a little above and below the boxes
    rows = (max(0, int(min(b[1] for b in boxes) - margin)), int(max(b[3] for b in boxes) + margin))
    rows = (_label_above(binary, rows[0], side), rows[1])
    fills = {i: square_fill(binary, b) for i, b in enumerate(boxes)}
    ticked = best_tick(fills)
    if ticked is None:
        if any(f >= TICK_MIN_FILL for f in fills.values()):
            return None  # two ticks: let the labels' reading decide, as before
        return _Ticks(rows, None)
    relationship = _ticked_label(page, binary, boxes[ticked], boxes)
    return _Ticks(rows, relationship) if relationship else None


def _label_above(binary: np.ndarray, top: int, side: int) -> int:
    """Where the block's own label ("Rapporto con il titolare") starts: the line of print just above
    row `top` of its boxes, within two boxes' height (the last field's rule stands further up). `top`
    when no line stands there whole; the label says nothing the boxes do not."""
    window = binary[max(0, top - 2 * side) : top]
    inked = np.flatnonzero(np.count_nonzero(window, axis=1) > 2)
    if not inked.size:
        return top
    first = last = int(inked[-1])
    while first > 0 and first - 1 in inked:
        first -= 1
    if first == 0 or last - first + 1 < 0.4 * side:
        return top  # running out of the window, or a speck: not a line of its own
    return max(0, top - len(window) + first - 2)


def _without_ticks(page: np.ndarray, ticks: _Ticks, paper: int) -> np.ndarray:
    """The page with the relationship block's rows (its label, boxes and boxes' labels) painted over."""
    out = page.copy()
    out[ticks.rows[0] : ticks.rows[1]] = paper
    return out


def _ocr_boxes(page: np.ndarray) -> list[Box]:
    # No second look at low-confidence words as light-on-dark text: a form's print is all dark on
    # light (its section bars are pale), and the words read badly (tick boxes, a signature) are many.
    # Only the rectangle that holds ink: the paper painted over above and below the fields (title,
    # declaration, footnote) costs tesseract's layout pass by the pixel (~7% of the page's OCR).
    ink = page < INK_LEVEL
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not rows.size:
        return []
    y0, y1 = max(0, int(rows[0]) - INK_MARGIN), min(page.shape[0], int(rows[-1]) + INK_MARGIN + 1)
    x0, x1 = max(0, int(cols[0]) - INK_MARGIN), min(page.shape[1], int(cols[-1]) + INK_MARGIN + 1)
    words = ocr.ocr_words(page[y0:y1, x0:x1], psm=6, invert=False)
    return [Box(w.text, w.x + x0, w.y + y0, w.x + x0 + w.w, w.y + y0 + w.h, w.conf) for w in words]


INK_LEVEL = 128  # grey: print and pen are far darker, the sections' pale bars and the paper far lighter
INK_MARGIN = 20  # px at 150 dpi around the ink kept for OCR: a line's height


def _read_upright(img: np.ndarray):
    """(page, its ink, words, text, ticks) of the sheet turned the way its title reads, or None when
    no way does. `ticks` is the relationship read from its boxes, its labels left out of the
    words; None when the words hold the labels (or the form has no boxes).

    An upright sheet costs one OCR of the page without its declaration, footnote and the
    relationship's labels; the whole page is read only when that does not show a form's
    title and the declaration's start where expected. Any other way is tried only when its
    title band reads as a form (a small OCR instead of a wasted full one).
    """
    picture = _picture(img)
    gray, quad = picture.gray, picture.quad
    ways = orientations(quad)
    for turns in ways:
        if turns != 0 and picture.title(turns) is None:
            continue
        page = straighten(gray, PAGE_WIDTH, turns, quad)
        erased, ink, paper = _rules_erased(page)
        # The title as read in its band (by looks_like_form, most often) need not be read again.
        title = picture.titles.get(turns)
        if not title or not classify_form_text(title):
            title = None  # not read, or not which form: read it again on the page
        shortened = _without_boilerplate(erased, ink, paper, without_title=title is not None)
        binary = binarize(page)
        if shortened is not None:
            form_type = classify_form_text(title) if title else None
            # A direct form has no boxes (its title says so): no search for them.
            ticks = None if form_type == "direct" else _ticks(page, binary, shortened[1])
            short = shortened[0] if ticks is None else _without_ticks(shortened[0], ticks, paper)
            # The sections' headers are a fifth of the letters left: with the form known, their bars
            # say where they are, and their order which is which. Not when the title's painting ran
            # past the first bar (the first label may be gone with it: the page is read whole).
            bars = _bars_for_headers(page, form_type, shortened[1]) if form_type else None
            if bars and (short[bars[0][1] - 1] != paper).any():
                short = _without_bars(short, bars, paper)
            else:
                bars = None
            boxes = _ocr_boxes(short)
            if bars:
                boxes += _header_boxes(bars, form_type, float(shortened[1][1] - shortened[1][0]))
            text = " ".join([title or ""] + [b.text for b in boxes]).strip()
            declaration = _declaration_read(boxes, shortened[1])
            if title and not _first_section_read(boxes):
                declaration = False  # painted over with the title? read the whole page
            # The declaration and the footnote never hold a title (nor a form's second one).
            if declaration and (classify_form_text(text) or is_form_text(text)):
                return page, binary, boxes, text, ticks
            if (turns == 0 and not declaration and not is_form_text(text)
                    and any(picture.title(t) is not None for t in ways[1:])):
                continue  # upside down: its title band reads the other way
        boxes = _ocr_boxes(erased)
        text = " ".join(b.text for b in boxes)
        if classify_form_text(text) or is_form_text(text):
            return page, binary, boxes, text, None
    return None


def read_form_image(img: np.ndarray, source: SourceRef) -> FormReading | None:
    """The form on a scanned or photographed page; None when the page is not a form."""
    found = _read_upright(img)
    if found is None:
        picture = _picture(img)
        w, h = quad_size(picture.quad)
        if h > w and blurred_page(picture.gray, picture.quad):
            return FormReading(source, FormEvidence(form_type=None), "ocr", readable=False,
                               unreadable_reason="blurred")
        return None
    page, binary, boxes, text, ticks = found
    form_type = classify_form_text(text)
    sections = form_type or guess_sections(text)
    labelled = read_labels(boxes, sections)
    _reread_doubtful(page, labelled)
    relationship = None
    if ticks is not None:
        relationship = ticks.relationship if sections != "direct" else None
    elif sections != "direct":
        labels = {code: (h.x0, h.top, h.x1, h.bottom) for code, h in labelled.relationship_labels.items()}
        relationship = best_tick(relationship_fills(binary, labels, forms.RELATIONSHIP_LABELS))
    signed = False
    if labelled.signature_label is not None:
        hit = labelled.signature_label
        # Printed words read with confidence are not ink; a scribble OCR'd as letters has a low one.
        printed = [(b.x0, b.top, b.x1, b.bottom) for b in boxes
                   if b.conf >= 80 and sum(c.isalpha() for c in b.text) >= 3]
        ink = signature_ink(binary, (hit.x0, hit.top, hit.x1, hit.bottom), printed)
        signed = ink.fill >= SIGNATURE_MIN_FILL
    evidence = evidence_from_values(form_type, labelled.values, relationship, signed=signed,
                                    signature_kind="ink" if signed else None)
    readable = len(labelled.labels) >= 3 and bool(labelled.values)
    raw = labelled.raw_fields()
    if relationship:
        raw["Rapporto con il titolare"] = relationship
    return FormReading(source, evidence, "ocr", readable=readable,
                       unreadable_reason=None if readable else "labels_not_found", raw_fields=raw)

"""The words of a request form: title, form type, and the values written after its labels.

Pure functions over text and positioned words, shared by the PDF text layer
(pdfplumber words, in points) and OCR (tesseract words, in pixels): nothing
here knows a unit, a page size or a coordinate of the layout. Every label is
found by its SPEC.md wording ("The three forms"), tolerant to OCR noise,
accents, dash variants and case; values are the words right of a label on
its line, else the words just below it in its column.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from functools import lru_cache

import phonenumbers

from verification import codice_fiscale as cf
from verification.images.boxes import Box
from verification.forms import layout as forms

# --- folding and fuzzy phrases --------------------------------------------------------------------


def fold_words(text: str) -> list[str]:
    """Upper-case ASCII words: accents gone, every dash, slash and bracket a separator."""
    text = unicodedata.normalize("NFKD", text or "").upper()
    text = "".join(c for c in text if not unicodedata.combining(c))
    return [w for w in re.split(r"[^A-Z0-9]+", text) if w]


@lru_cache(maxsize=1 << 16)
def _similar(a: str, b: str, threshold: float = 0.0) -> float:
    """difflib's ratio of `a` and `b`, 0.0 when its cheap upper bounds already fall below `threshold`.

    The bounds are SequenceMatcher's real_quick_ratio and quick_ratio, without
    building a matcher: most windows of a page are nowhere near a label, and a
    page asks about the same word and label pair many times (cached).
    """
    total = len(a) + len(b)
    if threshold > 0.0 and total:
        if 2.0 * min(len(a), len(b)) / total < threshold:
            return 0.0
        counts = _letter_counts(b)
        common = sum(min(n, counts.get(c, 0)) for c, n in _letter_counts(a).items())
        if 2.0 * common / total < threshold:
            return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


@lru_cache(maxsize=1 << 12)
def _letter_counts(text: str) -> dict[str, int]:
    return dict(Counter(text))


def _min_ratio(phrase: str) -> float:
    # Short labels ("NOME") must be near exact; long phrases survive a few OCR slips.
    n = len(phrase)
    return 1.0 if n <= 3 else 0.74 if n <= 5 else 0.8 if n <= 12 else 0.78


def phrase_matches(words: list[str], phrase: str, min_ratio: float | None = None) -> list[tuple[int, int, float]]:
    """Every fuzzy occurrence of `phrase` in `words`: (first, end, ratio), best first.

    Windows of one word more or fewer than the phrase absorb words that OCR
    split or ran together; letters are compared without the spaces.
    """
    return list(_phrase_matches(tuple(words), phrase, min_ratio))


@lru_cache(maxsize=1 << 12)
def _phrase_matches(words: tuple[str, ...], phrase: str, min_ratio: float | None) -> tuple[tuple[int, int, float], ...]:
    parts = fold_words(phrase)
    target, k = "".join(parts), len(parts)
    threshold = _min_ratio(target) if min_ratio is None else min_ratio
    found = []
    for first in _starts(words, parts):
        for size in sorted({max(1, k - 1), k, k + 1}):
            window = "".join(words[first : first + size])
            if first + size > len(words) or abs(len(window) - len(target)) > max(2, len(target) // 3):
                continue
            ratio = _similar(window, target, threshold)
            if ratio >= threshold:
                found.append((first, first + size, ratio))
    return tuple(sorted(found, key=lambda f: (-f[2], f[0])))


def _starts(words: list[str], parts: list[str]) -> list[int]:
    """Where a window may start: for a long phrase, only near a word like its first or second word.

    A page holds hundreds of words; comparing every window with a 50-letter
    title costs more than the rest of the reading. OCR would have to garble
    both of the first two words for this to miss.
    """
    if len(parts) < 3:
        return list(range(len(words)))
    starts = set()
    for i, word in enumerate(words):
        if _similar(word, parts[0], 0.6) >= 0.6:
            starts.update((i - 1, i))
        if _similar(word, parts[1], 0.6) >= 0.6:
            starts.update((i - 2, i - 1, i))  # i: the first word lost
    return sorted(i for i in starts if 0 <= i < len(words))


def find_phrase(words: list[str], phrase: str, min_ratio: float | None = None) -> tuple[int, int, float] | None:
    """The best fuzzy occurrence of `phrase` in `words`, or None."""
    found = phrase_matches(words, phrase, min_ratio)
    return found[0] if found else None


_TITLE_CORE = "RICHIESTA DEI CODICI PIN PUK"  # what no identity card says (a TS-CNS says the rest)


def is_form_text(text: str) -> bool:
    """Whether `text` holds the common title (or a form's second title line)."""
    words = fold_words(text)
    if find_phrase(words, _TITLE_CORE, min_ratio=0.78) is not None:
        return True
    return classify_form_text(text) is not None


def classify_form_text(text: str) -> str | None:
    """"direct", "delegate" or "guardian" from the second title line, None when none is there."""
    words = fold_words(text)
    best = None
    for form_type, title in forms.FORM_TITLES.items():
        found = find_phrase(words, title, min_ratio=0.8)
        if found and (best is None or found[2] > best[1]):
            best = (form_type, found[2])
    return best[0] if best else None


# --- positioned words -----------------------------------------------------------------------------


def split_box(box: Box) -> list[Box]:
    """One Box per folded word, x spread by character position ("figlio/figlia" → FIGLIO, FIGLIA)."""
    raw = box.text
    n = max(1, len(raw))
    width = (box.x1 - box.x0) / n
    out = []
    for match in re.finditer(r"[^\W_]+", raw):
        for word in fold_words(match.group()):
            out.append(
                Box(word, box.x0 + match.start() * width, box.top, box.x0 + match.end() * width, box.bottom, box.conf)
            )
    return out


@dataclass
class Line:
    boxes: list[Box]  # raw words, left to right
    words: list[Box]  # folded words, left to right

    @property
    def top(self) -> float:
        return min(b.top for b in self.boxes)

    @property
    def bottom(self) -> float:
        return max(b.bottom for b in self.boxes)


def group_lines(boxes: list[Box]) -> list[Line]:
    """Words on one text line: vertical centres within half a word height, top to bottom."""
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.cy, b.x0)):
        if lines:
            last = lines[-1]
            centre = sum(b.cy for b in last) / len(last)
            height = sorted(b.height for b in last)[len(last) // 2]
            if abs(box.cy - centre) <= 0.5 * max(height, box.height):
                last.append(box)
                continue
        lines.append([box])
    out = []
    for members in lines:
        members.sort(key=lambda b: b.x0)
        out.append(Line(members, [w for b in members for w in split_box(b)]))
    return out


@dataclass(frozen=True)
class Hit:
    """A label found on a line: its words' span and box."""

    line: int
    first: int
    end: int
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


def _hit(lines: list[Line], index: int, first: int, end: int) -> Hit:
    words = lines[index].words[first:end]
    return Hit(
        index, first, end, min(w.x0 for w in words), min(w.top for w in words),
        max(w.x1 for w in words), max(w.bottom for w in words),
    )


def label_hits(lines: list[Line], phrase: str, first_line: int = 0, last_line: int | None = None):
    """Every occurrence of `phrase` on lines [first_line, last_line): (ratio, Hit), best first."""
    hits = []
    for index in range(first_line, len(lines) if last_line is None else min(last_line, len(lines))):
        boxes = lines[index].words
        for first, end, ratio in phrase_matches([w.text for w in boxes], phrase):
            window = boxes[first:end]
            gap = max((b.x0 - a.x1 for a, b in zip(window, window[1:])), default=0.0)
            if gap <= 2.5 * max(b.height for b in window):  # one label never spans two columns
                hits.append((ratio, _hit(lines, index, first, end)))
    return sorted(hits, key=lambda h: (-h[0], h[1].line, h[1].x0))


# --- values ---------------------------------------------------------------------------------------

_DATE = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})")
_DIGIT_FIX = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "i": "1",
                            "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "G": "6", "g": "9"})
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")


def clean_value(text: str) -> str:
    """Without leading colons, hint brackets like "(gg/mm/aaaa)", underscores and dot leaders."""
    text = re.sub(r"\((?:gg|dd)[^)]*\)", " ", text, flags=re.I)
    text = re.sub(r"[_…]+|\.{3,}", " ", text)
    text = text.strip(" :;|[]")
    return re.sub(r"\s+", " ", text).strip()


def parse_date(text: str | None) -> date | None:
    if not text:
        return None
    fixed = re.sub(r"[A-Za-z|]", lambda m: m.group().translate(_DIGIT_FIX), text)
    for match in _DATE.finditer(fixed):
        day, month, year = (int(g) for g in match.groups())
        if year < 100:
            year += 2000 if year < 40 else 1900  # the form asks for four digits; no clock here
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


def parse_cf(text: str | None) -> str | None:
    """The codice fiscale, OCR slips repaired when the check character confirms one repair.

    A stray mark read as one extra character ("RSSMRAS58C14F205N") is dropped
    only when exactly one deletion gives a valid code; otherwise the code is
    returned as written and the rules report it.
    """
    raw = re.sub(r"[^A-Za-z0-9]", "", text or "").upper()
    if len(raw) == 16:
        return cf.repair(raw) or raw
    if len(raw) == 17:
        candidates = {raw[:i] + raw[i + 1 :] for i in range(17)}
    else:
        candidates = {raw[i : i + 16] for i in range(max(0, len(raw) - 15))}
    valid = {c for c in (cf.repair(candidate) for candidate in candidates) if c}
    if len(valid) == 1:
        return valid.pop()
    return raw or None  # as written: the rules say cf_invalid


def cf_doubtful(text: str | None) -> bool:
    """Whether an OCR'd codice fiscale is worth reading again (not 16 characters, or no valid repair)."""
    raw = re.sub(r"[^A-Za-z0-9]", "", text or "").upper()
    return len(raw) != 16 or cf.repair(raw) is None


def parse_phone(text: str | None) -> str | None:
    """E.164 ("+393331234567"), region IT for numbers written without a prefix."""
    if not text:
        return None
    fixed = re.sub(r"[A-Za-z|]", lambda m: m.group().translate(_DIGIT_FIX), text)
    fixed = re.sub(r"[^\d+]", "", fixed)
    if fixed.startswith("00"):
        fixed = "+" + fixed[2:]
    try:
        number = phonenumbers.parse(fixed, "IT")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_email(text: str | None) -> str | None:
    if not text:
        return None
    # OCR spaces around "@" and "." are slips; a space elsewhere ends the address (trailing specks).
    joined = re.sub(r"\s*([@.])\s*", r"\1", text.replace("(at)", "@").replace("[at]", "@"))
    match = _EMAIL.search(joined)
    return match.group().rstrip(".").lower() if match else None


def parse_card_number(text: str | None) -> str | None:
    """The TS card number (field 8 of the back: 20 digits), digits only."""
    if not text:
        return None
    fixed = re.sub(r"[A-Za-z|]", lambda m: m.group().translate(_DIGIT_FIX), text)
    digits = re.sub(r"\D", "", fixed)
    return digits or None


def parse_name(text: str | None) -> str | None:
    if not text:
        return None
    text = re.sub(r"[^\w' \-]", " ", text)
    text = re.sub(r"\s+", " ", text).strip(" -'")
    return text or None

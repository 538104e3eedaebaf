"""Reading fields out of OCR'd words by their labels: geometry, dates, codes.

Card layouts put a value under its label ("SCADENZA / EXPIRY" over
"01.05.2031") or after it on the same line ("9. Data di scadenza
30/09/2029", "4b. 14/03/2030"). We never trust fixed coordinates for a
value: we find the label's words and take the nearest value of the expected
shape below it or to its right. Pure functions over `ocr.Word` lists.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date
from functools import lru_cache
from statistics import median

from verification import codice_fiscale
from verification.images.ocr import Word

_MONTHS = {  # passport style "01 GEN/JAN 1980": Italian and English abbreviations
    **{m: i + 1 for i, m in enumerate(("GEN", "FEB", "MAR", "APR", "MAG", "GIU", "LUG", "AGO", "SET", "OTT", "NOV", "DIC"))},
    **{m: i + 1 for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))},
}
_DIGITISH = str.maketrans("OoQDIl|!SZBG", "000011115286")
# The same separator twice, none before it: "3. 09/03/1974" must not read as 3 Sept 2003.
_DATE = re.compile(r"(?<!\d)(\d{1,2})([./\-])\s?(\d{1,2})\2\s?(\d{4}|\d{2})(?!\d)")
_TEXT_DATE = re.compile(r"(?<!\d)(\d{1,2})\s+([A-Z]{3})(?:/[A-Z]{3})?\s+(\d{4})")


def fold(text: str) -> str:
    """Upper case, no accents: what labels are compared on."""
    text = unicodedata.normalize("NFKD", text.upper())
    return "".join(c for c in text if not unicodedata.combining(c))


# ---------------------------------------------------------------- lines and labels


def lines(words: Iterable[Word]) -> list[list[Word]]:
    """Words grouped into visual lines, each left to right, lines top to bottom.

    A word joins a line when it overlaps the line's typical band (the median
    top and bottom of its words) by half its height: a stray tall box (a
    photo edge read as "E") must not swallow the lines beside it.
    """
    return [list(row) for row in _lines(tuple(words))]


@lru_cache(maxsize=64)
def _lines(words: tuple[Word, ...]) -> tuple[tuple[Word, ...], ...]:
    rows: list[list[Word]] = []
    bands: list[tuple[float, float]] = []
    for word in sorted((w for w in words if _plausible(w)), key=lambda w: (w.h, w.y)):
        best, best_overlap = None, 0.0
        for i, (top, bottom) in enumerate(bands):
            overlap = min(bottom, word.y + word.h) - max(top, word.y)
            if overlap >= 0.5 * min(word.h, bottom - top) and overlap > best_overlap:
                best, best_overlap = i, overlap
        if best is None:
            rows.append([word])
            bands.append((word.y, word.y + word.h))
        else:
            rows[best].append(word)
            bands[best] = (median(w.y for w in rows[best]), median(w.y + w.h for w in rows[best]))
    order = sorted(range(len(rows)), key=lambda i: bands[i][0])
    return tuple(tuple(sorted(rows[i], key=lambda w: w.x)) for i in order)


def _plausible(word: Word) -> bool:
    """Not OCR noise: some letter or digit, and not a low-confidence scrap."""
    return any(c.isalnum() for c in word.text) and (word.conf >= 20 or len(word.text) >= 3)


def line_text(row: list[Word]) -> str:
    return " ".join(w.text for w in row)


def all_text(words: Iterable[Word]) -> str:
    return "\n".join(line_text(row) for row in lines(words))


def find_label(words: list[Word], pattern: str) -> Word | None:
    """A box around the words of the first line whose folded text matches `pattern` (a regex)."""
    regex = re.compile(pattern)
    for row in lines(words):
        folded = [fold(w.text) for w in row]
        for end in range(len(row)):
            text = ""
            for start in range(end, max(-1, end - 8), -1):  # the shortest span ending here
                text = (folded[start] + " " + text).strip()
                if regex.search(text):
                    span = row[start : end + 1]
                    x0, y0 = min(w.x for w in span), min(w.y for w in span)
                    x1, y1 = max(w.x + w.w for w in span), max(w.y + w.h for w in span)
                    return Word(text, 100.0, x0, y0, x1 - x0, y1 - y0, span[0].line)
    return None


def candidates_near(words: list[Word], label: Word, max_lines: float = 3.0) -> list[tuple[float, list[Word]]]:
    """Runs of words after the label on its line, and lines below it starting near its left edge, nearest first."""
    out = []
    for row in lines(words):
        after = [w for w in row if w.x >= label.x + label.w - 2 and _overlap_y(w, label)]
        if after:  # a value on the label's own line is that layout's value: it comes first
            out.append((-1000 + 0.1 * (after[0].x - (label.x + label.w)), after))
        top = min(w.y for w in row)
        dy = top - (label.y + label.h)
        if -0.3 * label.h <= dy <= max_lines * max(label.h, 20):
            below = [w for w in row if w.x + w.w > label.x - 0.5 * label.h and w.x < label.x + max(label.w, 260)]
            if below and not _overlap_y(below[0], label):
                # Text that starts at the label's left edge is the value; far to the right is another column.
                out.append((dy + 0.6 * abs(below[0].x - label.x), below))
    return sorted(out, key=lambda item: item[0])


def _overlap_y(a: Word, b: Word) -> bool:
    return min(a.y + a.h, b.y + b.h) - max(a.y, b.y) > 0.4 * min(a.h, b.h)


def value_near(words: list[Word], pattern: str, parse: Callable[[list[Word]], object], max_lines: float = 3.0):
    """The first parseable value after or under the label matching `pattern`; None if none."""
    label = find_label(words, pattern)
    if label is None:
        return None
    for _, run in candidates_near(words, label, max_lines):
        value = parse(run)
        if value:
            return value
    return None


# ---------------------------------------------------------------- value shapes


def parse_date(text: str, *, two_digit_past: bool = False, today: date | None = None) -> date | None:
    """The first date in the text: dd/mm/yyyy, dd.mm.yyyy, dd-mm-yy, "01 GEN/JAN 1980".

    A year before 1900 is a misread (1965 read as 1005), not a date, as in `all_dates`.
    """
    folded = fold(text)
    for match in _DATE.finditer(folded.translate(_DIGITISH)):
        day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
        if len(match.group(4)) == 2:
            year += 2000
            if two_digit_past and today and year > today.year:
                year -= 100
        if year < 1900:
            continue
        try:
            return date(year, month, day)
        except ValueError:
            continue
    for match in _TEXT_DATE.finditer(folded):
        month = _MONTHS.get(match.group(2))
        if month:
            try:
                return date(int(match.group(3)), month, int(match.group(1)))
            except ValueError:
                continue
    return None


def all_dates(text: str, today: date) -> list[date]:
    """Every distinct date in the text, oldest first; a two-digit year is taken as the closest fitting century."""
    folded = fold(text)
    found = set()
    for match in _DATE.finditer(folded.translate(_DIGITISH)):
        day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
        if len(match.group(4)) == 2:
            year += 2000 if year <= today.year % 100 + 15 else 1900
        try:
            found.add(date(year, month, day))
        except ValueError:
            continue
    for match in _TEXT_DATE.finditer(folded):
        month = _MONTHS.get(match.group(2))
        try:
            found.add(date(int(match.group(3)), month, int(match.group(1)))) if month else None
        except ValueError:
            continue
    return sorted(d for d in found if 1900 <= d.year <= today.year + 30)


def find_cfs(text: str) -> list[str]:
    """Codici fiscali in OCR text: repaired where the check character confirms, else as read if full-shape.

    A code starts at a word: OCR may split it in two or three words, but a
    window starting inside a word ("ALE" of "fiscALE" + the code) is noise.
    """
    found: list[str] = []
    text = fold(text).translate(str.maketrans("!|", "II"))  # an I read as a stroke
    tokens = [t for t in re.split(r"[^A-Z0-9]+", text) if t]
    for i in range(len(tokens)):
        joined = "".join(tokens[i : i + 3])
        if len(joined) < 16:
            continue
        window = joined[:16]
        repaired = codice_fiscale.repair(window)
        value = repaired or (window if codice_fiscale.looks_like_cf(window) else None)
        if value is None and len(tokens[i]) == 17:  # one character too many: the check character decides
            fixes = {codice_fiscale.repair(tokens[i][:k] + tokens[i][k + 1 :]) for k in range(17)} - {None}
            value = fixes.pop() if len(fixes) == 1 else None
        if value and value not in found:
            found.append(value)
    valid = [v for v in found if codice_fiscale.is_valid(v)]
    return valid or found


# Words of bilingual labels that sit on the label's own line ("COGNOME / SURNAME").
_LABEL_WORDS = {"SURNAME", "NAME", "NAMES", "GIVEN", "COGNOME", "NOME", "NOMI", "NOM", "PRENOMS", "/"}


# Words of the labels that follow a name on an ID ("LUOGO E DATA DI NASCITA / PLACE AND DATE OF BIRTH"):
# in a line OCR merged, they end the name. Not DI, DE or DATA: parts of Italian surnames.
_NEXT_LABEL_WORDS = {"AND", "DATE", "OF", "BIRTH", "PLACE", "LUOGO", "NASCITA", "SESSO", "SEX"}


def _label_fragment(text: str) -> bool:
    """A label word, or a piece of one OCR split off ("SUR" of "SURNAME")."""
    return text in _LABEL_WORDS or (len(text) >= 3 and any(
        len(w) > 3 and (w.startswith(text) or w.endswith(text)) for w in _LABEL_WORDS))


def name_value(run: list[Word]) -> str | None:
    """Upper-case name words (letters, apostrophes, hyphens), stopping at the first word that is not one.

    A label word also ends the value, with a two-letter piece of it before it:
    the next field's small label OCR ran into this line ("COPPOLA ME NAME").
    """
    parts = []
    for word in run:
        text = word.text.strip(".,:;")
        if not parts and _label_fragment(fold(text)):
            continue
        if parts and fold(text) in _LABEL_WORDS | _NEXT_LABEL_WORDS:
            if len(parts) > 1 and len(parts[-1]) <= 2:
                parts.pop()
            break
        if re.fullmatch(r"[A-ZÀ-Ý][A-ZÀ-Ý'’\-]*", text) and word.conf > 30:
            parts.append(text.replace("’", "'"))
        elif parts:
            break
    value = " ".join(parts)
    return value if len(value.replace(" ", "")) >= 2 else None


def pattern_value(pattern: str) -> Callable[[list[Word]], str | None]:
    """A parser for a code of a fixed shape, spaces inside allowed ("AX 1234567")."""
    regex = re.compile(pattern)

    def parse(run: list[Word]) -> str | None:
        match = regex.search(re.sub(r"\s+", "", " ".join(w.text for w in run).upper()))
        return match.group(0) if match else None

    return parse


def fix_by_shape(text: str, shape: str) -> str | None:
    """Undo O/0, I/1, B/8, S/5, Z/2, G/6 by position in a shape of A (letter) and 9 (digit)."""
    if len(text) != len(shape):
        return None
    to_digit = str.maketrans("OQDIlSZBG", "001115286")
    to_letter = str.maketrans("012586", "OIZSBG")
    out = []
    for char, kind in zip(text.upper(), shape, strict=True):
        char = char.translate(to_digit) if kind == "9" else char.translate(to_letter)
        if (kind == "9") != char.isdigit() or not char.isalnum():
            return None
        out.append(char)
    return "".join(out)


def luhn_valid(number: str) -> bool:
    """ISO/IEC 7812-1 check digit (the TS card number's last digit on every public example)."""
    total = 0
    for i, digit in enumerate(reversed(number)):
        d = int(digit) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return number.isdigit() and total % 10 == 0

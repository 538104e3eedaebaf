"""What to read on each document side, and how: label-relative fields, order rules, code shapes.

Each reader extracts from the words read so far and asks for the next
region of its document (verification.cards.regions) only while a field it
needs is still missing; the rest of the card comes last (on the TS front
only right of the chip column; on the TS back, whose region holds every
field, not at all). OCR cost grows with the pixels read, so regions stop
where their fields do.

Before any region, the sides that print one value per row in a fixed order
(the CIE front, the TS front and back) are read by those rows alone: found
from the ink, labels and unneeded rows left white, each field taken from its
row and checked by its kind. That costs a third to a half of the regions'
reading; the regions and labels are the fallback when the rows are not as
the layout says.
"""

from __future__ import annotations

import copy
import re
from datetime import date

import cv2

from verification.cards import fields as cfd
from verification import codice_fiscale
from verification.images import ocr
from verification.cards.regions import FIELD_REGIONS, REST, Region, Sheet


# Labels, as regexes over upper-case unaccented text (cards.fields.fold).
# Prefixes, so that a label OCR ran into its value ("Cognom FUMAGALLI") still counts.
EXPIRY = r"SCADEN|CADENZ|EXPIR|XPIRY|^4B\b|^9\.?\s*DATA"
SURNAME = r"COGNOM|SURNAM|^1\.$"
GIVEN = r"^NOM[EI]?\b|/ NAME|^NAME|GIVEN NAM|^2\.$"
BIRTH = r"DATA DI NASC|DATE OF BIRTH|NATO IL|^3\.$"
ISSUE = r"EMISSIONE|ISSUING|DATE OF ISSUE|RILASCIO|^4A\b"


def best_cf(sources: dict[str, str]) -> str | None:
    """A valid code first (barcode before text), else whatever full-shape code was read."""
    ordered = [sources[k] for k in ("barcode", "ehic_field6", "front_text", "back_text") if k in sources]
    return next((v for v in ordered if codice_fiscale.is_valid(v)), ordered[0] if ordered else None)


def _until(sheet: Sheet, regions, found: dict, needed: tuple[str, ...], extract, rest: Region | None = REST,
           values: tuple | None = None) -> None:
    """Extract from what is read; read the next region while a needed field is missing, then `rest`:
    the rest of the card by default (rows already read across its width are not read again), None
    for a side whose regions hold every field it has. `values` — (region, expected rows, picked
    rows, extract by row[, rows read for their last word only]) — is the cheaper way tried before
    any region (see _from_values)."""
    extract(sheet.words, found)
    if values and not all(found.get(k) for k in needed) and _from_values(sheet, found, *values, needed=needed):
        return
    for region in (*regions, *((rest,) if rest else ())):
        if all(found.get(k) for k in needed):
            return
        if sheet.ocr(region):
            extract(sheet.words, found)


def _from_values(sheet: Sheet, found: dict, region: Region, expected: int, pick: tuple[int, ...],
                 extract, tails: tuple[int, ...] = (), *, needed: tuple[str, ...]) -> bool:
    """Read only some value rows of `region` (Sheet.ocr_values), each field by its row: True when that
    gave every needed field, which are then in `found`; else `found` is left as it was.

    The cheap path for a side whose layout puts one value per row in a fixed
    order: `extract(rows, found)` gets the picked rows as OCR'd lines and
    must check what it takes (a date that parses, a code of its shape). Of
    the rows in `tails` only the last word is read.
    """
    words = sheet.ocr_values(region, expected, pick, tails)
    if not words:
        return False
    rows = cfd.lines(words)
    if len(rows) != len(pick):
        return False
    trial = copy.deepcopy(found)
    extract(rows, trial)
    if not all(trial.get(k) for k in needed):
        return False
    found.clear()
    found.update(trial)
    return True


def _set(found: dict, key: str, value) -> None:
    if value and not found.get(key):
        found[key] = value


def _cf_text(words, found: dict, where: str, label: str | None = None) -> None:
    if where in found["cf_sources"]:
        return
    near = None
    if label:
        near = cfd.value_near(words, label, lambda run: (cfd.find_cfs(" ".join(w.text for w in run)) or [None])[0])
    # A code whose check character holds first: bars of a barcode read as letters can take a code's shape.
    candidates = [c for c in (near, *cfd.find_cfs(cfd.all_text(words))) if c]
    value = next((c for c in candidates if codice_fiscale.is_valid(c)), candidates[0] if candidates else None)
    if value:
        found["cf_sources"][where] = value


def _dates(words, found: dict, today: date, *, birth: bool = True, issue: bool = True) -> None:
    """Expiry, birth and issue dates.

    Every document printing several of them obeys birth < issue < expiry, so
    once as many dates as the side prints are read, the order decides,
    whatever the labels (which OCR loses or runs into their values); until
    then each date goes by its label, and a date still to come with no
    expiry label found is the expiry (the label's other language may stand
    right of the value and miss it).
    """
    dates = cfd.all_dates(cfd.all_text(words), today)
    if len(dates) >= 1 + birth + issue:
        found["expiry"] = dates[-1]
        if birth:
            found["birth_date"] = dates[0]
        if issue and len(dates) >= (3 if birth else 2):
            found["issue_date"] = dates[-2]
        return
    _set(found, "expiry", cfd.value_near(words, EXPIRY, lambda r: cfd.parse_date(cfd.line_text(r))))
    if birth:
        _set(found, "birth_date", cfd.value_near(
            words, BIRTH, lambda r: cfd.parse_date(cfd.line_text(r), two_digit_past=True, today=today)))
    if issue:
        _set(found, "issue_date", cfd.value_near(words, ISSUE, lambda r: cfd.parse_date(cfd.line_text(r))))
    if dates and dates[-1] > today:  # birth and issue are past: a date still to come is the expiry
        _set(found, "expiry", dates[-1])


def _names(words, found: dict) -> None:
    _set(found, "surname", cfd.value_near(words, SURNAME, cfd.name_value, 2))
    _set(found, "given_names", cfd.value_near(words, GIVEN, cfd.name_value, 2))
    surname, given = found.get("surname"), found.get("given_names")
    if surname and given:
        # The given-names label OCR ran into the surname's line ("COPPOLA NOME NAME D'ANGELO"):
        # what followed it there is the surname's end; the given names are on the next line.
        rows = cfd.lines(words)
        where = {key: next((i for i, row in enumerate(rows) if _words_of(row, value.split())), None)
                 for key, value in (("surname", surname), ("given_names", given))}
        if where["surname"] is not None and where["surname"] == where["given_names"]:
            below = next(filter(None, map(cfd.name_value, rows[where["surname"] + 1 : where["surname"] + 3])), None)
            if below:
                found["given_names"] = below


# The CIE front right of the photo: comune, surname, given names, place and date of birth, sex-height-
# nationality, issue and expiry, one row each (the ghost photo, right, and the signature, below, left out).
CIE_FRONT_VALUES: Region = (0.30, 0.21, 0.86, 0.86)
CIE_FRONT_PICK = (1, 2, 3, 5)
CIE_FRONT_TAILS = (3,)  # of the place and date of birth, the date: a fifth of the letters, and no place is needed


def _read_cie_front(sheet: Sheet, found: dict, today: date) -> None:
    def extract(words, found):
        _set(found, "number", shaped(words, "AA99999AA"))
        _names(words, found)
        _dates(words, found, today)

    def by_row(rows, found):  # surname, given names, birth row, issue and expiry row
        dates = cfd.all_dates(cfd.line_text(rows[2]) + " " + cfd.line_text(rows[3]), today)
        if len(dates) == 3 and dates[0] < dates[1] < dates[2]:
            found.update(birth_date=dates[0], issue_date=dates[1], expiry=dates[2])
        found["surname"], found["given_names"] = cfd.name_value(rows[0]), cfd.name_value(rows[1])
        found["number"] = shaped(sheet.words, "AA99999AA")  # in the header, read to tell the card

    _until(sheet, FIELD_REGIONS[("cie", "front")], found, ("number", "surname", "given_names", "expiry"), extract,
           values=(CIE_FRONT_VALUES, 6, CIE_FRONT_PICK, by_row, CIE_FRONT_TAILS))


def _read_cie_back(sheet: Sheet, found: dict, today: date) -> None:
    if "barcode" not in found["cf_sources"]:
        # The printed code, left of the barcode (the bars on the same line garble the text).
        _until(sheet, FIELD_REGIONS[("cie", "back")], found, ("cf_back",), _cie_back_cf)


def _cie_back_cf(words, found: dict) -> None:
    _cf_text(words, found, "back_text", r"CODICE FISCALE|FISCAL CODE")
    found["cf_back"] = found["cf_sources"].get("back_text")


# The TS front right of the chip: codice fiscale, surname, given names, sex-birthplace-province, birth and
# expiry dates, one row each, clear of the card's right edge (a photo's shadow there reads as "|").
TS_FRONT_VALUES: Region = (0.23, 0.20, 0.92, 0.86)


def _read_ts_front(sheet: Sheet, found: dict, today: date) -> None:
    def extract(words, found):
        _cf_text(words, found, "front_text", r"CODICE FISCALE")
        _names(words, found)
        if not (found.get("surname") and found.get("given_names")):
            _names_after_cf(words, found)
        _dates(words, found, today, issue=False)

    def by_row(rows, found):  # codice fiscale, surname, given names, (sex, birthplace), birth and expiry
        code = _valid_cf(cfd.line_text(rows[0])) or _cf_row_closer(sheet, rows[0])
        dates = cfd.all_dates(cfd.line_text(rows[3]), today)
        if code and len(dates) == 2 and dates[0] < dates[1]:
            found["cf_sources"]["front_text"] = code
            found["birth_date"], found["expiry"] = dates
            found["surname"], found["given_names"] = cfd.name_value(rows[1]), cfd.name_value(rows[2])

    needed = ("surname", "given_names", "birth_date", "expiry")
    regions = FIELD_REGIONS[("ts_cns" if found.get("has_chip") else "ts_no_chip", "front")]
    # The rest right of the chip column: reading the card whole again (the chip's contacts in it)
    # costs as much as the first read and almost never finds what that one missed.
    _until(sheet, regions, found, needed, extract, rest=(regions[0][0], 0.0, 1.0, 1.0),
           values=(TS_FRONT_VALUES, 5, (0, 1, 2, 4), by_row))


def _cf_row_closer(sheet: Sheet, row) -> str | None:
    """The codice fiscale of a value row whose check character did not hold, read again alone at twice
    the size; None when that does not give a valid code either. One glyph misread ('Q' as '0') would
    otherwise send the reader to its whole region: six times the letters."""
    crop, _ = _crop_around(sheet, row)
    if crop is None:
        return None
    big = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    return _valid_cf(ocr.ocr_text(big, psm=7, invert=False))


def _valid_cf(text: str) -> str | None:
    return next((c for c in cfd.find_cfs(text) if codice_fiscale.is_valid(c)), None)


def _crop_around(sheet: Sheet, run) -> tuple:
    """(the flattened card around the words `run`, a line's height of margin; its top row), or
    (None, 0) when that is too small to read."""
    h = max(w.h for w in run)
    y0, y1 = max(0, min(w.y for w in run) - h // 2), max(w.y + w.h for w in run) + h // 2
    x0, x1 = max(0, min(w.x for w in run) - h), max(w.x + w.w for w in run) + h
    crop = sheet.flat[y0:y1, x0:x1]
    return (None, 0) if crop.shape[0] < 4 or crop.shape[1] < 4 else (crop, y0)


def _names_after_cf(words, found: dict) -> None:
    """The TS front prints Cognome, then Nome, under the codice fiscale."""
    _names_after(words, found, lambda text: bool(cfd.find_cfs(text)))


def _names_after(words, found: dict, starts) -> None:
    """Surname and given names by their order: the first two lines of nothing but name words after
    the last line where `starts(text)` — for when OCR lost the labels or ran them into the values."""
    rows = cfd.lines(words)
    start = max((i for i, row in enumerate(rows) if starts(cfd.line_text(row))), default=None)
    if start is None:
        return
    names = []
    for row in rows[start + 1 :]:
        value = cfd.name_value(row)
        if value and len(value.split()) == len([w for w in row if not cfd.fold(w.text) in ("COGNOME", "NOME")]):
            names.append(value)
        elif names:
            break
        if len(names) == 2:
            break
    if len(names) == 2:
        _set(found, "surname", names[0])
        _set(found, "given_names", names[1])


# The EHIC side's values, right of their labels: fields 3 to 9, one per row.
TS_BACK_VALUES: Region = (0.44, 0.37, 0.90, 0.80)


def ts_back_pick(barcode: bool) -> tuple[int, ...]:
    """The rows of TS_BACK_VALUES worth reading: not field 7 (the institution), nor 6 (the codice
    fiscale) when the barcode gave it."""
    return (0, 1, 2, 5, 6) if barcode else (0, 1, 2, 3, 5, 6)


def _read_ts_back(sheet: Sheet, found: dict, today: date) -> None:
    """The EHIC side: fields 3 to 9, values right of small labels that OCR rarely gets (and that the
    region mostly leaves out). So each value also goes by its shape or order: the card number by its
    80380 prefix, the dates by birth < expiry, the names as the first two name lines under the title.
    No rest of the card: above the region is the magnetic stripe, below it the barcode, whose code
    (when it read) stands for field 6, as on the CIE back: a misread printed code would only add noise."""
    def extract(words, found):
        if "barcode" not in found["cf_sources"]:
            _cf_text(words, found, "ehic_field6", r"IDENTIFICAZIONE PERSONALE|^6\b")
        _names(words, found)
        if not (found.get("surname") and found.get("given_names")):
            _names_after(words, found, lambda text: "MALATTIA" in cfd.fold(text) or "EUROPEA" in cfd.fold(text))
        _dates(words, found, today, issue=False)
        number = cfd.value_near(words, r"DELLA TESSERA|^8\b", ts_number)
        _set(found, "number", number or next(filter(None, map(ts_number, cfd.lines(words))), None))

    def by_row(rows, found):  # fields 3, 4, 5, (6,) 8 and 9
        dates = [cfd.parse_date(cfd.line_text(rows[i])) for i in (2, -1)]
        number = ts_number(rows[-2])
        if number and all(dates) and dates[0] < dates[1]:
            found["number"], (found["birth_date"], found["expiry"]) = number, dates
            found["surname"], found["given_names"] = cfd.name_value(rows[0]), cfd.name_value(rows[1])
            if len(rows) == 6:
                found["cf_sources"].update({"ehic_field6": c for c in cfd.find_cfs(cfd.line_text(rows[3]))[:1]})

    _until(sheet, FIELD_REGIONS[("ts_cns", "back")], found, ("number", "expiry", "surname"), extract, rest=None,
           values=(TS_BACK_VALUES, 7, ts_back_pick("barcode" in found["cf_sources"]), by_row))
    if found.get("number"):
        found["extra"]["ts_card_number"] = found["number"]
        if not cfd.luhn_valid(found["number"]):
            found["extra"]["ts_card_number_luhn"] = "failed"


def ts_number(run) -> str | None:
    digits = re.sub(r"\s+", "", cfd.line_text(run)).translate(str.maketrans("OoIlSB", "001158"))
    match = re.search(r"80380\d{15}", digits)
    return match.group(0) if match else None


# Right of the photo, fields 1 to 5 one row each, the field's number leading: 1 surname, 2 given names,
# 3 birth date and place, 4a issue, 4b expiry (4c the authority beside it), 5 the number; 7, the
# signature, below.
LICENCE_FRONT_VALUES: Region = (0.30, 0.20, 0.95, 0.625)  # short of the card's right edge (read as "I")


def _read_licence_front(sheet: Sheet, found: dict, today: date) -> None:
    def by_row(rows, found):
        birth, issue, expiry = (cfd.all_dates(cfd.line_text(rows[i]), today) for i in (2, 3, 4))
        number = _licence_number(rows[5])
        if len(birth) == len(issue) == len(expiry) == 1 and birth[0] < issue[0] < expiry[0] and number:
            found.update(birth_date=birth[0], issue_date=issue[0], expiry=expiry[0], number=number)
            found["surname"], found["given_names"] = (cfd.name_value(_after_field_number(rows[i])) for i in (0, 1))

    def extract(words, found):
        _set(found, "surname", cfd.value_near(words, r"^1\.?$", cfd.name_value, 0.5))
        _set(found, "given_names", cfd.value_near(words, r"^2\.?$", cfd.name_value, 0.5))
        _dates(words, found, today)  # 3 (birth) < 4a (issue) < 4b (expiry)
        if not (found.get("surname") and found.get("given_names")):  # fields 1 and 2 follow the title
            _names_after(words, found, lambda text: "ITALIANA" in cfd.fold(text) or "GUIDA" in cfd.fold(text))
        _set(found, "number", _licence_number(words))
        _set(found, "number", cfd.value_near(words, r"^5\.?$", cfd.pattern_value(r"[A-Z0-9]{10}"), 0.5))

    needed = ("surname", "given_names", "expiry", "number")
    _until(sheet, FIELD_REGIONS[("driving_licence", "front")], found, needed, extract,
           values=(LICENCE_FRONT_VALUES, 6, tuple(range(6)), by_row))


def _after_field_number(row):
    """A licence row without its leading field number ("1.", read "1", "l." or "I."): a name never ends
    with a dot nor holds a digit."""
    first = row[0].text if row else ""
    return row[1:] if len(first) <= 3 and (first.endswith((".", ",")) or any(c.isdigit() for c in first)) else row


def _read_licence_back(sheet: Sheet, found: dict, today: date) -> None:
    """The back (the category table) has no name; the Italian one prints no licence number either,
    but where a number is among the words already read it is kept, so the back can be paired with its
    front. No OCR of its own: the checks need nothing else from this side."""
    _set(found, "number", _licence_number(sheet.words))


def _licence_number(words) -> str | None:
    """Field 5: ten letters and digits, mostly digits (U1532B456K, MI1234567X), a token of its own."""
    for row in cfd.lines(words):
        for token in re.findall(r"(?<![A-Z0-9/.])[A-Z0-9]{10}(?![A-Z0-9/.])", cfd.fold(cfd.line_text(row))):
            if sum(c.isdigit() for c in token) >= 5 and sum(c.isalpha() for c in token) >= 2:
                # Province letters + 7 digits + letter (MI1234567X): an O read as 0 is undone.
                province = cfd.fix_by_shape(token, "AA9999999A") if token[2:9].isdigit() else None
                return province or token
    return None


def _read_paper_id(sheet: Sheet, found: dict, today: date) -> None:
    def extract(words, found):
        _set(found, "number", shaped(words, "AA9999999"))
        _names(words, found)
        _dates(words, found, today)

    _until(sheet, FIELD_REGIONS[("paper_id", "front")], found, ("number", "expiry", "surname", "given_names"), extract)


def _read_paper_id_back(sheet: Sheet, found: dict, today: date) -> None:
    def extract(words, found):
        _set(found, "number", shaped(words, "AA9999999"))
        _dates(words, found, today, birth=False, issue=False)

    _until(sheet, FIELD_REGIONS[("paper_id", "back")], found, ("number", "expiry"), extract)


REREAD_BELOW_CONF = 60  # tesseract's word confidence under which a name is read again, alone


def reread_doubtful_names(sheet: Sheet, found: dict) -> None:
    """Read a name tesseract was unsure of again, from a crop around it alone.

    Within a region, a name line sometimes runs into the small label under it
    and comes out garbled ("CATO", 33%, for GALLO on a clean TS front); in a
    crop of its own it reads right. The second reading (the line nearest the
    first one's middle) replaces the first only when tesseract is surer of it.
    """
    for key in ("surname", "given_names"):
        value = found.get(key)
        run = _words_of(sheet.words, value.split()) if value else None
        if not run or min(w.conf for w in run) >= REREAD_BELOW_CONF:
            continue
        crop, y0 = _crop_around(sheet, run)
        if crop is None:
            continue
        middle = (min(w.y for w in run) + max(w.y + w.h for w in run)) / 2 - y0
        rows = [row for row in cfd.lines(ocr.ocr_words(crop, psm=6, invert=False)) if cfd.name_value(row)]
        if not rows:
            continue
        row = min(rows, key=lambda r: abs(sum(w.y + w.h / 2 for w in r) / len(r) - middle))
        again = cfd.name_value(row)
        confidence = [w.conf for w in row if w.text.strip(".,:;").replace("’", "'") in again.split()]
        if confidence and min(confidence) > min(w.conf for w in run):
            found[key] = again


def _words_of(words, tokens: list[str]):
    """The words on one line that read as `tokens`, in order; None when no line has them."""
    for row in cfd.lines(words):
        texts = [w.text.strip(".,:;").replace("’", "'") for w in row]
        for start in range(len(row) - len(tokens) + 1):
            if texts[start : start + len(tokens)] == tokens:
                return row[start : start + len(tokens)]
    return None


def read_nothing(sheet: Sheet, found: dict, today: date) -> None:
    return None


def shaped(words, shape: str) -> str | None:
    """A code of a fixed shape standing as its own token ("N. AX 1234567" → "AX1234567"), look-alikes undone.

    `shape` is A (letter) and 9 (digit); OCR may put one space inside it.
    """
    loose = "".join("[A-Z0-9]" if k == "A" else "[0-9OQDISZBG]" for k in shape)
    token = re.compile(r"(?<![A-Z0-9])(" + loose.replace("][", "] ?[") + r")(?![A-Z0-9])")
    rows = [cfd.fold(cfd.line_text(row)) for row in cfd.lines(words)]
    # Else tesseract's LSTM may have read one round glyph twice ("CO87293HI" as "CO087293HI").
    for text in (*rows, *(row[:i] + row[i + 1 :] for row in rows for i in _doubled_rounds(row))):
        for match in token.finditer(text):
            candidate = match.group(1).replace(" ", "")
            digits = sum(c.isdigit() for c, k in zip(candidate, shape, strict=True) if k == "9")
            fixed = cfd.fix_by_shape(candidate, shape)
            if fixed and digits >= 0.6 * shape.count("9"):
                return fixed
    return None


def _doubled_rounds(text: str) -> list[int]:
    """Where two round glyphs (O, 0, Q) stand side by side: the second may be the first read again."""
    return [i for i in range(1, len(text)) if text[i] in "O0Q" and text[i - 1] in "O0Q"]


# (doc_type, side) -> reader; a side not here has nothing the checks need.
READERS = {
    ("cie", "front"): _read_cie_front,
    ("cie", "back"): _read_cie_back,
    ("ts_cns", "front"): _read_ts_front,
    ("ts_no_chip", "front"): _read_ts_front,
    ("ts_cns", "back"): _read_ts_back,
    ("driving_licence", "front"): _read_licence_front,
    ("driving_licence", "back"): _read_licence_back,
    ("paper_id", "front"): _read_paper_id,
    ("paper_id", "back"): _read_paper_id_back,
}

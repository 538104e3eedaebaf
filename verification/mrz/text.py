"""ICAO Doc 9303 machine-readable zones: TD1 (CIE, 3 × 30) and TD3 (passport, 2 × 44).

Our own parser: the `mrz` package on PyPI is GPL. Pure functions, no image:
the reader hands us OCR text lines and gets an `MrzData` back. OCR mistakes
are repaired by field type and a repair counts only when the check digits
confirm it (`MrzData.valid`). Two confusions are invisible to check digits
because their values differ by a multiple of 10 — K/< (20/0) and G/6
(16/6) — so for those the field type alone decides. `find_mrz` (verification.mrz.lines) finds the
MRZ among noisy OCR lines; `make_td1`/`make_td3` (verification.mrz.build) draw one.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date

FILLER = "<"
TD1_WIDTH = 30
TD3_WIDTH = 44

# ICAO 9303 part 3, 4.9: digits keep their value, A-Z are 10-35, the filler is 0.
_VALUES = {**{str(d): d for d in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}, FILLER: 0}
_WEIGHTS = (7, 3, 1)

# The OCR-B confusions we repair (DOCUMENTS.md "ICAO 9303 check digit").
_LETTER_TO_DIGIT = str.maketrans("OIBSZG", "018526")
_DIGIT_TO_LETTER = str.maketrans("018526", "OIBSZG")

# Document number layouts, A = letter, 9 = digit (DOCUMENTS.md).
CIE_NUMBER_PATTERN = "AA99999AA"
PASSPORT_NUMBER_PATTERN = "AA9999999"


class MrzError(ValueError):
    """The text is not an MRZ of the expected shape (wrong line count, width or characters)."""


@dataclass(frozen=True)
class MrzData:
    """One parsed MRZ. Fillers are turned into spaces in names and stripped elsewhere.

    `checks` maps each check digit ("number", "birth_date", "expiry",
    "composite", and on TD3 "personal_number") to whether it verifies; `valid`
    is true when all of them do and both dates exist. `sex` is "M", "F" or "X"
    (unspecified). `lines` are the repaired lines; `repaired` says whether
    they differ from what was read.
    """

    format: str  # "TD1" | "TD3"
    document_code: str
    issuing_state: str
    number: str
    birth_date: date | None
    sex: str
    expiry: date | None
    nationality: str
    surname: str
    given_names: str
    optional_data: str  # TD1 line 1 optional data; TD3 personal number
    optional_data_2: str  # TD1 line 2 optional data; "" on TD3
    checks: dict[str, bool]
    valid: bool
    lines: tuple[str, ...]
    repaired: bool


def check_digit(data: str) -> str:
    """The ICAO 9303 check digit of `data` (part 3, 4.9): weights 7, 3, 1, sum mod 10."""
    total = 0
    for position, char in enumerate(data):
        try:
            total += _VALUES[char] * _WEIGHTS[position % 3]
        except KeyError:
            raise MrzError(f"not an MRZ character: {char!r}") from None
    return str(total % 10)


def _verifies(data: str, check: str) -> bool:
    if not check.isdigit():
        return False
    try:
        return check_digit(data) == check
    except MrzError:
        return False


# --- field-aware OCR repair ------------------------------------------------


def _numeric(text: str) -> str:
    return text.translate(_LETTER_TO_DIGIT)


def _alphabetic(text: str) -> str:
    return text.translate(_DIGIT_TO_LETTER)


def _check_char(char: str) -> str:
    # A check digit is a digit, or a filler where ICAO allows one; never a K. Beyond the
    # one-to-one look-alikes, a letter with a single digit it is read for (A for 4, D for 0,
    # L for 1, T for 7) is that digit.
    if char == "K":
        return FILLER
    char = _numeric(char)
    choices = _DIGIT_CHOICES.get(char, "")
    return choices if len(choices) == 1 else char


def _fill_trailing_k(text: str, min_k: int = 2) -> str:
    """Turn a trailing run of K/< into fillers when it holds at least `min_k` K's.

    OCR reads the filler as K. K and < weigh the same in check digits
    (20 ≡ 0 mod 10), so no check can tell them apart: a lone trailing K stays
    a letter (NOVAK, JACEK), a run of them is filler.
    """
    tail = len(text) - len(text.rstrip("K<"))
    if tail and text[-tail:].count("K") >= min_k:
        return text[:-tail] + FILLER * tail
    return text


# What OCR-B glyphs are read as, beyond the one-to-one table above. 8 and S (28) weigh
# the same in every check digit, so only the layout can tell which one a card printed.
_LETTER_CHOICES = {"0": "ODQ", "1": "IL", "8": "BS", "5": "S", "2": "Z", "6": "G", "4": "A", "7": "T"}
_DIGIT_CHOICES = {"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "B": "8", "S": "58", "Z": "2", "G": "6",
                  "A": "4", "T": "7"}


def _by_pattern(text: str, pattern: str) -> list[str]:
    """Every way to repair `text` position by position to `pattern` (most likely first); [] when none.

    A letter position holding a digit may hold any letter that digit is misread
    for (8 is B or S), and the other way round; the check digit picks one.
    """
    options = []
    for char, kind in zip(text, pattern, strict=True):
        if kind == "A":
            choices = char if char.isalpha() else _LETTER_CHOICES.get(char, "")
        else:
            choices = char if char.isdigit() else _DIGIT_CHOICES.get(char, "")
        if not choices:
            return []
        options.append(choices)
    return ["".join(combination) for combination in itertools.product(*options)]


def _number_candidates(field: str, pattern: str) -> list[str]:
    # Preferred first: the national layout, then fillers, then as read.
    return _unique([*_by_pattern(field, pattern), _fill_trailing_k(field), field])


def _optional_candidates(field: str) -> list[str]:
    return _unique([_fill_trailing_k(field), field])


def _doc_code(field: str) -> str:
    first, second = _alphabetic(field[0]), _alphabetic(field[1])
    # No TD1/TD3 document code ends in K: that is a misread filler ("C<", "P<").
    return first + (FILLER if second == "K" else second)


def _state(field: str) -> str:
    field = _alphabetic(field)
    # Germany is the only state code with fillers (ICAO 9303 part 3, 5): "D<<".
    if field[0] == "D" and set(field[1:]) <= {"K", FILLER}:
        return "D" + FILLER * 2
    return field


def _sex(char: str) -> str:
    return FILLER if char == "K" else _alphabetic(char)


def _names_field(field: str) -> str:
    field = _fill_trailing_k(_alphabetic(field))
    head_length = len(field.rstrip(FILLER))
    head, tail = field[:head_length], field[head_length:]
    # The "<<" between surname and given names read as "KK".
    if "<<" not in head and "KK" in head:
        head = head.replace("KK", "<<", 1)
    return head + tail


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- dates and names -------------------------------------------------------


def _yymmdd(text: str, century: int) -> date | None:
    if not re.fullmatch(r"\d{6}", text):
        return None
    try:
        return date(century + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def resolve_birth_date(yymmdd: str, today: date | None = None) -> date | None:
    """Birth dates are never in the future: the latest century that is not after `today`.

    `today` defaults to the system date; rules always pass the request's date.
    """
    today = today or date.today()
    candidates = [d for d in (_yymmdd(yymmdd, 2000), _yymmdd(yymmdd, 1900)) if d]
    for candidate in candidates:
        if candidate <= today:
            return candidate
    return candidates[-1] if candidates else None


def resolve_expiry(yymmdd: str) -> date | None:
    """Expiry years are 20YY: no document read today expired before 2000."""
    return _yymmdd(yymmdd, 2000)


def _split_names(field: str) -> tuple[str, str]:
    surname, _, given = field.strip(FILLER).partition("<<")
    return _words(surname), _words(given)


def _words(field: str) -> str:
    return " ".join(part for part in field.split(FILLER) if part)


def _clean(line: str) -> str:
    return re.sub(r"\s+", "", line).upper()


def _require(lines: list[str] | tuple[str, ...], count: int, width: int) -> list[str]:
    cleaned = [_clean(line) for line in lines]
    if len(cleaned) != count or any(len(line) != width for line in cleaned):
        raise MrzError(f"expected {count} lines of {width} characters")
    for line in cleaned:
        if not re.fullmatch(r"[A-Z0-9<]+", line):
            raise MrzError("not an MRZ character in the line")
    return cleaned


def _best(candidates: itertools.product, build) -> tuple:
    """The first candidate with the most verified check digits (candidates come preferred first)."""
    best = None
    for combination in candidates:
        result = build(*combination)
        score = sum(result[-1].values())
        if best is None or score > best[0]:
            best = (score, result)
    return best[1]


# --- TD1 -------------------------------------------------------------------


def _td1_number(line1: str) -> tuple[str, bool]:
    # ICAO 9303 part 5, 4.2.2 note: a number longer than 9 characters puts a
    # filler in the check-digit position and continues in the optional data,
    # its check digit last.
    if line1[14] == FILLER and line1[15] != FILLER:
        extension = line1[15:30].split(FILLER)[0]
        number = line1[5:14] + extension[:-1]
        return number, _verifies(number, extension[-1])
    return line1[5:14].rstrip(FILLER), _verifies(line1[5:14], line1[14])


def parse_td1(lines: list[str] | tuple[str, ...], today: date | None = None) -> MrzData:
    """Parse a TD1 MRZ (3 × 30), repairing OCR confusions by field type."""
    l1, l2, l3 = _require(lines, 3, TD1_WIDTH)
    head = _doc_code(l1[0:2]) + _state(l1[2:5])
    number_check = _check_char(l1[14])
    birth, birth_check = _numeric(l2[0:6]), _check_char(l2[6])
    sex = _sex(l2[7])
    expiry, expiry_check = _numeric(l2[8:14]), _check_char(l2[14])
    nationality = _state(l2[15:18])
    composite = _check_char(l2[29])

    def build(number: str, optional_1: str, optional_2: str):
        line1 = head + number + number_check + optional_1
        line2 = birth + birth_check + sex + expiry + expiry_check + nationality + optional_2 + composite
        full_number, number_ok = _td1_number(line1)
        checks = {
            "number": number_ok,
            "birth_date": _verifies(birth, birth_check),
            "expiry": _verifies(expiry, expiry_check),
            # ICAO 9303 part 5, 4.2.2: line 1 [5:30] + line 2 [0:7] + [8:15] + [18:29].
            "composite": _verifies(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29], composite),
        }
        return line1, line2, full_number, checks

    line1, line2, number, checks = _best(
        itertools.product(
            _number_candidates(l1[5:14], CIE_NUMBER_PATTERN),
            _optional_candidates(l1[15:30]),
            _optional_candidates(l2[18:29]),
        ),
        build,
    )
    line3 = _names_field(l3)
    surname, given_names = _split_names(line3)
    optional_1 = line1[15:30] if line1[14] != FILLER else line1[15:30].partition(FILLER)[2]
    return _result(
        "TD1",
        (line1, line2, line3),
        (l1, l2, l3),
        number,
        checks,
        birth=birth,
        expiry=expiry,
        sex=sex,
        nationality=nationality,
        surname=surname,
        given_names=given_names,
        optional_data=optional_1,
        optional_data_2=line2[18:29],
        today=today,
    )


# --- TD3 -------------------------------------------------------------------


def parse_td3(lines: list[str] | tuple[str, ...], today: date | None = None) -> MrzData:
    """Parse a TD3 (passport) MRZ (2 × 44), repairing OCR confusions by field type."""
    l1, l2 = _require(lines, 2, TD3_WIDTH)
    line1 = _doc_code(l1[0:2]) + _state(l1[2:5]) + _names_field(l1[5:44])
    number_check = _check_char(l2[9])
    nationality = _state(l2[10:13])
    birth, birth_check = _numeric(l2[13:19]), _check_char(l2[19])
    sex = _sex(l2[20])
    expiry, expiry_check = _numeric(l2[21:27]), _check_char(l2[27])
    personal_check = _check_char(l2[42])
    composite = _check_char(l2[43])

    def build(number: str, personal: str):
        line2 = (
            number
            + number_check
            + nationality
            + birth
            + birth_check
            + sex
            + expiry
            + expiry_check
            + personal
            + personal_check
            + composite
        )
        # ICAO 9303 part 4, 4.2.2: an empty personal number may have a filler as check digit.
        personal_ok = _verifies(personal, personal_check) or (personal_check == FILLER and set(personal) == {FILLER})
        checks = {
            "number": _verifies(number, number_check),
            "birth_date": _verifies(birth, birth_check),
            "expiry": _verifies(expiry, expiry_check),
            "personal_number": personal_ok,
            # ICAO 9303 part 4, 4.2.2: line 2 [0:10] + [13:20] + [21:43].
            "composite": _verifies(line2[0:10] + line2[13:20] + line2[21:43], composite),
        }
        return line2, checks

    line2, checks = _best(
        itertools.product(
            _number_candidates(l2[0:9], PASSPORT_NUMBER_PATTERN),
            _optional_candidates(l2[28:42]),
        ),
        build,
    )
    surname, given_names = _split_names(line1[5:44])
    return _result(
        "TD3",
        (line1, line2),
        (l1, l2),
        line2[0:9].rstrip(FILLER),
        checks,
        birth=birth,
        expiry=expiry,
        sex=sex,
        nationality=nationality,
        surname=surname,
        given_names=given_names,
        optional_data=line2[28:42],
        optional_data_2="",
        today=today,
    )


def _result(
    fmt: str,
    lines: tuple[str, ...],
    read: tuple[str, ...],
    number: str,
    checks: dict[str, bool],
    *,
    birth: str,
    expiry: str,
    sex: str,
    nationality: str,
    surname: str,
    given_names: str,
    optional_data: str,
    optional_data_2: str,
    today: date | None,
) -> MrzData:
    birth_date = resolve_birth_date(birth, today)
    expiry_date = resolve_expiry(expiry)
    return MrzData(
        format=fmt,
        document_code=lines[0][0:2],  # as printed: "C<", "CI", "P<"
        issuing_state=lines[0][2:5].rstrip(FILLER),
        number=number,
        birth_date=birth_date,
        sex=sex if sex in ("M", "F") else "X",
        expiry=expiry_date,
        nationality=nationality.rstrip(FILLER),
        surname=surname,
        given_names=given_names,
        optional_data=optional_data.strip(FILLER),
        optional_data_2=optional_data_2.strip(FILLER),
        checks=checks,
        valid=all(checks.values()) and birth_date is not None and expiry_date is not None,
        lines=lines,
        repaired=lines != read,
    )


def parse(lines: list[str] | tuple[str, ...], today: date | None = None) -> MrzData:
    """Parse a TD1 (3 lines) or TD3 (2 lines) MRZ."""
    if len(lines) == 3:
        return parse_td1(lines, today)
    if len(lines) == 2:
        return parse_td3(lines, today)
    raise MrzError("an MRZ has 2 (TD3) or 3 (TD1) lines")


__all__ = [
    "CIE_NUMBER_PATTERN",
    "FILLER",
    "PASSPORT_NUMBER_PATTERN",
    "TD1_WIDTH",
    "TD3_WIDTH",
    "MrzData",
    "MrzError",
    "check_digit",
    "parse",
    "parse_td1",
    "parse_td3",
    "resolve_birth_date",
    "resolve_expiry",
]

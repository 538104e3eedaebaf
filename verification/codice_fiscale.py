"""The codice fiscale: validation, omocodia, person matching, OCR repair, redaction.

A thin layer over python-codicefiscale (its syntax, check character and
name/surname codes). Validity here is the SPEC's `cf_invalid`: shape, a
possible birth date and the check character. We do not also require the
Belfiore code to be in the library's municipality table: a code missing
from a third-party table is not the citizen's mistake.

A codice fiscale is personal data: log `redact(cf)`, never the code itself.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date

from codicefiscale import codicefiscale as _lib

# DOCUMENTS.md "Codice fiscale": month letters, and the omocodia letters that
# replace the digits 0-9 at positions 7, 8, 10, 11, 13, 14, 15 (1-based).
_MONTHS = "ABCDEHLMPRST"
_OMOCODIA_LETTERS = "LMNPQRSTUV"
_OMOCODIA_POSITIONS = (6, 7, 9, 10, 12, 13, 14)  # 0-based
_TO_DIGITS = str.maketrans(_OMOCODIA_LETTERS, "0123456789")
_SHAPE = re.compile(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]")

# OCR confusions (as for the MRZ); S is also an omocodia letter, so 5/S is tried both ways.
_DIGIT_TO_LETTER = {"0": "O", "1": "I", "8": "B", "5": "S", "2": "Z", "6": "G"}
_LETTER_TO_DIGIT = {"O": "0", "I": "1", "B": "8", "S": "5", "Z": "2", "G": "6"}
_LETTER_POSITIONS = (0, 1, 2, 3, 4, 5, 8, 11, 15)


@dataclass(frozen=True)
class CfInfo:
    """What a codice fiscale says about its holder."""

    birth_date: date
    sex: str  # "M" | "F"
    birthplace_code: str  # Belfiore code, omocodia undone: "F205", "Z404"
    is_omocode: bool


def normalize(cf: str | None) -> str:
    """Upper case, no whitespace anywhere ("rss mra 80a01 f205x" → "RSSMRA80A01F205X")."""
    return re.sub(r"\s+", "", cf or "").upper()


def looks_like_cf(cf: str | None) -> bool:
    """Sixteen characters of the right kinds in the right places (check character not verified)."""
    return bool(_SHAPE.fullmatch(normalize(cf)))


def check_character(first_15: str) -> str:
    """The check character (carattere di controllo) of the first 15 characters."""
    return _lib.encode_cin(first_15[:15])


def _birth_parts(cf: str) -> tuple[int, int, int, str]:
    year = int(cf[6:8].translate(_TO_DIGITS))
    month = _MONTHS.index(cf[8]) + 1
    day = int(cf[9:11].translate(_TO_DIGITS))
    return (year, month, day - 40, "F") if day > 40 else (year, month, day, "M")


def _birth_date(year: int, month: int, day: int, today: date | None) -> date | None:
    # The birth date is the latest one with these two year digits that is not after today.
    today = today or date.today()
    for century in (2000, 1900, 1800):
        try:
            candidate = date(century + year, month, day)
        except ValueError:  # 29 February in a century that is not a leap year
            continue
        if candidate <= today:
            return candidate
    return None


def is_valid(cf: str | None) -> bool:
    """Right shape, a birth day that exists, and the right check character."""
    cf = normalize(cf)
    if not _SHAPE.fullmatch(cf):
        return False
    year, month, day, _ = _birth_parts(cf)
    if not any(_day_exists(century + year, month, day) for century in (1900, 2000)):
        return False
    return check_character(cf) == cf[15]


def _day_exists(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def base_form(cf: str) -> str:
    """The code with omocodia undone and its check character recomputed.

    Two omocodes of the same code compare equal; so, by construction, do two
    people whose codes collided (omocodia exists to tell them apart). We
    compare base forms because a citizen may write the base code on the form
    while the card carries the omocode.
    """
    cf = normalize(cf)
    chars = list(cf)
    for position in _OMOCODIA_POSITIONS:
        chars[position] = chars[position].translate(_TO_DIGITS)
    first_15 = "".join(chars[:15])
    return first_15 + check_character(first_15)


def is_omocode(cf: str) -> bool:
    cf = normalize(cf)
    return any(cf[p] in _OMOCODIA_LETTERS for p in _OMOCODIA_POSITIONS)


def decode(cf: str, today: date | None = None) -> CfInfo:
    """Birth date, sex, birthplace code and omocodia of a valid code (ValueError otherwise).

    The century is the latest that puts the birth date on or before `today`
    (default: the system date; the rules always pass the request's date).
    """
    cf = normalize(cf)
    if not is_valid(cf):
        raise ValueError("not a valid codice fiscale")
    year, month, day, sex = _birth_parts(cf)
    birth_date = _birth_date(year, month, day, today)
    if birth_date is None:
        raise ValueError("the birth date is after today")
    birthplace = cf[11] + cf[12:15].translate(_TO_DIGITS)
    return CfInfo(birth_date=birth_date, sex=sex, birthplace_code=birthplace, is_omocode=is_omocode(cf))


def matches_person(
    cf: str, surname: str, given_names: str, birth_date: date | None = None, sex: str | None = None
) -> bool:
    """Whether the code was computed from this surname, these given names (and date, sex).

    Surname and given-name codes come from python-codicefiscale (all given
    names count, accents and apostrophes are ignored). The date is compared
    on its two year digits, month and day, so no century has to be guessed.
    """
    cf = normalize(cf)
    if not is_valid(cf):
        return False
    if _lib.encode_lastname(surname) != cf[0:3] or _lib.encode_firstname(given_names) != cf[3:6]:
        return False
    year, month, day, cf_sex = _birth_parts(cf)
    if birth_date is not None and (birth_date.year % 100, birth_date.month, birth_date.day) != (year, month, day):
        return False
    return sex is None or sex.upper() == cf_sex


def generate(surname: str, given_names: str, sex: str, birth_date: date, birthplace_code: str) -> str:
    """The codice fiscale of a (synthetic) person, for the test corpus.

    `birthplace_code` is a Belfiore code ("F205" Milano, "Z404" USA) that
    python-codicefiscale knows for that birth date.
    """
    return _lib.encode(surname, given_names, sex.upper(), birth_date.isoformat(), birthplace_code)


def omocodes(cf: str) -> list[str]:
    """Every omocode of this code's base form, the base form first (python-codicefiscale)."""
    return _lib._get_omocodes(base_form(cf))


def repair(cf: str | None) -> str | None:
    """Undo OCR confusions (0/O, 1/I, 8/B, 5/S, 2/Z, 6/G) by position.

    Accepted only when the check character confirms exactly one repair with
    the fewest changes; None otherwise. A valid code is returned unchanged.
    """
    cf = normalize(cf)
    if len(cf) != 16:
        return None
    if is_valid(cf):
        return cf
    options = []
    for position, char in enumerate(cf):
        if position in _LETTER_POSITIONS:
            options.append([_DIGIT_TO_LETTER.get(char, char)])
        elif char in _LETTER_TO_DIGIT:
            # S is both a confusion for 5 and the omocodia letter for 6: keep both.
            options.append([_LETTER_TO_DIGIT[char], char] if char in _OMOCODIA_LETTERS else [_LETTER_TO_DIGIT[char]])
        else:
            options.append([char])
    valid = {"".join(c) for c in itertools.product(*options) if is_valid("".join(c))}
    if not valid:
        return None
    changes = {candidate: sum(a != b for a, b in zip(candidate, cf, strict=True)) for candidate in valid}
    fewest = min(changes.values())
    best = [candidate for candidate, count in changes.items() if count == fewest]
    return best[0] if len(best) == 1 else None


def redact(cf: str | None) -> str:
    """For logs: at most the first 3 and the last character ("RSS************X")."""
    cf = normalize(cf)
    if len(cf) >= 8:
        return cf[:3] + "*" * (len(cf) - 4) + cf[-1]
    return "*" * len(cf)

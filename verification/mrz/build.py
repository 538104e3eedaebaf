"""MRZ builders: the test-corpus generator draws documents with these, tests round-trip them."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from verification.mrz.text import FILLER, TD1_WIDTH, MrzError, check_digit

# ICAO 9303 part 3, 6.A: letters without a single-letter transliteration.
_TRANSLITERATION = str.maketrans({"ß": "SS", "Æ": "AE", "Ø": "OE", "Œ": "OE", "Þ": "TH", "Ð": "D", "Ł": "L"})


def to_mrz_text(text: str) -> str:
    """Transliterate a name for the MRZ: no accents, apostrophes dropped, other separators → filler."""
    text = unicodedata.normalize("NFKD", text.upper().translate(_TRANSLITERATION))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['’`]", "", text)  # ICAO 9303 part 3, 6.A: D'ANGELO → DANGELO
    return re.sub(r"[^A-Z0-9]+", FILLER, text).strip(FILLER)


def _fit(text: str, width: int) -> str:
    if len(text) > width:
        raise MrzError(f"{text!r} does not fit in {width} characters")
    return text.ljust(width, FILLER)


def _names_line(surname: str, given_names: str, width: int) -> str:
    names = to_mrz_text(surname) + ("<<" + to_mrz_text(given_names) if given_names.strip() else "")
    return names[:width].ljust(width, FILLER)  # ICAO truncates names that do not fit


def _sex_char(sex: str) -> str:
    return sex if sex in ("M", "F") else FILLER


def make_td1(
    *,
    number: str,
    birth_date: date,
    sex: str,
    expiry: date,
    surname: str,
    given_names: str,
    document_code: str = "C<",
    issuing_state: str = "ITA",
    nationality: str = "ITA",
    optional_data: str = "",
    optional_data_2: str = "",
) -> tuple[str, str, str]:
    """The three lines of a TD1 MRZ (CIE by default), check digits computed."""
    if len(number) > 9:  # see _td1_number
        number_part = number[:9] + FILLER + number[9:] + check_digit(number) + optional_data
    else:
        number_part = _fit(number, 9) + check_digit(_fit(number, 9)) + optional_data
    line1 = _fit(_fit(document_code, 2) + _fit(issuing_state, 3) + number_part, TD1_WIDTH)
    birth, expiry_text = birth_date.strftime("%y%m%d"), expiry.strftime("%y%m%d")
    line2 = (
        birth
        + check_digit(birth)
        + _sex_char(sex)
        + expiry_text
        + check_digit(expiry_text)
        + _fit(nationality, 3)
        + _fit(optional_data_2, 11)
    )
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    return line1, line2, _names_line(surname, given_names, TD1_WIDTH)


def make_td3(
    *,
    number: str,
    birth_date: date,
    sex: str,
    expiry: date,
    surname: str,
    given_names: str,
    document_code: str = "P<",
    issuing_state: str = "ITA",
    nationality: str = "ITA",
    personal_number: str = "",
) -> tuple[str, str]:
    """The two lines of a TD3 (passport) MRZ, check digits computed."""
    line1 = _fit(document_code, 2) + _fit(issuing_state, 3) + _names_line(surname, given_names, 39)
    number_field, personal = _fit(number, 9), _fit(personal_number, 14)
    birth, expiry_text = birth_date.strftime("%y%m%d"), expiry.strftime("%y%m%d")
    line2 = (
        number_field
        + check_digit(number_field)
        + _fit(nationality, 3)
        + birth
        + check_digit(birth)
        + _sex_char(sex)
        + expiry_text
        + check_digit(expiry_text)
        + personal
        + check_digit(personal)
    )
    line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:43])
    return line1, line2

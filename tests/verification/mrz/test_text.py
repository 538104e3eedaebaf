"""ICAO 9303 MRZ: check digits, TD1/TD3 parsing, OCR repair, finding the block in OCR text."""

from __future__ import annotations

import time
from datetime import date

import pytest

from verification.mrz.build import make_td1, make_td3
from verification.mrz.lines import find_mrz
from verification.mrz.text import (
    MrzError,
    check_digit,
    parse,
    parse_td1,
    parse_td3,
    resolve_birth_date,
)

TODAY = date(2026, 11, 26)

# DOCUMENTS.md, "CIE 3.0": the specimen. Its check digits verify (number 4,
# birth 8, expiry 4, composite 0), which test_specimen_check_digits proves.
SPECIMEN = (
    "C<ITACA00000AA4<<<<<<<<<<<<<<<",
    "6412308F2212304ITA<<<<<<<<<<<0",
    "ROSSI<<BIANCA<<<<<<<<<<<<<<<<<",
)


def td1(number: str = "CA00000AA", **fields) -> list[str]:
    """A TD1 MRZ drawn by make_td1, Bianca Rossi's unless `fields` say otherwise."""
    person = {"birth_date": date(1964, 12, 30), "sex": "F", "expiry": date(2032, 12, 30), "surname": "Rossi",
              "given_names": "Bianca"}
    return make_td1(number=number, **(person | fields))


def test_check_digit_known_values():
    # ICAO 9303 part 3, 4.9 worked example: 520727 → 3.
    assert check_digit("520727") == "3"
    assert check_digit("<<<<<<") == "0"
    assert check_digit("AB2134<<<") == "5"  # 10*7 + 11*3 + 2*1 + 1*7 + 3*3 + 4*1 = 125


def test_check_digit_rejects_non_mrz_characters():
    with pytest.raises(MrzError):
        check_digit("ab12")


def test_specimen_check_digits():
    l1, l2, _ = SPECIMEN
    assert check_digit(l1[5:14]) == l1[14] == "4"
    assert check_digit(l2[0:6]) == l2[6] == "8"
    assert check_digit(l2[8:14]) == l2[14] == "4"
    assert check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]) == l2[29] == "0"


def test_specimen_parses():
    data = parse_td1(SPECIMEN, TODAY)
    assert data.valid and not data.repaired
    assert data.format == "TD1"
    assert data.document_code == "C<"
    assert data.issuing_state == data.nationality == "ITA"
    assert data.number == "CA00000AA"
    assert data.birth_date == date(1964, 12, 30)
    assert data.expiry == date(2022, 12, 30)
    assert data.sex == "F"
    assert (data.surname, data.given_names) == ("ROSSI", "BIANCA")
    assert data.optional_data == data.optional_data_2 == ""
    assert data.checks == {"number": True, "birth_date": True, "expiry": True, "composite": True}


def test_make_td1_rebuilds_the_specimen():
    lines = td1(expiry=date(2022, 12, 30))
    assert lines == SPECIMEN


@pytest.mark.parametrize(
    "surname, given, expected_surname, expected_given",
    [
        ("D'Angelo", "Nicolò Maria", "DANGELO", "NICOLO MARIA"),
        ("De Luca-Bianchi", "Anna", "DE LUCA BIANCHI", "ANNA"),
        ("Müller", "Jürgen", "MULLER", "JURGEN"),
    ],
)
def test_td1_round_trip_names(surname, given, expected_surname, expected_given):
    lines = td1("CB98765ZZ", birth_date=date(2001, 2, 3), sex="M", expiry=date(2032, 2, 3), surname=surname,
                given_names=given)
    data = parse(lines, TODAY)
    assert data.valid
    assert (data.surname, data.given_names) == (expected_surname, expected_given)
    assert (data.number, data.birth_date, data.expiry, data.sex) == (
        "CB98765ZZ",
        date(2001, 2, 3),
        date(2032, 2, 3),
        "M",
    )


def test_td1_long_document_number_round_trip():
    # ICAO 9303 part 5: a number over 9 characters continues in the optional data.
    lines = make_td1(
        number="D23145890734",
        birth_date=date(1974, 8, 12),
        sex="M",
        expiry=date(2030, 4, 15),
        surname="Bianchi",
        given_names="Carlo",
        document_code="I<",
        issuing_state="UTO",
        nationality="UTO",
    )
    assert lines[0][14] == "<"
    data = parse(lines, TODAY)
    assert data.valid
    assert data.number == "D23145890734"


def test_td3_round_trip():
    lines = make_td3(
        number="YA1234567",
        birth_date=date(1990, 5, 17),
        sex="F",
        expiry=date(2031, 5, 16),
        surname="Verdi",
        given_names="Giulia",
        personal_number="ABC123",
    )
    assert [len(line) for line in lines] == [44, 44]
    data = parse_td3(lines, TODAY)
    assert data.valid
    assert (data.format, data.document_code, data.number) == ("TD3", "P<", "YA1234567")
    assert (data.birth_date, data.expiry, data.sex) == (date(1990, 5, 17), date(2031, 5, 16), "F")
    assert (data.surname, data.given_names, data.optional_data) == ("VERDI", "GIULIA", "ABC123")
    assert set(data.checks) == {"number", "birth_date", "expiry", "personal_number", "composite"}


def test_td3_empty_personal_number_may_have_a_filler_check_digit():
    line1, line2 = make_td3(
        number="YA1234567",
        birth_date=date(1990, 5, 17),
        sex="M",
        expiry=date(2031, 5, 16),
        surname="Verdi",
        given_names="Paolo",
    )
    assert line2[42] == "0"
    filler_check = line2[:42] + "<" + line2[43]  # "<" weighs 0: the composite is unchanged
    assert parse_td3((line1, filler_check), TODAY).valid


# --- OCR repair -------------------------------------------------------------


def test_fillers_read_as_k_are_repaired():
    data = parse([line.replace("<", "K") for line in SPECIMEN], TODAY)
    assert data.valid and data.repaired
    assert data.lines == SPECIMEN
    assert (data.document_code, data.surname, data.given_names) == ("C<", "ROSSI", "BIANCA")


def test_letter_o_in_dates_is_repaired_when_the_check_digits_confirm():
    l1, l2, l3 = SPECIMEN
    data = parse((l1, "64123O8F22123O4" + l2[15:], l3), TODAY)
    assert data.valid and data.repaired
    assert (data.birth_date, data.expiry) == (date(1964, 12, 30), date(2022, 12, 30))


def test_a_check_digit_read_as_a_letter_is_repaired():
    """The legacy engine reads OCR-B's 4 as A; in a check digit's place only a digit stands."""
    l1, l2, l3 = SPECIMEN  # its number's check digit is 4
    data = parse((l1[:14] + "A" + l1[15:], l2, l3), TODAY)
    assert data.valid and data.repaired and data.lines[0] == l1


def test_digit_zero_in_names_is_repaired():
    l1, l2, _ = SPECIMEN
    data = parse((l1, l2, "R0SSI<<B1ANCA<<<<<<<<<<<<<<<<<"), TODAY)
    assert (data.surname, data.given_names) == ("ROSSI", "BIANCA")


def test_cie_number_is_repaired_by_position():
    l1, l2, l3 = td1("CB12345SZ")
    misread = l1[:5] + "C8IZ34S52" + l1[14:]  # letters read as digits and digits as letters
    data = parse((misread, l2, l3), TODAY)
    assert data.valid and data.repaired
    assert data.number == "CB12345SZ"


@pytest.mark.parametrize(("printed", "misread"), [("CE29743JS", "CE29743J8"), ("CS26344BI", "C826344BI"),
                                                 ("CA00000AB", "CA00000A8"), ("CQ98968BL", "CQ9896SBL")])
def test_an_s_read_as_8_is_told_apart_by_the_layout(printed, misread):
    # S (28) and 8 weigh the same in every check digit: the misread number verifies as it is.
    l1, l2, l3 = td1(printed)
    data = parse((l1[:5] + misread + l1[14:], l2, l3), TODAY)
    assert data.valid
    assert data.number == printed


def test_a_repair_the_check_digits_do_not_confirm_is_not_taken():
    # A foreign card whose number really has an S where the CIE layout has a
    # digit: the CIE repair (S → 5) fails its check digit, the number as read passes.
    lines = make_td1(
        number="AB12S4567",
        birth_date=date(1980, 1, 1),
        sex="M",
        expiry=date(2030, 1, 1),
        surname="Smith",
        given_names="John",
        issuing_state="GBR",
        nationality="GBR",
    )
    data = parse(lines, TODAY)
    assert data.valid
    assert data.number == "AB12S4567"


def test_corrupted_check_digit_is_rejected():
    l1, l2, l3 = SPECIMEN
    data = parse((l1, l2[:6] + "7" + l2[7:], l3), TODAY)
    assert not data.valid
    assert data.checks["birth_date"] is False
    assert data.checks["composite"] is False  # the check digit is inside the composite
    assert data.checks["number"] and data.checks["expiry"]


def test_misread_digit_in_a_date_is_not_accepted():
    l1, l2, l3 = SPECIMEN
    data = parse((l1, "6472308" + l2[7:], l3), TODAY)  # 641230 read as 647230
    assert not data.valid
    assert data.birth_date is None  # month 72 does not exist


def test_corrupted_number_fails_its_check():
    l1, l2, l3 = SPECIMEN
    data = parse(("C<ITACA00001AA4" + l1[15:], l2, l3), TODAY)
    assert not data.valid
    assert data.checks["number"] is False


# --- dates ------------------------------------------------------------------


@pytest.mark.parametrize(
    "yymmdd, today, expected",
    [
        ("250101", date(2026, 11, 26), date(2025, 1, 1)),
        ("270101", date(2026, 11, 26), date(1927, 1, 1)),
        ("261126", date(2026, 11, 26), date(2026, 11, 26)),
        ("261127", date(2026, 11, 26), date(1926, 11, 27)),
        ("991301", date(2026, 11, 26), None),
    ],
)
def test_birth_dates_are_never_in_the_future(yymmdd, today, expected):
    assert resolve_birth_date(yymmdd, today) == expected


def test_expiry_years_are_20yy():
    lines = td1(birth_date=date(1950, 1, 1), sex="M", expiry=date(2095, 6, 30), given_names="Mario")
    assert parse(lines, TODAY).expiry == date(2095, 6, 30)


def test_wrong_shape_is_an_error():
    with pytest.raises(MrzError):
        parse_td1(SPECIMEN[:2], TODAY)
    with pytest.raises(MrzError):
        parse_td1((SPECIMEN[0][:-1], *SPECIMEN[1:]), TODAY)
    with pytest.raises(MrzError):
        parse(("only one line",), TODAY)


# --- finding the MRZ in OCR text ----------------------------------------------


def test_find_mrz_in_noisy_ocr_lines():
    lines = [
        "REPUBBLICA ITALIANA",
        "",
        "C<ITA CA00000AA4 <<<<<<<<<<<<<<<<",  # spaces, two fillers too many
        "6412308F2212304ITA <<<<<<<<<<0",  # a filler too few
        "R0SSI << BIANCA «<<<<<<<<<<<<<<",
        "Comune di Milano",
    ]
    data = find_mrz(lines, TODAY)
    assert data is not None and data.valid
    assert (data.number, data.birth_date, data.surname, data.given_names) == (
        "CA00000AA",
        date(1964, 12, 30),
        "ROSSI",
        "BIANCA",
    )


def test_find_mrz_with_every_filler_read_as_k():
    data = find_mrz(["INDIRIZZO DI RESIDENZA", *(line.replace("<", "K") for line in SPECIMEN)], TODAY)
    assert data is not None and data.valid
    assert data.given_names == "BIANCA"


def test_find_mrz_td3():
    lines = make_td3(
        number="YA1234567",
        birth_date=date(1990, 5, 17),
        sex="M",
        expiry=date(2031, 5, 16),
        surname="Verdi",
        given_names="Paolo",
    )
    data = find_mrz(["PASSAPORTO PASSPORT", "x", lines[0].replace("<", " <"), lines[1] + "1"], TODAY)
    assert data is not None and data.valid
    assert (data.format, data.number) == ("TD3", "YA1234567")


def test_find_mrz_returns_none_without_an_mrz():
    assert find_mrz(["CARTA DI IDENTITA", "COGNOME ROSSI", "NOME BIANCA"], TODAY) is None
    assert find_mrz([], TODAY) is None


def test_find_mrz_reports_a_block_whose_check_digits_fail():
    l1, l2, l3 = SPECIMEN
    data = find_mrz([l1, l2[:6] + "7" + l2[7:], l3], TODAY)
    assert data is not None and not data.valid


def test_find_mrz_is_fast_on_a_page_of_noise():
    noise = [("C" + "AB12<" * 7)[: 28 + i % 5] for i in range(40)]
    started = time.perf_counter()
    find_mrz([*noise, *SPECIMEN], TODAY)
    assert time.perf_counter() - started < 5

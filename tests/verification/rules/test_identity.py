"""identity.py: codice fiscale validity and agreement, names, dates, MRZ against print."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from tests.verification.factories import (
    DECLARANT,
    HOLDER,
    Person,
    cie_mrz,
    codes,
    complete_request,
    declarant_form,
    direct_form,
    replacing,
)
from verification import codice_fiscale as cf
from verification.rules.identity import check_identity

OTHER = Person("Rossi", "Mario", "M", date(1958, 3, 15))  # same name, another day: another code


def _wrong_check(code: str) -> str:
    return code[:15] + ("A" if code[15] != "A" else "B")


def test_consistent_request_has_no_identity_finding():
    assert check_identity(complete_request(declarant_form())) == []


def test_invalid_cf_on_the_form():
    form = direct_form(holder=HOLDER.fields(codice_fiscale=_wrong_check(HOLDER.codice_fiscale)))
    findings = check_identity(complete_request(form))
    assert codes(findings) == {"cf_invalid"}
    assert findings[0].evidence["person"] == "holder" and findings[0].evidence["sources"] == ["form"]


def test_citizen_typed_cf_that_is_not_even_shaped_like_one():
    form = direct_form(holder=HOLDER.fields(codice_fiscale="RSSMRA58C14F205"))
    assert codes(check_identity(complete_request(form))) == {"cf_invalid"}


def test_invalid_cf_read_from_a_document():
    # Far from the code the other readings agree on: not a slip of OCR, a code to look at.
    request = replacing(
        complete_request(), "holder_cns_back", cf_sources={"ehic_field6": _wrong_check(DECLARANT.codice_fiscale)}
    )
    findings = check_identity(request)
    assert codes(findings) == {"cf_invalid"}
    assert findings[0].evidence["sources"] == ["holder_cns_back.ehic_field6"]


def test_a_cards_printed_cf_misread_by_one_character_is_no_finding_when_the_others_agree():
    """OCR took the last J of the TS front for a C; the barcodes and the ID agree on the valid code."""
    request = replacing(
        complete_request(), "holder_cns_back", cf_sources={"ehic_field6": _wrong_check(HOLDER.codice_fiscale)}
    )
    assert check_identity(request) == []


@pytest.mark.parametrize("misread", [
    lambda code: code[:15],  # the last character lost
    lambda code: code[:15] + ("A" if code[15] != "A" else "B"),  # the last one misread
    lambda code: code[:7] + code[8:],  # one in the middle lost
])
def test_a_cf_ocr_made_of_a_scanned_form_one_edit_from_the_cards_is_a_reading_error(misread):
    form = replace(direct_form(holder=HOLDER.fields(codice_fiscale=misread(HOLDER.codice_fiscale))), read_by_ocr=True)
    assert check_identity(complete_request(form)) == []


def test_the_same_code_typed_into_a_fillable_form_is_the_citizens_and_is_invalid():
    form = direct_form(holder=HOLDER.fields(codice_fiscale=HOLDER.codice_fiscale[:15]))
    assert codes(check_identity(complete_request(form))) == {"cf_invalid"}


def test_a_scanned_forms_cf_far_from_the_cards_is_still_invalid():
    form = replace(direct_form(holder=HOLDER.fields(codice_fiscale=_wrong_check(DECLARANT.codice_fiscale))),
                   read_by_ocr=True)
    assert "cf_invalid" in codes(check_identity(complete_request(form)))


def test_half_read_cf_on_a_document_is_reading_noise():
    request = replacing(complete_request(), "holder_cns_back", cf_sources={"barcode": "RSSMRA58C1"})
    assert check_identity(request) == []


def test_ocr_confusions_in_a_cf_are_repaired_when_the_check_character_confirms():
    misread = HOLDER.codice_fiscale.replace("0", "O").replace("1", "I")
    assert misread != HOLDER.codice_fiscale
    request = replacing(
        complete_request(), "holder_cns_front", codice_fiscale=misread, cf_sources={"front_text": misread}
    )
    assert check_identity(request) == []


def test_asterisks_of_a_card_without_ehic_are_not_a_cf():
    request = replacing(complete_request(), "holder_cns_back", cf_sources={"ehic_field6": "****************"})
    assert check_identity(request) == []


def test_cf_mismatch_between_form_and_card():
    request = replacing(complete_request(), "holder_cns_back", cf_sources={"barcode": OTHER.codice_fiscale})
    findings = check_identity(request)
    assert codes(findings) == {"cf_mismatch"}
    assert findings[0].severity == "blocking"
    assert findings[0].evidence["sources"]["holder_cns_back.barcode"] == cf.redact(OTHER.codice_fiscale)


def test_cf_mismatch_on_the_id_back():
    request = replacing(complete_request(), "holder_id_back", cf_sources={"barcode": OTHER.codice_fiscale})
    assert codes(check_identity(request)) == {"cf_mismatch"}


def test_a_code_only_ocrd_from_card_text_is_outvoted_by_a_barcode():
    """Another valid code OCR'd from the ID back's print, against the TS barcode: an operator looks."""
    request = replacing(complete_request(), "holder_id_back", cf_sources={"back_text": OTHER.codice_fiscale})
    findings = check_identity(request)
    assert codes(findings) == {"name_mismatch"}
    assert findings[0].severity == "review"
    assert findings[0].evidence == {"person": "holder", "field": "codice_fiscale", "source": "holder_id_back",
                                    "against": "barcode"}
    # Without a barcode to outvote it, the printed code counts as much as the form's.
    no_barcode = replacing(request, "holder_cns_back", cf_sources={"ehic_field6": HOLDER.codice_fiscale})
    assert codes(check_identity(no_barcode)) == {"cf_mismatch"}


def test_omocode_on_the_card_matches_the_base_code_on_the_form():
    omocode = cf.omocodes(HOLDER.codice_fiscale)[3]
    request = replacing(
        complete_request(), "holder_cns_front", codice_fiscale=omocode, cf_sources={"front_text": omocode}
    )
    assert check_identity(request) == []


def test_invalid_readings_are_not_also_a_mismatch():
    form = direct_form(holder=HOLDER.fields(codice_fiscale=_wrong_check(OTHER.codice_fiscale)))
    assert codes(check_identity(complete_request(form))) == {"cf_invalid"}


def test_declarant_cf_checked_on_declarant_forms():
    invalid = declarant_form(declarant=DECLARANT)
    invalid = replace(invalid, declarant=DECLARANT.fields(codice_fiscale=_wrong_check(DECLARANT.codice_fiscale)))
    findings = check_identity(complete_request(invalid))
    assert codes(findings) == {"cf_invalid"} and findings[0].evidence["person"] == "declarant"
    mismatch = replacing(
        complete_request(declarant_form()), "declarant_id_back", cf_sources={"barcode": OTHER.codice_fiscale}
    )
    findings = check_identity(mismatch)
    assert codes(findings) == {"cf_mismatch"} and findings[0].evidence["person"] == "declarant"


def test_codes_never_appear_in_clear_in_evidence():
    request = replacing(complete_request(), "holder_cns_back", cf_sources={"barcode": OTHER.codice_fiscale})
    request = replace(
        request, form=direct_form(holder=HOLDER.fields(codice_fiscale=_wrong_check(HOLDER.codice_fiscale)))
    )
    dumped = json.dumps([f.evidence for f in check_identity(request)])
    for code in (HOLDER.codice_fiscale, OTHER.codice_fiscale, _wrong_check(HOLDER.codice_fiscale)):
        assert code not in dumped and code[3:15] not in dumped


# --- names -----------------------------------------------------------------


@pytest.mark.parametrize(
    "surname, given",
    [
        ("ROSSI", "MARIO"),
        ("rossi", "mario"),
        ("MARIO", "ROSSI"),  # fields swapped
        ("Rossì", "Mário"),  # accents
    ],
)
def test_names_written_differently_match(surname, given):
    request = replacing(complete_request(), "holder_id_front", surname=surname, given_names=given)
    assert check_identity(request) == []


@pytest.mark.parametrize(
    "form_surname, form_given, doc_surname, doc_given",
    [
        ("D'Angelo", "Anna Maria", "DANGELO", "ANNA MARIA"),  # apostrophe
        ("De Luca-Bianchi", "Anna", "DE LUCA BIANCHI", "ANNA"),  # hyphen
        ("De Luca", "Anna", "DELUCA", "ANNA"),  # particle run together
        ("Rossi Bianchi", "Anna", "ROSSI", "ANNA"),  # double surname, one part printed
        ("Verdi", "Anna Maria", "VERDI", "MARIA ANNA"),  # word order
        ("Nicolo'", "Luca", "NICOLÒ", "LUCA"),  # accent written as apostrophe
    ],
)
def test_name_tolerances(form_surname, form_given, doc_surname, doc_given):
    person = Person(form_surname, form_given, "F", date(1970, 10, 1))
    request = replacing(complete_request(holder=person), "holder_id_front", surname=doc_surname, given_names=doc_given)
    assert check_identity(request) == []


def test_name_mismatch_is_for_review():
    request = replacing(complete_request(), "holder_cns_front", surname="BIANCHI")
    findings = check_identity(request)
    assert codes(findings) == {"name_mismatch"}
    assert findings[0].severity == "review"
    assert findings[0].evidence == {
        "person": "holder",
        "field": "name",
        "source": "holder_cns_front",
        "against": "form",
    }


def test_birth_date_mismatch_is_for_review():
    request = replacing(complete_request(), "holder_id_front", birth_date=date(1958, 3, 15))
    findings = check_identity(request)
    assert {(f.code, f.evidence["field"]) for f in findings} >= {("name_mismatch", "birth_date")}


def test_form_name_that_the_codice_fiscale_was_not_computed_from():
    form = direct_form(holder=HOLDER.fields(given_names="Marco"))
    request = complete_request(form)
    request = replace(
        request, documents=tuple(replace(d, surname=None, given_names=None, mrz=None) for d in request.documents)
    )
    findings = check_identity(request)
    assert [(f.code, f.evidence["field"]) for f in findings] == [("name_mismatch", "codice_fiscale")]


def test_without_a_form_the_documents_are_compared_with_each_other():
    request = replace(complete_request(), form=None)
    assert check_identity(request) == []
    request = replacing(request, "holder_cns_back", surname="VERDI")
    assert codes(check_identity(request)) == {"name_mismatch"}


# --- MRZ against print -----------------------------------------------------


def test_mrz_name_differs_from_print():
    request = replacing(
        complete_request(), "holder_id_back", mrz=cie_mrz(Person("Russo", "Mario", "M", HOLDER.birth_date))
    )
    findings = check_identity(request)
    assert codes(findings) == {"name_mismatch"}
    assert {f.evidence["field"] for f in findings} == {"mrz_name"}


def test_mrz_number_and_dates_differ_from_print():
    request = replacing(
        complete_request(), "holder_id_back", mrz=cie_mrz(HOLDER, number="CA99999ZZ", expiry=date(2031, 5, 2))
    )
    fields = {f.evidence["field"] for f in check_identity(request)}
    assert fields == {"mrz_number", "mrz_expiry"}


def test_mrz_truncated_given_names_match():
    long_names = Person("Rossi", "Maria Antonietta Giuseppina", "F", date(1958, 3, 14))
    form = direct_form(holder=long_names.fields(codice_fiscale=None))
    request = replacing(complete_request(form), "holder_id_back", mrz=cie_mrz(long_names), cf_sources={})
    request = replace(
        request,
        documents=tuple(
            replace(d, surname="ROSSI", given_names="MARIA ANTONIETTA GIUSEPPINA", codice_fiscale=None, cf_sources={})
            for d in request.documents
        ),
    )
    assert request.in_slot("holder_id_back")[0].mrz.given_names != "MARIA ANTONIETTA GIUSEPPINA"  # truncated
    assert check_identity(request) == []


def test_names_a_card_took_from_its_truncated_mrz_match():
    """A CIE back's names are its MRZ's, cut down to an initial: "CARLO<A" for Carlo Alberto Giovanni."""
    long_names = Person("Dell'Orto Sant'Ambrogio", "Carlo Alberto Giovanni", "M", date(1998, 5, 24))
    form = direct_form(holder=long_names.fields(codice_fiscale=None))
    mrz = cie_mrz(long_names)
    assert mrz.given_names.endswith(" A")  # cut down to an initial
    back = {"mrz": mrz, "surname": mrz.surname, "given_names": mrz.given_names, "codice_fiscale": None,
            "cf_sources": {}, "number": mrz.number, "birth_date": mrz.birth_date, "expiry": mrz.expiry}
    request = replacing(complete_request(form), "holder_id_back", **back)
    request = replace(request, documents=tuple(
        d if d.slot == "holder_id_back" else replace(d, surname=None, given_names=None, codice_fiscale=None,
                                                      cf_sources={}, number=None, birth_date=None, expiry=None)
        for d in request.documents))
    assert check_identity(request) == []
    # The same cut names printed on a card are not the MRZ's truncation: an operator looks.
    printed = replacing(request, "holder_cns_front", surname=mrz.surname, given_names=mrz.given_names)
    assert {f.evidence["source"] for f in check_identity(printed)} == {"holder_cns_front"}


def test_mrz_that_fails_its_check_digits_is_ignored():
    wrong = replace(cie_mrz(Person("Russo", "Mario", "M", HOLDER.birth_date)), valid=False)
    assert check_identity(replacing(complete_request(), "holder_id_back", mrz=wrong)) == []


# --- digital signature -----------------------------------------------------


def test_digital_signature_of_someone_else_is_for_review():
    form = direct_form(signature_kind="digital", signer_cf="TINIT-" + OTHER.codice_fiscale)
    findings = check_identity(complete_request(form))
    assert [(f.code, f.evidence["field"]) for f in findings] == [("name_mismatch", "signer_codice_fiscale")]


def test_digital_signature_of_the_right_person():
    assert (
        check_identity(
            complete_request(direct_form(signature_kind="digital", signer_cf="TINIT-" + HOLDER.codice_fiscale))
        )
        == []
    )
    form = declarant_form(signature_kind="digital", signer_cf=DECLARANT.codice_fiscale)
    assert check_identity(complete_request(form)) == []


def test_a_second_given_name_left_off_the_form_is_for_a_clerk_to_see():
    # The CIE says MARIO LUIGI, the form only Mario; the codici fiscali agree (the CF has no given-name
    # letters to tell): the same person most likely, but SPEC's name_mismatch, a review.
    request = replacing(complete_request(), "holder_id_front", given_names="MARIO LUIGI")
    findings = check_identity(request)
    assert codes(findings) == {"name_mismatch"}
    assert {(f.evidence["field"], f.evidence["source"]) for f in findings} == {("given_names", "holder_id_front")}
    assert {f.severity for f in findings} == {"review"}


def test_the_second_half_of_a_double_surname_left_off_is_seen_too():
    request = replacing(complete_request(), "holder_cns_front", surname="ROSSI FERRARI")
    assert {(f.evidence["field"], f.evidence["source"]) for f in check_identity(request)} == {
        ("surname", "holder_cns_front")}


def test_a_word_ocr_lost_from_a_card_is_no_finding():
    two_names = Person("Rossi", "Mario Luigi", "M", date(1958, 3, 14))
    request = replacing(complete_request(holder=two_names), "holder_id_front", given_names="MARIO")
    assert "name_mismatch" not in codes(check_identity(request))

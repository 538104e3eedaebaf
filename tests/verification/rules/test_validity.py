"""validity.py: expiry against ev.today, accepted ID types, a TS-CNS with a chip."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from tests.verification.factories import (
    DECLARANT,
    HOLDER,
    PAPER_ID_INVALID_FROM,
    TODAY,
    cie_back,
    cie_mrz,
    codes,
    complete_request,
    declarant_form,
    replacing,
    without,
)
from verification.rules.validity import check_validity


def _holder_id_expiring(expiry: date):
    request = replacing(complete_request(), "holder_id_front", expiry=expiry)
    return replacing(request, "holder_id_back", mrz=cie_mrz(HOLDER, expiry=expiry))


def test_valid_documents():
    assert check_validity(complete_request(declarant_form())) == []


def test_expired_holder_id():
    findings = check_validity(_holder_id_expiring(TODAY - timedelta(days=1)))
    assert codes(findings) == {"expired_holder_id"}
    assert findings[0].evidence == {"expiry": (TODAY - timedelta(days=1)).isoformat()}


def test_id_expiring_today_is_still_valid():
    assert check_validity(_holder_id_expiring(TODAY)) == []


def test_verified_mrz_expiry_wins_over_printed_text():
    # OCR misread the printed date; the MRZ's check digit confirms the real one.
    request = replacing(complete_request(), "holder_id_front", expiry=date(2001, 5, 1))
    assert check_validity(request) == []


def test_printed_expiry_counts_without_a_valid_mrz():
    request = replacing(complete_request(), "holder_id_front", expiry=date(2025, 3, 1))
    request = replacing(request, "holder_id_back", mrz=None)
    assert codes(check_validity(request)) == {"expired_holder_id"}


def test_expired_declarant_id():
    request = replacing(complete_request(declarant_form()), "declarant_id_front", expiry=date(2026, 1, 1))
    request = replacing(request, "declarant_id_back", mrz=cie_mrz(DECLARANT, expiry=date(2026, 1, 1)))
    assert codes(check_validity(request)) == {"expired_declarant_id"}


def test_declarant_id_not_checked_on_a_direct_form():
    request = complete_request()
    stale = replace(cie_back(DECLARANT, "declarant_id_back"), mrz=cie_mrz(DECLARANT, expiry=date(2020, 1, 1)))
    assert check_validity(replace(request, documents=(*request.documents, stale))) == []


def test_expired_holder_cns():
    request = replacing(complete_request(), "holder_cns_front", expiry=date(2026, 11, 25))
    findings = check_validity(request)
    assert codes(findings) == {"expired_holder_cns"}
    assert "25/11/2026" in findings[0].message


def test_cns_expiry_from_the_back_when_the_front_has_none():
    request = replacing(complete_request(), "holder_cns_front", expiry=None)
    request = replacing(request, "holder_cns_back", expiry=date(2024, 2, 29))
    assert codes(check_validity(request)) == {"expired_holder_cns"}


def test_cns_expiring_today_is_still_valid():
    request = replacing(complete_request(), "holder_cns_front", expiry=TODAY)
    assert check_validity(replacing(request, "holder_cns_back", expiry=TODAY)) == []


def _paper_id(request, person="holder"):
    request = replacing(request, f"{person}_id_front", doc_type="paper_id", number="AA1234567")
    return replacing(request, f"{person}_id_back", doc_type="paper_id", mrz=None)


@pytest.mark.parametrize("today", [PAPER_ID_INVALID_FROM, PAPER_ID_INVALID_FROM + timedelta(days=100)])
def test_paper_id_not_accepted_from_the_cut_off(today):
    request = replace(_paper_id(complete_request()), today=today)
    findings = check_validity(request)
    assert codes(findings) == {"id_type_not_accepted_holder"}
    assert findings[0].evidence == {"doc_type": "paper_id", "invalid_from": "2026-08-03"}


def test_paper_id_accepted_before_the_cut_off():
    request = replace(_paper_id(complete_request()), today=PAPER_ID_INVALID_FROM - timedelta(days=1))
    assert check_validity(request) == []


def test_paper_id_not_accepted_for_the_declarant():
    assert codes(check_validity(_paper_id(complete_request(declarant_form()), "declarant"))) == {
        "id_type_not_accepted_declarant"
    }


def test_expired_paper_id_is_reported_once_as_not_accepted():
    request = replacing(_paper_id(complete_request()), "holder_id_front", expiry=date(2020, 1, 1))
    assert codes(check_validity(request)) == {"id_type_not_accepted_holder"}


def test_health_card_is_not_an_identity_document():
    request = replacing(complete_request(), "holder_id_front", doc_type="ts_cns")
    assert codes(check_validity(request)) == {"id_type_not_accepted_holder"}


@pytest.mark.parametrize("changes", [{"doc_type": "ts_no_chip"}, {"has_chip": False}])
def test_cns_without_chip(changes):
    request = replacing(complete_request(), "holder_cns_front", **changes)
    assert codes(check_validity(request)) == {"cns_without_chip"}


def test_cns_without_chip_is_not_also_expired():
    request = replacing(complete_request(), "holder_cns_front", doc_type="ts_no_chip", expiry=date(2020, 1, 1))
    assert codes(check_validity(request)) == {"cns_without_chip"}


def test_missing_or_unreadable_documents_have_no_expiry_finding():
    missing = without(complete_request(), "holder_id_front", "holder_id_back", "holder_cns_front", "holder_cns_back")
    assert check_validity(missing) == []
    unreadable = replacing(complete_request(), "holder_cns_front", readable=False, expiry=date(2020, 1, 1))
    assert check_validity(unreadable) == []

"""presence.py: the form, its key fields, and the document sides each form type needs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.verification.factories import (
    HOLDER,
    codes,
    complete_request,
    declarant_form,
    direct_form,
    form_page,
    passport,
    without,
)
from verification.rules.presence import check_presence

HOLDER_SLOTS = ("holder_id_front", "holder_id_back", "holder_cns_front", "holder_cns_back")
DECLARANT_SLOTS = ("declarant_id_front", "declarant_id_back")


def test_complete_requests_have_nothing_missing():
    for form in (direct_form(), declarant_form("delegate", "child"), declarant_form("guardian", "parent")):
        assert check_presence(complete_request(form)) == []


def test_no_form_at_all():
    request = without(complete_request(form=None), "form")
    request = replace(request, form=None)
    assert codes(check_presence(request)) == {"form_missing"}


def test_form_page_without_a_readable_form_is_of_unknown_type():
    request = replace(complete_request(), form=None)
    assert codes(check_presence(request)) == {"form_type_unknown"}


def test_unreadable_form_is_not_also_missing_nor_checked():
    request = replace(
        complete_request(direct_form(phone=None, signed=False)),
        documents=(form_page(readable=False), *complete_request().documents[1:]),
    )
    assert codes(check_presence(request)) == set()


def test_form_of_unknown_type():
    assert codes(check_presence(complete_request(direct_form(form_type=None)))) == {"form_type_unknown"}


@pytest.mark.parametrize("phone", [None, "", "   "])
def test_phone_missing(phone):
    assert codes(check_presence(complete_request(direct_form(phone=phone)))) == {"phone_missing"}


def test_form_unsigned():
    assert codes(check_presence(complete_request(direct_form(signed=False)))) == {"form_unsigned"}


@pytest.mark.parametrize("slot", HOLDER_SLOTS)
def test_each_missing_holder_side(slot):
    assert codes(check_presence(without(complete_request(), slot))) == {f"missing_{slot}"}


@pytest.mark.parametrize("slot", DECLARANT_SLOTS)
@pytest.mark.parametrize("form_type, relationship", [("delegate", "spouse"), ("guardian", "guardian")])
def test_each_missing_declarant_side(slot, form_type, relationship):
    request = without(complete_request(declarant_form(form_type, relationship)), slot)
    assert codes(check_presence(request)) == {f"missing_{slot}"}


def test_declarant_documents_are_not_asked_for_on_a_direct_form():
    request = without(complete_request(), *DECLARANT_SLOTS)
    assert check_presence(request) == []


def test_declarant_documents_are_not_asked_for_when_the_form_type_is_unknown():
    request = without(complete_request(declarant_form(form_type=None)), *DECLARANT_SLOTS)
    assert codes(check_presence(request)) == {"form_type_unknown"}


def test_nothing_sent_but_a_form():
    request = without(complete_request(), *HOLDER_SLOTS)
    assert codes(check_presence(request)) == {f"missing_{slot}" for slot in HOLDER_SLOTS}


@pytest.mark.parametrize("slot", ["holder_id_front", "holder_id_back"])
def test_passport_data_page_fills_front_and_back(slot):
    request = without(complete_request(), "holder_id_front", "holder_id_back")
    request = replace(request, documents=(*request.documents, passport(HOLDER, slot)))
    assert check_presence(request) == []


def test_unreadable_side_is_not_missing():
    request = complete_request()
    documents = tuple(replace(d, readable=False) if d.slot == "holder_id_back" else d for d in request.documents)
    assert check_presence(replace(request, documents=documents)) == []

"""eligibility.py: a minor holder needs the guardian form; who may sign the other forms."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tests.verification.factories import (
    MINOR,
    Person,
    codes,
    complete_request,
    declarant_form,
    direct_form,
)
from verification.rules.eligibility import DELEGATE_RELATIONSHIPS, check_eligibility

ALLOWED_ON_DELEGATE = sorted(DELEGATE_RELATIONSHIPS)


def test_adult_holder_on_a_direct_form():
    assert check_eligibility(complete_request()) == []


@pytest.mark.parametrize("form_type, relationship", [("direct", None), ("delegate", "parent")])
def test_minor_holder_needs_the_guardian_form(form_type, relationship):
    form = direct_form(MINOR) if form_type == "direct" else declarant_form(form_type, relationship, holder=MINOR)
    findings = check_eligibility(complete_request(form, holder=MINOR))
    assert codes(findings) == {"holder_minor_needs_guardian_form"}
    assert findings[0].severity == "blocking"


def test_minor_holder_on_the_guardian_form():
    form = declarant_form("guardian", "parent", holder=MINOR)
    assert check_eligibility(complete_request(form, holder=MINOR)) == []


@pytest.mark.parametrize("birth_date, adult", [(date(2008, 11, 26), True), (date(2008, 11, 27), False)])
def test_eighteenth_birthday_is_the_day_of_adulthood(birth_date, adult):
    person = Person("Verdi", "Sara", "F", birth_date)
    findings = check_eligibility(complete_request(direct_form(person), holder=person))
    assert (findings == []) is adult


def test_age_from_the_documents_when_the_form_has_no_birth_date():
    form = direct_form(MINOR.fields(birth_date=None))
    assert codes(check_eligibility(complete_request(form, holder=MINOR))) == {"holder_minor_needs_guardian_form"}


def test_age_from_the_codice_fiscale_as_a_last_resort():
    form = direct_form(MINOR.fields(birth_date=None))
    request = complete_request(form, holder=MINOR)
    request = replace(request, documents=tuple(replace(d, birth_date=None, mrz=None) for d in request.documents))
    assert codes(check_eligibility(request)) == {"holder_minor_needs_guardian_form"}


@pytest.mark.parametrize("relationship", ALLOWED_ON_DELEGATE)
def test_delegation_order_relationships_are_allowed(relationship):
    assert check_eligibility(complete_request(declarant_form("delegate", relationship))) == []


@pytest.mark.parametrize("relationship", ["cousin", "other", "guardian", None, "friend"])
def test_relationships_the_delegation_does_not_reach(relationship):
    findings = check_eligibility(complete_request(declarant_form("delegate", relationship)))
    assert codes(findings) == {"delegate_relationship_not_allowed"}
    assert findings[0].evidence == {"form_type": "delegate", "relationship": relationship}


@pytest.mark.parametrize("relationship", ["parent", "guardian"])
def test_guardian_form_is_for_parents_and_guardians(relationship):
    form = declarant_form("guardian", relationship, holder=MINOR)
    assert check_eligibility(complete_request(form, holder=MINOR)) == []


@pytest.mark.parametrize("relationship", ["spouse", "sibling", "grandparent", "other", None])
def test_guardian_form_with_another_relationship(relationship):
    form = declarant_form("guardian", relationship, holder=MINOR)
    findings = check_eligibility(complete_request(form, holder=MINOR))
    assert codes(findings) == {"delegate_relationship_not_allowed"}
    assert "genitore o il tutore" in findings[0].message


def test_no_eligibility_finding_without_a_usable_form():
    assert check_eligibility(replace(complete_request(), form=None)) == []
    unknown = complete_request(declarant_form(None, "cousin", holder=MINOR), holder=MINOR)
    assert check_eligibility(unknown) == []


def test_a_birth_date_misread_on_a_scanned_form_does_not_make_an_adult_a_minor():
    # A hand's 1958 read as 2058... or 2012: the cards' codice fiscale and MRZ say 1958.
    from tests.verification.factories import HOLDER

    form = replace(direct_form(holder=HOLDER.fields(birth_date=date(2012, 3, 14))), read_by_ocr=True)
    assert check_eligibility(complete_request(form)) == []


def test_the_same_date_typed_into_a_fillable_form_is_the_citizens_word():
    from tests.verification.factories import HOLDER

    form = direct_form(holder=HOLDER.fields(birth_date=date(2012, 3, 14)))
    assert codes(check_eligibility(complete_request(form))) == {"holder_minor_needs_guardian_form"}

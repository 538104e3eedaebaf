"""quality.py: unreadable sides, the face on the ID photo, rejected attachments."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.verification.factories import (
    HOLDER,
    codes,
    complete_request,
    declarant_form,
    form_page,
    passport,
    replacing,
    without,
)
from verification.evidence import RejectedAttachment
from verification.rules.quality import check_quality

ALL_SLOTS = (
    "holder_id_front",
    "holder_id_back",
    "holder_cns_front",
    "holder_cns_back",
    "declarant_id_front",
    "declarant_id_back",
)


def test_complete_request_is_fine():
    assert check_quality(complete_request(declarant_form())) == []


@pytest.mark.parametrize("slot", ALL_SLOTS)
def test_each_unreadable_side(slot):
    request = replacing(complete_request(declarant_form()), slot, readable=False, unreadable_reason="blurred")
    findings = check_quality(request)
    assert codes(findings) == {f"unreadable_{slot}"}
    assert findings[0].evidence == {"slot": slot, "reason": "blurred"}


def test_unreadable_form():
    request = replacing(complete_request(), "form", readable=False)
    assert codes(check_quality(request)) == {"unreadable_form"}


def test_one_good_copy_of_a_side_is_enough():
    request = complete_request()
    blurred = replace(request.in_slot("holder_cns_back")[0], readable=False)
    request = replace(request, documents=(*request.documents, blurred))
    assert check_quality(request) == []


def test_unreadable_declarant_pages_of_a_direct_form_ask_nothing():
    request = complete_request()
    extra = replace(complete_request(declarant_form()).in_slot("declarant_id_front")[0], readable=False)
    request = replace(request, documents=(*request.documents, extra))
    assert check_quality(request) == []


@pytest.mark.parametrize("faces", [0, 2])
def test_face_not_found_holder_id(faces):
    request = replacing(complete_request(), "holder_id_front", face_count=faces)
    assert codes(check_quality(request)) == {"face_not_found_holder_id"}


@pytest.mark.parametrize("faces", [0, 3])
def test_face_not_found_declarant_id(faces):
    request = replacing(complete_request(declarant_form()), "declarant_id_front", face_count=faces)
    assert codes(check_quality(request)) == {"face_not_found_declarant_id"}


def test_faces_not_counted_are_not_a_finding():
    request = replacing(complete_request(), "holder_id_front", face_count=None)
    assert check_quality(request) == []


def test_face_on_the_back_does_not_count():
    request = replacing(complete_request(), "holder_id_back", face_count=0)
    assert check_quality(request) == []


def test_face_on_a_passport_filed_as_back():
    request = without(complete_request(), "holder_id_front", "holder_id_back")
    request = replace(request, documents=(*request.documents, passport(HOLDER, "holder_id_back", face_count=0)))
    assert codes(check_quality(request)) == {"face_not_found_holder_id"}


def test_face_of_an_unreadable_or_missing_id_is_not_reported():
    unreadable = replacing(complete_request(), "holder_id_front", readable=False, face_count=0)
    assert codes(check_quality(unreadable)) == {"unreadable_holder_id_front"}
    assert check_quality(without(complete_request(), "holder_id_front")) == []


def test_attachment_rejected_is_info_per_attachment():
    request = replace(
        complete_request(),
        rejected_attachments=[("virus.exe", "unsafe"), RejectedAttachment("huge.tiff", "oversized")],
    )
    findings = check_quality(request)
    assert [f.code for f in findings] == ["attachment_rejected", "attachment_rejected"]
    assert {f.severity for f in findings} == {"info"}
    assert [f.evidence["filename"] for f in findings] == ["virus.exe", "huge.tiff"]


def test_form_page_missing_is_not_unreadable():
    request = without(complete_request(), "form")
    assert check_quality(request) == []
    assert check_quality(replace(request, documents=(*request.documents, form_page()))) == []

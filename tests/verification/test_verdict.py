"""verdict.py: every rule family run, findings merged, a status decided.

SCENARIOS is one request per problem, with the exact codes its verdict must
hold; together they produce every code in the finding table.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tests.verification.factories import (
    DECLARANT,
    HOLDER,
    MINOR,
    OTHER_CF,
    cie_mrz,
    complete_request,
    declarant_form,
    direct_form,
    replacing,
    without,
)
from verification.findings import FINDINGS, finding
from verification.verdict import Verdict, decide, merge, status_of

HOLDER_SLOTS = ("holder_id_front", "holder_id_back", "holder_cns_front", "holder_cns_back")


def _expired_holder_id():
    request = replacing(complete_request(), "holder_id_front", expiry=date(2025, 3, 1))
    return replacing(request, "holder_id_back", mrz=cie_mrz(HOLDER, expiry=date(2025, 3, 1)))


def _expired_declarant_id():
    request = replacing(complete_request(declarant_form()), "declarant_id_front", expiry=date(2025, 3, 1))
    return replacing(request, "declarant_id_back", mrz=cie_mrz(DECLARANT, expiry=date(2025, 3, 1)))


def _paper_id(person: str):
    form = declarant_form() if person == "declarant" else None
    request = replacing(complete_request(form), f"{person}_id_front", doc_type="paper_id")
    return replacing(request, f"{person}_id_back", doc_type="paper_id", mrz=None)


def _unreadable(slot: str):
    return replacing(complete_request(declarant_form()), slot, readable=False)


SCENARIOS = {
    "complete direct": (lambda: complete_request(), set()),
    "complete delegate": (lambda: complete_request(declarant_form("delegate", "sibling")), set()),
    "complete guardian": (
        lambda: complete_request(declarant_form("guardian", "guardian", holder=MINOR), holder=MINOR),
        set(),
    ),
    "nothing": (
        lambda: replace(complete_request(), form=None, documents=()),
        {"form_missing", *(f"missing_{s}" for s in HOLDER_SLOTS)},
    ),
    "form type unknown": (lambda: complete_request(direct_form(form_type=None)), {"form_type_unknown"}),
    "unsigned": (lambda: complete_request(direct_form(signed=False)), {"form_unsigned"}),
    "no phone": (lambda: complete_request(direct_form(phone="")), {"phone_missing"}),
    "no declarant id": (
        lambda: without(complete_request(declarant_form()), "declarant_id_front", "declarant_id_back"),
        {"missing_declarant_id_front", "missing_declarant_id_back"},
    ),
    "unreadable form": (lambda: _unreadable("form"), {"unreadable_form"}),
    **{
        f"unreadable {slot}": (lambda slot=slot: _unreadable(slot), {f"unreadable_{slot}"})
        for slot in (
            *HOLDER_SLOTS,
            "declarant_id_front",
            "declarant_id_back",
        )
    },
    "expired holder id": (_expired_holder_id, {"expired_holder_id"}),
    "expired declarant id": (_expired_declarant_id, {"expired_declarant_id"}),
    "expired cns": (
        lambda: replacing(complete_request(), "holder_cns_front", expiry=date(2026, 1, 31)),
        {"expired_holder_cns"},
    ),
    "paper id holder": (lambda: _paper_id("holder"), {"id_type_not_accepted_holder"}),
    "paper id declarant": (lambda: _paper_id("declarant"), {"id_type_not_accepted_declarant"}),
    "no chip": (
        lambda: replacing(complete_request(), "holder_cns_front", doc_type="ts_no_chip", has_chip=False),
        {"cns_without_chip"},
    ),
    "cf invalid": (
        lambda: complete_request(direct_form(HOLDER.fields(codice_fiscale=HOLDER.codice_fiscale[:15] + "A"))),
        {"cf_invalid"},
    ),
    "cf mismatch": (
        lambda: replacing(complete_request(), "holder_cns_back", cf_sources={"barcode": OTHER_CF}),
        {"cf_mismatch"},
    ),
    "name mismatch": (
        lambda: replacing(complete_request(), "holder_cns_front", given_names="LUIGI"),
        {"name_mismatch"},
    ),
    "minor on direct form": (
        lambda: complete_request(direct_form(MINOR), holder=MINOR),
        {"holder_minor_needs_guardian_form"},
    ),
    "cousin": (lambda: complete_request(declarant_form("delegate", "cousin")), {"delegate_relationship_not_allowed"}),
    "no face holder": (
        lambda: replacing(complete_request(), "holder_id_front", face_count=0),
        {"face_not_found_holder_id"},
    ),
    "no face declarant": (
        lambda: replacing(complete_request(declarant_form()), "declarant_id_front", face_count=2),
        {"face_not_found_declarant_id"},
    ),
    "rejected attachment": (
        lambda: replace(complete_request(), rejected_attachments=[("a.exe", "unsafe")]),
        {"attachment_rejected"},
    ),
    "message partly read": (
        lambda: replace(complete_request(), content_lost=["too many attachments: 4 not kept (limit 30)"]),
        {"message_partly_read"},
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name):
    build, expected = SCENARIOS[name]
    verdict = decide(build())
    assert set(verdict.codes) == expected


def test_scenarios_cover_every_finding_code():
    produced = {code for _, expected in SCENARIOS.values() for code in expected}
    assert produced == set(FINDINGS)


def test_status():
    assert decide(complete_request()).status == "ready"
    assert decide(SCENARIOS["rejected attachment"][0]()).status == "ready"  # info only
    assert decide(SCENARIOS["name mismatch"][0]()).status == "needs_review"
    assert decide(SCENARIOS["form type unknown"][0]()).status == "needs_review"
    assert decide(SCENARIOS["unsigned"][0]()).status == "incomplete"


def test_blocking_wins_over_review_and_comes_first():
    request = replacing(SCENARIOS["name mismatch"][0](), "holder_id_front", face_count=0)
    request = replace(request, rejected_attachments=[("a.exe", "unsafe")])
    verdict = decide(request)
    assert verdict.status == "incomplete"
    assert [f.severity for f in verdict.findings] == ["blocking", "review", "info"]


def test_identical_findings_are_reported_once():
    duplicate = finding("missing_holder_cns_back", slot="holder_cns_back")
    verdict = decide(complete_request(), rules=[lambda ev: [duplicate], lambda ev: [duplicate]])
    assert verdict.findings == (duplicate,)


def test_citizen_messages_are_blocking_and_unique():
    verdict = Verdict(
        status="incomplete",
        findings=(
            finding("cf_invalid", person="holder", sources=["form"]),
            finding("cf_invalid", person="holder", sources=["holder_cns_back.barcode"]),
            finding("name_mismatch"),
        ),
    )
    assert verdict.citizen_messages() == [finding("cf_invalid", person="holder").message]


def test_missing_documents_have_no_other_finding():
    request = without(complete_request(direct_form(signed=True)), *HOLDER_SLOTS)
    assert set(decide(request).codes) == {f"missing_{slot}" for slot in HOLDER_SLOTS}


def test_card_without_chip_supersedes_its_missing_back():
    request = without(SCENARIOS["no chip"][0](), "holder_cns_back")
    assert decide(request).codes == ("cns_without_chip",)


def test_paper_id_supersedes_its_missing_back_and_face():
    request = replacing(without(_paper_id("holder"), "holder_id_back"), "holder_id_front", face_count=0)
    assert decide(request).codes == ("id_type_not_accepted_holder",)


def test_merge_and_status_of_empty():
    assert merge([]) == ()
    assert status_of([]) == "ready"


def test_a_partly_read_message_goes_to_review_even_with_blocking_findings():
    """Issue 19: never a "manca" letter built on a partial read; the clerk still sees what seems missing."""
    request = replace(without(complete_request(), "holder_cns_back"),
                      content_lost=["part 2: multipart without usable boundary"])
    verdict = decide(request)
    assert verdict.status == "needs_review"
    assert {"missing_holder_cns_back", "message_partly_read"} <= set(verdict.codes)

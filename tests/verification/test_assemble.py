"""Slot assignment: whose card is which, and which copy counts."""

from dataclasses import replace
from datetime import date

from verification.assemble import assemble, place_cards
from verification.evidence import FormEvidence, SourceRef
from verification.readings import CardReading, FormReading
from verification.verdict import decide

from tests.verification.factories import DECLARANT, HOLDER, PAPER_ID_INVALID_FROM, TODAY, cie_mrz


def card(person, doc_type="cie", side="front", name="x.jpg", **kw) -> CardReading:
    base = dict(surname=person.surname.upper(), given_names=person.given_names.upper(),
                birth_date=person.birth_date, expiry=date(2031, 5, 1))
    if doc_type in ("cie", "passport", "driving_licence", "paper_id") and side in ("front", "data_page"):
        base["face_count"] = 1
    if side == "back" or doc_type.startswith("ts"):
        base["codice_fiscale"] = person.codice_fiscale
    base.update(kw)
    return CardReading(doc_type=doc_type, side=side, source=SourceRef(name), **base)


def form(form_type="delegate", signed=True) -> FormReading:
    ev = FormEvidence(form_type=form_type, holder=HOLDER.fields(),
                      declarant=DECLARANT.fields() if form_type != "direct" else None,
                      relationship="spouse" if form_type == "delegate" else None,
                      phone="+393331234567", email="a@example.org", signed=signed, signature_kind="ink")
    return FormReading(source=SourceRef("modulo.pdf"), evidence=ev, method="fields")


def slots(placed):
    return {p.slot: p.reading.source.filename for p in placed}


def test_cards_go_to_the_person_they_match():
    f = form().evidence
    placed = place_cards([
        card(DECLARANT, name="d-front.jpg"), card(HOLDER, name="h-front.jpg"),
        card(HOLDER, "ts_cns", "front", name="ts-f.jpg", has_chip=True), card(HOLDER, "ts_cns", "back", name="ts-b.jpg"),
        card(DECLARANT, side="back", name="d-back.jpg"), card(HOLDER, side="back", name="h-back.jpg"),
    ], f)
    assert slots(placed) == {
        "holder_id_front": "h-front.jpg", "holder_id_back": "h-back.jpg",
        "holder_cns_front": "ts-f.jpg", "holder_cns_back": "ts-b.jpg",
        "declarant_id_front": "d-front.jpg", "declarant_id_back": "d-back.jpg",
    }


def test_a_back_without_names_follows_its_front_by_card_number():
    f = form().evidence
    front = card(DECLARANT, name="front.jpg", number="CA11111AA")
    back = CardReading(doc_type="cie", side="back", source=SourceRef("back.jpg"), number="CA11111AA")
    assert slots(place_cards([front, back], f)) == {"declarant_id_front": "front.jpg", "declarant_id_back": "back.jpg"}


def test_on_a_direct_form_every_id_is_the_holders():
    placed = place_cards([card(DECLARANT, name="someone.jpg")], form("direct").evidence)
    assert slots(placed) == {"holder_id_front": "someone.jpg"}


def test_an_unclassified_unreadable_card_fills_the_first_empty_slot():
    f = form("direct").evidence
    blurred = CardReading(doc_type=None, side=None, source=SourceRef("mosso.jpg"), readable=False,
                          unreadable_reason="blurred")
    placed = place_cards([card(HOLDER, name="front.jpg"), blurred], f)
    assert slots(placed) == {"holder_id_front": "front.jpg", "holder_id_back": "mosso.jpg"}


def test_the_latest_readable_copy_wins():
    f = form("direct").evidence
    old = card(HOLDER, name="old.jpg", expiry=date(2020, 1, 1))
    new = card(HOLDER, name="new.jpg")
    assert slots(place_cards([old, new], f)) == {"holder_id_front": "new.jpg"}


def test_an_unreadable_picture_guessed_as_a_side_already_here_fills_the_side_still_needed():
    f = form("direct").evidence
    front = card(HOLDER, name="front.jpg")
    blurred = replace(card(HOLDER, name="blur.jpg"), readable=False, unreadable_reason="blurred")
    placed = place_cards([front, blurred], f)
    assert slots(placed) == {"holder_id_front": "front.jpg", "holder_id_back": "blur.jpg"}


def test_a_complete_delegate_request_assembles_to_ready():
    mrz = cie_mrz(HOLDER)
    cards = [
        card(HOLDER, number="CA12345AB"), card(HOLDER, side="back", mrz=mrz, number="CA12345AB"),
        card(HOLDER, "ts_cns", "front", has_chip=True, expiry=date(2029, 9, 30)),
        card(HOLDER, "ts_cns", "back", expiry=date(2029, 9, 30), cf_sources={"ehic_field6": HOLDER.codice_fiscale}),
        card(DECLARANT, number="CB22222CC"), card(DECLARANT, side="back", number="CB22222CC"),
    ]
    ev, placed, chosen = assemble([form(signed=False), form()], cards, [], TODAY, PAPER_ID_INVALID_FROM)
    assert chosen.evidence.signed  # the later form replaces the earlier one
    verdict = decide(ev)
    assert verdict.status == "ready", verdict.codes


def test_nothing_but_a_form_asks_for_every_document():
    ev, _, _ = assemble([form("direct")], [], [], TODAY, PAPER_ID_INVALID_FROM)
    assert set(decide(ev).codes) == {"missing_holder_id_front", "missing_holder_id_back",
                                     "missing_holder_cns_front", "missing_holder_cns_back"}


def test_an_anonymous_back_follows_the_only_front_of_its_kind_still_without_one():
    f = form().evidence
    cards = [
        card(HOLDER, name="h-front.jpg"), card(HOLDER, side="back", name="h-back.jpg"),
        card(DECLARANT, "driving_licence", "front", name="d-front.jpg"),
        CardReading(doc_type="driving_licence", side="back", source=SourceRef("d-back.jpg")),
    ]
    assert slots(place_cards(cards, f))["declarant_id_back"] == "d-back.jpg"


def test_a_side_misread_as_a_cie_back_does_not_displace_the_real_one_with_a_valid_mrz():
    f = form("direct").evidence
    real = card(HOLDER, side="back", name="ci_retro.jpg", mrz=cie_mrz(HOLDER),
                cf_sources={"barcode": HOLDER.codice_fiscale})
    misread = card(HOLDER, side="back", name="TS fronte.pdf")  # words only: no MRZ, no barcode
    for arrival in ([real, misread], [misread, real]):
        assert slots(place_cards(arrival, f))["holder_id_back"] == "ci_retro.jpg"


def test_a_side_sent_again_with_evidence_as_strong_replaces_the_first():
    f = form("direct").evidence
    first = card(HOLDER, side="back", name="old.jpg", mrz=cie_mrz(HOLDER))
    again = card(HOLDER, side="back", name="new.jpg", mrz=cie_mrz(HOLDER, number="CA99999ZZ"))
    assert slots(place_cards([first, again], f))["holder_id_back"] == "new.jpg"

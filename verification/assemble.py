"""From what the readers saw to the evidence the rules check: slots and whose.

Pure: a list of readings in arrival order in, one RequestEvidence out.

- The form: the latest readable one (a citizen who sends a corrected form
  means the new one); when none is readable, the latest unreadable one.
- TS-CNS sides are the holder's (the card is the holder's by definition).
- An identity document is the declarant's when it matches the declarant on
  the form (codice fiscale, else name and birth date) better than the holder;
  otherwise the holder's. The two sides of one CIE are kept together by the
  card number (printed on the front, in the MRZ on the back).
- A card the reader could not classify fills the first empty slot it could
  belong to, so the citizen hears "unreadable", not "missing".
- Per slot a readable copy wins over an unreadable one, then the one with the
  stronger machine-checked evidence (valid MRZ, barcode, valid CF, number),
  then the latest; the others are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from verification import codice_fiscale as cf
from verification.evidence import DocumentEvidence, FormEvidence, PersonFields, RejectedAttachment, RequestEvidence
from verification.names import names_compatible
from verification.readings import CardReading, FormReading

ID_SIDE_SLOT = {"front": "id_front", "back": "id_back", "data_page": "id_front", None: "id_front"}
CNS_SIDE_SLOT = {"front": "holder_cns_front", "back": "holder_cns_back"}
FILL_ORDER = ("holder_id_front", "holder_id_back", "holder_cns_front", "holder_cns_back",
              "declarant_id_front", "declarant_id_back")
METHOD_RANK = {"fields": 3, "text": 2, "ocr": 1}


@dataclass(frozen=True)
class Placed:
    """A card reading and the slot it fills."""

    slot: str
    reading: CardReading


def choose_form(forms: list[FormReading]) -> FormReading | None:
    readable = [f for f in forms if f.readable]
    pool = readable or forms
    return pool[-1] if pool else None


def _same_cf(a: str | None, b: str | None) -> bool:
    a, b = cf.normalize(a), cf.normalize(b)
    if len(a) != 16 or len(b) != 16:
        return False
    try:
        return cf.base_form(a) == cf.base_form(b)
    except Exception:  # noqa: BLE001 - malformed OCR text is simply not a match
        return a == b


def _card_cfs(card: CardReading) -> set[str]:
    values = {card.codice_fiscale, *card.cf_sources.values()}
    return {cf.normalize(v) for v in values if v}


def match_score(card: CardReading, person: PersonFields | None) -> int:
    """How strongly a card points at a person: CF 3, birth date 2, name 1."""
    if person is None:
        return 0
    score = 0
    if person.codice_fiscale and any(_same_cf(v, person.codice_fiscale) for v in _card_cfs(card)):
        score += 3
    birth = card.birth_date or (card.mrz.birth_date if card.mrz and card.mrz.valid else None)
    if person.birth_date and birth and person.birth_date == birth:
        score += 2
    surname = card.surname or (card.mrz.surname if card.mrz else None)
    given = card.given_names or (card.mrz.given_names if card.mrz else None)
    if (surname or given) and (person.surname or person.given_names):
        if names_compatible(surname, given, person.surname, person.given_names, allow_prefix=True):
            score += 1
    return score


def _card_number(card: CardReading) -> str | None:
    if card.number:
        return card.number.replace(" ", "").upper()
    if card.mrz and card.mrz.number:
        return card.mrz.number.replace("<", "").upper()
    return None


def _whose(card: CardReading, form: FormEvidence | None, partner_person: dict[str, str]) -> str:
    if form is None or form.declarant is None or form.form_type not in ("delegate", "guardian"):
        return "holder"
    number = _card_number(card)
    h, d = match_score(card, form.holder), match_score(card, form.declarant)
    if h == d and number and number in partner_person:
        return partner_person[number]
    return "declarant" if d > h else "holder"


def _anonymous(card: CardReading, form: FormEvidence | None) -> bool:
    """Nothing on this side says whose it is (a driving licence's back has no name or number)."""
    if _card_number(card) or card.codice_fiscale or card.cf_sources or card.mrz:
        return False
    return not (card.surname or card.given_names or card.birth_date)


def _partner_of(card: CardReading, placed: list[Placed]) -> str | None:
    """The one person whose other side of the same kind of document is here without this side."""
    wanted = "id_back" if card.side == "back" else "id_front"
    have = {p.slot for p in placed}
    owners = {p.slot.split("_id_")[0] for p in placed
              if p.reading.doc_type == card.doc_type and "_id_" in p.slot}
    candidates = [o for o in owners if f"{o}_{wanted}" not in have]
    return candidates[0] if len(candidates) == 1 else None


def place_cards(cards: list[CardReading], form: FormEvidence | None) -> list[Placed]:
    placed: list[Placed] = []
    unknown: list[CardReading] = []
    # First the readable cards that say who they are, so the other side of
    # the same CIE (same number) can follow them; unreadable ones last.
    by_number: dict[str, str] = {}
    ordered = sorted(cards, key=lambda c: (not c.readable,
                                           -max(match_score(c, form.holder) if form else 0,
                                                match_score(c, form.declarant) if form else 0)))
    for card in ordered:
        if card.doc_type is None:
            unknown.append(card)
            continue
        if card.doc_type in ("ts_cns", "ts_no_chip"):
            slot = CNS_SIDE_SLOT.get(card.side or "front", "holder_cns_front")
        else:
            person = _whose(card, form, by_number)
            if _anonymous(card, form):
                person = _partner_of(card, placed) or person
            if (number := _card_number(card)) is not None:
                by_number.setdefault(number, person)
            slot = f"{person}_{ID_SIDE_SLOT[card.side]}"
        if not card.readable and any(p.slot == slot and p.reading.readable for p in placed):
            # An unreadable picture's type and side are guesses; where that
            # side is already here and readable, it is more likely another one.
            unknown.append(card)
            continue
        placed.append(Placed(slot, card))
    # Unclassified cards (usually unreadable): the first slot still empty.
    need_declarant = form is not None and form.form_type in ("delegate", "guardian")
    for card in unknown:
        taken = {p.slot for p in placed}
        if any(p.reading.doc_type == "passport" for p in placed if p.slot.startswith("holder_id")):
            taken |= {"holder_id_front", "holder_id_back"}
        free = [s for s in FILL_ORDER if s not in taken and (need_declarant or not s.startswith("declarant"))]
        placed.append(Placed(free[0] if free else "holder_id_front", card))
    return _latest_per_slot(placed, cards)


def evidence_strength(card: CardReading) -> int:
    """How surely a reading is what its slot says: machine-checked evidence first.

    A valid MRZ (check digits), a decoded barcode, a valid codice fiscale, a
    document number; a side classified from its words alone has none of them.
    """
    strength = 0
    if card.mrz is not None and card.mrz.valid:
        strength += 8
    if "barcode" in card.cf_sources:
        strength += 4
    if card.codice_fiscale and cf.is_valid(cf.normalize(card.codice_fiscale)):
        strength += 2
    if _card_number(card):
        strength += 1
    return strength


def _latest_per_slot(placed: list[Placed], arrival: list[CardReading]) -> list[Placed]:
    """One reading per slot: readable over unreadable, then the stronger evidence (a misread side
    must not displace the real one, MRZ valid), then the latest (a citizen who sends a side again
    means the new one)."""
    order = {id(c): i for i, c in enumerate(arrival)}
    best: dict[str, Placed] = {}
    for p in sorted(placed, key=lambda p: order[id(p.reading)]):
        cur = best.get(p.slot)
        if cur is None or not cur.reading.readable:
            best[p.slot] = p
        elif p.reading.readable and evidence_strength(p.reading) >= evidence_strength(cur.reading):
            best[p.slot] = p
    return sorted(best.values(), key=lambda p: FILL_ORDER.index(p.slot) if p.slot in FILL_ORDER else 99)


def to_document(p: Placed) -> DocumentEvidence:
    c = p.reading
    return DocumentEvidence(
        slot=p.slot, doc_type=c.doc_type, source=c.source, readable=c.readable,
        unreadable_reason=c.unreadable_reason, number=c.number, issue_date=c.issue_date, expiry=c.expiry,
        surname=c.surname, given_names=c.given_names, birth_date=c.birth_date, codice_fiscale=c.codice_fiscale,
        cf_sources=dict(c.cf_sources), mrz=c.mrz, has_chip=c.has_chip, face_count=c.face_count,
    )


def assemble(
    forms: list[FormReading],
    cards: list[CardReading],
    rejected: list[RejectedAttachment],
    today: date,
    paper_id_invalid_from: date,
) -> tuple[RequestEvidence, list[Placed], FormReading | None]:
    chosen = choose_form(forms)
    form_ev = chosen.evidence if chosen is not None and chosen.readable else None
    if form_ev is not None and chosen.method == "ocr":
        form_ev = replace(form_ev, read_by_ocr=True)
    placed = place_cards(cards, form_ev)
    documents = [to_document(p) for p in placed]
    if chosen is not None:
        documents.insert(0, DocumentEvidence(slot="form", doc_type="form", source=chosen.source,
                                             readable=chosen.readable, unreadable_reason=chosen.unreadable_reason))
    evidence = RequestEvidence(today=today, form=form_ev, documents=documents, rejected_attachments=rejected,
                               paper_id_invalid_from=paper_id_invalid_from)
    return evidence, placed, chosen

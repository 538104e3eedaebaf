"""Identity documents and health cards of synthetic people, rendered as images.

`make_document(doc_type, person, seed, …)` picks a number and plausible
dates (or the ones given: a test can ask for an expired card), and
`render(document)` draws every side: "front" and "back", or "data_page" for
a passport. Cards are ~1000 px wide (ID-1 at 300 dpi).

doc_type is SPEC.md's: cie, paper_id, passport, driving_licence, ts_cns, ts_no_chip.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date, timedelta

from PIL import Image

from tests.corpus import booklets, cards
from tests.corpus.people import TODAY, Person

DOC_TYPES = ("cie", "paper_id", "passport", "driving_licence", "ts_cns", "ts_no_chip")


@dataclass(frozen=True)
class Document:
    doc_type: str
    person: Person
    number: str  # card number; for a TS, the 20-digit EHIC card number (field 8)
    issue: date
    expiry: date
    seed: int
    photo: str = "face"  # face | landscape | blank: what the ID photo area shows
    issuer: str = "MILANO"  # comune di rilascio
    can: str = ""  # CIE card access number
    parents: str | None = None  # CIE back, for minors

    @property
    def sides(self) -> tuple[str, ...]:
        return ("data_page",) if self.doc_type == "passport" else ("front", "back")

    @property
    def has_photo(self) -> bool:
        return self.doc_type in ("cie", "paper_id", "passport", "driving_licence")


# --- numbers ---------------------------------------------------------------------


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(n))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to `digits` (ISO/IEC 7812-1)."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        v = int(d) * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_digit(number[:-1]) == number[-1]


def ts_card_number(rng: random.Random) -> str:
    """EHIC field 8: 80 (health) + 380 (Italy) + issuer and serial + Luhn digit = 20 digits."""
    body = "80380" + "0000" + _digits(rng, 10)
    return body + luhn_digit(body)


def document_number(doc_type: str, rng: random.Random) -> str:
    if doc_type == "cie":
        return "C" + _letters(rng, 1) + _digits(rng, 5) + _letters(rng, 2)  # CA00000AA
    if doc_type == "passport":
        return "Y" + _letters(rng, 1) + _digits(rng, 7)  # YA0000000
    if doc_type == "paper_id":
        return "A" + _letters(rng, 1) + _digits(rng, 7)  # AA0000000
    if doc_type == "driving_licence":
        return rng.choice(("MI", "BG", "BS", "VA", "CO")) + _digits(rng, 7) + _letters(rng, 1)
    return ts_card_number(rng)


# --- validity --------------------------------------------------------------------


def _birthday_on_or_after(person: Person, day: date) -> date:
    for year in (day.year, day.year + 1):
        try:
            birthday = person.birth_date.replace(year=year)
        except ValueError:  # born on 29 February
            birthday = date(year, 3, 1)
        if birthday >= day:
            return birthday
    raise AssertionError("unreachable")


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validity_years(doc_type: str, person: Person, issue: date) -> int:
    age = person.age_on(issue)
    if doc_type in ("cie", "paper_id", "passport"):
        return 3 if age < 3 else 5 if age < 18 else 10  # DOCUMENTS.md, CIE validity
    if doc_type == "driving_licence":
        return 10 if age < 50 else 5 if age < 70 else 3
    return 6  # TS-CNS


def expiry_for(doc_type: str, person: Person, issue: date) -> date:
    """The printed expiry: identity cards and licences expire on a birthday; passports the day before."""
    nominal = _add_years(issue, validity_years(doc_type, person, issue))
    if doc_type in ("cie", "paper_id", "driving_licence"):
        return _birthday_on_or_after(person, nominal)
    if doc_type == "passport":
        return nominal - timedelta(days=1)
    return nominal


def make_document(
    doc_type: str,
    person: Person,
    seed: int,
    *,
    expired: bool = False,
    issue: date | None = None,
    expiry: date | None = None,
    photo: str = "face",
    parents: str | None = None,
) -> Document:
    """A document of `person`, valid on TODAY unless `expired` (or the dates given say otherwise)."""
    rng = random.Random(f"{doc_type}-{seed}")
    if issue is None:
        for attempt in range(60):
            if expired:
                back = rng.randrange(365 * validity_years(doc_type, person, TODAY) + 30, 365 * 14)
            elif doc_type == "paper_id" and attempt < 30:  # the last paper cards were issued years ago
                back = rng.randrange(365 * 7, 365 * 9)
            else:
                back = rng.randrange(30, 365 * 4)
            issue = TODAY - timedelta(days=back)
            if issue > person.birth_date + timedelta(days=30):
                candidate = expiry or expiry_for(doc_type, person, issue)
                if (candidate < TODAY) == expired:
                    break
        else:
            raise ValueError(f"no {'expired' if expired else 'valid'} {doc_type} dates for {person}")
    expiry = expiry or expiry_for(doc_type, person, issue)
    return Document(
        doc_type=doc_type,
        person=person,
        number=document_number(doc_type, rng),
        issue=issue,
        expiry=expiry,
        seed=seed,
        photo=photo,
        issuer=rng.choice(("MILANO", person.birthplace)) if doc_type in ("cie", "paper_id") else "MILANO",
        can=_digits(rng, 6),
        parents=parents,
    )


# --- rendering -------------------------------------------------------------------


def render(document: Document, side: str) -> Image.Image:
    d, p = document, document.person
    rng = random.Random(f"{d.doc_type}-{side}-{d.seed}")
    match d.doc_type, side:
        case "cie", "front":
            return cards.cie_front(p, d.number, d.issue, d.expiry, issuer=d.issuer, can=d.can, photo=d.photo, rng=rng)
        case "cie", "back":
            return cards.cie_back(p, d.number, d.issue, d.expiry, rng=rng, parents=d.parents)
        case "passport", "data_page":
            return booklets.passport_page(p, d.number, d.issue, d.expiry, photo=d.photo, rng=rng)
        case "driving_licence", "front":
            return cards.licence_front(p, d.number, d.issue, d.expiry, photo=d.photo, rng=rng)
        case "driving_licence", "back":
            return cards.licence_back(p, d.issue, d.expiry, rng=rng)
        case "paper_id", "front":
            return booklets.paper_id_inside(p, d.number, d.issue, d.expiry, issuer=d.issuer, photo=d.photo, rng=rng)
        case "paper_id", "back":
            return booklets.paper_id_outside(d.number, d.expiry, rng=rng)
        case ("ts_cns" | "ts_no_chip"), "front":
            return cards.ts_front(p, d.expiry, with_chip=d.doc_type == "ts_cns", rng=rng)
        case ("ts_cns" | "ts_no_chip"), "back":
            return cards.ts_back(p, d.number, d.expiry, rng=rng)
    raise ValueError(f"{d.doc_type} has no side {side!r}")


def render_all(document: Document) -> dict[str, Image.Image]:
    return {side: render(document, side) for side in document.sides}

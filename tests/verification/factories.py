"""Synthetic people and the evidence their documents would produce, for the rule tests.

Every codice fiscale is computed by python-codicefiscale from the person's
data; every MRZ by our builder. `complete_request` gives a request with
nothing wrong; tests change one thing with dataclasses.replace.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import cache

from verification import codice_fiscale as cf
from verification.evidence import DocumentEvidence, FormEvidence, PersonFields, RequestEvidence, SourceRef
from verification.mrz.text import parse
from verification.mrz.build import make_td1, make_td3

TODAY = date(2026, 11, 26)
PAPER_ID_INVALID_FROM = date(2026, 8, 3)
ID_EXPIRY = date(2031, 5, 1)
CNS_EXPIRY = date(2029, 9, 30)


@cache
def _generate(*person) -> str:
    return cf.generate(*person)


@dataclass(frozen=True)
class Person:
    surname: str
    given_names: str
    sex: str
    birth_date: date
    birthplace_code: str = "F205"  # Milano

    @property
    def codice_fiscale(self) -> str:
        return _generate(self.surname, self.given_names, self.sex, self.birth_date, self.birthplace_code)

    def fields(self, **changes) -> PersonFields:
        written = PersonFields(
            surname=self.surname,
            given_names=self.given_names,
            codice_fiscale=self.codice_fiscale,
            birth_date=self.birth_date,
            birth_place="Milano",
        )
        return replace(written, **changes)


HOLDER = Person("Rossi", "Mario", "M", date(1958, 3, 14))
DECLARANT = Person("Bianchi", "Anna Maria", "F", date(1961, 7, 2), "B157")  # Brescia
MINOR = Person("Rossi", "Luca", "M", date(2012, 4, 20))


def _source(name: str) -> SourceRef:
    return SourceRef(filename=f"{name}.jpg", page=1)


def cie_front(person: Person, slot: str = "holder_id_front", **changes) -> DocumentEvidence:
    document = DocumentEvidence(
        slot=slot,
        doc_type="cie",
        source=_source(slot),
        number="CA12345AB",
        expiry=ID_EXPIRY,
        issue_date=date(2021, 5, 1),
        surname=person.surname.upper(),
        given_names=person.given_names.upper(),
        birth_date=person.birth_date,
        face_count=1,
    )
    return replace(document, **changes)


def cie_mrz(person: Person, number: str = "CA12345AB", expiry: date = ID_EXPIRY):
    lines = make_td1(
        number=number,
        birth_date=person.birth_date,
        sex=person.sex,
        expiry=expiry,
        surname=person.surname,
        given_names=person.given_names,
    )
    return parse(lines, TODAY)


def cie_back(person: Person, slot: str = "holder_id_back", **changes) -> DocumentEvidence:
    code = person.codice_fiscale
    document = DocumentEvidence(
        slot=slot,
        doc_type="cie",
        source=_source(slot),
        codice_fiscale=code,
        cf_sources={"back_text": code, "barcode": code},
        mrz=cie_mrz(person),
    )
    return replace(document, **changes)


def passport(person: Person, slot: str = "holder_id_front", **changes) -> DocumentEvidence:
    number, expiry = "YA1234567", date(2030, 1, 9)
    lines = make_td3(
        number=number,
        birth_date=person.birth_date,
        sex=person.sex,
        expiry=expiry,
        surname=person.surname,
        given_names=person.given_names,
    )
    document = DocumentEvidence(
        slot=slot,
        doc_type="passport",
        source=_source(slot),
        number=number,
        expiry=expiry,
        surname=person.surname.upper(),
        given_names=person.given_names.upper(),
        birth_date=person.birth_date,
        mrz=parse(lines, TODAY),
        face_count=1,
    )
    return replace(document, **changes)


def ts_front(person: Person, **changes) -> DocumentEvidence:
    code = person.codice_fiscale
    document = DocumentEvidence(
        slot="holder_cns_front",
        doc_type="ts_cns",
        source=_source("ts_front"),
        expiry=CNS_EXPIRY,
        surname=person.surname.upper(),
        given_names=person.given_names.upper(),
        birth_date=person.birth_date,
        codice_fiscale=code,
        cf_sources={"front_text": code},
        has_chip=True,
    )
    return replace(document, **changes)


def ts_back(person: Person, **changes) -> DocumentEvidence:
    code = person.codice_fiscale
    document = DocumentEvidence(
        slot="holder_cns_back",
        doc_type="ts_cns",
        source=_source("ts_back"),
        expiry=CNS_EXPIRY,
        number="80380000500012345678",
        surname=person.surname.upper(),
        given_names=person.given_names.upper(),
        birth_date=person.birth_date,
        codice_fiscale=code,
        cf_sources={"ehic_field6": code, "barcode": code},
    )
    return replace(document, **changes)


def form_page(**changes) -> DocumentEvidence:
    return replace(DocumentEvidence(slot="form", doc_type="form", source=SourceRef("modulo.pdf", 1)), **changes)


def _written(person: Person | PersonFields) -> PersonFields:
    return person.fields() if isinstance(person, Person) else person


def direct_form(holder: Person | PersonFields = HOLDER, **changes) -> FormEvidence:
    form = FormEvidence(
        form_type="direct",
        holder=_written(holder),
        phone="+393331234567",
        email="mario.rossi@example.org",
        signed=True,
        signature_kind="ink",
        ts_expiry=CNS_EXPIRY,
    )
    return replace(form, **changes)


def declarant_form(
    form_type: str | None = "delegate",
    relationship: str | None = "spouse",
    holder: Person | PersonFields = HOLDER,
    declarant: Person | PersonFields = DECLARANT,
    **changes,
) -> FormEvidence:
    form = direct_form(holder, form_type=form_type, declarant=_written(declarant), relationship=relationship)
    return replace(form, **changes)


def holder_documents(holder: Person = HOLDER) -> list[DocumentEvidence]:
    return [cie_front(holder), cie_back(holder), ts_front(holder), ts_back(holder)]


def declarant_documents(declarant: Person = DECLARANT) -> list[DocumentEvidence]:
    return [cie_front(declarant, "declarant_id_front"), cie_back(declarant, "declarant_id_back")]


def complete_request(
    form: FormEvidence | None = None, *, holder: Person = HOLDER, declarant: Person = DECLARANT, **changes
) -> RequestEvidence:
    """A request with nothing wrong: direct form by default; the declarant's ID when the form has one.

    The documents are `holder`'s and `declarant`'s whatever the form says.
    """
    form = form or direct_form(holder)
    documents = [form_page(), *holder_documents(holder)]
    if form.form_type in ("delegate", "guardian"):
        documents += declarant_documents(declarant)
    request = RequestEvidence(
        today=TODAY, form=form, documents=tuple(documents), paper_id_invalid_from=PAPER_ID_INVALID_FROM
    )
    return replace(request, **changes)


def without(request: RequestEvidence, *slots: str) -> RequestEvidence:
    return replace(request, documents=tuple(d for d in request.documents if d.slot not in slots))


def replacing(
    request: RequestEvidence, slot: str, document: DocumentEvidence | None = None, **changes
) -> RequestEvidence:
    """The request with the document in `slot` replaced (or changed)."""
    documents = []
    for current in request.documents:
        if current.slot == slot:
            current = document if document is not None else replace(current, **changes)
        documents.append(current)
    return replace(request, documents=tuple(documents))


def codes(findings) -> set[str]:
    return {f.code for f in findings}


OTHER_CF = Person("Rossi", "Mario", "M", date(1958, 3, 15)).codice_fiscale  # another Mario Rossi

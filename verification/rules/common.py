"""Helpers the rule families share: whose documents count, which IDs are accepted, dates."""

from __future__ import annotations

from datetime import date

from verification import codice_fiscale as cf
from verification.evidence import ID_DOC_TYPES, DocumentEvidence, PersonFields, RequestEvidence


def persons(ev: RequestEvidence) -> tuple[str, ...]:
    """Whose documents the request needs: the declarant only on delegate and guardian forms."""
    return ("holder", "declarant") if ev.has_declarant else ("holder",)


def form_person(ev: RequestEvidence, person: str) -> PersonFields | None:
    """That person as written in a readable form, if any."""
    if ev.form is None or not ev.form_readable:
        return None
    return ev.form.holder if person == "holder" else ev.form.declarant


def id_not_accepted(ev: RequestEvidence, document: DocumentEvidence) -> bool:
    """An identity slot holding something that does not prove identity (SPEC: id_type_not_accepted_*)."""
    if document.doc_type is None:
        return False  # the reader could not tell: other rules (or an operator) decide
    if document.doc_type == "paper_id":
        return ev.today >= ev.paper_id_invalid_from  # EU Reg. 2019/1157 art. 5(2)(a)
    # A TS-CNS has no photo: it proves possession, never identity (DOCUMENTS.md).
    return document.doc_type not in ID_DOC_TYPES


def age_on(birth_date: date, today: date) -> int:
    """Completed years on `today` (born 29 February: a year older on 1 March)."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def usable_cf(value: str | None) -> str | None:
    """A valid code from `value`, OCR confusions undone when the check character confirms it."""
    value = cf.normalize(value)
    if value.startswith("TINIT-"):  # signature certificates: ETSI EN 319 412-1 semantics identifier
        value = value[len("TINIT-") :]
    return cf.repair(value) if value else None


def is_blank_cf(value: str | None) -> bool:
    """Nothing there, or the asterisks printed over the EHIC fields of non-entitled holders."""
    return not cf.normalize(value).strip("*")


def cf_readings(ev: RequestEvidence, person: str) -> list[tuple[str, str]]:
    """Every codice fiscale read for `person`, as (source, normalised value); blanks left out."""
    readings = []
    written = form_person(ev, person)
    if written is not None:
        readings.append(("form", written.codice_fiscale))
    slots = ("holder_id_front", "holder_id_back", "holder_cns_front", "holder_cns_back")
    if person == "declarant":
        slots = ("declarant_id_front", "declarant_id_back")
    for document in ev.documents:
        if document.slot not in slots or not document.readable:
            continue
        readings.append((document.slot, document.codice_fiscale))
        readings.extend((f"{document.slot}.{key}", value) for key, value in document.cf_sources.items())
    return [(source, cf.normalize(value)) for source, value in readings if not is_blank_cf(value)]


# Codici fiscali read by OCR from a card's printed text: no check digit but the last letter
# guards them, and cf.repair's OCR repairs make a misread that still verifies likelier.
OCR_TEXT_SOURCES = ("front_text", "back_text", "ehic_field6")


def _ocr_text_only(sources: list[str]) -> bool:
    dotted = [s for s in sources if "." in s]
    return bool(dotted) and "form" not in sources and all(s.rsplit(".", 1)[1] in OCR_TEXT_SOURCES for s in dotted)


def valid_cf_groups(ev: RequestEvidence, person: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(valid codes by base form → sources, codes outvoted as OCR slips → sources).

    A code only OCR'd from printed card text is outvoted when another code is
    read from a barcode: the barcode is machine-read, the text may be a
    misreading that happens to verify. An outvoted code is for an operator to
    look at (rules.identity), not a mismatch to put to the citizen.
    """
    groups: dict[str, list[str]] = {}
    for source, value in cf_readings(ev, person):
        code = usable_cf(value)
        if code:
            groups.setdefault(cf.base_form(code), []).append(source)
    barcoded = [base for base, sources in groups.items() if any(s.endswith(".barcode") for s in sources)]
    if len(barcoded) != 1:
        return groups, {}
    outvoted = {base: sources for base, sources in groups.items() if base != barcoded[0] and _ocr_text_only(sources)}
    return {base: sources for base, sources in groups.items() if base not in outvoted}, outvoted


def agreed_cf(ev: RequestEvidence, person: str) -> str | None:
    """The person's codice fiscale when every valid reading agrees on it (form first), else None.

    Codes outvoted as OCR slips (`valid_cf_groups`) do not count.
    """
    groups, outvoted = valid_cf_groups(ev, person)
    if len(groups) != 1:
        return None
    for source, value in cf_readings(ev, person):
        code = usable_cf(value)
        if code and cf.base_form(code) in groups:
            return code
    return None


def proven_birth_date(ev: RequestEvidence, person: str) -> date | None:
    """The birth date as machine-checked evidence gives it: a verified MRZ, else the agreed codice fiscale."""
    documents = ev.id_documents(person) + (ev.cns_documents() if person == "holder" else ())
    for document in documents:
        if document.mrz is not None and document.mrz.valid and document.mrz.birth_date:
            return document.mrz.birth_date
    code = agreed_cf(ev, person)
    return cf.decode(code, ev.today).birth_date if code else None


def birth_date_of(ev: RequestEvidence, person: str) -> date | None:
    """Form first, then a verified MRZ, then printed dates, then the codice fiscale.

    A form read by OCR (a scan, a hand) yields to what the check digits prove:
    a misread 1983 for 1933 must not make an adult a minor (the disagreement
    is name_mismatch, for a clerk: rules.identity).
    """
    written = form_person(ev, person)
    if written is not None and written.birth_date:
        if ev.form is not None and ev.form.read_by_ocr:
            return proven_birth_date(ev, person) or written.birth_date
        return written.birth_date
    documents = ev.id_documents(person) + (ev.cns_documents() if person == "holder" else ())
    for document in documents:
        if document.mrz is not None and document.mrz.valid and document.mrz.birth_date:
            return document.mrz.birth_date
    for document in documents:
        if document.birth_date:
            return document.birth_date
    code = agreed_cf(ev, person)
    return cf.decode(code, ev.today).birth_date if code else None

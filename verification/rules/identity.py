"""Do the form and the documents describe the same people? Codice fiscale, names, dates, MRZ.

Evidence never carries a name or a codice fiscale in clear: only the slot
it came from, the field that disagrees and redacted codes.
"""

from __future__ import annotations

from verification import codice_fiscale as cf
from verification.evidence import DocumentEvidence, PersonFields, RequestEvidence
from verification.findings import Finding, finding
from verification.mrz.text import MrzData
from verification.names import edit_distance, name_tokens, names_compatible
from verification.rules.common import agreed_cf, cf_readings, form_person, persons, usable_cf, valid_cf_groups


def check_identity(ev: RequestEvidence) -> list[Finding]:
    findings = []
    for person in persons(ev):
        findings += _check_cf(ev, person)
        findings += _check_names(ev, person)
    findings += _check_signer(ev)
    return findings


# --- codice fiscale --------------------------------------------------------


def _check_cf(ev: RequestEvidence, person: str) -> list[Finding]:
    invalid: dict[str, list[str]] = {}
    valid, outvoted = valid_cf_groups(ev, person)  # base form → sources
    for source, value in cf_readings(ev, person):
        if usable_cf(value):
            continue
        if _ocr_slip(ev, source, value, valid):
            continue
        if source == "form" or cf.looks_like_cf(value):
            # The citizen wrote it, or it reads as a code whose check character is wrong.
            # Fragments the OCR half-read are not the citizen's mistake: no finding.
            invalid.setdefault(value, []).append(source)
    findings = [
        finding("cf_invalid", person=person, codice_fiscale=cf.redact(value), sources=sources)
        for value, sources in invalid.items()
    ]
    for sources in outvoted.values():
        slots = sorted({source.split(".")[0] for source in sources})
        findings += [finding("name_mismatch", person=person, field="codice_fiscale", source=slot, against="barcode")
                     for slot in slots]
    if len(valid) > 1:
        # Compared on base forms: the form may carry the base code and the card its omocode.
        findings.append(
            finding(
                "cf_mismatch",
                person=person,
                sources={source: cf.redact(base) for base, sources in valid.items() for source in sources},
            )
        )
    return findings


def _ocr_slip(ev: RequestEvidence, source: str, value: str, valid: dict[str, list[str]]) -> bool:
    """A code OCR'd from a picture that fails its check character within two edits of the one valid
    code the other readings agree on: OCR lost or misread a character (a scan, a hand, a card's
    print), nobody wrote it wrong. What the barcodes and the other readings prove outranks what
    OCR makes of print; a code the citizen typed into a fillable form stays theirs."""
    if source == "form" and (ev.form is None or not ev.form.read_by_ocr):
        return False
    if len(valid) != 1:
        return False
    ((base, sources),) = valid.items()
    others = [s for s in sources if s.split(".")[0] != source.split(".")[0]]
    return bool(others) and edit_distance(value, base) <= 2


# --- names and dates -------------------------------------------------------


def _documents(ev: RequestEvidence, person: str) -> tuple[DocumentEvidence, ...]:
    return ev.id_documents(person) + (ev.cns_documents() if person == "holder" else ())


def _reference(ev: RequestEvidence, person: str) -> tuple[str, PersonFields] | None:
    """What the other readings are compared with: the form, else the first document with a name."""
    written = form_person(ev, person)
    if written is not None and (written.surname or written.given_names):
        return "form", written
    for document in _documents(ev, person):
        if document.surname or document.given_names:
            return document.slot, PersonFields(
                surname=document.surname, given_names=document.given_names, birth_date=document.birth_date
            )
    return None


def _check_names(ev: RequestEvidence, person: str) -> list[Finding]:
    reference = _reference(ev, person)
    if reference is None:
        return []
    reference_source, ref = reference
    findings = []

    def mismatch(field: str, source: str) -> None:
        findings.append(finding("name_mismatch", person=person, field=field, source=source, against=reference_source))

    for document in _documents(ev, person):
        if document.slot == reference_source:
            continue
        from_mrz = document.mrz is not None and (document.surname, document.given_names) == (
            document.mrz.surname, document.mrz.given_names)
        if not names_compatible(ref.surname, ref.given_names, document.surname, document.given_names,
                                allow_prefix=from_mrz, ocr=True):
            mismatch("name", document.slot)
        elif reference_source == "form":
            for field, written, printed in (("surname", ref.surname, document.surname),
                                            ("given_names", ref.given_names, document.given_names)):
                if _left_off(written, printed):
                    mismatch(field, document.slot)
        if ref.birth_date and document.birth_date and ref.birth_date != document.birth_date:
            mismatch("birth_date", document.slot)
    findings += _check_mrz(ev, person, ref, reference_source)
    code = agreed_cf(ev, person)
    if code and reference_source == "form" and ref.surname and ref.given_names:
        if not cf.matches_person(code, ref.surname, ref.given_names, ref.birth_date):
            mismatch("codice_fiscale", "form")
    return findings


def _left_off(written: str | None, printed: str | None) -> bool:
    """The document names the person with a word more than the form (a second given name, the second
    half of a double surname): the same person, most likely, but for a clerk to see. Only a word the
    document adds counts: OCR may lose a word of a card, it does not invent a whole name."""
    form_words, card_words = name_tokens(written), name_tokens(printed)
    if not form_words or not card_words or "".join(form_words) == "".join(card_words):
        return False
    extra = [w for w in card_words if w not in form_words]
    return set(form_words) < set(card_words) and all(len(w) >= 3 for w in extra)


def _check_mrz(ev: RequestEvidence, person: str, ref: PersonFields, reference_source: str) -> list[Finding]:
    """A check-digit-verified MRZ against the reference and the printed data of that ID."""
    documents = ev.id_documents(person)
    findings = []
    for carrier in documents:
        if carrier.mrz is None or not carrier.mrz.valid:
            continue  # an MRZ whose check digits fail says nothing reliable
        for field, source in _mrz_disagreements(carrier.mrz, ref, reference_source, documents):
            findings.append(
                finding("name_mismatch", person=person, field=field, source=source, against=f"{carrier.slot}.mrz")
            )
    return findings


def _mrz_disagreements(
    mrz: MrzData, ref: PersonFields, reference_source: str, documents: tuple[DocumentEvidence, ...]
) -> list[tuple[str, str]]:
    """(field, source) pairs where the MRZ says something else."""
    found = []
    if not names_compatible(ref.surname, ref.given_names, mrz.surname, mrz.given_names, allow_prefix=True, ocr=True):
        found.append(("mrz_name", reference_source))
    if ref.birth_date and ref.birth_date != mrz.birth_date:
        found.append(("mrz_birth_date", reference_source))
    for printed in documents:
        if (printed.surname or printed.given_names) and not names_compatible(
            printed.surname, printed.given_names, mrz.surname, mrz.given_names, allow_prefix=True, ocr=True
        ):
            found.append(("mrz_name", printed.slot))
        if printed.birth_date and printed.birth_date != mrz.birth_date:
            found.append(("mrz_birth_date", printed.slot))
        if printed.expiry and printed.expiry != mrz.expiry:
            found.append(("mrz_expiry", printed.slot))
        if printed.number and _compact(printed.number) != _compact(mrz.number):
            found.append(("mrz_number", printed.slot))
    return found


def _compact(number: str) -> str:
    return "".join(number.split()).upper()


# --- signer ---------------------------------------------------------------


def _check_signer(ev: RequestEvidence) -> list[Finding]:
    """A digital signature must be the signer's: the holder on a direct form, else the declarant.

    Not a SPEC code of its own: an operator looks (name_mismatch, review).
    """
    if ev.form is None or not ev.form_readable or not ev.form.signer_cf or ev.form.form_type is None:
        return []
    signer = usable_cf(ev.form.signer_cf)
    expected = agreed_cf(ev, "holder" if ev.form.form_type == "direct" else "declarant")
    if signer and expected and cf.base_form(signer) != cf.base_form(expected):
        return [finding("name_mismatch", person="signer", field="signer_codice_fiscale", source="form")]
    return []

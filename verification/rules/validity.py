"""Are the documents valid on `ev.today`? Expiry, accepted ID types, a TS-CNS with a chip."""

from __future__ import annotations

from datetime import date

from verification.evidence import DocumentEvidence, RequestEvidence
from verification.findings import Finding, finding
from verification.rules.common import id_not_accepted, persons


def check_validity(ev: RequestEvidence) -> list[Finding]:
    findings = []
    for person in persons(ev):
        findings += _check_id(ev, person)
    findings += _check_cns(ev)
    return findings


def _is_expired(expiry: date | None, today: date) -> bool:
    # A document is valid through its expiry date: expiring today is still valid.
    return expiry is not None and expiry < today


def id_expiry(documents: tuple[DocumentEvidence, ...]) -> date | None:
    """An MRZ expiry confirmed by its check digit, else the printed one (front first)."""
    for document in documents:
        if document.mrz is not None and document.mrz.valid and document.mrz.expiry:
            return document.mrz.expiry
    ordered = sorted(documents, key=lambda d: not d.slot.endswith("_front"))
    return next((d.expiry for d in ordered if d.expiry), None)


def _check_id(ev: RequestEvidence, person: str) -> list[Finding]:
    documents = ev.id_documents(person)
    rejected = [d for d in documents if id_not_accepted(ev, d)]
    if rejected:
        # The citizen must send another document: its expiry no longer matters.
        evidence = {"doc_type": rejected[0].doc_type}
        if rejected[0].doc_type == "paper_id":
            evidence["invalid_from"] = ev.paper_id_invalid_from
        return [finding(f"id_type_not_accepted_{person}", **evidence)]
    expiry = id_expiry(documents)
    if _is_expired(expiry, ev.today):
        return [finding(f"expired_{person}_id", expiry=expiry)]
    return []


def _check_cns(ev: RequestEvidence) -> list[Finding]:
    documents = ev.cns_documents()
    # A TS issued without a chip carries no CNS and has no PIN to release (SPEC.md "The service").
    if any(d.doc_type == "ts_no_chip" or d.has_chip is False for d in documents):
        return [finding("cns_without_chip")]
    # The front's "Data di scadenza" first, then the back's EHIC field 9.
    ordered = sorted(documents, key=lambda d: d.slot != "holder_cns_front")
    expiry = next((d.expiry for d in ordered if d.expiry), None)
    if _is_expired(expiry, ev.today):
        return [finding("expired_holder_cns", expiry=expiry)]
    return []

"""Is everything there? The form, its key fields, and each document side the form type needs."""

from __future__ import annotations

from verification.evidence import RequestEvidence
from verification.findings import Finding, finding
from verification.rules.common import persons

HOLDER_SLOTS = ("holder_id_front", "holder_id_back", "holder_cns_front", "holder_cns_back")
DECLARANT_SLOTS = ("declarant_id_front", "declarant_id_back")


def required_slots(ev: RequestEvidence) -> tuple[str, ...]:
    """SPEC.md "The service": the holder's ID and TS-CNS, and the declarant's ID when there is one.

    With no form, or a form of unknown type, only the holder's documents are
    asked for: we cannot tell whether a declarant exists.
    """
    return HOLDER_SLOTS + (DECLARANT_SLOTS if "declarant" in persons(ev) else ())


def check_presence(ev: RequestEvidence) -> list[Finding]:
    findings = _check_form(ev)
    findings += [
        finding(f"missing_{slot}", slot=slot) for slot in required_slots(ev) if ev.slot_state(slot) == "missing"
    ]
    return findings


def _check_form(ev: RequestEvidence) -> list[Finding]:
    form_pages = ev.slot_state("form")
    if ev.form is None:
        if form_pages == "missing":
            return [finding("form_missing")]
        if form_pages == "ok":  # a page classified as the form, but no form could be read from it
            return [finding("form_type_unknown")]
        return []  # unreadable: quality.py says so
    if not ev.form_readable:
        return []  # whatever was read from an unreadable form is not worth a finding
    findings = []
    if ev.form.form_type is None:
        findings.append(finding("form_type_unknown"))
    if not (ev.form.phone or "").strip():
        findings.append(finding("phone_missing"))
    if not ev.form.signed:
        findings.append(finding("form_unsigned"))
    return findings

"""May this person ask with this form? The holder's age and the declarant's relationship."""

from __future__ import annotations

from verification.evidence import RELATIONSHIPS, RequestEvidence
from verification.findings import Finding, finding
from verification.rules.common import age_on, birth_date_of

ADULT_AGE = 18

# SPEC.md "Delegation order": spouse; failing that, children; failing those,
# relatives in the direct or collateral line up to the third degree. The
# order itself ("failing that") is the declarant's self-declaration under
# DPR 445/2000: no document we receive can prove there is no spouse, so
# the rule can only check that the relationship is one the order reaches.
# A cousin is fourth degree; a tutore uses the guardian form. SPEC's list of
# relationships puts the ten the order reaches first.
DELEGATE_RELATIONSHIPS = frozenset(RELATIONSHIPS[: RELATIONSHIPS.index("great_grandchild") + 1])
GUARDIAN_RELATIONSHIPS = frozenset({"parent", "guardian"})


def check_eligibility(ev: RequestEvidence) -> list[Finding]:
    if ev.form is None or not ev.form_readable or ev.form.form_type is None:
        return []  # presence.py reports the missing, unreadable or unknown form
    findings = []
    form_type = ev.form.form_type
    if form_type in ("direct", "delegate"):
        birth_date = birth_date_of(ev, "holder")
        if birth_date is not None and age_on(birth_date, ev.today) < ADULT_AGE:
            findings.append(finding("holder_minor_needs_guardian_form", form_type=form_type))
    allowed = {"delegate": DELEGATE_RELATIONSHIPS, "guardian": GUARDIAN_RELATIONSHIPS}.get(form_type)
    if allowed is not None and ev.form.relationship not in allowed:
        findings.append(
            finding("delegate_relationship_not_allowed", form_type=form_type, relationship=ev.form.relationship)
        )
    return findings

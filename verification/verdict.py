"""The verdict on a request: every rule family run, findings merged, a status decided."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from verification.evidence import RequestEvidence
from verification.findings import SEVERITY_ORDER, Finding
from verification.rules import ALL_RULES

Status = Literal["incomplete", "needs_review", "ready"]
Rule = Callable[[RequestEvidence], list[Finding]]

# When one finding makes others pointless for the citizen, they are dropped:
# a TS without a chip can never be used, so its missing back or its expiry
# do not matter; an ID we do not accept is to be replaced, not completed.
_SUPERSEDES: dict[str, tuple[str, ...]] = {
    "cns_without_chip": (
        "missing_holder_cns_front",
        "missing_holder_cns_back",
        "unreadable_holder_cns_front",
        "unreadable_holder_cns_back",
        "expired_holder_cns",
    ),
    "id_type_not_accepted_holder": (
        "missing_holder_id_front",
        "missing_holder_id_back",
        "unreadable_holder_id_front",
        "unreadable_holder_id_back",
        "expired_holder_id",
        "face_not_found_holder_id",
    ),
    "id_type_not_accepted_declarant": (
        "missing_declarant_id_front",
        "missing_declarant_id_back",
        "unreadable_declarant_id_front",
        "unreadable_declarant_id_back",
        "expired_declarant_id",
        "face_not_found_declarant_id",
    ),
}


@dataclass(frozen=True)
class Verdict:
    status: Status
    findings: tuple[Finding, ...]  # blocking first, then review, then info

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)

    def citizen_messages(self) -> list[str]:
        """What the citizen must do: blocking messages, each once, in order."""
        return list(dict.fromkeys(f.message for f in self.findings if f.severity == "blocking"))


def merge(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Drop duplicates and superseded findings; blocking first, otherwise in rule order."""
    first: dict[str, Finding] = {}
    for f in findings:
        first.setdefault(f.key, f)
    unique = list(first.values())
    present = {f.code for f in unique}
    dropped = {code for winner in present for code in _SUPERSEDES.get(winner, ())}
    kept = [f for f in unique if f.code not in dropped]
    return tuple(sorted(kept, key=lambda f: SEVERITY_ORDER[f.severity]))


# Findings that make every "missing" finding doubtful: the request goes to an
# operator instead of a "manca …" letter built on a partial read.
PARTIAL_READ = frozenset({"message_partly_read"})


def status_of(findings: Iterable[Finding]) -> Status:
    findings = list(findings)
    if any(f.code in PARTIAL_READ for f in findings):
        return "needs_review"
    severities = {f.severity for f in findings}
    if "blocking" in severities:
        return "incomplete"
    if "review" in severities:
        return "needs_review"
    return "ready"


def decide(ev: RequestEvidence, rules: Iterable[Rule] = ALL_RULES) -> Verdict:
    """Run every rule family on the evidence: any blocking → incomplete, any review → needs_review."""
    findings = merge(f for rule in rules for f in rule(ev))
    return Verdict(status=status_of(findings), findings=findings)

"""The verification rules: pure functions RequestEvidence → list[Finding], one module per family."""

from verification.rules.eligibility import check_eligibility
from verification.rules.identity import check_identity
from verification.rules.presence import check_presence
from verification.rules.quality import check_quality
from verification.rules.validity import check_validity

# The order the citizen reads the findings in (within a severity): what is
# missing, then what is wrong with what was sent.
ALL_RULES = (check_presence, check_quality, check_validity, check_identity, check_eligibility)

__all__ = ["ALL_RULES", "check_eligibility", "check_identity", "check_presence", "check_quality", "check_validity"]

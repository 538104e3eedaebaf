"""Pure rules of the identification call: the face band, and when a decision needs a supervisor.

The assist suggests, the operator decides (SPEC.md "The pipeline" 4). A
decision that goes against the band — identifying a face the assist did not
find matching, rejecting one it found matching — takes a supervisor's
confirmation. Sending the request to review never does: it is itself the
hand-over of the decision.
"""

from __future__ import annotations

MATCH = "corrisponde"
DOUBT = "dubbio"
NO_MATCH = "non corrisponde"
BANDS = (MATCH, DOUBT, NO_MATCH)

IDENTIFIED = "identified"
NEEDS_REVIEW = "needs_review"
REJECTED = "rejected"
DECISIONS = (IDENTIFIED, NEEDS_REVIEW, REJECTED)


def band(distance: float, match_threshold: float, doubt_threshold: float) -> str:
    """The band of a face distance: at or under `match_threshold` a match, at or under `doubt_threshold` a doubt."""
    if match_threshold > doubt_threshold:
        raise ValueError("match_threshold must not exceed doubt_threshold")
    if distance <= match_threshold:
        return MATCH
    if distance <= doubt_threshold:
        return DOUBT
    return NO_MATCH


def needs_supervisor(decision: str, face_band: str | None) -> bool:
    """Whether the operator's `decision` disagrees with the assist's band (None: no face was compared)."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    if face_band is not None and face_band not in BANDS:
        raise ValueError(f"unknown band {face_band!r}")
    if decision == IDENTIFIED:
        return face_band != MATCH
    if decision == REJECTED:
        return face_band == MATCH
    return False

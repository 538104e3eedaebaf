"""Can we use what was sent? Unreadable sides, faces on the ID photos, rejected attachments."""

from __future__ import annotations

from verification.evidence import RequestEvidence
from verification.findings import Finding, finding
from verification.rules.common import id_not_accepted, persons
from verification.rules.presence import required_slots


def check_quality(ev: RequestEvidence) -> list[Finding]:
    findings = []
    # Only sides the request needs: an unreadable extra page asks nothing of the citizen.
    for slot in ("form", *required_slots(ev)):
        if ev.slot_state(slot) == "unreadable":
            reasons = [d.unreadable_reason for d in ev.in_slot(slot) if d.unreadable_reason]
            findings.append(finding(f"unreadable_{slot}", slot=slot, reason=reasons[0] if reasons else None))
    for person in persons(ev):
        findings += _check_face(ev, person)
    if ev.content_lost:
        findings.append(finding("message_partly_read", notes=list(ev.content_lost[:20])))
    findings += [
        finding("attachment_rejected", filename=rejected.filename, reason=rejected.reason)
        for rejected in ev.rejected_attachments
    ]
    return findings


def _check_face(ev: RequestEvidence, person: str) -> list[Finding]:
    """SPEC: no single clear face on the photo side (the front; a passport's data page) of the ID.

    One good copy is enough. A document we do not accept anyway, or one whose
    faces were not counted, is left to the other rules.
    """
    fronts = [
        d for d in ev.readable_in_slot(f"{person}_id_front") if d.face_count is not None and not id_not_accepted(ev, d)
    ]
    if fronts and not any(d.face_count == 1 for d in fronts):
        return [finding(f"face_not_found_{person}_id", faces=[d.face_count for d in fronts])]
    return []

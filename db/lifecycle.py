"""The request state machine of SPEC.md "Request status", in one place.

Every status change goes through `transition`: an illegal one raises, a legal
one bumps the request's version and appends an event (who, what, when).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db import audit
from db.models import Event, Request, utcnow

STATUSES = (
    "received",
    "not_a_request",
    "incomplete",
    "needs_review",
    "ready",
    "booked",
    "identified",
    "released",
    "rejected",
    "expired",
)

# Outcomes of (re-)verification, reachable from any status that is still
# being worked on. A new message joining a request sends it back to
# `received` so that the whole request is checked again.
_VERDICTS = {"not_a_request", "incomplete", "needs_review", "ready"}

TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset(_VERDICTS | {"rejected"}),
    "not_a_request": frozenset({"received"}),
    "incomplete": frozenset({"received", "needs_review", "ready", "rejected", "expired"}),
    # An operator may close what turns out to be no request at all (junk the automation could not tell).
    "needs_review": frozenset({"received", "incomplete", "ready", "rejected", "not_a_request"}),
    "ready": frozenset({"received", "incomplete", "needs_review", "booked", "rejected"}),
    "booked": frozenset({"ready", "identified", "rejected", "needs_review"}),
    "identified": frozenset({"released", "rejected"}),
    "released": frozenset(),
    # A late reply to a closed request reopens it only by an operator's decision.
    "rejected": frozenset({"received"}),
    "expired": frozenset({"received"}),
}

TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class IllegalTransition(Exception):
    def __init__(self, reference: str, current: str, target: str):
        super().__init__(f"{reference}: a request in '{current}' cannot go to '{target}'")
        self.current = current
        self.target = target


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, ())


def record(
    session: Session,
    request: Request | None,
    kind: str,
    actor: str,
    detail: dict[str, Any] | None = None,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
) -> Event:
    """Append an event. The only way anything writes to the event log."""
    ev = Event(
        request=request,
        kind=kind,
        actor=actor,
        detail=detail or {},
        from_status=from_status,
        to_status=to_status,
        at=utcnow(),
    )
    session.add(ev)
    audit.chain(session, ev)  # its place in the hash chain, in the same transaction
    return ev


def transition(
    session: Session,
    request: Request,
    target: str,
    actor: str,
    reason: str | None = None,
    **detail: Any,
) -> Event:
    """Move `request` to `target`, or raise IllegalTransition."""
    if target not in STATUSES:
        raise ValueError(f"unknown status {target!r}")
    current = request.status
    if not can_transition(current, target):
        raise IllegalTransition(request.reference, current, target)
    request.status = target
    request.version = (request.version or 0) + 1
    request.updated_at = utcnow()
    if reason:
        detail["reason"] = reason
    return record(session, request, "status", actor, detail, from_status=current, to_status=target)


def open_request(session: Session, request: Request, actor: str, **detail: Any) -> Event:
    """The birth of a request: status `received`, recorded like any other change."""
    request.status = "received"
    request.version = 1
    session.add(request)
    return record(session, request, "created", actor, detail, to_status="received")

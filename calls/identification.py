"""The record of an identification call and its outcome, through db/lifecycle.py.

Each step is its own unit of work on a `Database` and an event in the
request's hash chain: the call starts on a `booked` request, the operator of
the call records the face band, the liveness result and the proof of the
channel, then decides: `identified`, `needs_review` or `rejected` (with a
reason). A decision against the band needs a supervisor (calls.decision).
Only bands, yes/no results and a masked channel are written: never a
distance, a frame, an encoding or a one-time code.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from calls.decision import BANDS, DECISIONS, IDENTIFIED, REJECTED, needs_supervisor
from db import lifecycle
from db.models import Booking, Identification, Request, User, utcnow
from db.session import Database


class CallError(Exception):
    """A refusal, one line in Italian, for the operator's console or the CLI."""


def person_on_the_call(form_type: str | None) -> str:
    """Whose identity document the live face is compared with: the holder's, or the declarant's."""
    if form_type == "direct":
        return "holder"
    if form_type in ("delegate", "guardian"):
        return "declarant"
    raise CallError("tipo di modulo sconosciuto: non si sa chi identificare")


def _request(s: Session, reference: str) -> Request:
    req = s.scalar(select(Request).where(Request.reference == reference))
    if req is None:
        raise CallError(f"nessuna pratica {reference}")
    return req


def office_user(s: Session, username: str, province: str, roles: tuple[str, ...] = ("operator", "supervisor", "admin")) -> User:
    """The active account `username`, working the office of `province` with one of `roles`; else CallError."""
    user = s.scalar(select(User).where(User.username == username))
    if user is None or not user.active or user.role not in roles:
        raise CallError(f"l'utente {username} non può operare qui")
    if province not in (user.provinces or []):
        raise CallError(f"l'utente {username} non lavora per l'ufficio {province}")
    return user


def _call(s: Session, call_id: int, actor: str) -> tuple[Identification, Request]:
    call = s.get(Identification, call_id)
    if call is None:
        raise CallError(f"nessuna videochiamata {call_id}")
    if call.operator != actor:
        raise CallError("solo l'operatore della videochiamata può registrarne i passi")
    req = s.get(Request, call.request_id)
    if call.outcome is not None or req.status != "booked":
        raise CallError(f"la videochiamata della pratica {req.reference} è già conclusa")
    return call, req


def start(db: Database, reference: str, *, operator: str) -> int:
    """The call begins: a row in `identifications` for the request's active booking (the operator's open one, if any)."""
    with db.session() as s:
        req = _request(s, reference)
        office_user(s, operator, req.province)
        if req.status != "booked":
            raise CallError(f"la pratica {reference} è in stato '{req.status}': la videochiamata è per una pratica 'booked'")
        person_on_the_call(req.form_type)
        open_call = s.scalar(select(Identification).where(Identification.request_id == req.id,
                                                          Identification.outcome.is_(None),
                                                          Identification.operator == operator)
                             .order_by(Identification.id.desc()))
        if open_call is not None:  # the console reopened: the same call goes on
            return open_call.id
        booking = s.scalar(select(Booking).where(Booking.request_id == req.id, Booking.status == "active"))
        call = Identification(request_id=req.id, booking_id=booking.id if booking else None, province=req.province,
                              operator=operator, started_at=utcnow())
        s.add(call)
        s.flush()
        lifecycle.record(s, req, "call_started", operator, {"identification": call.id,
                                                            "person": person_on_the_call(req.form_type)})
        return call.id


def record_face(db: Database, call_id: int, face_band: str, *, actor: str) -> None:
    if face_band not in BANDS:
        raise ValueError(f"unknown band {face_band!r}")
    with db.session() as s:
        call, req = _call(s, call_id, actor)
        call.face_band = face_band
        lifecycle.record(s, req, "face_compared", actor, {"identification": call.id, "face_band": face_band})


def record_liveness(db: Database, call_id: int, passed: bool, *, actor: str, challenge: str | None = None) -> None:
    with db.session() as s:
        call, req = _call(s, call_id, actor)
        call.liveness_passed = bool(passed)
        lifecycle.record(s, req, "liveness_checked", actor,
                         {"identification": call.id, "passed": bool(passed), "challenge": challenge})


def record_channel(db: Database, call_id: int, verified: bool, *, actor: str, masked: str) -> None:
    """The citizen proved the channel (a one-time code read back on the call); only its masked form is kept."""
    with db.session() as s:
        call, req = _call(s, call_id, actor)
        call.channel_verified = bool(verified)
        call.channel_masked = masked
        lifecycle.record(s, req, "channel_checked", actor,
                         {"identification": call.id, "verified": bool(verified), "channel": masked})


def conclude(db: Database, call_id: int, decision: str, *, actor: str, reason: str | None = None,
             supervisor: str | None = None, app=None) -> str:
    """The operator's decision: `booked →` identified | needs_review | rejected. Returns the new status.

    With `app`, a rejection queues the citizen's mail with the reason in the same transaction.
    """
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    with db.session() as s:
        call, req = _call(s, call_id, actor)
        if needs_supervisor(decision, call.face_band):
            if not supervisor:
                raise CallError(f"la decisione è contraria all'esito del confronto ({call.face_band or 'nessun confronto'}):"
                                " serve la conferma di un supervisore")
            if supervisor == actor:
                raise CallError("il supervisore deve essere un'altra persona")
            office_user(s, supervisor, req.province, roles=("supervisor", "admin"))
            call.supervisor = supervisor
            call.supervisor_confirmed_at = utcnow()
        if decision == IDENTIFIED and not (call.liveness_passed and call.channel_verified):
            raise CallError("per identificare servono la prova di vitalità superata e il recapito verificato")
        if decision != IDENTIFIED and not (reason and reason.strip()):
            raise CallError("serve un motivo")
        call.outcome = decision
        call.reason = reason
        call.ended_at = utcnow()
        if call.booking_id is not None:
            b = s.get(Booking, call.booking_id)
            if b.status == "active":  # the call took place: its slot and the request's active key are free
                b.status, b.active_request_id, b.active_start, b.updated_at = "done", None, None, utcnow()
        s.flush()
        detail = {"identification": call.id, "face_band": call.face_band, "liveness_passed": call.liveness_passed,
                  "channel_verified": call.channel_verified}
        if call.supervisor:
            detail["supervisor"] = call.supervisor
        lifecycle.transition(s, req, decision, actor, reason=reason, **detail)
        if decision == REJECTED and app is not None:
            _tell_rejected(app, s, req, reason, actor)
        return req.status


def _tell_rejected(app, s: Session, req: Request, reason: str, actor: str) -> None:
    """The rejection mail, in the transaction that rejects (backoffice's "Respingi" does the same)."""
    from intake import outgoing
    from scheduling import wiring

    msg = wiring.request_mail(app, s, req, "rejected", reason=reason[:1000])
    if msg is not None:
        outgoing.queue(s, req, "rejected", msg, actor, rate_limited=False)

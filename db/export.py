"""The export record of SPEC.md "Command line" (keys may be added, never renamed)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from db.models import Booking, Document, Identification, Request, as_utc

ROME = ZoneInfo("Europe/Rome")


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _rome(dt: datetime) -> str:
    return as_utc(dt).astimezone(ROME).isoformat()


def booking_record(bookings: list[Booking]) -> dict[str, Any] | None:
    """The active booking, else the latest one; None when the request was never booked."""
    if not bookings:
        return None
    b = next((x for x in bookings if x.status == "active"), bookings[-1])
    return {
        "start": _rome(b.start),
        "end": _rome(b.end),
        "desk": b.desk,
        "operator": b.operator,
        "status": b.status,
        "reschedules": b.reschedules,
    }


def identification_record(calls: list[Identification]) -> dict[str, Any] | None:
    """The latest identification call; None when there was none. Bands and outcomes only (SPEC.md)."""
    if not calls:
        return None
    c = calls[-1]
    return {
        "when": _rome(c.started_at),
        "operator": c.operator,
        "face_band": c.face_band,
        "liveness_passed": c.liveness_passed,
        "channel_verified": c.channel_verified,
        "outcome": c.outcome,
    }


def request_record(r: Request) -> dict[str, Any]:
    declarant = None
    if r.form_type in ("delegate", "guardian"):
        declarant = {
            "codice_fiscale": r.declarant_codice_fiscale,
            "surname": r.declarant_surname,
            "given_names": r.declarant_given_names,
            "birth_date": _iso(r.declarant_birth_date),
            "relationship": r.declarant_relationship,
        }
    return {
        "reference": r.reference,
        "province": r.province,
        "status": r.status,
        "form_type": r.form_type,
        "holder": {
            "codice_fiscale": r.holder_codice_fiscale,
            "surname": r.holder_surname,
            "given_names": r.holder_given_names,
            "birth_date": _iso(r.holder_birth_date),
        },
        "declarant": declarant,
        "contact": {"email": r.contact_email, "phone": r.contact_phone},
        "documents": [
            {
                "slot": d.slot,
                "doc_type": d.doc_type,
                "number": d.number,
                "expiry": _iso(d.expiry),
                "source": {
                    "filename": d.attachment.filename if d.attachment else None,
                    "page": d.page,
                },
            }
            for d in r.documents
        ],
        "findings": [
            {"code": f.code, "severity": f.severity, "message": f.message} for f in r.findings
        ],
        "message_ids": [m.message_id for m in r.messages if m.direction == "in"],
        "created_at": r.created_at.isoformat() if r.created_at else None,
        "updated_at": r.updated_at.isoformat() if r.updated_at else None,
        "booking": booking_record(list(r.bookings)),
        "identification": identification_record(list(r.identifications)),
    }


def all_requests(session: Session) -> Iterable[Request]:
    stmt = (
        select(Request)
        .order_by(Request.id)
        .options(
            selectinload(Request.documents).selectinload(Document.attachment),
            selectinload(Request.findings),
            selectinload(Request.messages),
            selectinload(Request.bookings),
            selectinload(Request.identifications),
        )
    )
    return session.scalars(stmt)

"""Retention: the scans and raw messages of closed requests are purged after a set period.

GDPR art. 5(1)(e) (storage limitation): identity scans, faces and codici
fiscali are kept no longer than the request needs them. A request closed
(`released`, `rejected`, `expired`, `not_a_request`) for more than
[retention] closed_days loses its stored files (raw messages, attachments)
and the personal data read from them; what remains is the minimal case
record: reference, province, statuses, events (who, what, when), findings'
codes and the outcome. A file shared with a request still kept (the same
scan sent twice) stays until that one goes too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import lifecycle
from db.models import Attachment, Message, OutgoingMail, Request, as_utc, utcnow
from db.app import App

log = logging.getLogger(__name__)

CLOSED = ("released", "rejected", "expired", "not_a_request")
ACTOR = "retention"
_PERSONAL = ("holder_codice_fiscale", "holder_surname", "holder_given_names", "holder_birth_date",
             "declarant_codice_fiscale", "declarant_surname", "declarant_given_names", "declarant_birth_date",
             "declarant_relationship", "contact_email", "contact_phone", "sender_email")


@dataclass(frozen=True)
class Purge:
    reference: str
    status: str
    closed_at: datetime
    files: int
    size: int



def _due(s: Session, cutoff: datetime) -> list[Request]:
    rows = s.scalars(select(Request).where(Request.status.in_(CLOSED), Request.purged_at.is_(None))
                     .order_by(Request.id)).all()
    return [r for r in rows if as_utc(r.updated_at) < cutoff]


def _digests(s: Session, request_ids: list[int]) -> set[str]:
    messages = s.scalars(select(Message.sha256).where(Message.request_id.in_(request_ids)))
    attachments = s.scalars(select(Attachment.sha256).join(Message, Attachment.message_id == Message.id)
                            .where(Message.request_id.in_(request_ids)))
    return set(messages) | set(attachments)


def _kept_elsewhere(s: Session, purged_ids: list[int]) -> set[str]:
    kept = select(Request.id).where(Request.id.not_in(purged_ids), Request.purged_at.is_(None))
    return _digests(s, list(s.scalars(kept)))


def purge(app: App, *, dry_run: bool = False, now: datetime | None = None) -> list[Purge]:
    """Purge what is due (or, dry_run, only say what would go)."""
    days = app.settings.retention.closed_days
    cutoff = (now or utcnow()) - timedelta(days=days)
    done: list[Purge] = []
    with app.db.session() as s:
        due = _due(s, cutoff)
        if not due:
            return []
        ids = [r.id for r in due]
        shared = _kept_elsewhere(s, ids)
        for req in due:
            digests = _digests(s, [req.id]) - shared
            paths = [app.blobs.path(d) for d in digests]
            present = [p for p in paths if p.exists()]
            done.append(Purge(req.reference, req.status, as_utc(req.updated_at), len(present),
                              sum(p.stat().st_size for p in present)))
            if dry_run:
                continue
            _strip(s, req)
            lifecycle.record(s, req, "purged", ACTOR, {"files": len(present), "retention_days": days})
        if dry_run:
            s.rollback()
            return done
    # Files go only after the commit that records the purge: a crash leaves files to purge again, never rows
    # pointing at nothing unrecorded.
    if not dry_run:
        with app.db.session() as s:
            for digest in _digests(s, ids) - _kept_elsewhere(s, ids):
                path = app.blobs.path(digest)
                if path.exists():
                    path.unlink()
        log.info("purged %d closed requests past %d days", len(done), days)
    return done


def _strip(s: Session, req: Request) -> None:
    """The request keeps its record; the personal data read from its files goes with them."""
    now = utcnow()
    for name in _PERSONAL:
        setattr(req, name, None)
    req.documents = []
    for f in req.findings:
        f.evidence = {}
    for msg in req.messages:
        msg.subject = None
        for att in msg.attachments:
            att.filename = "(eliminato)"
            att.signer_certificate = None
            # No longer a scan to show or read: the back office lists it with the reason.
            att.status, att.reject_reason = "purged", "eliminato: periodo di conservazione scaduto"
    for mail in s.scalars(select(OutgoingMail).where(OutgoingMail.request_id == req.id)):
        mail.raw = b""
    req.purged_at = now


def purge_due(app: App) -> None:
    """The scheduled job."""
    try:
        purge(app)
    except Exception:  # noqa: BLE001 - retried at the next run
        log.exception("retention purge failed")

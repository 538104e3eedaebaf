"""Verification of one request: read every attachment, decide, record, answer.

Runs outside any long transaction: a short read of what the request holds,
the reading itself (seconds of CPU, no database), then a short write that
is dropped if a new message joined meanwhile (that message triggers its own
run). A request waits in `received` until this has run, so a crash in
between loses nothing: `verify_pending` picks it up again.

With several nodes on one database, a node claims a request before reading
it: the row is locked with FOR UPDATE SKIP LOCKED on PostgreSQL (another
node skips it instead of waiting) and taken by a compare-and-swap of
`verify_owner` (on SQLite that UPDATE alone is the claim). The claim holds
for CLAIM_TIME; a node killed mid-verification leaves it, and another node
takes the request over when that time has passed, or at once when the dead
process was on its own host. The final write happens only while the claim
is still this node's, so no request is answered twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import timedelta

from prometheus_client import Histogram
from sqlalchemy import select, update

from config.settings import PROVINCE_NAMES
from db import lifecycle
from db.models import Attachment, Document, Finding, Message, Request, as_utc, utcnow
from intake import outgoing, sync
from db.app import App, today
from sportello.pipeline import JOINED_BY_SENDER, content_lost, open_new_request
from verification import codice_fiscale as cf
from verification.assemble import assemble
from verification.evidence import RejectedAttachment
from verification.attachment import read_attachment
from verification.readings import FormReading
from verification.rules.common import agreed_cf
from verification.verdict import Verdict, decide

log = logging.getLogger(__name__)
ACTOR = "verification"
NODE = sync.poller_id()  # this process, as the owner of its claims
# How long a node's claim on a request holds: longer than any verification (each attachment is
# cut off at [limits] max_seconds_per_message). A killed node's request is taken over after it.
CLAIM_TIME = timedelta(minutes=10)
# Wall-clock seconds to read and check one request, in this process (scraped at /metrics).
VERIFY_SECONDS = Histogram("sportello_verification_seconds", "Seconds to verify one request",
                           buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64))
NO_ATTACHMENTS = "nessun allegato: una domanda o una richiesta senza documenti, da leggere"
TIME_LIMIT = "processing time limit"


@dataclass(frozen=True)
class _Item:
    attachment_id: int
    message_id: int
    filename: str
    content_type: str
    sha256: str
    signer_certificate: bytes | None
    status: str
    reject_reason: str | None


@dataclass(frozen=True)
class _Snapshot:
    reference: str
    last_message: int
    items: list[_Item]
    holder_cf: str | None
    joined_by_sender: frozenset[int]  # messages that joined only because of their sender
    content_lost: tuple[str, ...] = ()  # intake's notes of parts not read (pipeline.content_lost)


def _snapshot(app: App, request_id: int) -> _Snapshot | None:
    with app.db.session() as s:
        req = s.get(Request, request_id)
        if req is None or req.status != "received":
            return None
        rows = s.scalars(
            select(Attachment)
            .join(Message, Attachment.message_id == Message.id)
            .where(Message.request_id == request_id, Message.direction == "in", Message.intake_status == "ok")
            .order_by(Message.id, Attachment.id)
        ).all()
        by_header = {m.message_id: m.id for m in req.messages}
        by_sender = frozenset(
            by_header[e.detail["message"]] for e in req.events
            if e.kind == "message_received" and e.detail.get("joined_by") == JOINED_BY_SENDER
            and e.detail.get("message") in by_header
        )
        items = [_Item(a.id, a.message_id, a.filename, a.content_type, a.sha256, a.signer_certificate, a.status,
                       a.reject_reason) for a in rows]
        lost = tuple(note for m in req.messages if m.direction == "in" and m.intake_status == "ok"
                     for note in content_lost(m))
        return _Snapshot(req.reference, max(by_header.values(), default=0), items, req.holder_codice_fiscale,
                         by_sender, lost)


def _read_all(app: App, items: list[_Item], day):
    """Read every accepted attachment, within the time budget of each message."""
    budget = app.settings.limits.max_seconds_per_message
    forms, cards, rejected, where, per_message = [], [], [], {}, {}
    spent: dict[int, float] = {}
    for item in items:
        if item.status != "ok":
            rejected.append(RejectedAttachment(item.filename, item.reject_reason or "rejected"))
            continue
        if spent.get(item.message_id, 0.0) > budget:
            rejected.append(RejectedAttachment(item.filename, TIME_LIMIT))
            continue
        t0 = time.monotonic()
        reading = read_attachment(item.filename, item.content_type, app.blobs.get(item.sha256), today=day,
                                  signer_certificate=item.signer_certificate)
        spent[item.message_id] = spent.get(item.message_id, 0.0) + time.monotonic() - t0
        for r in reading.forms + reading.cards:
            where[id(r)] = item.attachment_id
            per_message.setdefault(item.message_id, []).append(r)
        forms += reading.forms
        cards += reading.cards
    return forms, cards, rejected, where, per_message


def _holder_cfs(readings) -> set[str]:
    """The holder's codice fiscale as these readings state it (form, TS card), omocodia undone."""
    values = set()
    for r in readings:
        if isinstance(r, FormReading):
            if r.readable and r.evidence.holder.codice_fiscale:
                values.add(r.evidence.holder.codice_fiscale)
        elif r.doc_type in ("ts_cns", "ts_no_chip") and r.readable:
            values |= {v for v in (r.codice_fiscale, *r.cf_sources.values()) if v}
    return {cf.base_form(v) for v in (cf.repair(cf.normalize(v)) for v in values) if v}


def _strangers(snap: _Snapshot, per_message: dict) -> list[int]:
    """Sender-joined messages whose documents plainly belong to another holder."""
    if not snap.holder_cf or not cf.is_valid(snap.holder_cf):
        return []
    ours = cf.base_form(snap.holder_cf)
    return [mid for mid in snap.joined_by_sender
            if (theirs := _holder_cfs(per_message.get(mid, []))) and ours not in theirs]


def _split_off(app: App, request_id: int, message_ids: list[int]) -> None:
    """Give each stranger message a request of its own; both are verified again."""
    with app.db.session() as s:
        req = s.get(Request, request_id)
        for mid in message_ids:
            msg = s.get(Message, mid)
            new = open_new_request(s, req.province, req.sender_email, split_from=req.reference)
            s.flush()
            msg.request_id = new.id
            lifecycle.record(s, new, "message_received", ACTOR, {"message": msg.message_id, "joined_by": "split"})
            lifecycle.record(s, req, "message_moved", ACTOR, {"message": msg.message_id, "to": new.reference,
                                                             "reason": "documents of another holder"})


def verify_request(app: App, request_id: int) -> str | None:
    """Verify a request waiting in `received`; return its new status (None if nothing was done:
    another node has it, or it changed meanwhile)."""
    if not claim(app, request_id):
        return None
    try:
        snap = _snapshot(app, request_id)
        if snap is None:
            return None
        with VERIFY_SECONDS.time():
            return _verify(app, request_id, snap)
    finally:
        _release(app, request_id)


def claim(app: App, request_id: int) -> bool:
    """Take the request for this node, unless another live node holds it."""
    now = utcnow()
    with app.db.session() as s:
        row = s.execute(select(Request.verify_owner, Request.verify_until)
                        .where(Request.id == request_id, Request.status == "received")
                        .with_for_update(skip_locked=True)).first()
        if row is None:
            return False
        owner, until = row
        if owner is not None and owner != NODE and until is not None and as_utc(until) > now \
                and not sync.owner_is_dead(owner):
            return False
        held = Request.verify_owner.is_(None) if owner is None else Request.verify_owner == owner
        return s.execute(update(Request).where(Request.id == request_id, Request.status == "received", held)
                         .values(verify_owner=NODE, verify_until=now + CLAIM_TIME,
                                 updated_at=Request.updated_at)).rowcount == 1


def _release(app: App, request_id: int) -> None:
    with app.db.session() as s:
        s.execute(update(Request).where(Request.id == request_id, Request.verify_owner == NODE)
                  .values(verify_owner=None, verify_until=None, updated_at=Request.updated_at))


def _verify(app: App, request_id: int, snap: _Snapshot) -> str | None:
    day = today()
    forms, cards, rejected, where, per_message = _read_all(app, snap.items, day)
    if strangers := _strangers(snap, per_message):
        _split_off(app, request_id, strangers)
        again = _snapshot(app, request_id)
        return _verify(app, request_id, again) if again is not None else None
    evidence, placed, form = assemble(forms, cards, rejected, day, app.settings.verification.paper_id_invalid_from)
    timed_out = [f"{r.filename}: not read (processing time limit)" for r in rejected if r.reason == TIME_LIMIT]
    evidence = replace(evidence, content_lost=(*snap.content_lost, *timed_out))
    verdict, reason = decide(evidence), None
    if not snap.items and not evidence.content_lost:
        # Nothing attached to any message: a question, or a request sent before its files. A person
        # answers it; a letter asking for a form and four documents would answer nobody's question.
        verdict, reason = Verdict("needs_review", ()), NO_ATTACHMENTS

    with app.db.session() as s:
        # Still ours? (This UPDATE also makes the write exclusive: the row is locked on PostgreSQL,
        # the database on SQLite.) A node that lost its claim drops what it read.
        if s.execute(update(Request).where(Request.id == request_id, Request.status == "received",
                                           Request.verify_owner == NODE)
                     .values(verify_owner=None, verify_until=None, updated_at=Request.updated_at)).rowcount != 1:
            log.info("request %s: taken over by another node meanwhile", request_id)
            return None
        req = s.get(Request, request_id)
        if max((m.id for m in req.messages), default=0) != snap.last_message:
            return None  # changed meanwhile: the newer run decides (the claim is released all the same)
        _record_documents(s, req, placed, form, where)
        req.findings = [Finding(code=f.code, severity=f.severity, message=f.message,
                                evidence=_point_at_scan(dict(f.evidence), placed, where))
                        for f in verdict.findings]
        _record_people(req, form, evidence)
        lifecycle.transition(s, req, verdict.status, ACTOR, reason=reason, codes=list(verdict.codes))
        _answer(app, s, req, verdict.status, verdict.citizen_messages())
    log.info("verified %s: %s", snap.reference, verdict.status, extra={"reference": snap.reference})
    return verdict.status


def _record_documents(s, req: Request, placed, form, where: dict) -> None:
    docs = []
    if form is not None:
        docs.append(Document(slot="form", doc_type="form", attachment_id=where.get(id(form)), page=form.source.page,
                             fields={"method": form.method, **form.raw_fields}))
    for p in placed:
        c = p.reading
        fields = {k: v for k, v in {
            "side": c.side, "surname": c.surname, "given_names": c.given_names,
            "birth_date": c.birth_date.isoformat() if c.birth_date else None,
            "codice_fiscale": c.codice_fiscale, "issue_date": c.issue_date.isoformat() if c.issue_date else None,
            "has_chip": c.has_chip, "face_count": c.face_count, "readable": c.readable,
            "unreadable_reason": c.unreadable_reason, "mrz_valid": c.mrz.valid if c.mrz else None, **c.extra,
        }.items() if v is not None}
        docs.append(Document(slot=p.slot, doc_type=c.doc_type or "unknown", number=c.number, expiry=c.expiry,
                             fields=fields, attachment_id=where.get(id(c)), page=c.source.page,
                             region=list(c.region) if c.region else None))
    req.documents = docs


def _point_at_scan(evidence: dict, placed, where: dict) -> dict:
    """Add the attachment and page of the finding's slot, so the back office can show the scan."""
    slot = evidence.get("slot")
    for p in placed:
        if p.slot == slot and id(p.reading) in where:
            evidence.setdefault("attachment_id", where[id(p.reading)])
            evidence.setdefault("page", p.reading.source.page)
            break
    return evidence


def _record_people(req: Request, form, evidence) -> None:
    """The people as the form names them; each codice fiscale as every valid reading agrees on it
    (a form code OCR misread, the barcodes' one), else as the form has it."""
    if form is None or not form.readable:
        return
    ev = form.evidence
    req.form_type = ev.form_type
    h = ev.holder
    req.holder_codice_fiscale, req.holder_surname, req.holder_given_names, req.holder_birth_date = (
        agreed_cf(evidence, "holder") or h.codice_fiscale, h.surname, h.given_names, h.birth_date)
    d = ev.declarant
    if d is not None and ev.form_type in ("delegate", "guardian"):
        req.declarant_codice_fiscale = agreed_cf(evidence, "declarant") or d.codice_fiscale
        req.declarant_surname = d.surname
        req.declarant_given_names, req.declarant_birth_date = d.given_names, d.birth_date
        req.declarant_relationship = ev.relationship
    if ev.phone:
        req.contact_phone = ev.phone
    if ev.email:
        req.contact_email = ev.email


def _answer(app: App, s, req: Request, status: str, items: list[str]) -> None:
    """One mail per verification: what is missing, or that all is complete, or that we received it."""
    recipient = req.sender_email
    if not recipient:
        return
    latest = s.scalars(select(Message).where(Message.request_id == req.id, Message.direction == "in")
                       .order_by(Message.id.desc()).limit(1)).first()
    if status == "incomplete":
        kind, extra = "missing", {"items": items}
    elif status == "ready":
        from scheduling.wiring import booking_link

        s.flush()
        kind, extra = "complete", {"booking_link": booking_link(app, req),
                                   "link_days": max(1, app.settings.calendar.link_valid_hours // 24)}
    else:
        kind, extra = "acknowledgement", {}
    name = " ".join(x for x in (req.holder_given_names, req.holder_surname) if x) if req.form_type == "direct" else None
    mail = outgoing.compose(
        kind, sender=app.settings.sender_address, recipient=recipient, reference=req.reference,
        in_reply_to=latest.message_id if latest else None, references=(latest.references or "").split() if latest else None,
        name=(name or "").title() or None,
        office=office_name(req.province), **extra,
    )
    outgoing.queue(s, req, kind, mail, ACTOR)


def office_name(province: str) -> str:
    return f"spazioRegione {PROVINCE_NAMES[province]} - Regione Lombardia"


def verify_pending(app: App, limit: int = 100) -> int:
    """Verify every request waiting in `received` (after a crash, or queued by intake)."""
    done, seen = 0, set()
    while True:
        with app.db.session() as s:
            ids = [i for i in s.scalars(select(Request.id).where(Request.status == "received")
                                        .order_by(Request.id).limit(limit)).all() if i not in seen]
        if not ids:
            return done
        for rid in ids:
            seen.add(rid)
            try:
                if verify_request(app, rid) is not None:
                    done += 1
            except Exception as exc:  # noqa: BLE001 - one bad request never stops the others
                log.exception("verification of request %s failed", rid)
                _to_review(app, rid, f"{type(exc).__name__}: {exc}")


def _to_review(app: App, request_id: int, error: str) -> None:
    with app.db.session() as s:
        req = s.get(Request, request_id)
        if req is not None and lifecycle.can_transition(req.status, "needs_review"):
            lifecycle.transition(s, req, "needs_review", ACTOR, reason="verification error", error=error[:300])
            _answer(app, s, req, "needs_review", [])

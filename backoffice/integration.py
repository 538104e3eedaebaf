"""The integration request: the operator tells the citizen what is missing.

Compose (pre-filled from the findings, editable) → preview (the message
exactly as it will leave) → send. Sending does not touch SMTP: it queues an
OutgoingMail row in the same transaction as the decision, and the outbox
worker delivers it after the commit. A nonce chosen at preview time becomes
the Message-ID, whose uniqueness constraint stops a double submit.
"""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backoffice.access import find_request
from backoffice.actions import Refused, _auto_claim, acting, run_action
from backoffice.auth import CurrentUser, current_user
from backoffice.request_page import INTEGRABLE, recipient_of
from backoffice.templating import flash, render
from config.settings import PROVINCE_NAMES
from db import lifecycle
from db.lifecycle import can_transition
from db.models import OutgoingMail, Request as Req, utcnow
from intake import outgoing
from intake.threading import marker_line

router = APIRouter()

KIND = "integration_request"
MAX_BODY = 10_000
NONCE_RE = re.compile(r"^[0-9a-f]{32}$")


def default_subject(req: Req) -> str:
    return f"[{req.reference}] Documenti da completare per la richiesta PIN/PUK"


def default_body(req: Req) -> str:
    if req.form_type == "direct" and req.holder_surname and req.holder_given_names:
        greeting = f"Gentile {req.holder_given_names.title()} {req.holder_surname.title()},"
    else:
        greeting = "Gentile cittadina, gentile cittadino,"
    items = [f.message for f in req.findings if f.severity == "blocking"] or ["…"]
    lines = [
        greeting, "",
        f"abbiamo esaminato la sua richiesta dei codici PIN/PUK della TS-CNS (pratica {req.reference}).",
        "Per completarla ci serve ancora:", "",
        *(f"{i}. {text}" for i, text in enumerate(items, 1)), "",
        "Risponda a questa e-mail allegando quanto indicato: non serve inviare di nuovo i documenti già corretti.",
        "Le foto o le scansioni devono essere nitide, a colori, con il documento intero e ben leggibile.", "",
        "Cordiali saluti,",
        f"spazioRegione {PROVINCE_NAMES.get(req.province, req.province)}",
    ]
    return "\n".join(lines)


def _clean_subject(req: Req, subject: str) -> str:
    subject = " ".join(subject.split())[:200] or default_subject(req)
    # The reference in the subject is how the citizen's reply finds its request.
    return subject if f"[{req.reference}]" in subject else f"[{req.reference}] {subject}"


def _clean_body(body: str) -> str:
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise Refused("Il testo della richiesta di integrazione è vuoto.")
    return text[:MAX_BODY]


def build_message(req: Req, sender: str, recipient: str, subject: str, body: str, nonce: str) -> EmailMessage:
    msg = EmailMessage(policy=outgoing.MAIL_POLICY)  # msg-ids folded, never RFC 2047-encoded
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    domain = parseaddr(sender)[1].rpartition("@")[2] or "sportello.invalid"
    msg["Message-ID"] = f"<integrazione.{nonce}@{domain}>"
    last_in = outgoing.msg_ids([m.message_id for m in req.messages if m.direction == "in"])
    if last_in:
        msg["In-Reply-To"] = last_in[-1]
        msg["References"] = " ".join(outgoing.thread_references(last_in))
    # RFC 3834: robots must not answer it; X-Sportello-Loop is our own loop guard (intake.outgoing).
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Sportello-Loop"] = "1"
    # intake.threading reads this line back from the citizen's quoted reply.
    msg.set_content(f"{body}\n\n--\n{marker_line(req.reference)}\n")
    return msg


def _compose(request: Request, user: CurrentUser, req: Req, subject: str, body: str, error: str | None = None):
    return render(request, "integration_compose.html", user=user, nav="coda", req=req, recipient=recipient_of(req),
                  subject=subject, body=body, error=error,
                  findings=[f for f in req.findings if f.severity != "info"])


def _check(req: Req) -> str:
    recipient = recipient_of(req)
    if recipient is None:
        raise Refused("La pratica non ha un indirizzo e-mail a cui scrivere.")
    if req.status not in INTEGRABLE:
        raise Refused("Nello stato attuale non si può chiedere un'integrazione.")
    return recipient


@router.get("/pratiche/{reference}/integrazione")
def compose(request: Request, reference: str, user: CurrentUser = Depends(current_user)):
    def do():
        with request.app.state.sportello.db.session() as s:
            req = find_request(s, user, reference)
            _check(req)
            return _compose(request, user, req, default_subject(req), default_body(req))
    return run_action(request, reference, do)


@router.post("/pratiche/{reference}/integrazione")
def edit_again(request: Request, reference: str, subject: str = Form(""), body: str = Form(""),
               user: CurrentUser = Depends(current_user)):
    with request.app.state.sportello.db.session() as s:
        req = find_request(s, user, reference)
        return _compose(request, user, req, subject, body)


@router.post("/pratiche/{reference}/integrazione/anteprima")
def preview(request: Request, reference: str, subject: str = Form(""), body: str = Form(""),
            user: CurrentUser = Depends(current_user)):
    def do():
        app = request.app.state.sportello
        with app.db.session() as s:
            req = find_request(s, user, reference)
            recipient = _check(req)
            try:
                text = _clean_body(body)
            except Refused as exc:
                return _compose(request, user, req, subject, body, error=str(exc))
            nonce = uuid.uuid4().hex
            msg = build_message(req, app.settings.sender_address, recipient, _clean_subject(req, subject), text, nonce)
            return render(request, "integration_preview.html", user=user, nav="coda", req=req, msg=msg,
                          text=msg.get_content(), subject=msg["Subject"], body=text, nonce=nonce,
                          will_transition=can_transition(req.status, "incomplete"))
    return run_action(request, reference, do)


@router.post("/pratiche/{reference}/integrazione/invia")
def send(request: Request, reference: str, subject: str = Form(""), body: str = Form(""), nonce: str = Form(""),
         version: int = Form(...), user: CurrentUser = Depends(current_user)):
    if not NONCE_RE.match(nonce):
        raise HTTPException(400)

    def do():
        app = request.app.state.sportello
        with app.db.session() as s:
            sent = s.scalar(select(OutgoingMail.id).where(OutgoingMail.message_id.like(f"<integrazione.{nonce}@%")))
        if sent is not None:
            flash(request, "warn", "Questa richiesta di integrazione era già stata inviata.")
            return RedirectResponse(f"/pratiche/{reference.upper()}#messaggi", status_code=303)
        try:
            with acting(request, user, reference, version) as (s, req):
                recipient = _check(req)
                msg = build_message(req, app.settings.sender_address, recipient, _clean_subject(req, subject),
                                    _clean_body(body), nonce)
                s.add(OutgoingMail(request_id=req.id, kind=KIND, recipient=recipient, message_id=msg["Message-ID"],
                                   raw=msg.as_bytes(), status="pending"))
                _auto_claim(s, req, user)
                lifecycle.record(s, req, "integration_requested", user.username, {
                    "recipient": recipient, "subject": msg["Subject"], "message": msg["Message-ID"],
                    "findings": [f.code for f in req.findings if f.severity != "info"]})
                if can_transition(req.status, "incomplete"):
                    lifecycle.transition(s, req, "incomplete", user.username, action="integration_request")
                s.flush()  # a resubmitted preview hits the unique Message-ID here
                ref = req.reference
        except IntegrityError:
            flash(request, "warn", "Questa richiesta di integrazione era già stata inviata.")
            return RedirectResponse(f"/pratiche/{reference.upper()}", status_code=303)
        flash(request, "ok", f"Richiesta di integrazione messa in coda di invio a {recipient}.")
        return RedirectResponse(f"/pratiche/{ref}#messaggi", status_code=303)
    return run_action(request, reference, do)

"""Re-running intake on a quarantined message (the back office's "rielabora").

The raw message was kept whole; after a fix or a raised limit it may now be
readable. The stored copy is read again — the mail server is not involved.
"""

from __future__ import annotations

from db import lifecycle
from db.models import Message
from sportello import pipeline
from db.app import App
from sportello.verify import verify_pending


def reprocess(app: App, message_id: int, actor: str = "intake") -> bool:
    """Read a failed message again; True when it is now readable (its request is then re-verified)."""
    with app.db.session() as s:
        msg = s.get(Message, message_id)
        if msg is None:
            raise LookupError(f"no message {message_id}")
        if msg.intake_status != "failed":
            return True
        raw = app.blobs.get(msg.sha256)
    parsed, failed = pipeline._read(app, raw, strict=False)
    with app.db.session() as s:
        msg = s.get(Message, message_id)
        if failed or parsed is None:
            msg.intake_error = failed or msg.intake_error
            return False
        msg.intake_status, msg.intake_error = "ok", None
        msg.sender = msg.sender or parsed.sender
        msg.subject = msg.subject or parsed.subject
        if not msg.attachments:
            pipeline._add_attachments(app, msg, parsed)
        req = msg.request
        if req.sender_email is None and parsed.sender:
            req.sender_email = req.contact_email = parsed.sender
        lifecycle.record(s, req, "message_readable", actor, {"message": msg.message_id})
        if req.status != "received" and lifecycle.can_transition(req.status, "received"):
            lifecycle.transition(s, req, "received", actor, reason="message re-processed")
    verify_pending(app)
    return True

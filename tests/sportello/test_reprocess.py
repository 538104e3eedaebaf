from sqlalchemy import select

from db.models import Message, Request
from sportello.pipeline import ingest
from sportello.reprocess import reprocess
from tests import mailfactory as mf


def test_a_quarantined_message_becomes_a_request_once_readable(app):
    raw = mf.mail(mf.attachment(mf.jpeg(), "fronte.jpg"), seed=5)
    # Too large for today's limit: kept whole, quarantined, for an operator.
    small = app.settings.limits.model_copy(update={"max_message_bytes": 100})
    app.settings = app.settings.model_copy(update={"limits": small})
    out = ingest(app, raw, "VA")
    assert out.failed and out.status == "needs_review"
    with app.db.session() as s:
        msg_id = s.scalar(select(Message.id))
    assert reprocess(app, msg_id) is False  # still over the limit

    app.settings = app.settings.model_copy(update={"limits": small.model_copy(update={"max_message_bytes": 10**8})})
    assert reprocess(app, msg_id) is True
    with app.db.session() as s:
        msg = s.get(Message, msg_id)
        assert msg.intake_status == "ok" and [a.filename for a in msg.attachments] == ["fronte.jpg"]
        req = s.scalar(select(Request))
        assert req.status in ("incomplete", "needs_review")  # verified again
        assert "message_readable" in [e.kind for e in req.events]

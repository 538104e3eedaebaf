"""Intake of one message end to end (without a mail server): store, thread, answer."""

import email
from email import policy

from sqlalchemy import func, select

from db.models import Event, Message, OutgoingMail, Request
from intake import outgoing
from sportello.pipeline import ingest
from sportello.verify import verify_pending
from tests import mailfactory as mf


def _requests(app):
    with app.db.session() as s:
        return {r.reference: (r.status, len(r.messages)) for r in s.scalars(select(Request))}


def _ours(app):
    """Mails we queued, parsed."""
    with app.db.session() as s:
        return [email.message_from_bytes(m.raw, policy=policy.default) for m in s.scalars(select(OutgoingMail))]


def test_a_citizen_mail_opens_a_request_and_gets_an_answer_with_the_reference(app):
    out = ingest(app, mf.mail(mf.attachment(mf.jpeg(), "fronte.jpg"), seed=1), "MI")
    assert out.status == "received" and not out.duplicate
    verify_pending(app)
    (reply,) = _ours(app)
    assert out.reference in reply["Subject"]
    assert reply["In-Reply-To"] == "<mail-1@example.org>"
    assert reply["Auto-Submitted"] == "auto-replied" and reply["X-Auto-Response-Suppress"] == "All"
    assert f"Codice pratica: {out.reference}" in reply.get_content()


def test_auto_replies_and_bounces_are_kept_but_never_answered(app):
    auto = ingest(app, mf.simple(seed=2, subject="Risposta automatica: fuori sede",
                                 extra_headers={"Auto-Submitted": "auto-replied"}), "MI")
    bounce = ingest(app, mf.dsn(mf.simple(seed=3), seed=4), "MI")
    verify_pending(app)
    assert auto.status == "not_a_request" and bounce.status == "not_a_request"
    assert _ours(app) == []
    assert len(_requests(app)) == 2


def test_replies_join_by_reference_by_in_reply_to_and_by_quoted_marker(app):
    first = ingest(app, mf.mail(seed=10), "MI")
    verify_pending(app)
    (ack,) = _ours(app)
    by_subject = ingest(app, mf.simple(seed=11, subject=f"R: [{first.reference}]", sender="other@example.org"), "MI")
    by_header = ingest(app, mf.simple(seed=12, subject="R: documenti", sender="third@example.org",
                                      extra_headers={"In-Reply-To": ack["Message-ID"]}), "MI")
    by_marker = ingest(app, mf.simple(seed=13, subject="documenti", sender="fourth@example.org",
                                      text=f"> Codice pratica: {first.reference}\nEcco il retro."), "MI")
    assert by_subject.reference == by_header.reference == by_marker.reference == first.reference
    assert _requests(app)[first.reference][1] == 4


def test_a_fresh_mail_from_a_sender_whose_request_is_incomplete_joins_it(app):
    first = ingest(app, mf.mail(mf.attachment(mf.jpeg(seed=4), "fronte.jpg"), seed=20), "BG")
    verify_pending(app)
    assert _requests(app)[first.reference][0] == "incomplete"
    again = ingest(app, mf.mail(mf.attachment(mf.jpeg(seed=5), "retro.jpg"), seed=21, subject="il retro"), "BG")
    assert again.reference == first.reference and again.status == "received"
    # Someone else's fresh mail opens a request of its own.
    other = ingest(app, mf.mail(seed=22, sender="Anna Neri <anna.neri@example.org>"), "BG")
    assert other.reference != first.reference


def test_the_same_mail_in_two_mailboxes_is_one_request_in_the_first_province(app):
    raw = mf.mail(seed=30)
    a = ingest(app, b"Delivered-To: spazioregione.mi@example.org\r\n" + raw, "MI")
    b = ingest(app, b"Delivered-To: spazioregione.bg@example.org\r\n" + raw, "BG")
    assert b.duplicate and b.reference == a.reference and a.reference.startswith("SR-MI-")
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1


def test_two_different_mails_sharing_a_broken_message_id_are_both_kept(app):
    a = ingest(app, mf.simple(seed=40, text="primo"), "MI")
    b = ingest(app, mf.simple(seed=40, text="secondo, diverso"), "MI")
    assert not b.duplicate
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 2


def test_outbox_delivers_after_commit_and_retries_failures(app, tmp_path):
    ingest(app, mf.mail(seed=50), "MI")
    verify_pending(app)

    class Down:
        def send(self, raw, recipient):
            raise ConnectionRefusedError("smtp down")

    assert outgoing.deliver_pending(app.db, Down()) == (0, 1)
    folder = outgoing.OutboxFolder(tmp_path / "outbox")
    assert outgoing.deliver_pending(app.db, folder) == (1, 0)
    assert outgoing.deliver_pending(app.db, folder) == (0, 0)  # sent once only
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    with app.db.session() as s:
        row = s.scalar(select(OutgoingMail))
        assert row.status == "sent" and row.attempts == 2
        assert s.scalar(select(func.count()).select_from(Event).where(Event.kind == "mail_sent")) == 1


def test_replies_to_one_address_are_rate_limited(app):
    out = ingest(app, mf.mail(seed=60, subject="richiesta"), "CO")
    verify_pending(app)
    # Answers that differ (each would be sent on its own): the daily limit still holds.
    with app.db.session() as s:
        req = s.scalar(select(Request).where(Request.reference == out.reference))
        for i in range(outgoing.MAX_REPLIES_PER_DAY + 3):
            mail = outgoing.compose("missing", sender="ufficio@example.org", recipient=req.sender_email,
                                    reference=req.reference, items=[f"Manca il documento numero {i}."], name=None,
                                    office="spazioRegione Como")
            outgoing.queue(s, req, "missing", mail, "test")
    assert len(_ours(app)) == outgoing.MAX_REPLIES_PER_DAY
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.kind == "mail_suppressed")) >= 1


def test_a_mail_with_nothing_attached_goes_to_a_person_not_a_letter_asking_for_everything(app):
    question = mf.simple(seed=30, subject="informazioni PIN tessera sanitaria",
                         text="Buongiorno, come posso avere il PIN della tessera di mia madre? Grazie")
    out = ingest(app, question, "CO")
    verify_pending(app)
    with app.db.session() as s:
        req = s.scalar(select(Request).where(Request.reference == out.reference))
        assert (req.status, req.findings) == ("needs_review", [])
        (event,) = [e for e in req.events if e.kind == "status" and e.to_status == "needs_review"]
        assert "nessun allegato" in (event.detail.get("reason") or "")
        kinds = [m.kind for m in s.scalars(select(OutgoingMail))]
    assert kinds == ["acknowledgement"]  # "we have it", never "send the form and four documents"


def test_two_fresh_mails_of_one_sender_fetched_in_one_poll_are_one_request(app):
    first = ingest(app, mf.mail(mf.attachment(mf.jpeg(seed=1), "documenti.jpg"), seed=31, subject="documenti"), "VA")
    second = ingest(app, mf.mail(mf.attachment(mf.jpeg(seed=2), "tessera.jpg"), seed=32, subject="la tessera"), "VA")
    assert second.reference == first.reference  # the first was still `received`, not yet checked
    verify_pending(app)
    assert _requests(app) == {first.reference: ("incomplete", 2)}


def test_documents_sent_after_a_question_join_it(app):
    asked = ingest(app, mf.simple(seed=33, subject="domanda"), "SO")
    verify_pending(app)
    sent = ingest(app, mf.mail(mf.attachment(mf.jpeg(seed=3), "fronte.jpg"), seed=34), "SO")
    assert sent.reference == asked.reference


def test_the_same_automatic_answer_goes_to_an_address_once_a_day(app):
    """Issue 19, defect 4 (RFC 3834 2): nine empty mails from one address, in one request or in nine, get one answer."""
    for seed in range(70, 79):
        ingest(app, mf.mail(seed=seed, subject=f"richiesta {seed}"), "CO")
        verify_pending(app)
    assert len(_ours(app)) == 1
    with app.db.session() as s:
        reasons = [e.detail["reason"] for e in s.scalars(select(Event).where(Event.kind == "mail_suppressed"))]
    assert reasons and set(reasons) == {"same answer sent within a day"}

"""A status the citizen must act on (incomplete) or that closes the request (rejected)
changes only together with the mail that tells them, in one transaction with its outbox row."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from sqlalchemy import func, select

from db.models import Event, OutgoingMail, Request
from intake import outgoing
from tests.backoffice.test_actions import events, flashes, req

# The mail that must accompany each status an operator moves a request to.
MAIL_OF = {"incomplete": "integration_request", "rejected": "rejected"}


def snapshot(app, rid: int) -> tuple[str, int, dict[str, int]]:
    with app.db.session() as s:
        r = s.get(Request, rid)
        mails = dict(s.execute(select(OutgoingMail.kind, func.count()).where(OutgoingMail.request_id == rid)
                               .group_by(OutgoingMail.kind)).all())
        return r.status, r.version, mails


def assert_informed(app, rid: int, before: tuple[str, int, dict[str, int]]) -> None:
    """If the request entered incomplete or rejected, its mail was queued with it: never one without the other."""
    status, _, mails = snapshot(app, rid)
    if status != before[0] and status in MAIL_OF:
        kind = MAIL_OF[status]
        assert mails.get(kind, 0) == before[2].get(kind, 0) + 1, f"{status} without its {kind} mail"
        with app.db.session() as s:
            change = s.scalars(select(Event).where(Event.request_id == rid, Event.kind == "status")
                               .order_by(Event.id.desc())).first()
            mail = s.scalars(select(OutgoingMail).where(OutgoingMail.request_id == rid, OutgoingMail.kind == kind)
                             .order_by(OutgoingMail.id.desc())).first()
        assert change.to_status == status
        assert abs((mail.created_at - change.at).total_seconds()) < 5  # the same unit of work


def preview_nonce(client, ref: str, body: str) -> str:
    preview = client.post(f"/pratiche/{ref}/integrazione/anteprima", {"subject": "", "body": body})
    return re.search(r'name="nonce" value="([0-9a-f]{32})"', preview.text).group(1)


def test_manca_qualcosa_then_annulla_leaves_the_request_as_it_was(login, seeded, app):
    mi = login("op.mi")
    ref, rid = seeded.refs["c"], seeded.ids["c"]
    before = snapshot(app, rid)
    r = mi.post(f"/pratiche/{ref}/revisione", {"outcome": "incomplete", "note": "manca il retro", "version": before[1]})
    assert r.status_code == 303 and r.headers["location"] == f"/pratiche/{ref}/integrazione"
    assert snapshot(app, rid) == before  # opening the letter writes nothing
    compose = mi.get(r.headers["location"]).text
    cancel = re.search(r'<a class="btn btn-quiet" href="([^"]+)">Annulla</a>', compose).group(1)
    assert cancel == f"/pratiche/{ref}"
    mi.get(cancel)
    assert snapshot(app, rid) == before
    assert not [e for e in events(app, rid, "status") if e.to_status == "incomplete"]
    # Also a preview, then "← Modifica", then leaving: still nothing.
    preview_nonce(mi, ref, "Manca il retro della carta d'identità.")
    mi.post(f"/pratiche/{ref}/integrazione", {"subject": "", "body": "Manca il retro."})
    mi.get(f"/pratiche/{ref}")
    assert snapshot(app, rid) == before


def test_incomplete_arrives_only_with_the_integration_mail(login, seeded, app):
    mi = login("op.mi")
    ref, rid = seeded.refs["c"], seeded.ids["c"]
    before = snapshot(app, rid)
    mi.post(f"/pratiche/{ref}/revisione", {"outcome": "incomplete", "version": before[1]})
    nonce = preview_nonce(mi, ref, "Manca il retro della carta d'identità.")
    mi.post(f"/pratiche/{ref}/integrazione/invia", {"subject": "", "body": "Manca il retro della carta d'identità.",
                                                   "nonce": nonce, "version": before[1]})
    assert req(app, rid).status == "incomplete"
    assert_informed(app, rid, before)


def test_reject_queues_the_mail_with_the_reason_and_what_to_do(login, seeded, app):
    mi = login("op.mi")
    ref, rid = seeded.refs["c"], seeded.ids["c"]
    before = snapshot(app, rid)
    reason = "La richiesta è un duplicato della pratica già aperta SR-MI-2026-000001."
    assert mi.post(f"/pratiche/{ref}/rifiuta", {"reason": reason, "version": before[1]}).status_code == 303
    assert req(app, rid).status == "rejected"
    assert_informed(app, rid, before)
    with app.db.session() as s:
        mail = s.scalars(select(OutgoingMail).where(OutgoingMail.request_id == rid)).one()
    msg = email.message_from_bytes(mail.raw, policy=policy.default)
    assert mail.kind == "rejected" and mail.status == "pending"
    assert msg["To"] == req(app, rid).contact_email and f"[{ref}]" in msg["Subject"] and "respinta" in msg["Subject"]
    text = " ".join(msg.get_content().split())
    assert reason in text  # why
    assert "nuova richiesta" in text and "rispondere a questa e-mail" in text  # what the citizen can do
    assert f"Codice pratica: {ref}" in text and msg["Auto-Submitted"] == "auto-replied"
    assert [e.detail["kind"] for e in events(app, rid, "mail_queued")] == ["rejected"]
    page = mi.get(f"/pratiche/{ref}").text
    assert "in coda di invio a" in " ".join(flashes(page)) and "comunicazione del rifiuto" in page


def test_reject_is_not_silenced_by_the_automatic_reply_limits(login, seeded, app):
    """Six automatic answers to the address today: an operator's rejection still goes out."""
    mi = login("op.mi")
    ref, rid = seeded.refs["c"], seeded.ids["c"]
    address = req(app, rid).contact_email
    with app.db.session() as s:
        for i in range(outgoing.MAX_REPLIES_PER_DAY):
            s.add(OutgoingMail(request_id=rid, kind="acknowledgement", recipient=address,
                               message_id=f"<old{i}@sportello.invalid>", raw=b"x", status="sent"))
    before = snapshot(app, rid)
    mi.post(f"/pratiche/{ref}/rifiuta", {"reason": "Richiesta duplicata.", "version": before[1]})
    assert req(app, rid).status == "rejected"
    assert_informed(app, rid, before)


@pytest.mark.parametrize("failure", ["no_address", "mail_not_queued"])
def test_without_its_mail_the_rejection_does_not_happen(login, seeded, app, monkeypatch, failure):
    mi = login("op.mi")
    ref, rid = seeded.refs["c"], seeded.ids["c"]
    if failure == "no_address":
        with app.db.session() as s:
            r = s.get(Request, rid)
            r.contact_email = r.sender_email = None
    else:
        monkeypatch.setattr(outgoing, "queue", lambda *a, **k: None)
    before = snapshot(app, rid)
    r = mi.post(f"/pratiche/{ref}/rifiuta", {"reason": "Richiesta duplicata.", "version": before[1]})
    assert r.status_code == 303
    assert snapshot(app, rid) == before  # status, version and outbox untouched
    assert not [e for e in events(app, rid, "status") if e.to_status == "rejected"]
    assert "non è stata respinta" in " ".join(flashes(mi.get(f"/pratiche/{ref}").text))


def test_every_way_to_incomplete_or_rejected_carries_its_mail(login, seeded, app):
    """Drive each operator path to the two statuses, from every status they are offered in."""
    mi = login("op.mi")
    for key in ("a", "b", "c", "mi_ready", "mi_received", "mi_incomplete"):
        ref, rid = seeded.refs[key], seeded.ids.get(key) or _id(app, seeded.refs[key])
        before = snapshot(app, rid)
        mi.post(f"/pratiche/{ref}/revisione", {"outcome": "incomplete", "version": before[1]})
        assert_informed(app, rid, before)
        assert snapshot(app, rid)[0] == before[0]
        before = snapshot(app, rid)
        nonce = preview_nonce(mi, ref, "Manca il retro.")
        mi.post(f"/pratiche/{ref}/integrazione/invia", {"subject": "", "body": "Manca il retro.", "nonce": nonce,
                                                       "version": before[1]})
        assert_informed(app, rid, before)
        before = snapshot(app, rid)
        mi.post(f"/pratiche/{ref}/rifiuta", {"reason": "Richiesta duplicata.", "version": before[1]})
        assert_informed(app, rid, before)
        assert snapshot(app, rid)[0] == "rejected"


def _id(app, ref: str) -> int:
    with app.db.session() as s:
        return s.scalar(select(Request.id).where(Request.reference == ref))

"""The citizen's signed booking link: opens one request only, once, until it expires."""

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from db.models import Event, Request
from scheduling.calendar import ROME
from scheduling.links import make_token

SLOT_RE = re.compile(r'name="slot" value="([^"]+)"')


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-09T08:00")


def link_for(app, ref: str, hours: int = 168, now=datetime(2026, 12, 9, 7, 0, tzinfo=ROME)) -> str:
    from db.secret import load_secret_key

    with app.db.session() as s:
        r = s.scalar(select(Request).where(Request.reference == ref))
        return "/prenota/" + make_token(load_secret_key(app.settings), r.id, r.version, now, hours)


def status_of(app, ref):
    with app.db.session() as s:
        return s.scalar(select(Request.status).where(Request.reference == ref))


def test_the_citizen_books_and_the_link_is_then_used(app, seeded, client):
    ref = seeded.refs["mi_ready"]
    url = link_for(app, ref)
    page = client.get(url)
    assert page.status_code == 200 and ref in page.text
    assert "SALA" not in page.text  # nothing personal but the reference
    slot = SLOT_RE.findall(page.text)[0]
    done = client.post(url, {"slot": slot})
    assert done.status_code == 200 and "Appuntamento confermato" in done.text and "mer 09/12 ore 10:00" in done.text
    assert status_of(app, ref) == "booked"
    again = client.get(url)
    assert again.status_code == 410 and "Collegamento già usato" in again.text
    assert client.post(url, {"slot": slot}).status_code == 410


def test_a_second_citizen_on_a_taken_slot_is_told(app, seeded, client):
    from scheduling import wiring

    ref = seeded.refs["mi_ready"]
    url = link_for(app, ref)
    slot = SLOT_RE.findall(client.get(url).text)[0]
    with app.db.session() as s:
        others = list(s.scalars(select(Request).where(Request.province == "MI", Request.status == "needs_review")))[:2]
        for o in others:
            o.status = "ready"
        refs = [o.reference for o in others]
    for o in refs:  # both desks of that time go meanwhile
        wiring.book(app, o, datetime(2026, 12, 9, 10, 0, tzinfo=ROME), actor="op.mi")
    r = client.post(url, {"slot": slot})
    assert r.status_code == 409 and "appena stato prenotato da un" in r.text
    assert status_of(app, ref) == "ready"
    assert client.get(url).status_code == 200  # still usable


def test_expired_tampered_and_foreign_links_are_refused(app, seeded, client, monkeypatch):
    ref = seeded.refs["mi_ready"]
    url = link_for(app, ref, hours=24)
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-10T07:30")
    r = client.get(url)
    assert r.status_code == 410 and "Collegamento scaduto" in r.text
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-09T08:00")
    assert client.get(url[:-3] + "abc").status_code == 404
    assert "Collegamento non valido" in client.get("/prenota/qualcosa").text
    # A link of a request not ready (booked, here) opens nothing.
    assert client.get(link_for(app, seeded.refs["mi_booked"])).status_code == 410


def test_asking_to_be_called_uses_the_link(app, seeded, client):
    ref = seeded.refs["mi_ready"]
    url = link_for(app, ref)
    client.get(url)
    r = client.post(url + "/richiamami")
    assert r.status_code == 200 and "Richiesta registrata" in r.text
    assert status_of(app, ref) == "ready"
    assert client.get(url).status_code == 410
    with app.db.session() as s:
        assert s.scalars(select(Event).where(Event.kind == "callback_requested")).one().actor == "cittadino"


def test_the_complete_mail_carries_a_working_link(app, seeded, client, monkeypatch):
    """The link verification puts in the "pratica completa" mail opens the page."""
    from intake import outgoing
    from scheduling.wiring import booking_link

    with app.db.session() as s:
        req = s.scalar(select(Request).where(Request.reference == seeded.refs["mi_ready"]))
        link = booking_link(app, req)
        subject, body = outgoing.render("complete", reference=req.reference, name=None, office="spazioRegione Milano",
                                        booking_link=link, link_days=7)
    assert link in body and "una sola volta" in body
    assert link.startswith("http://127.0.0.1:8000/prenota/")
    assert client.get(link.removeprefix("http://127.0.0.1:8000")).status_code == 200


def _manage_link(app, ref) -> str:
    import email
    from email import policy

    from db.models import OutgoingMail

    with app.db.session() as s:
        rid = s.scalar(select(Request.id).where(Request.reference == ref))
        raw = s.scalars(select(OutgoingMail.raw).where(OutgoingMail.request_id == rid,
                                                       OutgoingMail.kind == "booking_invitation")
                        .order_by(OutgoingMail.id.desc())).first()
    body = email.message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1:8000(/prenota/\S+)", body).group(1)


def test_the_invitations_link_moves_and_cancels_until_hours_before(app, seeded, client, monkeypatch):
    from datetime import timedelta

    from db.models import Booking
    from scheduling.calendar import to_rome

    ref = seeded.refs["mi_ready"]
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-08T08:00")
    url = link_for(app, ref, now=datetime(2026, 12, 8, 7, 0, tzinfo=ROME))
    slots = SLOT_RE.findall(client.get(url).text)
    client.post(url, {"slot": slots[-1]})  # a slot of the 9th or later, over 24 h ahead
    manage = _manage_link(app, ref)
    page = client.get(manage)
    assert page.status_code == 200 and "Il suo appuntamento" in page.text
    done = client.post(manage + "/sposta", {"slot": SLOT_RE.findall(page.text)[-1]})
    assert done.status_code == 200 and "Appuntamento confermato" in done.text
    assert client.get(manage).status_code == 410  # the booking changed: that link is dead
    newer = _manage_link(app, ref)
    assert newer != manage and client.get(newer).status_code == 200
    with app.db.session() as s:
        start = to_rome(s.scalars(select(Booking.start).where(Booking.status == "active")).one())
    monkeypatch.setenv("SPORTELLO_NOW", (start - timedelta(hours=23)).strftime("%Y-%m-%dT%H:%M"))
    r = client.get(newer)
    assert r.status_code == 410 and "Appuntamento troppo vicino" in r.text  # [calendar] link_closes_hours_before
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-08T08:05")
    done = client.post(newer + "/annulla")
    assert "Appuntamento annullato" in done.text and status_of(app, ref) == "ready"

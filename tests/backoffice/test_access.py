"""Provinces: an operator sees and touches only the requests of their own provinces,
whatever the way in (queue, search, page, direct URL, form post)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from db.models import Event, OutgoingMail, Request


def listed(html: str) -> set[str]:
    """The references in the queue table."""
    return set(re.findall(r'class="ref" href="/pratiche/(SR-[A-Z]{2}-\d{4}-\d{6})"', html))


def snapshot(app, request_id: int):
    with app.db.session() as s:
        r = s.get(Request, request_id)
        events = s.scalar(select(func.count()).select_from(Event).where(Event.request_id == request_id))
        mails = s.scalar(select(func.count()).select_from(OutgoingMail).where(OutgoingMail.request_id == request_id))
        return r.status, r.assigned_to, r.version, r.holder_surname, events, mails


def test_the_queue_shows_only_the_users_provinces(login, seeded):
    mi = login("op.mi")
    page = mi.get("/coda?stato=all").text
    assert seeded.refs["a"] in page and seeded.refs["c"] in page
    assert seeded.refs["bg"] not in page and seeded.refs["co"] not in page
    # Asking for another province's queue falls back to one's own.
    page = mi.get("/coda?provincia=BG&stato=all").text
    assert seeded.refs["bg"] not in page and seeded.refs["a"] in page

    sup = login("sup")  # MI and BG, not CO
    page = sup.get("/coda?stato=all").text
    assert seeded.refs["a"] in page and seeded.refs["bg"] in page and seeded.refs["co"] not in page
    page = sup.get("/coda?provincia=BG&stato=all").text
    assert seeded.refs["bg"] in page and seeded.refs["a"] not in page


def test_search_never_crosses_provinces(login, seeded, app):
    bg = login("op.bg")
    with app.db.session() as s:
        cf = s.get(Request, seeded.ids["a"]).holder_codice_fiscale
    for term in (seeded.refs["a"], cf, "mario.rossi@example.org", "ROSSI"):
        r = bg.post("/coda/cerca", {"q": term})
        assert r.status_code == 303 and term not in r.headers["location"]  # personal data stays out of URLs
        page = bg.get(r.headers["location"]).text
        assert listed(page) == set()
        assert "Nessuna pratica" in page

    mi = login("op.mi")
    page = mi.get(mi.post("/coda/cerca", {"q": cf.lower()}).headers["location"]).text
    assert listed(page) == {seeded.refs["a"]}
    page = mi.get(mi.post("/coda/cerca", {"q": "brambilla"}).headers["location"]).text
    assert listed(page) == {seeded.refs["b"]}
    page = mi.get(mi.post("/coda/cerca", {"q": "lucia brambilla"}).headers["location"]).text
    assert listed(page) == {seeded.refs["b"]}
    page = mi.get(mi.post("/coda/cerca", {"q": seeded.refs["c"]}).headers["location"]).text
    assert listed(page) == {seeded.refs["c"]}
    page = mi.get(mi.post("/coda/cerca", {"q": "%"}).headers["location"]).text  # a wildcard is a character
    assert listed(page) == set()


def test_another_provinces_request_is_not_found_by_url(login, seeded):
    bg = login("op.bg")
    ref, att = seeded.refs["a"], seeded.attachments["a_id"]
    for url in (f"/pratiche/{ref}", f"/pratiche/{ref}/integrazione", f"/pratiche/{ref}/allegati/{att}",
                f"/pratiche/{ref}/allegati/{att}/pagina/1?dim=grande", f"/pratiche/{ref}/allegati/{att}/originale",
                f"/pratiche/{seeded.refs['co']}"):
        r = bg.get(url)
        assert r.status_code == 404, url
        assert "ROSSI" not in r.text and "CA12345AA" not in r.text
    # Its own attachment, under another province's reference, is no way in either.
    assert bg.get(f"/pratiche/{seeded.refs['bg']}/allegati/{att}/pagina/1").status_code == 404
    assert bg.get(f"/pratiche/{ref}/allegati/{seeded.attachments['bg']}/pagina/1").status_code == 404
    assert bg.get(f"/pratiche/{seeded.refs['bg']}/allegati/{seeded.attachments['bg']}/pagina/1").status_code == 200


def test_another_provinces_request_cannot_be_touched_by_form_post(login, seeded, app):
    bg = login("op.bg")
    ref, rid = seeded.refs["a"], seeded.ids["a"]
    before = snapshot(app, rid)
    posts = {
        "prendi": {},
        "lascia": {},
        "revisione": {"outcome": "ready", "version": before[2]},
        "rifiuta": {"reason": "tentativo non autorizzato", "version": before[2]},
        "correggi": {"target": "request", "field": "holder_surname", "value": "HACK", "version": before[2]},
        "integrazione/anteprima": {"subject": "x", "body": "y"},
        "integrazione/invia": {"subject": "x", "body": "y", "nonce": "0" * 32, "version": before[2]},
        "integrazione": {"subject": "x", "body": "y"},
    }
    for action, data in posts.items():
        r = bg.post(f"/pratiche/{ref}/{action}", data)
        assert r.status_code == 404, action
    assert snapshot(app, rid) == before

    sup = login("sup")  # a supervisor, but not of CO
    co_before = snapshot(app, seeded.ids["co"])
    for action in ("prendi", "assegna"):
        assert sup.post(f"/pratiche/{seeded.refs['co']}/{action}", {"assignee": "sup"}).status_code == 404
    assert snapshot(app, seeded.ids["co"]) == co_before


def test_failed_intake_is_per_province(login, seeded, app):
    from backoffice.app import create_app
    from tests.backoffice.conftest import Client

    calls = []
    c = Client(create_app(app, reprocess=lambda a, mid: calls.append(mid)))
    c.login("op.bg")
    assert "not an e-mail" not in c.get("/intake-non-riuscite").text
    assert c.post(f"/intake-non-riuscite/{seeded.failed_message_id}/rielabora").status_code == 404
    assert calls == []

    c = Client(create_app(app, reprocess=lambda a, mid: calls.append(mid)))
    c.login("op.mi")
    page = c.get("/intake-non-riuscite").text
    assert "Elabora di nuovo" in page
    r = c.post(f"/intake-non-riuscite/{seeded.failed_message_id}/rielabora")
    assert r.status_code == 303 and calls == [seeded.failed_message_id]
    with app.db.session() as s:
        ev = s.scalars(select(Event).where(Event.kind == "intake_reprocessed")).one()
        assert ev.actor == "op.mi" and ev.request_id == seeded.ids["failed"]


def test_without_a_reprocess_hook_the_button_is_hidden(login, seeded):
    mi = login("op.mi")
    assert "Elabora di nuovo" not in mi.get("/intake-non-riuscite").text
    assert mi.post(f"/intake-non-riuscite/{seeded.failed_message_id}/rielabora").status_code == 404


@pytest.mark.parametrize("user", ["op.mi"])
def test_only_supervisors_assign(login, seeded, user, app):
    op = login(user)
    assert op.post(f"/pratiche/{seeded.refs['a']}/assegna", {"assignee": "op.mi"}).status_code == 403
    sup = login("sup")
    assert sup.post(f"/pratiche/{seeded.refs['a']}/assegna", {"assignee": "op.bg"}).status_code == 303
    assert snapshot(app, seeded.ids["a"])[1] is None  # op.bg does not work on MI
    assert sup.post(f"/pratiche/{seeded.refs['a']}/assegna", {"assignee": "op.mi2"}).status_code == 303
    assert snapshot(app, seeded.ids["a"])[1] == "op.mi2"

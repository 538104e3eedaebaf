"""Junk the automation could not tell from a request: an operator closes it as `not_a_request`
with a reason, and dismisses a quarantined message (kept, with who and why)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from db.models import Event, Message, OutgoingMail, Request
from tests.backoffice.conftest import screenshot
from tests.backoffice.test_actions import events, flashes, req
from tests.backoffice.test_booking_browser import axe_violations
from tests.backoffice.test_browser import log_in, status_of
from tests.backoffice.test_review_browser import press_and_wait


def outbox(app, rid: int) -> int:
    with app.db.session() as s:
        return s.scalar(select(func.count()).select_from(OutgoingMail).where(OutgoingMail.request_id == rid))


def test_an_operator_closes_junk_with_a_reason_and_no_mail(login, seeded, app):
    mi = login("op.mi")
    ref, rid = seeded.refs["xss"], seeded.ids["xss"]
    page = mi.get(f"/pratiche/{ref}").text
    assert "Chiudi: non è una richiesta" in page
    version = req(app, rid).version

    short = mi.post(f"/pratiche/{ref}/non-richiesta", {"reason": "no", "version": version})
    assert "almeno 5 caratteri" in " ".join(flashes(mi.get(short.headers["location"]).text))
    assert req(app, rid).status == "needs_review"

    mi.post(f"/pratiche/{ref}/non-richiesta", {"reason": "pubblicità di un fornitore", "version": version})
    after = req(app, rid)
    assert after.status == "not_a_request" and after.version == version + 1
    change = events(app, rid, "status")[-1]
    assert (change.from_status, change.to_status, change.actor) == ("needs_review", "not_a_request", "op.mi")
    assert change.detail["reason"] == "pubblicità di un fornitore"
    assert outbox(app, rid) == 0  # never answered (SPEC.md)
    shown = mi.get(f"/pratiche/{ref}").text
    assert "pubblicità di un fornitore" in shown and "Chiudi: non è una richiesta" not in shown
    assert ref in mi.get("/coda?stato=not_a_request").text


def test_junk_closing_is_refused_where_it_makes_no_sense(login, seeded, app):
    mi = login("op.mi")
    for key in ("mi_ready", "mi_incomplete", "mi_booked"):
        ref = seeded.refs[key]
        with app.db.session() as s:
            r = s.scalar(select(Request).where(Request.reference == ref))
            status, version = r.status, r.version
        assert "Chiudi: non è una richiesta" not in mi.get(f"/pratiche/{ref}").text
        back = mi.post(f"/pratiche/{ref}/non-richiesta", {"reason": "sembra spam", "version": version})
        assert "non possibile" in " ".join(flashes(mi.get(back.headers["location"]).text))
        assert status_of(app, ref) == status
    # A stale page does not close a request someone changed meanwhile.
    ref, rid = seeded.refs["c"], seeded.ids["c"]
    stale = req(app, rid).version - 1
    mi.post(f"/pratiche/{ref}/non-richiesta", {"reason": "sembra spam", "version": stale})
    assert req(app, rid).status == "needs_review"


def dismissals(app, message_id: int) -> list[Event]:
    with app.db.session() as s:
        return [e for e in s.scalars(select(Event).where(Event.kind == "intake_dismissed"))
                if e.detail.get("message_id") == message_id]


def test_dismissing_a_quarantined_message_keeps_it_with_who_and_why(login, seeded, app):
    mi = login("op.mi")
    mid, ref, rid = seeded.failed_message_id, seeded.refs["failed"], seeded.ids["failed"]
    listing = mi.get("/intake-non-riuscite").text
    assert f"/intake-non-riuscite/{mid}/archivia" in listing

    r = mi.post(f"/intake-non-riuscite/{mid}/archivia", {"reason": "x"})
    assert "almeno 5 caratteri" in " ".join(flashes(mi.get(r.headers["location"]).text))
    assert dismissals(app, mid) == []

    r = mi.post(f"/intake-non-riuscite/{mid}/archivia", {"reason": "avviso di mancata consegna"})
    page = mi.get(r.headers["location"]).text
    assert "è chiusa come «non è una richiesta»" in " ".join(flashes(page))
    with app.db.session() as s:
        msg = s.get(Message, mid)
        assert msg.intake_status == "dismissed" and msg.request_id == rid  # kept, still where it was
        assert app.blobs.get(msg.sha256)
    [ev] = dismissals(app, mid)
    assert ev.actor == "op.mi" and ev.detail["reason"] == "avviso di mancata consegna"
    assert req(app, rid).status == "not_a_request"
    # Out of the pending list, into the archived one with who and why; the badge counts it no more.
    pending, archived = page.split('id="archiviati"')
    assert f"/intake-non-riuscite/{mid}/archivia" not in pending
    assert "avviso di mancata consegna" in archived and "op.mi" in archived and ref in archived

    again = mi.post(f"/intake-non-riuscite/{mid}/archivia", {"reason": "avviso di mancata consegna"})
    assert "non è più" in " ".join(flashes(mi.get(again.headers["location"]).text))
    assert len(dismissals(app, mid)) == 1


def test_a_request_with_more_than_the_dismissed_message_stays_open(login, seeded, app):
    rid = seeded.ids["a"]
    with app.db.session() as s:
        r = s.get(Request, rid)
        msg = next(m for m in r.messages if m.direction == "in")
        msg.intake_status, msg.intake_error = "failed", "message over the size limit"
        # A second, readable message in the same request.
        other = Message(request_id=rid, direction="in", message_id="<altro@example.org>", dedupe_key="k" * 64,
                        sha256=msg.sha256, size=1, province="MI", intake_status="ok")
        s.add(other)
        status, mid = r.status, msg.id
    mi = login("op.mi")
    mi.post(f"/intake-non-riuscite/{mid}/archivia", {"reason": "inoltro duplicato"})
    assert req(app, rid).status == status
    assert len(dismissals(app, mid)) == 1


def test_another_provinces_message_cannot_be_dismissed(login, seeded, app):
    bg = login("op.bg")
    r = bg.post(f"/intake-non-riuscite/{seeded.failed_message_id}/archivia", {"reason": "non mio davvero"})
    assert r.status_code == 404
    assert dismissals(app, seeded.failed_message_id) == []


@pytest.mark.slow
def test_junk_is_closed_and_dismissed_by_keyboard(app, seeded, server, page):
    log_in(page, server, "op.mi")
    page.goto(f"{server}/intake-non-riuscite")
    assert axe_violations(page) == []
    page.locator("summary", has_text="Archivia").first.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("risposta automatica di un ufficio")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Archivia il messaggio"
    press_and_wait(page, "Enter")
    assert "archiviato" in page.locator(".flash").inner_text()
    assert status_of(app, seeded.refs["failed"]) == "not_a_request"
    assert "risposta automatica di un ufficio" in page.locator("#archiviati + .card").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "50-messaggio-archiviato")

    ref = seeded.refs["xss"]
    page.goto(f"{server}/pratiche/{ref}")
    page.locator("summary", has_text="Non è una richiesta").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("newsletter di un fornitore")
    page.keyboard.press("Tab")
    press_and_wait(page, "Enter")
    assert page.locator("h1 .status").inner_text() == "Non è una richiesta"
    assert axe_violations(page) == []
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{server}/intake-non-riuscite")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert axe_violations(page) == []
    screenshot(page, "51-archiviati-390")

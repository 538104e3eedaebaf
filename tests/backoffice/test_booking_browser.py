"""In Debian's chromium: a clerk books a `ready` request from its page with the keyboard
alone, then moves it; axe-core (WCAG 2.1 A/AA) on the booking card's pages at
both viewports. Screenshots in artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from db.models import Request
from tests.backoffice.conftest import screenshot
from tests.backoffice.test_browser import log_in

pytestmark = pytest.mark.slow

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           "resultTypes": ["violations"]}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-09T08:00")


def axe_violations(page, where: str | None = None) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    context = {"include": [[where]]} if where else None
    results = Axe().run(page, context=context, options=WCAG_AA)
    return [f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in results.response["violations"]]


def status_of(app, reference: str) -> str:
    with app.db.session() as s:
        return s.scalar(select(Request.status).where(Request.reference == reference))


def test_a_clerk_books_and_moves_with_the_keyboard(app, seeded, server, page):
    ref = seeded.refs["mi_ready"]
    log_in(page, server, "op.mi")
    page.goto(f"{server}/pratiche/{ref}")
    assert re.match(rf".*/pratiche/{ref}$", page.url)
    card = page.locator("#prenotazione")
    assert "+393331234567" in card.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "10-prenotazione-pronta")

    # Keyboard only: the note, then Tab to the first free slot, Enter.
    page.get_by_label("Nota della telefonata (facoltativa)").focus()
    page.keyboard.type("Concordato al telefono")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "mer 09/12 ore 10:00"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Videochiamata prenotata: mer 09/12 ore 10:00, sportello 1" in page.locator(".flash").inner_text()
    assert page.locator("h1 .status").inner_text() == "Videochiamata prenotata"
    assert status_of(app, ref) == "booked"
    assert "Concordato al telefono" in page.locator("#cronologia").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "11-prenotazione-fatta")

    # Move it, keyboard only: choose the third option of the list and submit.
    page.get_by_label("Sposta a").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Videochiamata spostata" in page.locator(".flash").inner_text()
    assert "spostata 1 volta" in page.locator("#prenotazione").inner_text()

    # The cancel sits behind a disclosure that opens from the keyboard too.
    page.locator("#prenotazione summary").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Motivo (facoltativo)").fill("il cittadino richiamerà")
    with page.expect_navigation():
        page.get_by_role("button", name="Annulla la prenotazione").press("Enter")
    assert status_of(app, ref) == "ready"
    assert not page.console_errors


def test_the_booking_card_on_a_phone_sized_viewport(app, seeded, server, browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="it-IT")
    page = ctx.new_page()
    try:
        log_in(page, server, "op.mi")
        page.goto(f"{server}/pratiche/{seeded.refs['mi_ready']}")
        assert page.locator("#prenotazione button[name=slot]").count() == 8
        assert axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, "12-prenotazione-390")
    finally:
        ctx.close()


def test_a_citizen_books_from_the_link_on_a_phone(app, seeded, server, browser):
    from tests.backoffice.test_citizen_link import link_for

    ref = seeded.refs["mi_ready"]
    url = server + link_for(app, ref)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="it-IT", is_mobile=True,
                                has_touch=True)
    other = browser.new_context(viewport={"width": 390, "height": 844}, locale="it-IT")
    try:
        page = phone.new_page()
        page.goto(url)
        assert page.locator("h1").inner_text() == "Videochiamata di riconoscimento"
        assert axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
        screenshot(page, "20-cittadino-scelta-390")

        # A second citizen holds a stale page on the same slot (another ready request of the office).
        with app.db.session() as s:
            second = s.scalars(select(Request).where(Request.province == "MI", Request.status == "needs_review")).first()
            second.status = "ready"
            second_ref = second.reference
        page2 = other.new_page()
        page2.goto(server + link_for(app, second_ref))
        page2.get_by_label("mer 09/12 ore 10:00").check()

        # The first citizen, keyboard only: the first slot, then the confirm button.
        page.get_by_label("mer 09/12 ore 10:00").focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="Conferma l'appuntamento").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("h1").inner_text() == "Appuntamento confermato"
        assert axe_violations(page) == []
        screenshot(page, "21-cittadino-confermato-390")
        assert status_of(app, ref) == "booked"

        # The office has two desks: the second citizen gets 10:00 on desk 2; a third citizen, whose
        # page offered a time that both desks then lost, is told it is taken.
        with page2.expect_navigation():
            page2.get_by_role("button", name="Conferma l'appuntamento").click()
        assert page2.locator("h1").inner_text() == "Appuntamento confermato"
        with app.db.session() as s:
            third = s.scalars(select(Request).where(Request.province == "MI", Request.status == "needs_review")).first()
            third.status = "ready"
            third_ref = third.reference
        page3 = other.new_page()
        page3.goto(server + link_for(app, third_ref))
        # Its page is drawn; then both desks of its first time are taken by clerks before it confirms.
        first_label = page3.locator("fieldset.slots label").first.inner_text().strip()
        assert first_label == "mer 09/12 ore 10:30"
        from datetime import datetime

        from scheduling.calendar import ROME
        from scheduling import wiring

        with app.db.session() as s:
            rows = s.scalars(select(Request).where(Request.province == "MI", Request.status == "needs_review")).all()[:2]
            for r in rows:
                r.status = "ready"
            taken = [r.reference for r in rows]
        for r in taken:
            wiring.book(app, r, datetime(2026, 12, 9, 10, 30, tzinfo=ROME), actor="op.mi")
        page3.get_by_label(first_label).check()
        with page3.expect_navigation():
            page3.get_by_role("button", name="Conferma l'appuntamento").click()
        assert "appena stato prenotato da un'altra persona" in page3.locator("[role=alert]").inner_text()
        assert axe_violations(page3) == []
        screenshot(page3, "22-cittadino-orario-preso-390")

        # The used link is refused with a clear page.
        page.goto(url)
        assert page.locator("h1").inner_text() == "Collegamento già usato"
        assert axe_violations(page) == []
        screenshot(page, "23-cittadino-link-usato-390")
    finally:
        phone.close()
        other.close()


def test_an_expired_link_is_refused_in_the_browser(app, seeded, server, page, monkeypatch):
    from tests.backoffice.test_citizen_link import link_for

    url = server + link_for(app, seeded.refs["mi_ready"], hours=1)
    monkeypatch.setenv("SPORTELLO_NOW", "2026-12-09T09:00")
    page.goto(url)
    assert page.locator("h1").inner_text() == "Collegamento scaduto"
    assert axe_violations(page) == []
    screenshot(page, "24-cittadino-link-scaduto")


@pytest.mark.parametrize("width,height", [(1366, 768), (390, 844)])
def test_calendar_pages_are_accessible(app, seeded, server, browser, width, height):
    from datetime import datetime

    from scheduling.calendar import ROME
    from scheduling import wiring

    wiring.book(app, seeded.refs["mi_ready"], datetime(2026, 12, 9, 10, 0, tzinfo=ROME), actor="op.mi")
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="it-IT")
    page = ctx.new_page()
    try:
        log_in(page, server, "op.mi")
        # Keyboard: from the top bar to the calendar.
        page.get_by_role("link", name="Calendario").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.goto(f"{server}/calendario?provincia=MI&giorno=2026-12-09&vista=settimana")
        assert "Ufficio chiuso" in page.inner_text("main")
        assert axe_violations(page) == []
        screenshot(page, f"30-calendario-settimana-{width}")
        page.goto(f"{server}/chiamate?giorno=2026-12-09")
        assert seeded.refs["mi_ready"] in page.inner_text("main")
        assert axe_violations(page) == []
        screenshot(page, f"31-mie-chiamate-{width}")
    finally:
        ctx.close()


def test_the_citizen_moves_the_call_from_the_invitation_on_a_phone(app, seeded, server, browser, monkeypatch):
    from datetime import datetime

    from scheduling.calendar import ROME
    from scheduling import wiring
    from tests.backoffice.test_citizen_link import _manage_link

    ref = seeded.refs["mi_ready"]
    wiring.book(app, ref, datetime(2026, 12, 11, 10, 0, tzinfo=ROME), actor="op.mi")
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="it-IT", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    try:
        page.goto(server + _manage_link(app, ref))
        assert page.locator("h1").inner_text() == "Il suo appuntamento"
        assert "ven 11/12 ore 10:00" in page.inner_text("main")
        assert axe_violations(page) == []
        screenshot(page, "25-cittadino-sposta-390")
        page.locator("fieldset.slots input").first.focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="Sposta l'appuntamento").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("h1").inner_text() == "Appuntamento confermato"
        assert axe_violations(page) == []
    finally:
        ctx.close()

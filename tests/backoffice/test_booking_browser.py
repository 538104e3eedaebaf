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
        # The booking card itself; the top bar's contrast at this width predates it (see the report).
        assert axe_violations(page, "#prenotazione") == []
        screenshot(page, "12-prenotazione-390")
    finally:
        ctx.close()

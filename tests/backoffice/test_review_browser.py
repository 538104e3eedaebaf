"""In Debian's chromium, keyboard only: "Manca qualcosa" then "Annulla" changes nothing; a
rejection goes out with its mail. axe-core (WCAG 2.1 A/AA) on every page touched.
Screenshots in artifacts/screenshots/ (40-…).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from db.models import OutgoingMail
from tests.backoffice.conftest import screenshot
from tests.backoffice.test_booking_browser import axe_violations
from tests.backoffice.test_browser import log_in, status_of

pytestmark = pytest.mark.slow


def mails(app, rid: int, kind: str) -> int:
    with app.db.session() as s:
        return s.scalar(select(func.count()).select_from(OutgoingMail)
                        .where(OutgoingMail.request_id == rid, OutgoingMail.kind == kind))


def press_and_wait(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def test_manca_qualcosa_annulla_then_reject_by_keyboard(app, seeded, server, page):
    ref, rid = seeded.refs["c"], seeded.ids["c"]
    log_in(page, server, "op.mi")
    page.goto(f"{server}/pratiche/{ref}")
    assert axe_violations(page) == []

    # "Manca qualcosa": Space on the radio, Tab past the note to the button, Enter.
    page.get_by_label(re.compile("Manca qualcosa")).focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Registra la revisione"
    press_and_wait(page, "Enter")
    assert page.url.endswith(f"/pratiche/{ref}/integrazione")
    assert status_of(app, ref) == "needs_review"  # nothing yet: the letter is not sent
    assert axe_violations(page) == []
    screenshot(page, "40-manca-qualcosa-lettera")

    # "Annulla", from the keyboard: back to the request, still as it was, no mail.
    page.get_by_role("link", name="Annulla").focus()
    press_and_wait(page, "Enter")
    assert re.match(rf".*/pratiche/{ref}$", page.url)
    assert page.locator("h1 .status").inner_text() == "Da revisionare"
    assert status_of(app, ref) == "needs_review" and mails(app, rid, "integration_request") == 0

    # "Respingi": open the disclosure with Enter, Tab to the reason, type it, Tab to the button, Enter.
    page.locator("summary", has_text="Respingi la pratica").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "reject-reason"
    page.keyboard.type("La richiesta è un duplicato di una pratica già aperta.")
    assert axe_violations(page) == []
    screenshot(page, "41-respingi-motivo")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Respingi e scrivi al cittadino"
    press_and_wait(page, "Enter")
    assert page.locator("h1 .status").inner_text() == "Respinta"
    assert "in coda di invio" in page.locator(".flash").inner_text()
    assert status_of(app, ref) == "rejected" and mails(app, rid, "rejected") == 1
    thread = page.locator("#messaggi").inner_text()
    assert "Richiesta PIN/PUK respinta" in thread and "duplicato di una pratica" in thread
    assert axe_violations(page) == []
    screenshot(page, "42-respinta-con-email")
    assert not page.console_errors

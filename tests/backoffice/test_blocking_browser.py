"""In Debian's chromium, keyboard only: an operator is not offered "Completa e valida" over a
blocking finding; a supervisor validates with a written reason, which shows in the history.
axe-core (WCAG 2.1 A/AA) on the pages. Screenshots in artifacts/screenshots/ (43-…).
"""

from __future__ import annotations

import re

import pytest

from tests.backoffice.conftest import screenshot
from tests.backoffice.test_booking_browser import axe_violations
from tests.backoffice.test_browser import log_in, status_of
from tests.backoffice.test_review_browser import press_and_wait

pytestmark = pytest.mark.slow


def test_a_supervisor_validates_over_a_blocking_finding_with_a_reason(app, seeded, server, browser, page):
    ref = seeded.refs["a"]
    # The operator: told why, and not offered the validation.
    log_in(page, server, "op.mi")
    page.goto(f"{server}/pratiche/{ref}")
    assert page.get_by_label(re.compile("Completa e valida")).count() == 0
    assert "oppure chiedi a un supervisore" in page.locator("#blocking-note").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "43-bloccante-operatore")

    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="it-IT")
    sup = ctx.new_page()
    try:
        log_in(sup, server, "sup")
        sup.goto(f"{server}/pratiche/{ref}")
        assert axe_violations(sup) == []
        # Keyboard: Space on "Completa e valida", Tab to the reason, type, Tab past the note to the button.
        sup.get_by_label(re.compile("Completa e valida")).focus()
        sup.keyboard.press("Space")
        sup.keyboard.press("Tab")
        assert sup.evaluate("document.activeElement.id") == "override-reason"
        reason = "Retro della CIE mostrato allo sportello e verificato di persona."
        sup.keyboard.type(reason)
        sup.keyboard.press("Tab")
        sup.keyboard.type("Validata dal supervisore.")
        sup.keyboard.press("Tab")
        assert sup.evaluate("document.activeElement.textContent.trim()") == "Registra la revisione"
        screenshot(sup, "44-bloccante-supervisore-motivo")
        press_and_wait(sup, "Enter")
        assert sup.locator("h1 .status").inner_text() == "Pronta per la chiamata"
        assert status_of(app, ref) == "ready"
        history = sup.locator("#cronologia").inner_text()
        assert "Segnalazioni bloccanti superate dal supervisore" in history and reason in history
        assert "missing_holder_id_back" in history
        assert axe_violations(sup) == []
        screenshot(sup, "45-bloccante-superata")
    finally:
        ctx.close()

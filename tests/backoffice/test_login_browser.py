"""In Debian's chromium, by keyboard alone: wrong passwords from one address slow that address down
and leave the clerk's own desk alone (issue 18, item 11). axe-core on the refused page at both viewports.
"""

from __future__ import annotations

import pytest

from tests.backoffice.conftest import screenshot
from tests.backoffice.seed import PASSWORD
from tests.backoffice.test_booking_browser import axe_violations

pytestmark = pytest.mark.slow

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "mobile": {"width": 390, "height": 844}}


def keyboard_login(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accesso")
    assert page.evaluate("document.activeElement.name") == "username"  # autofocus
    page.keyboard.press("Control+A")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_attackers_address_is_slowed_and_the_clerk_still_logs_in(browser, proxied_server, viewport, caplog):
    def desk(address: str):
        ctx = browser.new_context(viewport=VIEWPORTS[viewport], locale="it-IT",
                                  extra_http_headers={"X-Forwarded-For": address})
        return ctx, ctx.new_page()

    attacker_ctx, attacker = desk("203.0.113.7")
    clerk_ctx, clerk = desk("198.51.100.20")
    try:
        with caplog.at_level("INFO"):
            for _ in range(5):
                keyboard_login(attacker, proxied_server, "op.mi", "indovino-123")
                assert attacker.get_by_role("alert").inner_text() == "Nome utente o password non corretti."
            keyboard_login(attacker, proxied_server, "op.mi", PASSWORD)
        alert = attacker.get_by_role("alert")
        assert "Troppi tentativi non riusciti da questo dispositivo" in alert.inner_text()
        assert "riprova tra 1 minuto" in alert.inner_text()
        assert attacker.url.endswith("/accesso")
        assert axe_violations(attacker) == []
        screenshot(attacker, f"18-11-accesso-rallentato-{viewport}")

        keyboard_login(clerk, proxied_server, "op.mi", PASSWORD)
        assert clerk.url == f"{proxied_server}/coda"
        assert "login throttled: client 203.0.113.7" in caplog.text
        assert "indovino-123" not in caplog.text and PASSWORD not in caplog.text
    finally:
        attacker_ctx.close()
        clerk_ctx.close()

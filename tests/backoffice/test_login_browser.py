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
    page.wait_for_function("document.activeElement && document.activeElement.name === 'username'",
                           timeout=5000)  # autofocus: no pointer needed
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


def test_plain_http_on_a_real_host_name_gets_no_session_cookie(proxied_server):
    """Item 13: by default the cookie is Secure unless the host is loopback, so chromium on plain HTTP
    to a real name never stores it: the login form is refused instead of opening a session in clear."""
    from playwright.sync_api import sync_playwright

    import threading

    from playwright.sync_api import sync_playwright

    port = proxied_server.rsplit(":", 1)[1]
    failures: list[BaseException] = []

    def run():  # its own thread: the module's browser already holds this thread's Playwright loop
        try:
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
                    "--host-resolver-rules=MAP sportello.example.org 127.0.0.1"])
                try:
                    for viewport in VIEWPORTS:
                        ctx = b.new_context(viewport=VIEWPORTS[viewport], locale="it-IT")
                        page = ctx.new_page()
                        keyboard_login(page, f"http://sportello.example.org:{port}", "op.mi", PASSWORD)
                        assert ctx.cookies() == []  # Secure: never kept from plain HTTP
                        assert page.get_by_role("heading", level=1).inner_text() == "Richiesta rifiutata"
                        assert axe_violations(page) == []
                        screenshot(page, f"18-13-http-rifiutato-{viewport}")
                        ctx.close()
                finally:
                    b.close()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test's thread
            failures.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join(120)
    if failures:
        raise failures[0]
    assert not t.is_alive()


def test_on_loopback_the_cookie_is_http_only_and_opaque(page, proxied_server):
    keyboard_login(page, proxied_server, "op.mi", PASSWORD)
    assert page.url == f"{proxied_server}/coda"
    (cookie,) = page.context.cookies()
    assert cookie["name"] == "sportello_session" and cookie["httpOnly"] and not cookie["secure"]
    assert cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""
    assert not any(s in cookie["value"] for s in ("uid", "op.mi", "eyJ"))  # eyJ: base64 of '{"'

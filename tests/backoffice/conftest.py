"""Back-office fixtures: seeded data, an HTTP client, a real server for the browser."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.backoffice.seed import PASSWORD, Seeded, seed

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def seeded(app) -> Seeded:
    return seed(app)


@pytest.fixture
def web(app, seeded):
    from backoffice.app import create_app

    return create_app(app)


class Client:
    """A TestClient that knows how to log in and post forms with the page's CSRF token."""

    def __init__(self, web, address: str = "testclient"):
        from starlette.testclient import TestClient

        self.http = TestClient(web, base_url="http://127.0.0.1", follow_redirects=False, client=(address, 50000))
        self.token: str | None = None

    def get(self, url: str, **kw):
        r = self.http.get(url, **kw)
        if m := CSRF_RE.search(r.text or ""):
            self.token = m.group(1)
        return r

    def post(self, url: str, data: dict | None = None, *, token: bool = True, **kw):
        data = dict(data or {})
        if token:
            data.setdefault("csrf_token", self.token)
        return self.http.post(url, data=data, **kw)

    def login(self, username: str, password: str = PASSWORD):
        self.get("/accesso")
        r = self.post("/accesso", {"username": username, "password": password})
        assert r.status_code == 303, r.text
        self.get("/coda")
        return r


@pytest.fixture
def client(web) -> Client:
    return Client(web)


@pytest.fixture
def login(web):
    """login('op.mi') -> a logged-in Client; several users can be logged in at once."""
    def make(username: str) -> Client:
        c = Client(web)
        c.login(username)
        return c
    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(srv):
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        if time.monotonic() > deadline or not t.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{srv.config.port}"
    srv.should_exit = True
    t.join(10)


@pytest.fixture
def server(app, seeded):
    """The real app under uvicorn, in a thread, on a free 127.0.0.1 port."""
    import uvicorn

    from backoffice.app import create_app

    calls = []
    web = create_app(app, reprocess=lambda a, message_id: calls.append(message_id))
    config = uvicorn.Config(web, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="off")
    yield from _serve(uvicorn.Server(config))


@pytest.fixture
def proxied_server(app, seeded):
    """The back office as `sportello run` serves it (X-Forwarded-For believed from [backoffice]
    trusted_proxies, 127.0.0.1 by default): the test plays the nginx in front and says who the client is."""
    from sportello.service import _web_server

    yield from _serve(_web_server(app, "127.0.0.1", free_port()))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="it-IT")
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.console_errors = errors
    yield pg
    ctx.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # sticky bars draw once, at the top
    page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(path), full_page=True)
    return path

"""CSRF, escaping, sessions, headers, cookies, rate limits."""

from __future__ import annotations

import os
import re
import stat

from fastapi.routing import APIRoute
from sqlalchemy import select

from backoffice.users import disable_user, reset_password
from db.models import Request
from tests.backoffice.conftest import CSRF_RE, Client
from tests.backoffice.seed import XSS_FILENAME, XSS_SUBJECT, XSS_SURNAME


def post_paths(routes):
    """Every POST route of the app, routers included (FastAPI wraps included routers)."""
    for r in routes:
        if hasattr(r, "original_router"):
            yield from post_paths(r.original_router.routes)
        elif isinstance(r, APIRoute) and "POST" in r.methods:
            yield r.path


def _fill(path: str, seeded) -> str:
    return (path.replace("{reference}", seeded.refs["c"]).replace("{message_id}", str(seeded.failed_message_id))
            .replace("{attachment_id}", str(seeded.attachments["a_id"])).replace("{page}", "1"))


def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(web, login, seeded, app):
    from backoffice.app import create_app

    web = create_app(app, reprocess=lambda a, m: None)
    c = Client(web)
    c.login("sup")
    with app.db.session() as s:
        version = s.get(Request, seeded.ids["c"]).version
    data = {"outcome": "ready", "version": version, "reason": "motivo lungo", "target": "request",
            "field": "holder_surname", "value": "X", "assignee": "sup", "subject": "s", "body": "b",
            "nonce": "a" * 32, "q": "x"}
    posts = sorted(set(post_paths(web.routes)))
    assert len(posts) >= 12
    for path in posts:
        url = _fill(path, seeded)
        assert c.post(url, data, token=False).status_code == 403, url
        assert c.post(url, {**data, "csrf_token": "x" * 43}).status_code == 403, url
        assert c.post(url, data, token=True, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403, url
    with app.db.session() as s:
        r = s.get(Request, seeded.ids["c"])
        assert (r.status, r.assigned_to, r.version) == ("needs_review", None, version)
    # The same token does work: the refusals above were the token's doing.
    assert c.post(f"/pratiche/{seeded.refs['c']}/prendi").status_code == 303


def test_login_itself_needs_the_token(client):
    client.get("/accesso")
    r = client.post("/accesso", {"username": "op.mi", "password": "password-di-prova"}, token=False)
    assert r.status_code == 403


def test_html_in_subjects_filenames_and_names_is_shown_as_text(login, seeded):
    mi = login("op.mi")
    page = mi.get(f"/pratiche/{seeded.refs['xss']}").text
    for raw in (XSS_SUBJECT, XSS_FILENAME, XSS_SURNAME, "<script>alert('corpo')</script>"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#34;oggetto&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page
    assert "&lt;b&gt;GRASSETTO&lt;/b&gt;" in page
    assert "<script" not in page.lower()
    queue = mi.get("/coda").text
    assert XSS_SURNAME not in queue and "&lt;b&gt;GRASSETTO&lt;/b&gt;" in queue
    failed = mi.get("/intake-non-riuscite").text
    assert "<script>alert('errore')" not in failed and "<i>Fwd:</i>" not in failed
    # Downloading the original never lets the browser interpret it.
    att = re.search(r'/allegati/(\d+)/originale', page).group(1)
    r = mi.get(f"/pratiche/{seeded.refs['xss']}/allegati/{att}/originale")
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "<" not in r.headers["content-disposition"].split("filename*=")[0]


def test_a_disabled_users_session_stops_working(login, app):
    mi = login("op.mi")
    assert mi.get("/coda").status_code == 200
    disable_user(app, "op.mi")
    r = mi.get("/coda")
    assert r.status_code == 303 and r.headers["location"].startswith("/accesso")
    assert mi.get("/coda").status_code == 303  # and stays out
    mi.get("/accesso")
    r = mi.post("/accesso", {"username": "op.mi", "password": "password-di-prova"})
    assert r.status_code == 401  # cannot log in again either


def test_a_password_reset_ends_open_sessions(login, app):
    sup = login("sup")
    reset_password(app, "sup", "una-password-nuova")
    assert sup.get("/coda").status_code == 303
    c = Client(sup.http.app)
    c.login("sup", "una-password-nuova")
    assert c.get("/coda").status_code == 200


def test_logout_ends_the_session(login):
    mi = login("op.mi")
    assert mi.post("/esci").status_code == 303
    assert mi.get("/coda").status_code == 303


def test_a_tampered_cookie_is_no_session(login, web):
    mi = login("op.mi")
    value = mi.http.cookies.get("sportello_session")
    forged = Client(web)
    forged.http.cookies.set("sportello_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert forged.get("/coda").status_code == 303


def test_logins_are_rate_limited(client):
    client.get("/accesso")
    for _ in range(5):
        assert client.post("/accesso", {"username": "op.mi", "password": "sbagliata!!"}).status_code == 401
    r = client.post("/accesso", {"username": "op.mi", "password": "password-di-prova"})
    assert r.status_code == 429 and "Troppi tentativi" in r.text
    # Another user is not locked out by op.mi's failures.
    assert client.post("/accesso", {"username": "sup", "password": "password-di-prova"}).status_code == 303


def test_security_headers_and_no_store(login, seeded):
    mi = login("op.mi")
    for url in ("/coda", f"/pratiche/{seeded.refs['a']}", f"/pratiche/{seeded.refs['a']}/allegati/{seeded.attachments['a_id']}"):
        r = mi.get(url)
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cache-control"] == "no-store"
    for page in (1, 2):
        r = mi.get(f"/pratiche/{seeded.refs['a']}/allegati/{seeded.attachments['a_form']}/pagina/{page}?dim=grande")
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert r.headers["cache-control"] == "no-store"
        assert r.content[:3] == b"\xff\xd8\xff"  # re-encoded by us, not the citizen's bytes
    r = mi.get(f"/pratiche/{seeded.refs['a']}/allegati/{seeded.attachments['a_id']}/originale")
    assert r.headers["cache-control"] == "no-store"
    page = mi.get(f"/pratiche/{seeded.refs['a']}").text
    assert " style=" not in page and "<script" not in page  # nothing the CSP would have to block
    assert mi.get("/static/sportello.css").status_code == 200
    assert mi.get("/docs").status_code == 404 and mi.get("/openapi.json").status_code == 404


def _login_cookie(web, base_url: str) -> str:
    """The session cookie as set by the login page (its CSRF token starts the session)."""
    from starlette.testclient import TestClient

    http = TestClient(web, base_url=base_url, follow_redirects=False)
    r = http.get("/accesso")
    assert CSRF_RE.search(r.text)
    return r.headers["set-cookie"]


def _with_secure(app, value):
    from config.settings import BackofficeSettings
    from db.app import App

    return App(app.settings.model_copy(update={"backoffice": BackofficeSettings(secure_cookies=value)}))


def test_session_cookie_flags(app, seeded):
    from backoffice.app import create_app

    # Default ("auto"): Secure unless the host served is loopback.
    assert app.settings.backoffice.secure_cookies == "auto"
    web = create_app(app)
    for base in ("http://127.0.0.1", "http://localhost:8000", "http://[::1]:8000"):
        cookie = _login_cookie(web, base).lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie, base
    for base in ("http://sportello.example.org", "https://sportello.example.org", "http://10.1.2.3:8000",
                 "https://127.0.0.1"):
        cookie = _login_cookie(web, base).lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "; secure" in cookie, base
    from starlette.testclient import TestClient

    r = TestClient(web, base_url="https://sportello.example.org").get("/accesso")
    assert r.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in TestClient(web, base_url="http://127.0.0.1").get("/accesso").headers

    for value, expected in ((True, True), (False, False)):
        other = _with_secure(app, value)
        try:
            web = create_app(other)
            for base in ("http://127.0.0.1", "https://sportello.example.org"):
                assert ("; secure" in _login_cookie(web, base).lower()) is expected, (value, base)
            r = TestClient(web, base_url="http://127.0.0.1").get("/accesso")
            assert ("strict-transport-security" in r.headers) is expected
        finally:
            other.close()


def test_the_session_cookie_is_opaque(login, seeded):
    import base64

    mi = login("op.mi")
    assert mi.post("/coda/cerca", {"q": "ROSSI"}).status_code == 303  # a search term sits in the session too
    value = mi.http.cookies.get("sportello_session")
    padded = value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4)
    views = [value.encode(), base64.b64decode(padded)]
    for part in value.split("."):  # itsdangerous' layout: payload.timestamp.signature
        try:
            views.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        except ValueError:
            pass
    for secret in (b"uid", b"epoch", b"op.mi", b"operator", b"csrf", mi.token.encode(), b"ROSSI", b"seen"):
        assert not any(secret in v for v in views), secret
    assert mi.get("/coda").status_code == 200 and "ROSSI" in mi.get("/coda").text


def test_a_session_cookie_past_its_age_is_no_session(app):
    from backoffice.session import SessionSeal

    seal = SessionSeal("k" * 40, "sportello_session")
    sealed = seal.seal({"uid": 1}, now=1_000_000)
    assert seal.open(sealed, max_age=3600, now=1_000_000 + 3599) == {"uid": 1}
    assert seal.open(sealed, max_age=3600, now=1_000_000 + 3601) is None
    assert SessionSeal("j" * 40, "sportello_session").open(sealed, max_age=None) is None  # another secret
    assert SessionSeal("k" * 40, "other_cookie").open(sealed, max_age=None) is None


def test_secret_key_is_persisted_private(app):
    from db.secret import load_secret_key

    key = load_secret_key(app.settings)
    path = app.settings.data_dir / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret_key(app.settings) == key and len(key) >= 32


def test_secret_key_from_the_environment(app, monkeypatch):
    from db.secret import load_secret_key
    from config.settings import BackofficeSettings

    settings = app.settings.model_copy(update={"backoffice": BackofficeSettings(secret_key_env="TEST_BO_SECRET")})
    monkeypatch.setenv("TEST_BO_SECRET", "s" * 40)
    assert load_secret_key(settings) == "s" * 40


def test_codice_fiscale_is_never_logged(login, seeded, app, caplog):
    with app.db.session() as s:
        cf = s.scalar(select(Request.holder_codice_fiscale).where(Request.id == seeded.ids["a"]))
    mi = login("op.mi")
    with caplog.at_level("DEBUG"):
        mi.get(mi.post("/coda/cerca", {"q": cf}).headers["location"])
        mi.get(f"/pratiche/{seeded.refs['a']}")
        mi.post(f"/pratiche/{seeded.refs['a']}/correggi",
                {"target": "request", "field": "holder_codice_fiscale", "value": cf[:-1] + "Y", "version": 999})
    assert cf not in caplog.text and cf[:-1] not in caplog.text


def test_an_unexpected_error_is_a_plain_page_and_its_message_is_not_logged(login, monkeypatch, caplog):
    import backoffice.queue

    cf = "RSSMRA80A01F" + "205X"  # built at run time: the traceback's source lines must not hold it

    def broken(*args, **kwargs):
        raise RuntimeError(f"UPDATE requests SET holder_codice_fiscale='{cf}'")

    mi = login("op.mi")
    monkeypatch.setattr(backoffice.queue, "queue_rows", broken)
    with caplog.at_level("DEBUG"):
        r = mi.get("/coda")
    assert r.status_code == 500 and "Si è verificato un errore" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "RuntimeError" in caplog.text and cf not in caplog.text


def test_the_client_throttle_is_shared_by_every_node_through_redis(app, seeded):
    """Two back offices (two nodes) on the machine's Redis: failures seen by one block the client on both."""
    import uuid

    from backoffice.app import create_app
    from backoffice.auth import MAX_FAILURES_PER_CLIENT

    db = 1 + uuid.uuid4().int % 14  # a Redis database of our own for this test, flushed after it
    storage = f"redis://127.0.0.1:6379/{db}"
    from dataclasses import replace as dc_replace

    settings = app.settings.model_copy(
        update={"backoffice": app.settings.backoffice.model_copy(update={"throttle_storage": storage})})
    node_app = dc_replace(app, settings=settings)
    nodes = [Client(create_app(node_app)), Client(create_app(node_app))]
    try:
        for i in range(MAX_FAILURES_PER_CLIENT):
            node = nodes[i % 2]
            node.get("/accesso")
            user = f"nobody{i}"  # a different name each time: only the client limit can trip
            assert node.post("/accesso", {"username": user, "password": "sbagliata!!"}).status_code == 401
        for node in nodes:
            node.get("/accesso")
            r = node.post("/accesso", {"username": "sup", "password": "password-di-prova"})
            assert r.status_code == 429 and "Troppi tentativi" in r.text
    finally:
        import redis

        redis.Redis.from_url(storage).flushdb()

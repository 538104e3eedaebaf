"""Security plumbing: response headers, CSRF tokens (the session secret is db.secret).

CSRF uses the synchronizer-token pattern: one random token per session,
a hidden `csrf_token` field in every form, checked on every non-safe method
by a dependency the app installs globally, so a new POST route cannot forget it.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from starlette.requests import HTTPConnection

from backoffice.session import SecureMode, wants_secure


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


class CsrfError(Exception):
    """A state-changing request without a valid token: refused with 403."""


def csrf_token(request: Request) -> str:
    """The session's token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def new_csrf_token(request: Request) -> str:
    request.session["csrf"] = secrets.token_urlsafe(32)
    return request.session["csrf"]


async def verify_csrf(request: HTTPConnection) -> None:
    """Installed on every route: non-safe methods must carry the session's token.

    A websocket has no method: its routes check the Origin themselves (backoffice.call_pages).
    """
    if request.scope["type"] != "http" or request.method in SAFE_METHODS:
        return
    # Browsers say where a request comes from; a cross-site post is never ours.
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfError("cross-site request")
    expected = request.session.get("csrf")
    sent = None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError("missing or wrong CSRF token")


class SecurityHeaders:
    """ASGI middleware: the same strict headers on every response.

    Everything but the static files is `no-store`: the pages carry personal
    data and the scans of identity documents, which no browser cache may keep.
    """

    def __init__(self, app, *, hsts: SecureMode = False):
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                if not any(k.lower() == b"permissions-policy" for k, _ in headers):  # the call pages set their own
                    headers.append((b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"cross-origin-resource-policy", b"same-origin"),
                ]
                if static:
                    headers.append((b"cache-control", b"no-cache"))
                else:
                    headers += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
                if wants_secure(self.hsts, scope):
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

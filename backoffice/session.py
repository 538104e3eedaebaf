"""The session cookie: sealed, so it carries nothing readable, and Secure unless served on loopback.

Starlette's SessionMiddleware signs the session but leaves it readable (base64
JSON: the user id, the CSRF token, the flash messages). Here the whole session
is sealed with AES-256-GCM under a key derived from the installation's secret
(db.secret), the issue time inside it: to anyone holding the cookie it is an
opaque string, and a changed byte makes it no session at all.

`[backoffice] secure_cookies`: "auto" (the default) marks the cookie Secure
unless the request was for a loopback host (127.0.0.1, ::1, localhost: the
demo on plain HTTP), so a server behind HTTPS whose setting was forgotten does
not hand its sessions to plain HTTP; true always, false never.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import time
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import Session
from starlette.requests import HTTPConnection

SecureMode = bool | Literal["auto"]
_NONCE = 12


def is_loopback(host: str | None) -> bool:
    host = (host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def wants_secure(mode: SecureMode, scope) -> bool:
    """Whether this response's cookies get the Secure flag (and HSTS, which is Secure's twin)."""
    if mode != "auto":
        return bool(mode)
    if scope.get("scheme") in ("https", "wss"):
        return True
    return not is_loopback(HTTPConnection(scope).url.hostname)


class SessionSeal:
    """AES-256-GCM over the session's JSON, the cookie's name as associated data."""

    def __init__(self, secret: str, cookie: str):
        self.aead = AESGCM(hashlib.sha256(b"sportello session cookie v1\0" + secret.encode()).digest())
        self.aad = cookie.encode()

    def seal(self, session: dict, now: float | None = None) -> str:
        nonce = os.urandom(_NONCE)
        plain = json.dumps({"t": int(now if now is not None else time.time()), "s": session},
                           separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(nonce + self.aead.encrypt(nonce, plain, self.aad)).decode().rstrip("=")

    def open(self, value: str, max_age: int | None, now: float | None = None) -> dict | None:
        """The session, or None when the cookie is not ours, was changed or is older than max_age."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            data = json.loads(self.aead.decrypt(raw[:_NONCE], raw[_NONCE:], self.aad))
        except (ValueError, InvalidTag):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("s"), dict):
            return None
        if max_age is not None and (now if now is not None else time.time()) - data.get("t", 0) > max_age:
            return None
        return data["s"]


class SealedSessionMiddleware:
    """Starlette's session interface (request.session) over a sealed cookie."""

    def __init__(self, app, *, secret_key: str, session_cookie: str, max_age: int | None,
                 same_site: str = "lax", secure: SecureMode = "auto"):
        self.app = app
        self.seal = SessionSeal(secret_key, session_cookie)
        self.cookie = session_cookie
        self.max_age = max_age
        self.same_site = same_site
        self.secure = secure

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        value = HTTPConnection(scope).cookies.get(self.cookie)
        data = self.seal.open(value, self.max_age) if value else None
        scope["session"] = Session(data or {})
        had_session = data is not None

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                session: Session = scope["session"]
                headers = MutableHeaders(scope=message)
                if session.accessed:
                    headers.add_vary_header("Cookie")
                flags = f"path=/; httponly; samesite={self.same_site}"
                if wants_secure(self.secure, scope):
                    flags += "; secure"
                if session.modified and session:
                    age = f"; Max-Age={self.max_age}" if self.max_age is not None else ""
                    headers.append("Set-Cookie", f"{self.cookie}={self.seal.seal(dict(session))}; {flags}{age}")
                elif session.modified and had_session:
                    headers.append("Set-Cookie", f"{self.cookie}=; {flags}; expires=Thu, 01 Jan 1970 00:00:00 GMT")
            await send(message)

        await self.app(scope, receive, send_wrapper)

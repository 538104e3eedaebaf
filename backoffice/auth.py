"""Logging in and out, the current user, and the login rate limit.

The session cookie (sealed with AES-GCM by backoffice/session.py, HTTP-only, SameSite=Lax, Secure
when configured) carries the user id and the user's session epoch; any
change to the account (disabled, password reset) bumps the epoch in the
database and every open session of that user stops working at once.
Failed logins slow down the address they come from (backoffice/throttle.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from backoffice.passwords import hash_password, needs_rehash, verify_password
from backoffice.labels import LOGIN_FAILED, LOGIN_THROTTLED
from backoffice.security import new_csrf_token
from backoffice.throttle import MAX_FAILURES_PER_CLIENT, LoginThrottle, wait_text  # noqa: F401 - re-exported
from backoffice.templating import flash, render
from db import lifecycle
from db.models import User

log = logging.getLogger(__name__)
IDLE_TIMEOUT = 2 * 3600     # seconds without a request before the session ends

router = APIRouter()


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    full_name: str
    role: str
    provinces: tuple[str, ...]

    @property
    def supervises(self) -> bool:
        return self.role in ("supervisor", "admin")

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class LoginRequired(Exception):
    def __init__(self, expired: bool = False):
        self.expired = expired


def current_user(request: Request) -> CurrentUser:
    """The logged-in, still active user with a current session; else LoginRequired."""
    uid, epoch = request.session.get("uid"), request.session.get("epoch")
    if uid is None:
        raise LoginRequired()
    now = int(time.time())
    if now - int(request.session.get("seen", 0)) > IDLE_TIMEOUT:
        request.session.clear()
        raise LoginRequired(expired=True)
    with request.app.state.sportello.db.session() as s:
        u = s.get(User, uid)
        if u is None or not u.active or u.session_epoch != epoch:
            request.session.clear()
            raise LoginRequired(expired=True)
        user = CurrentUser(u.id, u.username, u.full_name or "", u.role, tuple(u.provinces or ()))
    request.session["seen"] = now
    return user


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/coda"


@router.get("/accesso")
def login_form(request: Request, next: str | None = None):
    if request.session.get("uid"):
        return RedirectResponse("/coda", status_code=303)
    return render(request, "login.html", next=_safe_next(next), username="", error=None)


@router.post("/accesso")
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/coda")):
    app = request.app.state.sportello
    throttle: LoginThrottle = request.app.state.login_throttle
    name = username.strip().lower()[:80]
    client = request.client.host if request.client else "?"
    refusal = throttle.check(name, client)
    if refusal is not None:
        # Refused before the password is looked at: the account itself is not locked.
        log.warning("login throttled: client %s, retry after %d s", client, refusal.retry_after)
        response = render(request, "login.html", status_code=429, next=_safe_next(next), username=name,
                          error=LOGIN_THROTTLED.format(wait=wait_text(refusal.retry_after)))
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    with app.db.session() as s:
        u = s.scalar(select(User).where(User.username == name)) if name else None
        ok = verify_password(u.password_hash if u else None, password) and u is not None and u.active
        if not ok:
            throttle.failed(name, client)
            # A name that is no account may be a password typed in the wrong box: never logged.
            known = u.username if u is not None else "?"
            log.warning("login failed: user %s, client %s", known, client)
            lifecycle.record(s, None, "login_failed", known, {"client": client})
        else:
            if needs_rehash(u.password_hash):
                u.password_hash = hash_password(password)
            lifecycle.record(s, None, "login", u.username, {"client": client})
            uid, epoch = u.id, u.session_epoch
    if not ok:
        return render(request, "login.html", status_code=401, next=_safe_next(next), username=name,
                      error=LOGIN_FAILED)
    throttle.succeeded(name, client)
    request.session.clear()  # a fresh session: nothing from before the login survives
    request.session.update(uid=uid, epoch=epoch, seen=int(time.time()))
    new_csrf_token(request)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/esci")
def logout(request: Request, user: CurrentUser = Depends(current_user)):
    with request.app.state.sportello.db.session() as s:
        lifecycle.record(s, None, "logout", user.username, {})
    request.session.clear()
    flash(request, "ok", "Sei uscito dal back office.")
    return RedirectResponse("/accesso", status_code=303)

"""Logging in and out, the current user, and the login rate limit.

The session cookie (signed by itsdangerous, HTTP-only, SameSite=Lax, Secure
when configured) carries the user id and the user's session epoch; any
change to the account (disabled, password reset) bumps the epoch in the
database and every open session of that user stops working at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Request
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select

from backoffice.passwords import hash_password, needs_rehash, verify_password
from backoffice.security import new_csrf_token
from backoffice.templating import flash, render
from db import lifecycle
from db.models import Event, User, as_utc, utcnow

IDLE_TIMEOUT = 2 * 3600     # seconds without a request before the session ends
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5   # within WINDOW: then that username waits
MAX_FAILURES_PER_CLIENT = 20

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


class ClientThrottle:
    """Failed logins per client address, over a moving window (the per-username limit is in the database).

    Kept by `limits` in the storage `[backoffice] throttle_storage` names:
    "memory://" for one node, "redis://host:6379" so that every node behind
    a balancer counts the same failures.
    """

    def __init__(self, limit: int, window: float, storage: str = "memory://"):
        self.item = RateLimitItemPerSecond(limit, int(window))
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage))

    def blocked(self, key: str) -> bool:
        return not self.limiter.test(self.item, "login", key)

    def failed(self, key: str) -> None:
        self.limiter.hit(self.item, "login", key)


def _recent_failures(s, username: str) -> int:
    since = utcnow() - WINDOW
    last_ok = s.scalar(select(func.max(Event.at)).where(
        Event.kind == "login", Event.actor == username, Event.request_id.is_(None)))
    if last_ok is not None and as_utc(last_ok) > since:
        since = as_utc(last_ok)
    return s.scalar(select(func.count()).select_from(Event).where(
        Event.kind == "login_failed", Event.actor == username, Event.at > since, Event.request_id.is_(None)))


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
    throttle: ClientThrottle = request.app.state.login_throttle
    name = username.strip().lower()[:80]
    client = request.client.host if request.client else "?"
    with app.db.session() as s:
        if throttle.blocked(client) or (name and _recent_failures(s, name) >= MAX_FAILURES_PER_USER):
            return render(request, "login.html", status_code=429, next=_safe_next(next), username=name,
                          error="Troppi tentativi non riusciti. Attendi qualche minuto e riprova.")
        u = s.scalar(select(User).where(User.username == name)) if name else None
        ok = verify_password(u.password_hash if u else None, password) and u is not None and u.active
        if not ok:
            throttle.failed(client)
            lifecycle.record(s, None, "login_failed", name or "?", {})
        else:
            if needs_rehash(u.password_hash):
                u.password_hash = hash_password(password)
            lifecycle.record(s, None, "login", u.username, {})
            uid, epoch = u.id, u.session_epoch
    if not ok:
        return render(request, "login.html", status_code=401, next=_safe_next(next), username=name,
                      error="Nome utente o password non corretti.")
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

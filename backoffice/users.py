"""Back-office accounts: created, disabled and reset from the command line.

Every change is an event (request-less) and bumps the user's session epoch,
so that a disabled user or a reset password ends the sessions already open.
"""

from __future__ import annotations

import re
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backoffice.passwords import hash_password, password_problem
from config.settings import PROVINCES
from db import lifecycle
from db.models import User
from db.app import App

ROLES = ("operator", "supervisor", "admin")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")

# The embedded demo's account, documented in the README and printed by `sportello demo`.
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-sportello"


class UserError(ValueError):
    """A user-management request that cannot be done, with a one-line reason."""


def _provinces(provinces: Iterable[str]) -> list[str]:
    out: list[str] = []
    for p in provinces:
        code = p.strip().upper()
        if code not in PROVINCES:
            raise UserError(f"unknown province {p!r}; one of {', '.join(PROVINCES)}")
        if code not in out:
            out.append(code)
    if not out:
        raise UserError("give at least one province")
    return sorted(out)


def _get(session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def add_user(app: App, username: str, password: str, role: str, provinces: Iterable[str],
             full_name: str = "", *, actor: str = "cli") -> None:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise UserError("username: 2-80 characters among a-z 0-9 . _ -, starting with a letter or digit")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    provs = _provinces(provinces)
    if problem := password_problem(password, username):
        raise UserError(problem)
    with app.db.session() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise UserError(f"user {username!r} already exists")
        s.add(User(username=username, full_name=full_name.strip(), password_hash=hash_password(password),
                   role=role, provinces=provs, active=True, session_epoch=1))
        lifecycle.record(s, None, "user_added", actor, {"username": username, "role": role, "provinces": provs})


def disable_user(app: App, username: str, *, actor: str = "cli") -> None:
    with app.db.session() as s:
        user = _get(s, username)
        user.active = False
        user.session_epoch += 1
        lifecycle.record(s, None, "user_disabled", actor, {"username": user.username})


def reset_password(app: App, username: str, password: str, *, actor: str = "cli") -> None:
    with app.db.session() as s:
        user = _get(s, username)
        if problem := password_problem(password, user.username):
            raise UserError(problem)
        user.password_hash = hash_password(password)
        user.session_epoch += 1
        lifecycle.record(s, None, "password_reset", actor, {"username": user.username})


def list_users(app: App) -> list[dict]:
    """Every account, by username: what an admin needs to see, never the password hash."""
    with app.db.session() as s:
        return [{"username": u.username, "full_name": u.full_name or "", "role": u.role,
                 "provinces": list(u.provinces or []), "active": bool(u.active)}
                for u in s.scalars(select(User).order_by(User.username))]


def ensure_demo_operator(app: App) -> tuple[str, str]:
    """The embedded demo's account (all provinces), created only if absent."""
    with app.db.session() as s:
        exists = s.scalar(select(User.id).where(User.username == DEMO_USERNAME)) is not None
    if not exists:
        try:
            add_user(app, DEMO_USERNAME, DEMO_PASSWORD, "supervisor", PROVINCES, "Operatore dimostrativo",
                     actor="demo")
        except (UserError, IntegrityError):  # created meanwhile by another process
            pass
    return DEMO_USERNAME, DEMO_PASSWORD


def users_for_province(session, province: str) -> list[User]:
    """Active users who may work on this province's requests (assignment choices)."""
    rows = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)).all()
    return [u for u in rows if province in (u.provinces or [])]

"""The counts the navigation shows on every page (a query each, no request handling)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from db.models import Message


def failed_intake_clauses(provinces: Iterable[str]):
    """The WHERE clauses of the quarantined messages of these provinces."""
    return (Message.intake_status == "failed", Message.province.in_(list(provinces)))


def failed_intake_count(app, provinces: Iterable[str]) -> int:
    """How many messages of these provinces intake could not read (the nav badge)."""
    with app.db.session() as s:
        return s.scalar(select(func.count()).select_from(Message).where(*failed_intake_clauses(provinces))) or 0

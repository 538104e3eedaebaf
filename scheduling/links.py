"""The citizen's booking link: signed, for one request, expiring, single use.

The token carries the request's id, its `version` when the link was made and
an expiry (Unix time). It opens only while the request still has that
version: booking through it, asking to be called, or any change of status
bumps the version, so a used link or one made before a change stops working.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "sportello.booking-link"


class LinkInvalid(Exception):
    """reason: 'bad' (not ours or tampered), 'expired', 'used'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    request_id: int
    version: int
    expires: int  # Unix time


def make_token(secret: str, request_id: int, version: int, now: datetime, valid_hours: int) -> str:
    expires = int((now + timedelta(hours=valid_hours)).timestamp())
    return URLSafeSerializer(secret, salt=SALT).dumps({"r": request_id, "v": version, "e": expires})


def read_token(secret: str, token: str, now: datetime) -> Link:
    """The link, or LinkInvalid('bad' | 'expired'); 'used' is for the caller, who knows the version."""
    try:
        data = URLSafeSerializer(secret, salt=SALT).loads(token)
        link = Link(int(data["r"]), int(data["v"]), int(data["e"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid("bad") from None
    if now.timestamp() >= link.expires:
        raise LinkInvalid("expired")
    return link


CALL_SALT = "sportello.call-link"
CALL_OPENS_BEFORE = timedelta(minutes=15)


@dataclass(frozen=True)
class CallLink:
    booking_id: int
    sequence: int  # the booking's `sequence` when the link was made: a moved call gets a new link


def make_call_token(secret: str, booking_id: int, sequence: int) -> str:
    """The citizen's link to the call page; it opens from CALL_OPENS_BEFORE the slot to its end."""
    return URLSafeSerializer(secret, salt=CALL_SALT).dumps({"b": booking_id, "q": sequence})


def read_call_token(secret: str, token: str) -> CallLink:
    """The link, or LinkInvalid('bad'); its time window is the caller's (it knows the booking)."""
    try:
        data = URLSafeSerializer(secret, salt=CALL_SALT).loads(token)
        return CallLink(int(data["b"]), int(data["q"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid("bad") from None


def call_window(start: datetime, end: datetime, now: datetime) -> str | None:
    """None while the call page is open; 'early' before CALL_OPENS_BEFORE the slot, 'over' after its end."""
    if now < start - CALL_OPENS_BEFORE:
        return "early"
    if now >= end:
        return "over"
    return None

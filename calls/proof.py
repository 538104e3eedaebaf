"""Proof of the channel: a one-time code sent to the citizen's number and read back on the call.

The code exists in clear only in the text handed to the gateway; the proof
keeps its salted SHA-256 in memory, for `valid_seconds`, for `max_attempts`
tries, and forgets it once used. Nothing is stored or logged: the call's
record gets `channel_verified` and the masked number (calls.identification).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Callable

from calls.channels import SmsGateway, mask

CODE_DIGITS = 6
TEXT = "spazioRegione: il codice da dire all'operatore in videochiamata è {code}. Non comunicarlo ad altri."


class ChannelProof:
    def __init__(self, gateway: SmsGateway, phone: str, *, valid_seconds: int = 300, max_attempts: int = 3,
                 clock: Callable[[], float] = time.monotonic):
        self.phone, self.masked = phone, mask(phone)
        self._gateway, self._clock = gateway, clock
        self._valid, self._attempts_left = valid_seconds, max_attempts
        self._salt = secrets.token_bytes(16)
        self._digest: bytes | None = None
        self._sent_at = 0.0

    def _hash(self, code: str) -> bytes:
        return hashlib.sha256(self._salt + code.encode()).digest()

    def __repr__(self) -> str:
        return f"ChannelProof({self.masked})"

    def send(self) -> None:
        """A new code to the number (a resend replaces the old one)."""
        code = "".join(str(secrets.randbelow(10)) for _ in range(CODE_DIGITS))
        self._digest, self._sent_at = self._hash(code), self._clock()
        self._gateway.send(self.phone, TEXT.format(code=code))

    def check(self, said: str) -> bool:
        """Whether `said` is the code sent: once, in time, within the attempts."""
        if self._digest is None or self._attempts_left <= 0 or self._clock() - self._sent_at > self._valid:
            self._digest = None
            return False
        self._attempts_left -= 1
        ok = hmac.compare_digest(self._digest, self._hash("".join(ch for ch in said if ch.isdigit())))
        if ok:
            self._digest = None  # used
        return ok

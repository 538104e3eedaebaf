"""The Region's PIN/PUK issuer, behind an interface: `LocalIssuer` for the demo and tests, `HttpsIssuer` for production.

The codes live in a `Codes` object for the length of one release: its repr
shows nothing, it is never stored, logged or put in an event. The PIN has 5
digits and the PUK 8 (SPEC.md "The three forms"); the operator reads the
first 2 of each on the call, the other 3 and 6 go to the verified channel.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import ssl
import urllib.request
from dataclasses import dataclass, field
from typing import Protocol

PIN_DIGITS, PUK_DIGITS = 5, 8
SAID_ON_THE_CALL = 2  # digits of each code the operator reads out


class IssuerError(Exception):
    """The issuer did not give valid codes (the message never contains one)."""


@dataclass(frozen=True)
class Codes:
    pin: str = field(repr=False)
    puk: str = field(repr=False)

    def __post_init__(self) -> None:
        if not (re.fullmatch(rf"\d{{{PIN_DIGITS}}}", self.pin or "") and re.fullmatch(rf"\d{{{PUK_DIGITS}}}", self.puk or "")):
            raise IssuerError(f"the issuer's codes are not {PIN_DIGITS} + {PUK_DIGITS} digits")

    def __repr__(self) -> str:
        return "Codes(<hidden>)"

    __str__ = __repr__

    @property
    def on_the_call(self) -> tuple[str, str]:
        return self.pin[:SAID_ON_THE_CALL], self.puk[:SAID_ON_THE_CALL]

    @property
    def to_the_channel(self) -> tuple[str, str]:
        return self.pin[SAID_ON_THE_CALL:], self.puk[SAID_ON_THE_CALL:]


class Issuer(Protocol):
    def issue(self, reference: str, card_number: str | None) -> Codes: ...


class LocalIssuer:
    """Random codes made here (demo, tests); `rng` makes them reproducible in a test."""

    def __init__(self, rng: random.Random | None = None):
        self._rng = rng

    def _digits(self, n: int) -> str:
        if self._rng is not None:
            return "".join(str(self._rng.randrange(10)) for _ in range(n))
        return "".join(str(secrets.randbelow(10)) for _ in range(n))

    def issue(self, reference: str, card_number: str | None) -> Codes:
        return Codes(self._digits(PIN_DIGITS), self._digits(PUK_DIGITS))


class HttpsIssuer:
    """The Region's issuer over mutual TLS: POST {reference, card_number}, answer {"pin", "puk"}.

    The endpoint's contract is an assumption until the Region publishes it; only
    the transport (client certificate, server verified against `ca_file`) is settled.
    """

    def __init__(self, url: str, cert_file: str, key_file: str, ca_file: str | None = None, timeout: float = 15):
        if not url.startswith("https://"):
            raise ValueError("the issuer is reached over HTTPS only")
        self.url, self.timeout = url, timeout
        self._ctx = ssl.create_default_context(cafile=ca_file)
        self._ctx.load_cert_chain(cert_file, key_file)

    def issue(self, reference: str, card_number: str | None) -> Codes:
        body = json.dumps({"reference": reference, "card_number": card_number}).encode()
        req = urllib.request.Request(self.url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self._ctx) as resp:
                data = json.loads(resp.read(4096))
        except Exception as exc:  # noqa: BLE001 - the message is the type only: a body could hold codes
            raise IssuerError(f"issuer unreachable or invalid answer ({type(exc).__name__})") from None
        if not isinstance(data, dict):
            raise IssuerError("invalid answer from the issuer")
        return Codes(str(data.get("pin", "")), str(data.get("puk", "")))

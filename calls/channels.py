"""The verified channel the second part of the codes goes to: an SMS gateway behind an interface.

`MemoryGateway` is the local one (demo and tests: the "phone" keeps the texts
in memory), `HttpSmsGateway` posts to a configurable provider. `deliver`
hands the text to the gateway from memory: nothing holding a code is ever
written to disk, not even for a retry (a failed delivery is a new issue of
the codes, never a copy kept).
"""

from __future__ import annotations

import json
import os
import re
import ssl
import urllib.request
from typing import Protocol


class GatewayError(Exception):
    """The text was not delivered (the message never contains it)."""


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class MemoryGateway:
    """The local gateway: texts kept in memory, per number, for the demo's screen and the tests."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))


class HttpSmsGateway:
    """A provider's HTTP API: POST {"to", "text"} as JSON with a bearer token from the environment."""

    def __init__(self, url: str, token_env: str | None = None, sender: str | None = None, timeout: float = 15,
                 ca_file: str | None = None):
        if not url.startswith("https://"):
            raise ValueError("the SMS gateway is reached over HTTPS only")
        self.url, self.token_env, self.sender, self.timeout = url, token_env, sender, timeout
        self._ctx = ssl.create_default_context(cafile=ca_file)

    def send(self, phone: str, text: str) -> None:
        headers = {"Content-Type": "application/json"}
        if self.token_env:
            headers["Authorization"] = f"Bearer {os.environ.get(self.token_env, '')}"
        body = {"to": phone, "text": text, **({"from": self.sender} if self.sender else {})}
        req = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self._ctx) as resp:
                if resp.status >= 300:
                    raise GatewayError(f"gateway answered {resp.status}")
        except GatewayError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise GatewayError(f"gateway unreachable ({type(exc).__name__})") from None


def mask_phone(phone: str) -> str:
    """"+393331234567" → "+39 333 *** **67": what the console and the record show of the channel."""
    digits = re.sub(r"[^\d+]", "", phone or "")
    if len(digits) < 6:
        return "***"
    head = digits[:3] if digits.startswith("+") else ""
    rest = digits[len(head):]
    return f"{head} {rest[:3]} *** **{rest[-2:]}".strip()


def deliver(gateway: SmsGateway, phone: str, text: str) -> None:
    """Hand the text over; GatewayError (naming no part of the text) when the gateway did not take it."""
    try:
        gateway.send(phone, text)
    except GatewayError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise GatewayError(f"not delivered ({type(exc).__name__})") from None

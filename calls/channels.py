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
import time
import urllib.request
from typing import Protocol


class GatewayError(Exception):
    """The text was not delivered (the message never contains it)."""


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class MemoryGateway:
    """The local gateway: texts kept in memory, per number, for the demo's phone page and the tests.

    The demo's "phone" forgets a text after `keep_seconds`: nothing holding a code outlives the call.
    """

    def __init__(self, keep_seconds: float = 900) -> None:
        self.sent: list[tuple[str, str]] = []
        self._times: list[float] = []
        self.keep_seconds = keep_seconds

    def send(self, phone: str, text: str) -> None:
        self._forget()
        self.sent.append((phone, text))
        self._times.append(time.monotonic())

    def _forget(self) -> None:
        cutoff = time.monotonic() - self.keep_seconds
        while self._times and self._times[0] < cutoff:
            self._times.pop(0)
            self.sent.pop(0)

    def recent(self) -> list[tuple[str, str]]:
        self._forget()
        return list(self.sent)


class EmailChannel:
    """The e-mail channel: a text mailed at once through [smtp], from memory.

    Never through the outbox (its rows and folder keep what they send): a
    code exists only in this SMTP conversation.
    """

    SUBJECT = "spazioRegione: codici della TS-CNS"

    def __init__(self, smtp_settings, sender_factory=None):
        if smtp_settings is None:
            raise ValueError("the e-mail channel needs an [smtp] section")
        self.settings = smtp_settings
        self._sender_factory = sender_factory

    def send(self, address: str, text: str) -> None:
        from email.message import EmailMessage
        from email.utils import formatdate, make_msgid

        from intake.outgoing import SmtpSender

        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = address
        msg["Subject"] = self.SUBJECT
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="sportello.local")
        msg.set_content(text)
        sender = (self._sender_factory or SmtpSender)(self.settings)
        sender.send(msg.as_bytes(), address)


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


def mask_email(address: str) -> str:
    """"mario.rossi@example.org" → "m***@example.org"."""
    local, _, domain = (address or "").partition("@")
    if not local or not domain:
        return "***"
    return f"{local[0]}***@{domain}"


def mask(address: str) -> str:
    return mask_email(address) if "@" in (address or "") else mask_phone(address)


def deliver(gateway: SmsGateway, phone: str, text: str) -> None:
    """Hand the text over; GatewayError (naming no part of the text) when the gateway did not take it."""
    try:
        gateway.send(phone, text)
    except GatewayError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise GatewayError(f"not delivered ({type(exc).__name__})") from None

"""The interface every mail source implements (IMAP, local Maildir), and its errors.

The poller drives a source like this (SPEC.md "Intake": every message is
stored whole before anything is done to it on the server)::

    uidvalidity = source.open()
    for uid_batch in chunks(source.uids_after(last_uid)):
        for mail in source.fetch(uid_batch):
            store(mail)                    # commit first ...
        for mail in ...:
            source.move(mail.uid, folder)  # ... then act on the server; retried until it succeeds
    source.wait(poll_interval)
    source.close()

Errors: ``SourceUnavailable`` is worth retrying later (network, server down,
time-outs); ``SourceAuthError`` is not, until the configuration changes; any
other ``SourceError`` is a problem with this mailbox an operator should see
(a missing folder, a server refusing a command). Messages never contain a
password or token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FetchedMail:
    uid: int
    raw: bytes


class MailSource(Protocol):
    key: str          # stable identity of the mailbox (e.g. "imap:user@host:port/INBOX")
    province: str
    def open(self) -> int: ...            # connect, login, select folder (read-write); return UIDVALIDITY
    def uids_after(self, last_uid: int) -> list[int]: ...  # ascending; UID SEARCH by UID range, NO CHARSET, filter in Python (servers return the last UID for `N:*` even if < N)
    def fetch(self, uids: list[int]) -> list[FetchedMail]: ...  # BODY.PEEK[] (never marks \Seen); skip UIDs that vanished
    def move(self, uid: int, folder: str) -> None: ...  # to processed/failed folder; creates the folder when missing; uses MOVE when the server has it, else COPY + flag \Deleted + UID EXPUNGE of that UID only; a UID already gone is success (idempotent: retried until it succeeds). Never deletes mail otherwise.
    def wait(self, timeout: float) -> bool: ...  # IMAP IDLE when the server has it (return True when EXISTS/RECENT arrives, False on timeout); without IDLE just sleep(timeout) and return False
    def close(self) -> None: ...


class SourceError(Exception):
    """A mail source failed; the message says why, for an operator."""


class SourceUnavailable(SourceError):
    """Connection refused or dropped, time-out, server shutting down: retry later."""


class SourceAuthError(SourceError):
    """The server refused the credentials: retrying will not help until the config changes."""

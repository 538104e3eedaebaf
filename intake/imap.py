"""A provincial IMAP mailbox as a ``MailSource`` (imapclient).

Only what the poller needs: log in, list new UIDs, read messages without
marking them \\Seen, move a stored message to the processed/failed folder,
and wait for new mail with IDLE. Every imapclient/imaplib/socket error is
turned into the ``SourceError`` hierarchy of ``intake.source``; after a
``SourceUnavailable`` the connection is dropped and ``open()`` reconnects.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
import time
from contextlib import contextmanager
from typing import Iterator

from imapclient import DELETED, IMAPClient
from imapclient.exceptions import LoginError

from config.settings import ConfigError, MailboxSettings
from intake.source import FetchedMail, SourceAuthError, SourceError, SourceUnavailable

log = logging.getLogger(__name__)

# RFC 2177: clients should re-issue IDLE at least every 29 minutes, or the
# server may log them out as inactive.
_IDLE_RENEW = 25 * 60
# RFC 5530 response codes for a failure on the server's side that may pass.
_TEMPORARY_CODES = ("[UNAVAILABLE]", "[INUSE]", "[SERVERBUG]")
_BYTES_REPR = re.compile(r"""\bb(['"])(.*?)\1""")


class ImapSource:
    """One IMAP mailbox folder; see ``intake.source.MailSource`` for the contract."""

    def __init__(
        self,
        settings: MailboxSettings,
        *,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.key = settings.key
        self.province = settings.province
        self.timeout = timeout
        # The default verifies the certificate chain and the host name.
        self._ssl_context = ssl_context
        self._client: IMAPClient | None = None
        self._capabilities: frozenset[bytes] = frozenset()
        self._known_folders: set[str] = set()
        self._secrets: tuple[str, ...] = ()
        # highest UID the caller has been told about on this connection (see wait())
        self._high_water: int | None = None

    # -- MailSource -----------------------------------------------------------

    def open(self) -> int:
        """Connect, log in, select the folder read-write; return its UIDVALIDITY."""
        self.close()
        s = self.settings
        try:
            password = s.password()
            token = s.oauth2_token()
        except ConfigError as exc:
            raise SourceAuthError(f"{self.key}: {exc}") from None
        self._secrets = tuple(x for x in (password, token) if x)
        context = self._ssl_context or ssl.create_default_context()

        with self._guard("connect"):
            self._client = IMAPClient(
                s.host,
                s.port,
                ssl=s.security == "ssl",
                ssl_context=context if s.security == "ssl" else None,
                timeout=self.timeout,
            )
        try:
            with self._guard("log in"):
                client = self._client
                if s.security == "starttls":
                    # Never fall back to plain text: a server without STARTTLS is a config error.
                    if not client.has_capability("STARTTLS"):
                        raise SourceError(f"{self.key}: the server does not offer STARTTLS")
                    client.starttls(context)
                if token:
                    client.oauth2_login(s.username, token)
                else:
                    client.login(s.username, password)
                self._capabilities = frozenset(c.upper() for c in client.capabilities())
            with self._guard(f"select {s.folder}"):
                info = self._client.select_folder(s.folder, readonly=False)
        except BaseException:
            self.close()
            raise
        self._known_folders = {s.folder}
        self._high_water = None
        if b"UIDVALIDITY" not in info:  # RFC 3501 requires it; without it UIDs mean nothing
            self.close()
            raise SourceError(f"{self.key}: the server sent no UIDVALIDITY for {s.folder}")
        uidvalidity = int(info[b"UIDVALIDITY"])
        log.debug("%s: opened, UIDVALIDITY %s, %s messages", self.key, uidvalidity, info.get(b"EXISTS"))
        return uidvalidity

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than ``last_uid``, ascending."""
        client = self._require()
        last_uid = max(int(last_uid), 0)
        with self._guard("search"):
            # A selected session sees mail delivered since its last command
            # only after the server reports it (EXISTS): NOOP first, or `*`
            # below still means the old last message and new mail is missed.
            client.noop()
            # No CHARSET (some servers reject it); `N:*` also matches the
            # highest UID when it is below N (RFC 3501 6.4.8), so filter here.
            found = client.search(["UID", f"{last_uid + 1}:*"])
        uids = sorted({int(u) for u in found if int(u) > last_uid})
        self._high_water = max([last_uid, *uids, self._high_water or 0])
        return uids

    def fetch(self, uids: list[int]) -> list[FetchedMail]:
        """The whole raw messages, in the order asked, without setting \\Seen."""
        client = self._require()
        wanted = list(dict.fromkeys(int(u) for u in uids))
        if not wanted:
            return []
        with self._guard("fetch"):
            try:
                data = client.fetch(wanted, ["BODY.PEEK[]"])
            except imaplib.IMAP4.error as exc:
                if not _is_expunge_race(exc):
                    raise
                # Some UIDs were expunged by another session after we last
                # synced: NOOP learns of the expunges, then fetch what is left.
                client.noop()
                data = client.fetch(wanted, ["BODY.PEEK[]"])
        mails = []
        for uid in wanted:
            raw = data.get(uid, {}).get(b"BODY[]")
            if raw is not None:  # a UID that vanished is simply not there
                mails.append(FetchedMail(uid=uid, raw=bytes(raw)))
        return mails

    def move(self, uid: int, folder: str) -> None:
        """Move one message to ``folder`` (created when missing). Idempotent."""
        client = self._require()
        uid = int(uid)
        if folder == self.settings.folder:
            raise ValueError(f"cannot move a message to the folder it is read from ({folder})")
        with self._guard(f"move UID {uid} to {folder}"):
            self._ensure_folder(folder)
            try:
                self._move(client, uid, folder)
            except imaplib.IMAP4.error as exc:
                if not _is_expunge_race(exc):
                    raise
                # Expunged by another session meanwhile: learn of it, look again.
                client.noop()
                self._move(client, uid, folder)

    def _move(self, client: IMAPClient, uid: int, folder: str) -> None:
        if uid not in client.search(["UID", str(uid)]):
            return  # already moved by an earlier try (or by someone else)
        if b"MOVE" in self._capabilities:
            client.move([uid], folder)
            return
        # RFC 6851 3.3: the same effect without MOVE. A retry after a crash
        # between COPY and EXPUNGE may leave a second copy in `folder`; that
        # is the price of never losing a message.
        uidplus = b"UIDPLUS" in self._capabilities
        if not uidplus and set(client.search(["DELETED"])) - {uid}:
            # Plain EXPUNGE would also remove messages someone else flagged
            # \Deleted: leave ours in place (retried on the next pass).
            raise SourceError(
                f"{self.key}: cannot move UID {uid}: the server has neither MOVE nor UIDPLUS "
                f"and other messages in {self.settings.folder} are flagged \\Deleted"
            )
        client.copy([uid], folder)
        client.add_flags([uid], [DELETED], silent=True)
        if uidplus:
            client.uid_expunge([uid])
        else:
            client.expunge()

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` s; True as soon as the server reports new mail.

        With IDLE the server pushes EXISTS/RECENT; without it (or with
        ``idle = false`` in the config) this just sleeps and returns False.
        """
        client = self._require()
        if timeout <= 0:
            return False
        if not (self.settings.idle and b"IDLE" in self._capabilities):
            time.sleep(timeout)
            return False
        deadline = time.monotonic() + timeout
        with self._guard("idle"):
            # Mail that came in after the caller's last uids_after() may have
            # been announced already (in a FETCH or MOVE reply, or not at all
            # yet): IDLE would only report later changes. Look first.
            if self._high_water is not None:
                if self.uids_after(self._high_water):
                    return True
            else:
                _text, responses = client.noop()
                if any(_is_new_mail(r) for r in responses):
                    return True
            arrived = False
            while not arrived:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                arrived = self._idle_once(client, min(remaining, _IDLE_RENEW))
        return arrived

    def close(self) -> None:
        """Log out and disconnect; never raises. ``open()`` may be called again."""
        client, self._client = self._client, None
        self._capabilities = frozenset()
        self._known_folders = set()
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection may be long gone; closing must not fail
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass

    def __enter__(self) -> "ImapSource":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self._client is not None else "closed"
        return f"<ImapSource {self.key} ({self.settings.security}) {state}>"

    # -- internals --------------------------------------------------------------

    def _require(self) -> IMAPClient:
        if self._client is None:
            raise SourceUnavailable(f"{self.key}: not connected")
        return self._client

    def _ensure_folder(self, folder: str) -> None:
        if folder in self._known_folders:
            return
        client = self._require()
        if not client.folder_exists(folder):
            try:
                client.create_folder(folder)
            except imaplib.IMAP4.error:
                if not client.folder_exists(folder):  # else: created meanwhile by another session
                    raise
            try:
                client.subscribe_folder(folder)  # so that mail clients show it
            except imaplib.IMAP4.error:
                pass
        self._known_folders.add(folder)

    def _idle_once(self, client: IMAPClient, seconds: float) -> bool:
        """One IDLE command of at most ``seconds``; True when new mail was announced."""
        client.idle()
        end = time.monotonic() + seconds
        arrived = False
        while not arrived:
            left = end - time.monotonic()
            if left <= 0 or _buffered(client):
                break  # idle_done() below reads what is already buffered
            responses = client.idle_check(timeout=left)
            if any(_is_bye(r) for r in responses):
                raise SourceUnavailable(f"{self.key}: the server closed the connection")
            arrived = any(_is_new_mail(r) for r in responses)
            if not responses and end - time.monotonic() > 0.05:
                # Woken up with nothing readable: usually the peer closed the
                # socket. Ending IDLE tells: DONE fails on a dead connection.
                break
        _text, more = client.idle_done()
        if any(_is_bye(r) for r in more):
            raise SourceUnavailable(f"{self.key}: the server closed the connection")
        return arrived or any(_is_new_mail(r) for r in more)

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Translate library errors; drop the connection when it is unusable."""
        try:
            yield
        except SourceError as exc:
            if isinstance(exc, SourceUnavailable):
                self._drop()
            raise
        except LoginError as exc:
            text = self._scrub(str(exc))
            # e.g. Dovecot's "[UNAVAILABLE] Temporary authentication failure."
            if any(code in text.upper() for code in _TEMPORARY_CODES):
                self._drop()
                raise SourceUnavailable(f"{self.key}: {action}: {text}") from None
            raise SourceAuthError(f"{self.key}: login refused for {self.settings.username}: {text}") from None
        except ssl.SSLCertVerificationError as exc:
            self._drop()
            raise SourceUnavailable(
                f"{self.key}: {action}: TLS certificate not trusted: {exc.verify_message or exc}"
            ) from None
        except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
            # abort: connection lost / BYE; OSError: refused, reset, timeout, TLS.
            self._drop()
            raise SourceUnavailable(f"{self.key}: {action}: {self._scrub(_describe(exc))}") from exc
        except imaplib.IMAP4.error as exc:
            text = self._scrub(str(exc))
            if any(code in text.upper() for code in _TEMPORARY_CODES):
                self._drop()
                raise SourceUnavailable(f"{self.key}: {action}: {text}") from None
            raise SourceError(f"{self.key}: {action}: {text}") from None

    def _drop(self) -> None:
        client, self._client = self._client, None
        self._capabilities = frozenset()
        self._known_folders = set()
        if client is not None:
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def _scrub(self, text: str) -> str:
        text = _BYTES_REPR.sub(lambda m: m.group(2), text)  # imaplib puts b'...' in its messages
        for secret in self._secrets:
            if len(secret) >= 3:
                text = text.replace(secret, "***")
        return text


def _buffered(client: IMAPClient) -> bool:
    """True when a server response already sits in our read buffers, where poll() cannot see it.

    The IDLE continuation and a notification sent right after it (mail that
    came in just before IDLE began) often arrive in one packet; imaplib reads
    both into its buffer, and idle_check() would wait on the socket for the
    next event (minutes) before seeing the mail.
    """
    sock = client.socket()
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    peek = getattr(getattr(client._imap, "file", None), "peek", None)
    if peek is None:
        return False
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return bool(peek(1))  # buffered bytes, or a read that would not block
    except OSError:  # nothing to read now (EAGAIN, TLS want-read)
        return False
    finally:
        sock.settimeout(timeout)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    text = str(exc) or type(exc).__name__
    return text


def _is_bye(response: tuple) -> bool:
    return bool(response) and response[0] == b"BYE"


def _is_new_mail(response: tuple) -> bool:
    # Untagged "* 12 EXISTS" / "* 1 RECENT" parse as (12, b"EXISTS") / (1, b"RECENT").
    if len(response) < 2 or not isinstance(response[0], int):
        return False
    kind = response[1]
    return kind == b"EXISTS" or (kind == b"RECENT" and response[0] > 0)


def _is_expunge_race(exc: Exception) -> bool:
    text = str(exc).upper()
    return "EXPUNGEISSUED" in text or "NO LONGER EXIST" in text

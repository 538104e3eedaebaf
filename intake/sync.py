"""One sync pass over a mailbox: every message stored exactly once, then moved on.

The order that makes "exactly once" hold across crashes and restarts:
  1. fetch (BODY.PEEK, nothing changes on the server);
  2. store raw message + rows in one transaction, under unique keys
     (mailbox, UIDVALIDITY, UID) and (Message-ID, body SHA-256);
  3. only after that commit, move the message to the processed / failed
     folder — a step retried on every pass until it succeeds;
  4. only after the moves, advance the mailbox's last seen UID.
A crash between 2 and 3 leaves a stored message still in the inbox: the
next pass finds it by its unique keys, does not store it again, and moves it.
A crash between 3 and 4 makes the next pass look at a few UIDs again; they
are gone from the inbox or found by their keys.

Two pollers of one mailbox are kept apart by a lease row claimed with a
compare-and-swap UPDATE. A lease whose owner was a process on this host
that no longer exists (killed, crashed) is taken over at once instead of
waiting for it to expire; the unique keys still hold if a lease ever
expires under a slow poller, or two hosts share a host name.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from db.models import MailboxState, Message, utcnow
from db.session import Database
from intake.maildir import MaildirSource
from intake.source import MailSource

log = logging.getLogger(__name__)

LEASE_SECONDS = 300


@dataclass(frozen=True)
class MailOrigin:
    """Where a message came from, for exactly-once bookkeeping."""

    mailbox_key: str
    uidvalidity: int | None = None
    uid: int | None = None


class Outcome(Protocol):
    duplicate: bool
    failed: str | None  # for a duplicate: why the stored copy was quarantined, if it was


Ingest = Callable[[bytes, MailOrigin], Outcome]


@dataclass
class PassReport:
    mailbox: str
    stored: int = 0
    duplicates: int = 0
    failed: int = 0
    moved: int = 0
    skipped: str | None = None  # why nothing was done (lease held elsewhere)
    errors: list[str] = field(default_factory=list)
    opened: bool = False  # the source was reached (logged in, folder selected) at least once
    complete: bool = False  # every message seen was stored and moved
    stopped: bool = False  # ended early because the service is shutting down


def poller_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def owner_is_dead(owner: str) -> bool:
    """True only when `owner` was a process on this host that is gone."""
    try:
        host, pid_text, _tag = owner.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname() or pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


class Lease:
    """The right to poll one mailbox, claimed with a compare-and-swap UPDATE."""

    def __init__(self, db: Database, key: str, province: str, owner: str, seconds: float = LEASE_SECONDS):
        self.db, self.key, self.province, self.owner, self.seconds = db, key, province, owner, seconds
        self._renewed = 0.0

    def _swap(self, *, from_dead: str | None = None) -> bool:
        now = utcnow()
        if from_dead is None:
            free = or_(
                MailboxState.lease_owner.is_(None),
                MailboxState.lease_until < now,
                MailboxState.lease_owner == self.owner,
            )
        else:
            free = MailboxState.lease_owner == from_dead
        with self.db.session() as s:
            res = s.execute(
                update(MailboxState)
                .where(MailboxState.key == self.key, free)
                .values(lease_owner=self.owner, lease_until=now + timedelta(seconds=self.seconds))
            )
            won = res.rowcount == 1
        if won:
            self._renewed = time.monotonic()
        return won

    def claim(self) -> bool:
        _ensure_state(self.db, self.key, self.province)
        if self._swap():
            return True
        with self.db.session() as s:
            holder = s.scalar(select(MailboxState.lease_owner).where(MailboxState.key == self.key))
        if holder and owner_is_dead(holder):
            # A poller killed mid-pass leaves its lease behind; waiting out
            # LEASE_SECONDS after every crash would stall this mailbox.
            if self._swap(from_dead=holder):
                log.warning("mailbox %s: took over the lease of %s, which is no longer running", self.key, holder)
                return True
        return False

    def renew(self) -> bool:
        """Extend the lease; False when another poller has taken it meanwhile."""
        return self._swap()

    def keep_alive(self) -> bool:
        """Renew when a fifth of the lease has gone by; cheap to call after every message."""
        if time.monotonic() - self._renewed < self.seconds / 5:
            return True
        return self.renew()

    def release(self) -> None:
        with self.db.session() as s:
            s.execute(
                update(MailboxState)
                .where(MailboxState.key == self.key, MailboxState.lease_owner == self.owner)
                .values(lease_owner=None, lease_until=None)
            )


def _ensure_state(db: Database, key: str, province: str) -> None:
    with db.session() as s:
        if s.get(MailboxState, key) is None:
            s.add(MailboxState(key=key, province=province, last_uid=0))
            try:
                s.flush()
            except IntegrityError:  # another poller created it first
                s.rollback()


def _record_success(db: Database, key: str) -> None:
    with db.session() as s:
        s.execute(update(MailboxState).where(MailboxState.key == key).values(last_success_at=utcnow(), last_error=None))


def record_error(db: Database, key: str, province: str, error: str) -> None:
    _ensure_state(db, key, province)
    with db.session() as s:
        s.execute(update(MailboxState).where(MailboxState.key == key).values(last_error=error[:500], last_error_at=utcnow()))


def sync_maildir(db: Database, source: MaildirSource, ingest: Ingest, owner: str,
                 processed_folder: str = "Processed", failed_folder: str = "Failed") -> PassReport:
    report = PassReport(source.key)
    lease = Lease(db, source.key, source.province, owner)
    if not lease.claim():
        report.skipped = "another poller holds the lease"
        return report
    try:
        source.ensure()
        report.opened = True
        for mail in source.pending():
            try:
                raw = mail.path.read_bytes()
            except FileNotFoundError:  # moved by someone else meanwhile
                continue
            outcome = ingest(raw, MailOrigin(source.key))
            _count(report, outcome)
            source.move(mail, failed_folder if outcome.failed else processed_folder)
            report.moved += 1
            if not lease.keep_alive():
                report.errors.append("lease lost to another poller")
                break
        else:
            _record_success(db, source.key)
            report.complete = True
    finally:
        lease.release()
    return report


def _count(report: PassReport, outcome: Outcome) -> None:
    if outcome.duplicate:
        report.duplicates += 1
    elif outcome.failed:
        report.failed += 1
    else:
        report.stored += 1


def sync_imap(db: Database, source: MailSource, ingest: Ingest, owner: str, *, processed_folder: str,
              failed_folder: str, batch_size: int = 50, lease_seconds: float = LEASE_SECONDS,
              report: PassReport | None = None, should_stop: Callable[[], bool] | None = None) -> PassReport:
    """One pass over an IMAP mailbox. Connection errors propagate to the caller.

    report: counts are added to it (a caller retrying after a dropped
    connection keeps one report for the whole pass); should_stop is asked
    between messages, so that a service shutting down ends the pass soon.
    """
    report = report or PassReport(source.key)
    stop = should_stop or (lambda: False)
    lease = Lease(db, source.key, source.province, owner, lease_seconds)
    if not lease.claim():
        report.skipped = "another poller holds the lease"
        return report
    try:
        uidvalidity = source.open()
        report.opened = True
        last_uid = _check_uidvalidity(db, source.key, uidvalidity)
        report.moved += _finish_pending_moves(db, source, uidvalidity, processed_folder, failed_folder)
        uids = source.uids_after(last_uid)
        interrupted = False
        for start in range(0, len(uids), batch_size):
            batch = uids[start : start + batch_size]
            duplicates: dict[int, str] = {}
            upto = max(batch)
            for mail in source.fetch(batch):
                outcome = ingest(mail.raw, MailOrigin(source.key, uidvalidity, mail.uid))
                _count(report, outcome)
                if outcome.duplicate:
                    duplicates[mail.uid] = failed_folder if outcome.failed else processed_folder
                if not lease.keep_alive():
                    report.errors.append("lease lost to another poller")
                    interrupted = True
                elif stop():
                    report.stopped = interrupted = True
                if interrupted:
                    upto = mail.uid
                    break
            # Moves come after the commits above; a crash here is mended by
            # _finish_pending_moves on the next pass.
            report.moved += _finish_pending_moves(db, source, uidvalidity, processed_folder, failed_folder,
                                                  duplicates=duplicates)
            _advance(db, source.key, upto)
            if interrupted:
                break
            if stop():
                report.stopped = True
                break
        else:
            _record_success(db, source.key)
            report.complete = True
    finally:
        try:
            lease.release()
        finally:
            source.close()
    return report


def _check_uidvalidity(db: Database, key: str, uidvalidity: int) -> int:
    """The last UID seen; a changed UIDVALIDITY rescans from the start (dedupe keeps it exact)."""
    with db.session() as s:
        state = s.get(MailboxState, key)
        if state.uidvalidity != uidvalidity:
            if state.uidvalidity is not None:
                log.warning("mailbox %s: UIDVALIDITY changed %s -> %s, rescanning", key, state.uidvalidity, uidvalidity)
                # Their UIDs name nothing any more: the rescan finds those
                # still in the inbox by their dedupe key and moves them.
                s.execute(
                    update(Message)
                    .where(Message.mailbox_key == key, Message.uidvalidity != uidvalidity,
                           Message.server_action == "pending")
                    .values(server_action="rescan")
                )
            state.uidvalidity = uidvalidity
            state.last_uid = 0
        return state.last_uid


def _advance(db: Database, key: str, uid: int) -> None:
    with db.session() as s:
        s.execute(
            update(MailboxState).where(MailboxState.key == key, MailboxState.last_uid < uid).values(last_uid=uid)
        )


def _mark_done(db: Database, done: list[tuple[int, str]]) -> None:
    with db.session() as s:
        for msg_id, target in done:
            s.execute(update(Message).where(Message.id == msg_id).values(server_action="done", server_target=target))


def _finish_pending_moves(db: Database, source: MailSource, uidvalidity: int, processed: str, failed: str,
                          duplicates: dict[int, str] | None = None) -> int:
    """Move every stored-but-not-moved message of this mailbox; mark them done after their moves.

    duplicates: UID -> folder for mails of this batch that were already
    stored from another mailbox or an earlier UIDVALIDITY: they leave the
    inbox too, with no row of their own to mark.
    """
    with db.session() as s:
        rows = s.execute(
            select(Message.id, Message.uid, Message.intake_status).where(
                Message.mailbox_key == source.key,
                Message.uidvalidity == uidvalidity,
                Message.server_action == "pending",
            ).order_by(Message.uid)
        ).all()
        own = set()
        if duplicates:
            own = set(s.scalars(select(Message.uid).where(
                Message.mailbox_key == source.key, Message.uidvalidity == uidvalidity,
                Message.uid.in_(list(duplicates)),
            )))
    done: list[tuple[int, str]] = []
    moved = 0
    try:
        for msg_id, uid, status in rows:
            target = failed if status == "failed" else processed
            source.move(uid, target)
            done.append((msg_id, target))
        for uid, target in (duplicates or {}).items():
            if uid not in own:
                source.move(uid, target)
                moved += 1
    finally:
        # Whatever was moved before an error is recorded; a move is idempotent,
        # so the rest are simply tried again.
        if done:
            _mark_done(db, done)
    return moved + len(done)

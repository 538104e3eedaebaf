"""Wiring of the mail sources: which mailboxes exist, and one pass over each."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from config.settings import PROVINCES, MailboxSettings
from intake import sync
from intake.maildir import MaildirSource
from intake.source import SourceUnavailable
from db.app import App
from sportello.pipeline import ingest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mailbox:
    """One configured source: an IMAP mailbox, or a local Maildir (embedded default)."""

    province: str
    key: str
    imap: MailboxSettings | None = None
    maildir: MaildirSource | None = None


def mailboxes(app: App) -> list[Mailbox]:
    if app.settings.mailboxes:
        return [Mailbox(mb.province, mb.key, imap=mb) for mb in app.settings.mailboxes]
    out = []
    for p in PROVINCES:
        src = MaildirSource(app.settings.maildir_root / p, p)
        out.append(Mailbox(p, src.key, maildir=src))
    return out


def _ingest_for(app: App, province: str) -> sync.Ingest:
    return lambda raw, origin: ingest(app, raw, province, origin)


RETRY_DELAYS = (1, 3, 9)


def poll_mailbox(app: App, mb: Mailbox, owner: str, source_factory: Callable | None = None,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS,
                 should_stop: Callable[[], bool] | None = None) -> sync.PassReport:
    """One pass over one mailbox; its errors are recorded, never raised.

    A connection dropped in the middle of the pass (a server restarting) is
    retried with backoff within the pass, keeping what was done. A mailbox
    that cannot be reached at all is not retried here: the next scheduled
    pass tries again, and the other mailboxes are not held up meanwhile.
    """
    report = sync.PassReport(mb.key)
    stop = should_stop or (lambda: False)
    try:
        if mb.maildir is not None:
            return sync.sync_maildir(app.db, mb.maildir, _ingest_for(app, mb.province), owner)
        from intake.imap import ImapSource

        for attempt, delay in enumerate((*retry_delays, None)):
            source = (source_factory or ImapSource)(mb.imap)
            try:
                return sync.sync_imap(
                    app.db, source, _ingest_for(app, mb.province), owner,
                    processed_folder=mb.imap.processed_folder, failed_folder=mb.imap.failed_folder,
                    batch_size=mb.imap.batch_size, report=report, should_stop=stop,
                )
            except SourceUnavailable as exc:
                if delay is None or not report.opened or stop():
                    raise
                log.info("mailbox %s unavailable (%s), retry %s in %ss", mb.key, exc, attempt + 1, delay)
                time.sleep(delay)
    except Exception as exc:  # noqa: BLE001 - one failing mailbox never stops the others
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("mailbox %s: %s", mb.key, reason)
        report.errors.append(reason)
        try:
            sync.record_error(app.db, mb.key, mb.province, reason)
        except Exception:  # noqa: BLE001 - the database itself is down: the report still says why
            log.exception("mailbox %s: could not record the error", mb.key)
        return report
    raise AssertionError("unreachable")  # pragma: no cover


def poll_once(app: App) -> list[sync.PassReport]:
    """Every mailbox once, then verification of what arrived."""
    from sportello.verify import verify_pending

    owner = sync.poller_id()
    reports = [poll_mailbox(app, mb, owner) for mb in mailboxes(app)]
    verify_pending(app)
    return reports

"""`sportello run`: the long-running service.

APScheduler runs one interval job per mailbox and the outbox worker; an IDLE
watcher per IMAP mailbox (where the server has IDLE) wakes its poll job early;
uvicorn serves the back office in the main thread.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from intake import outgoing, sync
from sportello.app import App
from sportello.polling import Mailbox, mailboxes, poll_mailbox

log = logging.getLogger(__name__)

OUTBOX_INTERVAL = 15


def mail_sender(app: App) -> outgoing.MailSender:
    if app.settings.smtp:
        return outgoing.SmtpSender(app.settings.smtp)
    return outgoing.OutboxFolder(app.settings.outbox_dir)


def deliver_outbox(app: App) -> None:
    sent, failed = outgoing.deliver_pending(app.db, mail_sender(app))
    if sent or failed:
        log.info("outbox: %s sent, %s to retry", sent, failed)


def _poll_interval(mb: Mailbox) -> int:
    return mb.imap.poll_interval if mb.imap else 60


def build_scheduler(app: App, owner: str) -> BackgroundScheduler:
    sched = BackgroundScheduler(timezone="Europe/Rome", job_defaults={"coalesce": True, "max_instances": 1})
    now = datetime.now(timezone.utc)
    for mb in mailboxes(app):
        sched.add_job(
            _poll_and_deliver, "interval", seconds=_poll_interval(mb), args=[app, mb, owner],
            id=f"poll:{mb.key}", name=f"poll {mb.province}", next_run_time=now,
        )
    sched.add_job(deliver_outbox, "interval", seconds=OUTBOX_INTERVAL, args=[app], id="outbox", next_run_time=now)
    return sched


def _poll_and_deliver(app: App, mb: Mailbox, owner: str) -> None:
    from sportello.verify import verify_pending

    report = poll_mailbox(app, mb, owner)
    verify_pending(app)
    if report.stored or report.failed:
        log.info("mailbox %s: %s stored, %s quarantined", mb.province, report.stored, report.failed)
        deliver_outbox(app)


def _idle_watcher(app: App, mb: Mailbox, sched: BackgroundScheduler, stop: threading.Event) -> None:
    """Wake the mailbox's poll job as soon as the server announces new mail."""
    from intake.imap import ImapSource
    from intake.source import SourceError

    backoff = 5
    while not stop.is_set():
        src = ImapSource(mb.imap)
        try:
            src.open()
            backoff = 5
            while not stop.is_set():
                if src.wait(timeout=240):
                    sched.modify_job(f"poll:{mb.key}", next_run_time=datetime.now(timezone.utc))
        except SourceError as exc:
            log.info("IDLE on %s unavailable (%s); polling only, retry in %ss", mb.province, exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 600)
        finally:
            try:
                src.close()
            except Exception:  # noqa: BLE001 - closing a dead connection
                pass


def run(app: App, *, host: str | None = None, port: int | None = None, with_web: bool = True) -> None:
    import uvicorn

    outgoing.requeue_interrupted(app.db)
    owner = sync.poller_id()
    sched = build_scheduler(app, owner)
    stop = threading.Event()
    sched.start()
    for mb in mailboxes(app):
        if mb.imap is not None and mb.imap.idle:
            threading.Thread(target=_idle_watcher, args=(app, mb, sched, stop), daemon=True,
                             name=f"idle-{mb.province}").start()
    try:
        if with_web:
            from backoffice.app import create_app

            web = create_app(app)
            uvicorn.run(web, host=host or app.settings.backoffice.host, port=port or app.settings.backoffice.port,
                        log_level="info", proxy_headers=True)
        else:
            stop.wait()
    finally:
        stop.set()
        sched.shutdown(wait=True)

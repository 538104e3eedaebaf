"""`sportello run`: the long-running service.

APScheduler runs one interval job per mailbox, the outbox worker and the
periodic jobs (reminders and expiry, the stale-mailbox check and its alert
mails, the purge, taking back the mails a dead node left half sent); an IDLE
watcher per IMAP mailbox (where the server has IDLE) runs its mailbox's pass
as soon as new mail is announced; a verifier thread reads what intake stored,
so that a slow verification never delays the next mail's intake; uvicorn
serves the back office in the main thread.

SIGTERM / SIGINT (or uvicorn's own shutdown) stop it cleanly: no new pass
starts, a running pass ends after the message in hand (what is stored is
moved, the lease released), then the process exits 0.

Several nodes on one database are all alike: a mailbox is polled by the node
holding its lease (intake.sync), a request verified by the node holding its
claim (sportello.verify), a mail sent by the node that claimed it
(intake.outgoing), each reminder and expiry notice sent by the node whose
compare-and-swap on its row landed (scheduling/), and the other periodic
jobs run once per period across the nodes (db.jobs): every node schedules
them twice a period and the first claim of the period wins.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from intake import outgoing, sync
from db import jobs
from db.app import App
from sportello.polling import Mailbox, mailboxes, poll_mailbox

log = logging.getLogger(__name__)

OUTBOX_INTERVAL = 15
STALE_CHECK_INTERVAL = 300
REMINDER_INTERVAL = 60
REQUEUE_INTERVAL = 120  # mails a dead node left 'sending' go back to the queue
VERIFY_INTERVAL = 60  # requests left in `received` by a crash are picked up at least this often
IDLE_TIMEOUT = 240  # one wait() on the server; re-issued at once (RFC 2177 asks for < 29 min)
SHUTDOWN_GRACE = 60  # seconds a running pass or verification may take to finish on stop


def mail_sender(app: App) -> outgoing.MailSender:
    if app.settings.smtp:
        return outgoing.SmtpSender(app.settings.smtp)
    return outgoing.OutboxFolder(app.settings.outbox_dir)


def deliver_outbox(app: App) -> None:
    sent, failed = outgoing.deliver_pending(app.db, mail_sender(app))
    if sent or failed:
        log.info("outbox: %s sent, %s to retry", sent, failed)


def reminders_then_outbox(app: App) -> None:
    """The calls' reminders and the expiry of incomplete requests, from the database
    (a restart loses none, does none twice)."""
    from scheduling.wiring import expire_incomplete, send_reminders

    sent = send_reminders(app)
    notices, expired = expire_incomplete(app)
    if sent or notices or expired:
        deliver_outbox(app)


def report_stale(app: App) -> None:
    """Log every IMAP mailbox without a recent successful fetch (also in `sportello status`), and
    mail the administrators once when one goes stale and once when it recovers."""
    from sportello.alerts import check_mailboxes

    if check_mailboxes(app):
        deliver_outbox(app)


def requeue_abandoned(app: App) -> None:
    if n := outgoing.requeue_interrupted(app.db):
        log.info("outbox: %s mails left half sent by a stopped node queued again", n)
        deliver_outbox(app)


def once_per_period(app: App, node: str, name: str, seconds: float, fn: Callable[[App], None]) -> Callable[[], None]:
    """fn(app), at most once per period of `seconds` across every node on the database."""
    every = timedelta(seconds=seconds)

    def job() -> None:
        jobs.run_once(app.db, name, every, node, fn, app)

    return job


def verify_and_answer(app: App) -> None:
    from sportello.verify import verify_pending

    if verify_pending(app):
        deliver_outbox(app)


def _poll_interval(app: App, mb: Mailbox) -> int:
    return mb.imap.poll_interval if mb.imap else app.settings.maildir_poll_interval


class Worker:
    """A thread that runs `fn` when kicked, and every `interval` seconds anyway."""

    def __init__(self, name: str, fn: Callable[[], None], interval: float, stop: threading.Event):
        self.fn, self.interval, self.stop = fn, interval, stop
        self._kick = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def kick(self) -> None:
        self._kick.set()

    def _loop(self) -> None:
        while not self.stop.is_set():
            self._kick.wait(self.interval)
            self._kick.clear()
            if self.stop.is_set():
                return
            try:
                self.fn()
            except Exception:  # noqa: BLE001 - the worker lives on; the next run tries again
                log.exception("%s failed", self.thread.name)


class MailboxJob:
    """One mailbox's pass, run by the scheduler every poll_interval and by its IDLE watcher.

    Never two passes of one mailbox at once. A call while a pass runs does
    not wait and is not lost: the running pass goes round once more, so a
    mail announced after it listed the inbox does not wait for poll_interval.
    """

    def __init__(self, app: App, mb: Mailbox, owner: str, stop: threading.Event, after_store: Callable[[], None]):
        self.app, self.mb, self.owner, self.stop, self.after_store = app, mb, owner, stop, after_store
        self._running = threading.Lock()
        self._again = threading.Event()

    def __call__(self) -> None:
        self._again.set()
        while self._again.is_set() and not self.stop.is_set():
            if not self._running.acquire(blocking=False):
                return  # the pass running now sees _again and goes round once more
            try:
                self._again.clear()
                self._pass()
            finally:
                self._running.release()

    def _pass(self) -> None:
        report = poll_mailbox(self.app, self.mb, self.owner, should_stop=self.stop.is_set)
        if report.stored or report.failed:
            log.info("mailbox %s: %s stored, %s quarantined", self.mb.province, report.stored, report.failed)
            self.after_store()

    def wait_finished(self, timeout: float) -> bool:
        if self._running.acquire(timeout=timeout):
            self._running.release()
            return True
        return False


def _idle_watcher(mb: Mailbox, job: MailboxJob, stop: threading.Event) -> None:
    """Run the mailbox's pass as soon as the server announces new mail."""
    from intake.imap import ImapSource
    from intake.source import SourceError

    backoff = 5
    while not stop.is_set():
        src = ImapSource(mb.imap)
        try:
            src.open()
            backoff = 5
            # Mail delivered before this session selected the folder is never
            # announced to it: one pass covers what the last one may have missed.
            job()
            while not stop.is_set():
                if src.wait(timeout=IDLE_TIMEOUT):
                    job()
        except SourceError as exc:
            log.info("IDLE on %s unavailable (%s); polling only, retry in %ss", mb.province, exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 600)
        except Exception:  # noqa: BLE001 - a watcher must not die silently; polling goes on meanwhile
            log.exception("IDLE watcher of %s failed; restarting in %ss", mb.province, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 600)
        finally:
            src.close()


class Service:
    def __init__(self, app: App):
        self.app = app
        self.owner = sync.poller_id()
        self.stop = threading.Event()
        self.verifier = Worker("verifier", lambda: verify_and_answer(app), VERIFY_INTERVAL, self.stop)
        self.jobs = {mb.key: MailboxJob(app, mb, self.owner, self.stop, self.verifier.kick) for mb in mailboxes(app)}
        self.scheduler = self._scheduler()

    def _scheduler(self) -> BackgroundScheduler:
        sched = BackgroundScheduler(
            timezone="Europe/Rome",
            executors={"default": ThreadPoolExecutor(max_workers=len(self.jobs) + 3)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        now = datetime.now(timezone.utc)
        for job in self.jobs.values():
            mb = job.mb
            sched.add_job(job, "interval", seconds=_poll_interval(self.app, mb), id=f"poll:{mb.key}",
                          name=f"poll {mb.province}", next_run_time=now)
        sched.add_job(deliver_outbox, "interval", seconds=OUTBOX_INTERVAL, args=[self.app], id="outbox",
                      next_run_time=now)
        # Not claimed per period: each reminder and notice is claimed on its own row, so a node that
        # starts right after another stopped sends what is due at once instead of a period later.
        sched.add_job(reminders_then_outbox, "interval", seconds=REMINDER_INTERVAL, args=[self.app], id="reminders",
                      next_run_time=now)
        from sportello.retention import purge_due

        # The stale check waits for the first passes: a restart after a pause is not a stale mailbox.
        periodic = [("stale", STALE_CHECK_INTERVAL, report_stale, None),
                    ("retention", self.app.settings.retention.interval_hours * 3600, purge_due, None),
                    ("requeue", REQUEUE_INTERVAL, requeue_abandoned, now)]
        for name, seconds, fn, first in periodic:
            # Twice a period on every node: a period is never missed to timer drift, and run once.
            sched.add_job(once_per_period(self.app, self.owner, name, seconds, fn), "interval", seconds=seconds / 2,
                          id=name, next_run_time=first)
        return sched

    def start(self) -> None:
        outgoing.requeue_interrupted(self.app.db)
        self.verifier.start()
        self.verifier.kick()  # what a previous run left in `received`
        self.scheduler.start()
        for job in self.jobs.values():
            mb = job.mb
            if mb.imap is not None and mb.imap.idle:
                threading.Thread(target=_idle_watcher, args=(mb, job, self.stop), daemon=True,
                                 name=f"idle-{mb.province}").start()
        log.info("sportello running: %s mailboxes", len(self.jobs))

    def shutdown(self) -> None:
        """No new pass starts; running ones end after the message in hand. IDLE watchers just go."""
        log.info("stopping: waiting for running passes")
        self.stop.set()
        self.scheduler.shutdown(wait=True)
        for job in self.jobs.values():
            if not job.wait_finished(SHUTDOWN_GRACE):
                log.warning("mailbox %s: pass still running at exit; the next start resumes it", job.mb.province)
        self.verifier.kick()
        self.verifier.thread.join(SHUTDOWN_GRACE)
        log.info("stopped")


def _web_server(app: App, host: str | None, port: int | None):
    """uvicorn, minus its own signal handling: ours stops the scheduler too, then exits 0."""
    import contextlib

    import uvicorn

    from backoffice.app import create_app
    from sportello.reprocess import reprocess

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # uvicorn would re-raise SIGTERM after shutdown and skip our clean-up
            yield

    config = uvicorn.Config(create_app(app, reprocess=reprocess), host=host or app.settings.backoffice.host,
                            port=port or app.settings.backoffice.port, log_level="info", proxy_headers=True,
                            forwarded_allow_ips=",".join(app.settings.backoffice.trusted_proxies))
    return Server(config)


def run(app: App, *, host: str | None = None, port: int | None = None, with_web: bool = True) -> None:
    service = Service(app)
    server = _web_server(app, host, port) if with_web else None

    def _stop(signum, _frame):
        log.info("received %s", signal.Signals(signum).name)
        service.stop.set()
        if server is not None:
            server.should_exit = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    service.start()
    try:
        if server is not None:
            server.run()
        else:
            while not service.stop.wait(1):
                pass
    finally:
        service.shutdown()

"""Mails to the administrators when a mailbox stops answering, and when it answers again.

A mailbox without a successful fetch for longer than its `stale_after` is
stale (`sportello status` marks it). The administrators of `[alerts] to` are
told once per stale spell and once more on recovery: the spell's state is
`mailbox_states.stale_alerted_at`, changed by a compare-and-swap in the same
transaction that queues the mail, so two nodes checking at once send one mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import update

from config.settings import PROVINCE_NAMES
from db.app import App
from db.models import MailboxState, as_utc, utcnow
from intake import outgoing
from sportello.polling import mailboxes
from sportello.status import stale_mailboxes

log = logging.getLogger(__name__)
ROME = ZoneInfo("Europe/Rome")


@dataclass(frozen=True)
class Alert:
    kind: str  # mailbox_stale | mailbox_recovered
    mailbox: str
    recipients: int


def _when(dt) -> str:
    return as_utc(dt).astimezone(ROME).strftime("%d/%m/%Y alle %H:%M")


def check_mailboxes(app: App) -> list[Alert]:
    """Tell the administrators of every IMAP mailbox that went stale or recovered since the last check."""
    stale = dict(stale_mailboxes(app))
    out = []
    for mb in mailboxes(app):
        if mb.imap is None:  # a local Maildir cannot stop answering
            continue
        with app.db.session() as s:
            st = s.get(MailboxState, mb.key)
            if st is None:  # never polled yet: its row appears with the first pass
                if mb.key in stale:
                    log.warning("mailbox %s: %s", mb.key, stale[mb.key])
                continue
            if mb.key in stale:
                log.warning("mailbox %s: %s", mb.key, stale[mb.key])
                if st.stale_alerted_at is not None:
                    continue
                kind = "mailbox_stale"
                held = MailboxState.stale_alerted_at.is_(None)
                new = utcnow()
                context = {"last": _when(st.last_success_at) if st.last_success_at else None,
                           "error": st.last_error}
            else:
                if st.stale_alerted_at is None:
                    continue
                kind = "mailbox_recovered"
                held = MailboxState.stale_alerted_at == st.stale_alerted_at
                new = None
                context = {"at": _when(st.last_success_at or utcnow())}
            if s.execute(update(MailboxState).where(MailboxState.key == mb.key, held)
                         .values(stale_alerted_at=new)).rowcount != 1:
                continue  # another node got there first
            recipients = app.settings.alerts.to
            for to in recipients:
                msg = outgoing.compose_notice(kind, sender=app.settings.sender_address, recipient=to,
                                              office=PROVINCE_NAMES[mb.province], mailbox=mb.key,
                                              node=outgoing.NODE.rsplit(":", 2)[0], **context)
                outgoing.queue_notice(s, kind, msg)
        if not recipients:
            log.warning("mailbox %s: %s, and no [alerts] to is configured to tell", mb.key,
                        "stale" if kind == "mailbox_stale" else "recovered")
        else:
            log.info("mailbox %s: %s, %s administrators told", mb.key, kind, len(recipients))
        out.append(Alert(kind, mb.key, len(recipients)))
    return out

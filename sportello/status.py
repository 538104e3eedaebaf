"""`sportello status`: is every mailbox being read? what waits in the outbox?"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from db.models import MailboxState, Message, OutgoingMail, Request, as_utc, utcnow
from db.app import App
from sportello.polling import mailboxes

DEFAULT_STALE_AFTER = 3600


@dataclass
class StatusReport:
    lines: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)



def stale_mailboxes(app: App) -> list[tuple[str, str]]:
    """(mailbox key, why) for every mailbox without a recent successful fetch."""
    now = utcnow()
    out = []
    with app.db.session() as s:
        states = {m.key: m for m in s.scalars(select(MailboxState))}
    for mb in mailboxes(app):
        limit = timedelta(seconds=mb.imap.stale_after if mb.imap else DEFAULT_STALE_AFTER)
        st = states.get(mb.key)
        last = as_utc(st.last_success_at) if st else None
        if last is None:
            out.append((mb.key, "never fetched successfully" + (f": {st.last_error}" if st and st.last_error else "")))
        elif now - last > limit:
            why = f"no successful fetch since {last:%Y-%m-%d %H:%M} UTC"
            out.append((mb.key, why + (f": {st.last_error}" if st.last_error else "")))
    return out


def collect(app: App) -> StatusReport:
    rep = StatusReport()
    stale = dict(stale_mailboxes(app))
    with app.db.session() as s:
        states = {m.key: m for m in s.scalars(select(MailboxState))}
        counts = dict(s.execute(select(Request.status, func.count()).group_by(Request.status)).all())
        # Stored but not yet moved on the server: retried by every pass until it works.
        pending = dict(s.execute(select(Message.mailbox_key, func.count()).where(Message.server_action == "pending")
                                 .group_by(Message.mailbox_key)).all())
        outbox = dict(s.execute(select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status)).all())
    rep.lines.append("Mailboxes:")
    for mb in mailboxes(app):
        st = states.get(mb.key)
        last = as_utc(st.last_success_at) if st and st.last_success_at else None
        mark = "STALE" if mb.key in stale else "ok"
        when = f"{last:%Y-%m-%d %H:%M:%S} UTC" if last else "never"
        moves = f"  {pending[mb.key]} moves pending" if pending.get(mb.key) else ""
        err = ""
        if st and st.last_error:
            at = as_utc(st.last_error_at)
            # The error names the mailbox again; the line already does.
            text = st.last_error.replace(f"{mb.key}: ", "")
            err = f"  last error{f' {at:%Y-%m-%d %H:%M:%S} UTC' if at else ''}: {text}"
        rep.lines.append(f"  {mb.province}  {mark:<5}  last fetch {when}  {mb.key}{moves}{err}")
        if mb.key in stale and mb.imap is not None:
            rep.stale.append(mb.key)
    rep.lines.append("Requests: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))
    rep.lines.append("Outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(outbox.items())) or "empty"))
    return rep

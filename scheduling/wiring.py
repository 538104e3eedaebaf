"""Booking wired to the rest: the office calendar from the settings, the clock,
and the citizen's mails (invitation with its .ics, cancellation, the
no-show rejection) queued in the outbox in the booking's own transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import PROVINCE_NAMES
from db.models import Booking, Message, Request
from intake import outgoing
from scheduling import bookings, clock
from scheduling.calendar import OfficeCalendar, Slot, all_slots, free_slots, to_rome
from scheduling.invitation import Invitation, ics
from scheduling.office import office_calendar
from db.app import App

ACTOR_SYSTEM = "sportello"


def calendar_for(app: App, province: str) -> OfficeCalendar:
    return office_calendar(app.settings.calendar, province.upper())


def now() -> datetime:
    return clock.now()


def office_name(province: str) -> str:
    return f"spazioRegione {PROVINCE_NAMES[province]} - Regione Lombardia"


def _name(req: Request) -> str | None:
    name = " ".join(x for x in (req.holder_given_names, req.holder_surname) if x)
    return name.title() if name and req.form_type == "direct" else None


def _when(dt: datetime) -> str:
    days = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
    local = to_rome(dt)
    return f"{days[local.weekday()]} {local:%d/%m/%Y} alle {local:%H:%M}"


def request_mail(app: App, s: Session, req: Request, kind: str, **context):
    """A mail about `req` to its citizen, in the thread of their latest message; None without an address."""
    recipient = req.contact_email or req.sender_email
    if not recipient:
        return None
    latest = s.scalars(select(Message).where(Message.request_id == req.id, Message.direction == "in")
                       .order_by(Message.id.desc()).limit(1)).first()
    return outgoing.compose(kind, sender=app.settings.sender_address, recipient=recipient,
                            reference=req.reference, in_reply_to=latest.message_id if latest else None,
                            name=_name(req), office=office_name(req.province), **context)


def _add_html(msg) -> None:
    """The HTML alternative of a plain-text mail: its paragraphs, escaped, links made clickable."""
    import html
    import re

    text = msg.get_content()
    paras = [p for p in text.split("\n\n") if p.strip()]
    body = "".join(
        "<p>" + re.sub(r"(https?://\S+)", r'<a href="\1">\1</a>', html.escape(p, quote=False)).replace("\n", "<br>")
        + "</p>" for p in paras)
    msg.add_alternative(f'<!doctype html><html lang="it"><head><meta charset="utf-8"></head><body>{body}</body></html>',
                        subtype="html")


def _attach_ics(msg, b: Booking, req: Request, app: App, cancelled: bool) -> None:
    from email.utils import parseaddr

    inv = Invitation(
        uid=b.uid, sequence=b.sequence, start=b.start, end=b.end,
        summary=f"Videochiamata di riconoscimento - pratica {req.reference}",
        description=f"{office_name(req.province)}: riconoscimento per i codici PIN/PUK della TS-CNS.",
        organizer=parseaddr(app.settings.sender_address)[1] or "spazioregione@localhost",
        attendee=req.contact_email or req.sender_email, cancelled=cancelled,
    )
    method = "CANCEL" if cancelled else "REQUEST"
    msg.add_attachment(ics(inv), maintype="text", subtype="calendar", filename="videochiamata.ics",
                       params={"method": method})


def notifier(app: App):
    """The on_change hook of scheduling.bookings: the citizen's mail for each change."""

    def on_change(s: Session, req: Request, b: Booking, what: str) -> None:
        if what in ("booked", "moved"):
            minutes = int((b.end - b.start).total_seconds() // 60)
            s.flush()
            msg = request_mail(app, s, req, "booking_invitation", when=_when(b.start), minutes=minutes,
                        moved=what == "moved", call_link=call_link(app, b), manage_link=booking_link(app, req),
                        closes_hours=app.settings.calendar.link_closes_hours_before)
            if msg is not None:
                _add_html(msg)
                _attach_ics(msg, b, req, app, cancelled=False)
                outgoing.queue(s, req, "booking_invitation", msg, ACTOR_SYSTEM, rate_limited=False)
        elif what == "cancelled":
            msg = request_mail(app, s, req, "booking_cancelled", when=_when(b.start))
            if msg is not None:
                _add_html(msg)
                _attach_ics(msg, b, req, app, cancelled=True)
                outgoing.queue(s, req, "booking_cancelled", msg, ACTOR_SYSTEM, rate_limited=False)
        elif what == "no_show" and req.status == "rejected":
            msg = request_mail(app, s, req, "rejected_no_show", count=bookings.no_shows(s, req.id))
            if msg is not None:
                outgoing.queue(s, req, "rejected_no_show", msg, ACTOR_SYSTEM, rate_limited=False)

    return on_change


def _province_of(app: App, reference: str) -> str:
    with app.db.session() as s:
        province = s.scalar(select(Request.province).where(Request.reference == reference))
    if province is None:
        raise bookings.BookingError(f"nessuna pratica {reference}")
    return province


def book(app: App, reference: str, start: datetime, *, actor: str, desk: int | None = None,
         note: str | None = None) -> bookings.Outcome:
    cal = calendar_for(app, _province_of(app, reference))
    return bookings.book(app.db, cal, reference, start, now=now(), actor=actor, desk=desk, note=note,
                         on_change=notifier(app))


def book_demo_call(app: App, reference: str) -> bookings.Outcome:
    """`sportello demo`: the request's call booked to start now (outside the calendar), its mail queued."""
    return bookings.book_demo_call(app.db, reference, now=now(), on_change=notifier(app))


def move(app: App, reference: str, start: datetime, *, actor: str, desk: int | None = None) -> bookings.Outcome:
    cal = calendar_for(app, _province_of(app, reference))
    return bookings.move(app.db, cal, reference, start, now=now(), actor=actor, desk=desk, on_change=notifier(app))


def cancel(app: App, reference: str, *, actor: str, reason: str | None = None) -> bookings.Outcome:
    return bookings.cancel(app.db, reference, actor=actor, reason=reason, on_change=notifier(app))


def no_show(app: App, reference: str, *, actor: str) -> bookings.Outcome:
    return bookings.no_show(app.db, reference, actor=actor, limit=app.settings.calendar.no_show_limit,
                            on_change=notifier(app))


def next_free(app: App, province: str, count: int = 8, days: int = 21) -> list[Slot]:
    """The next free slots of an office, one per start time (the first free desk)."""
    cal = calendar_for(app, province)
    t = now()
    first = to_rome(t).date()
    with app.db.session() as s:
        taken = bookings.booked_in(s, cal.province, first, days)
    out: list[Slot] = []
    seen = set()
    for slot in free_slots(cal, first, days, taken, t):
        if slot.start in seen:
            continue
        seen.add(slot.start)
        out.append(slot)
        if len(out) == count:
            break
    return out


def day_view(app: App, province: str, first: date, days: int) -> list[dict]:
    """Every slot of those days with who booked it (closed days absent), for `calendar show`."""
    cal = calendar_for(app, province)
    with app.db.session() as s:
        taken = {(b.desk, b.start): b.reference for b in bookings.booked_in(s, cal.province, first, days)}
    rows = []
    for slot in all_slots(cal, first, days):
        absent = any(a.desk == slot.desk and a.start < slot.end and slot.start < a.end for a in cal.absences)
        ref = taken.pop((slot.desk, slot.start), None)
        if absent and ref is None:
            continue
        rows.append({"start": slot.local_start.isoformat(), "end": slot.local_end.isoformat(),
                     "desk": slot.desk, "booked_by": ref})
    return rows


def booking_link(app: App, req: Request) -> str:
    """The citizen's signed link to pick a slot (valid `[calendar] link_valid_hours`, until used)."""
    from db.secret import load_secret_key
    from scheduling.links import make_token

    token = make_token(load_secret_key(app.settings), req.id, req.version, now(), app.settings.calendar.link_valid_hours)
    return f"{app.settings.backoffice.base_url}/prenota/{token}"


def call_link(app: App, b: Booking) -> str:
    """The citizen's signed link to the call page of booking `b` (opens 15 minutes before the slot)."""
    from db.secret import load_secret_key
    from scheduling.links import make_call_token

    token = make_call_token(load_secret_key(app.settings), b.id, b.sequence)
    return f"{app.settings.backoffice.base_url}/videochiamata/{token}"


def send_reminders(app: App, at: datetime | None = None) -> int:
    """Queue every due reminder (24 h and 1 h before the call); return how many. Run by `sportello run`."""
    from scheduling import reminders

    t = at or now()
    with app.db.session() as s:
        todo = reminders.due(s, t)
    sent = 0
    for d in todo:
        with app.db.session() as s:
            b = reminders.claim(s, d)
            if b is None:
                continue
            req = s.get(Request, b.request_id)
            msg = request_mail(app, s, req, "booking_reminder", when=_when(b.start), call_link=call_link(app, b))
            if msg is not None:
                outgoing.queue(s, req, f"booking_reminder_{d.kind}", msg, ACTOR_SYSTEM, rate_limited=False)
            sent += 1
    return sent


def expire_incomplete(app: App, at: datetime | None = None) -> tuple[int, int]:
    """Notices and expiries of `incomplete` requests due now: (notices, expired). Run by `sportello run`."""
    from scheduling import expiry

    v = app.settings.verification
    t = at or now()
    with app.db.session() as s:
        todo = expiry.pending(s, t, v.incomplete_timeout_days, v.expiry_notice_days)
    counts = {"notice": 0, "expire": 0}
    for p in todo:
        with app.db.session() as s:
            req = expiry.claim(s, p, ACTOR_SYSTEM, v.incomplete_timeout_days)
            if req is None:
                continue
            if p.step == "notice":
                msg = request_mail(app, s, req, "expiry_notice", days_left=v.expiry_notice_days)
            else:
                msg = request_mail(app, s, req, "expired", days=v.incomplete_timeout_days)
            if msg is not None:
                kind = "expiry_notice" if p.step == "notice" else "expired"
                outgoing.queue(s, req, kind, msg, ACTOR_SYSTEM, rate_limited=False)
            counts[p.step] += 1
    return counts["notice"], counts["expire"]

"""The .ics of a booking (RFC 5545 / iTIP RFC 5546), made by icalendar.

One UID per booking; SEQUENCE raised on every change (the booking row's
`sequence`); METHOD:REQUEST for a booking or a reschedule, METHOD:CANCEL
when it is cancelled. DTSTART/DTEND carry TZID=Europe/Rome with its VTIMEZONE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from icalendar import Calendar, Event, vCalAddress

from scheduling.calendar import to_rome

PRODID = "-//Regione Lombardia//sportello spazioRegione//IT"


@dataclass(frozen=True)
class Invitation:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    description: str
    organizer: str  # an e-mail address
    attendee: str | None
    cancelled: bool = False


def ics(inv: Invitation, stamp: datetime | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if inv.cancelled else "REQUEST")
    ev = Event()
    ev.add("uid", inv.uid)
    ev.add("sequence", inv.sequence)
    ev.add("dtstamp", (stamp or datetime.now(timezone.utc)).astimezone(timezone.utc))
    ev.add("dtstart", to_rome(inv.start))
    ev.add("dtend", to_rome(inv.end))
    ev.add("summary", inv.summary)
    ev.add("description", inv.description)
    ev.add("status", "CANCELLED" if inv.cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{inv.organizer}")
    organizer.params["cn"] = "spazioRegione"
    ev.add("organizer", organizer)
    if inv.attendee:
        att = vCalAddress(f"mailto:{inv.attendee}")
        att.params["role"] = "REQ-PARTICIPANT"
        ev.add("attendee", att)
    cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical()

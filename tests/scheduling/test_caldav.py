"""The .ics of a booking, a reschedule and a cancel, accepted by a real CalDAV server (Radicale).

PUT each version to one resource: GET returns the event with the booking's UID
and the SEQUENCE just sent; the cancel replaces it (STATUS:CANCELLED).
"""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from scheduling.calendar import ROME
from scheduling.invitation import Invitation, ics

pytestmark = pytest.mark.slow
pytest.importorskip("radicale")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def radicale(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
                             "--auth-type", "none", "--rights-type", "authenticated",
                             "--storage-filesystem-folder", str(tmp_path / "collections")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/.web/", timeout=1).close()
            break
        except (OSError, urllib.error.HTTPError) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                break
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def _call(method: str, url: str, body: bytes | None = None, ctype: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _for_storage(raw: bytes) -> bytes:
    """A calendar object resource carries no METHOD (RFC 4791 4.1): iTIP's wrapper is for mail."""
    cal = Calendar.from_ical(raw)
    cal.pop("METHOD", None)
    return cal.to_ical()


def test_booking_reschedule_and_cancel_on_caldav(radicale):
    start = datetime(2026, 12, 10, 10, 0, tzinfo=ROME)
    base = dict(uid="b6f1c1e2-booking-1@sportello", summary="Videochiamata di riconoscimento - pratica SR-MI-2026-000001",
                description="spazioRegione Milano", organizer="spazioregione@example.org",
                attendee="cittadino@example.org")
    versions = [
        Invitation(sequence=0, start=start, end=start + timedelta(minutes=20), **base),
        Invitation(sequence=1, start=start + timedelta(days=1), end=start + timedelta(days=1, minutes=20), **base),
        Invitation(sequence=2, start=start + timedelta(days=1), end=start + timedelta(days=1, minutes=20),
                   cancelled=True, **base),
    ]
    stamp = datetime(2026, 12, 7, 6, 0, tzinfo=timezone.utc)
    mails = [ics(v, stamp) for v in versions]
    assert [str(Calendar.from_ical(m)["METHOD"]) for m in mails] == ["REQUEST", "REQUEST", "CANCEL"]

    assert _call("MKCOL", f"{radicale}/sportello/")[0] in (201, 405)
    collection = f"{radicale}/sportello/videochiamate/"
    status, _ = _call("MKCALENDAR", collection)
    assert status in (201, 405), status
    resource = collection + "booking-1.ics"
    for v, raw in zip(versions, mails):
        status, body = _call("PUT", resource, _for_storage(raw), "text/calendar; charset=utf-8")
        assert status in (201, 204), (status, body[:300])
        status, got = _call("GET", resource)
        assert status == 200
        ev = Calendar.from_ical(got).walk("VEVENT")
        assert len(ev) == 1
        ev = ev[0]
        assert str(ev["UID"]) == base["uid"]
        assert int(ev["SEQUENCE"]) == v.sequence
        assert ev.decoded("DTSTART") == v.start
        assert ev["DTSTART"].params["TZID"] == "Europe/Rome"
        assert str(ev["STATUS"]) == ("CANCELLED" if v.cancelled else "CONFIRMED")

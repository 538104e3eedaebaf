"""The call's pages and sockets without a browser: who may open them, when, and what they refuse."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from calls import identification
from calls.channels import MemoryGateway
from calls.decision import MATCH
from calls.identification import CallError
from calls.issuer import LocalIssuer
from calls.room import Room, Services
from db.models import Booking, OutgoingMail, Request
from db.secret import load_secret_key
from scheduling.links import make_call_token
from tests.calls.conftest import booked_now

ORIGIN = {"origin": "http://127.0.0.1"}
WS = "ws://127.0.0.1"  # the TestClient's own host, which its cookies are for


def _link(app, booking_id: int, sequence: int = 0) -> str:
    return f"/videochiamata/{make_call_token(load_secret_key(app.settings), booking_id, sequence)}"


def test_the_link_opens_the_privacy_notice_then_the_call_page_with_the_camera_allowed(app, client):
    _, booking = booked_now(app, "ROSSI")
    r = client.get(_link(app, booking))
    assert r.status_code == 200
    assert "GDPR" in r.text and "non viene registrata" in r.text
    assert "camera=()" in r.headers["permissions-policy"]  # no camera on the notice: it comes first
    r = client.get(_link(app, booking) + "/entra")
    assert r.status_code == 200 and 'id="call-start"' in r.text
    assert r.headers["permissions-policy"].startswith("camera=(self), microphone=(self)")
    assert client.get("/accesso").headers["permissions-policy"].startswith("camera=()")


@pytest.mark.parametrize("starts_in, minutes, title", [
    (timedelta(hours=2), 30, "È ancora presto"),
    (timedelta(minutes=-40), 30, "Orario della videochiamata passato"),
])
def test_the_link_opens_only_from_15_minutes_before_to_the_end(app, client, starts_in, minutes, title):
    _, booking = booked_now(app, "ROSSI", starts_in=starts_in, minutes=minutes)
    for suffix in ("", "/entra"):
        r = client.get(_link(app, booking) + suffix)
        assert r.status_code == 410 and title in r.text


def test_the_link_opens_14_minutes_before(app, client):
    _, booking = booked_now(app, "ROSSI", starts_in=timedelta(minutes=14))
    assert client.get(_link(app, booking)).status_code == 200


def test_a_forged_or_moved_link_is_refused(app, client):
    _, booking = booked_now(app, "ROSSI")
    assert client.get("/videochiamata/forged").status_code == 404
    assert client.get(_link(app, booking)[:-3] + "abc").status_code == 404
    assert "non valido" in client.get("/videochiamata/forged").text
    with app.db.session() as s:
        s.get(Booking, booking).sequence = 1  # moved: the mail of the move carries the new link
    r = client.get(_link(app, booking, 0))
    assert r.status_code == 410 and "Videochiamata non disponibile" in r.text
    assert client.get(_link(app, booking, 1)).status_code == 200


def test_a_link_of_a_call_already_concluded_is_refused(app, client, seeded):
    ref, booking = booked_now(app, "ROSSI")
    call = identification.start(app.db, ref, operator="op.mi")
    identification.conclude(app.db, call, "needs_review", actor="op.mi", reason="audio assente")
    assert client.get(_link(app, booking)).status_code == 410


def test_the_citizen_socket_needs_our_origin_and_a_valid_link(app, web, client):
    _, booking = booked_now(app, "ROSSI")
    path = WS + _link(app, booking) + "/ws"
    for url, headers in ((path, {}), (path, {"origin": "http://evil.example"}), (WS + "/videochiamata/forged/ws", ORIGIN)):
        with pytest.raises(WebSocketDisconnect):
            with client.http.websocket_connect(url, headers=headers) as ws:
                ws.receive_json()
    with client.http.websocket_connect(path, headers=ORIGIN) as ws:
        ws.send_json({"type": "hello"})  # an unknown message is ignored; the socket stays open
        ws.close()


def test_the_console_is_for_an_operator_of_that_office_while_the_call_is_on(app, login, seeded):
    ref, _ = booked_now(app, "ROSSI")
    r = login("op.mi").get(f"/pratiche/{ref}/videochiamata")
    assert r.status_code == 200 and "Cattura un fotogramma" in r.text and "ROSSI" in r.text
    assert login("op.bg").get(f"/pratiche/{ref}/videochiamata").status_code == 404
    later, _ = booked_now(app, "VERDI", starts_in=timedelta(hours=3))
    r = login("op.mi").get(f"/pratiche/{later}/videochiamata")
    assert r.status_code == 409 and "la console si apre 15 minuti prima" in r.text
    not_booked = seeded.refs["mi_ready"]
    r = login("op.mi").get(f"/pratiche/{not_booked}/videochiamata")
    assert r.status_code == 409 and "Pronta per la chiamata" in r.text


def test_the_operator_socket_needs_a_session_of_that_office(app, login, client, seeded):
    ref, _ = booked_now(app, "ROSSI")
    path = f"{WS}/pratiche/{ref}/videochiamata/ws"
    for c in (client, login("op.bg")):
        with pytest.raises(WebSocketDisconnect):
            with c.http.websocket_connect(path, headers=ORIGIN) as ws:
                ws.receive_json()
    op = login("op.mi")
    with pytest.raises(WebSocketDisconnect):  # a session cookie alone, from another site: refused
        with op.http.websocket_connect(path, headers={"origin": "http://evil.example"}) as ws:
            ws.receive_json()
    with op.http.websocket_connect(path, headers=ORIGIN) as ws:
        assert ws.receive_json() == {"type": "presence", "citizen": False, "citizen_video": False}
        ws.send_json({"type": "release"})
        assert "il cittadino non è collegato" in ws.receive_json()["text"]


def _identified_room(app) -> Room:
    ref, _ = booked_now(app, "ROSSI")
    call = identification.start(app.db, ref, operator="op.mi")
    identification.record_face(app.db, call, MATCH, actor="op.mi")
    identification.record_liveness(app.db, call, True, actor="op.mi")
    identification.record_channel(app.db, call, True, actor="op.mi", masked="+39 333 *** **67")
    identification.conclude(app.db, call, "identified", actor="op.mi")
    room = Room(ref, Services(app=app, issuer=LocalIssuer(), gateway=MemoryGateway()))
    room.call_id, room.operator_name = call, "op.mi"
    return room


def test_no_release_once_the_citizen_has_left_the_call(app, seeded):
    room = _identified_room(app)
    with pytest.raises(CallError, match="il cittadino non è collegato"):
        asyncio.run(room.release())
    with app.db.session() as s:
        assert s.scalar(select(Request.status).where(Request.reference == room.reference)) == "identified"
    assert room.services.gateway.sent == []


def test_a_rejection_at_the_call_mails_the_citizen_why(app, seeded):
    ref, _ = booked_now(app, "ROSSI")
    call = identification.start(app.db, ref, operator="op.mi")
    identification.conclude(app.db, call, "rejected", actor="op.mi", reason="il documento mostrato è scaduto", app=app)
    with app.db.session() as s:
        req = s.scalar(select(Request).where(Request.reference == ref))
        mails = s.scalars(select(OutgoingMail).where(OutgoingMail.request_id == req.id)).all()
        assert req.status == "rejected"
        assert [m.kind for m in mails] == ["rejected"]


def test_the_console_reopened_goes_on_with_the_same_call(app, seeded):
    ref, _ = booked_now(app, "ROSSI")
    first = identification.start(app.db, ref, operator="op.mi")
    assert identification.start(app.db, ref, operator="op.mi") == first

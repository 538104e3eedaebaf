"""The identification call on the web: the citizen's call page and the operator's console.

The citizen opens the call page with the signed link of the booking mail
(scheduling.links.make_call_token): from 15 minutes before the slot to its
end, a privacy notice first, then the camera. The operator opens the console
from the request (operator of that office, a request booked now). Each page
holds one WebRTC peer connection with the server (calls.media) and one
websocket: signalling (offer / answer) and, for the console, the steps of
the call (calls.room). The citizen's socket is authenticated by the link, the
operator's by the session; both must come from our own origin.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from backoffice import labels
from backoffice.auth import CurrentUser, current_user
from backoffice.booking import slot_label
from backoffice.passwords import verify_password
from backoffice.templating import render
from calls import identification
from calls.decision import DECISIONS
from calls.identification import CallError, person_on_the_call
from calls.room import Rooms
from calls.wiring import LOCAL_PHONE, services_for
from config.settings import PROVINCE_NAMES
from db.models import Booking, Document, Request as Req, User, as_utc
from db.secret import load_secret_key
from scheduling import wiring
from scheduling.links import LinkInvalid, call_window, read_call_token

log = logging.getLogger(__name__)
router = APIRouter()

CALL_PERMISSIONS = "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()"
CONSOLE_OVERRUN = timedelta(minutes=30)  # the console stays open this long after the slot's end
MAX_MESSAGE = 64 * 1024

REFUSED = {
    "bad": ("Collegamento non valido",
            "Il collegamento non è corretto: usi quello ricevuto per e-mail, copiandolo per intero."),
    "used": ("Videochiamata non disponibile",
             "Questa videochiamata è già conclusa oppure l'appuntamento è stato spostato o annullato. "
             "Usi il collegamento dell'ultima e-mail ricevuta; per un nuovo appuntamento risponda a quell'e-mail."),
    "early": ("È ancora presto",
              "La pagina della videochiamata si apre 15 minuti prima dell'appuntamento ({when}). "
              "Torni a quell'ora con questo stesso collegamento."),
    "over": ("Orario della videochiamata passato",
             "L'orario della videochiamata ({when}) è passato. Risponda all'e-mail di conferma: "
             "un operatore le proporrà un nuovo appuntamento."),
}


def rooms(app_state) -> Rooms:
    if getattr(app_state, "rooms", None) is None:
        app_state.rooms = Rooms(services_for(app_state.sportello))
    return app_state.rooms


# -- the citizen's side ---------------------------------------------------------------------------------------


def _open_link(app, token: str) -> tuple[str, str, str]:
    """(reference, office, when) of the booking a valid call link opens now; LinkInvalid otherwise."""
    link = read_call_token(load_secret_key(app.settings), token)
    with app.db.session() as s:
        b = s.get(Booking, link.booking_id)
        if b is None:
            raise LinkInvalid("bad")
        req = s.get(Req, b.request_id)
        when = slot_label(b.start)
        if b.sequence != link.sequence or b.status != "active" or req.status != "booked":
            raise LinkInvalid("used")
        closed = call_window(as_utc(b.start), as_utc(b.end), as_utc(wiring.now()))
        if closed:
            exc = LinkInvalid(closed)
            exc.when = when
            raise exc
        return req.reference, wiring.office_name(req.province), when


def _refuse(request: Request, exc: LinkInvalid):
    title, text = REFUSED[exc.reason]
    return render(request, "citizen_refused.html", status_code=404 if exc.reason == "bad" else 410,
                  title=title, text=text.format(when=getattr(exc, "when", "")))


def _with_camera(response):
    response.headers["permissions-policy"] = CALL_PERMISSIONS
    return response


@router.get("/videochiamata/{token}")
def privacy_page(request: Request, token: str):
    try:
        reference, office, when = _open_link(request.app.state.sportello, token)
    except LinkInvalid as exc:
        return _refuse(request, exc)
    return render(request, "call_privacy.html", token=token, reference=reference, office=office, when=when)


@router.get("/videochiamata/{token}/entra")
def citizen_page(request: Request, token: str):
    try:
        reference, office, when = _open_link(request.app.state.sportello, token)
    except LinkInvalid as exc:
        return _refuse(request, exc)
    ice = json.dumps(rooms(request.app.state).services.ice_servers)
    return _with_camera(render(request, "call_citizen.html", token=token, reference=reference, office=office,
                               when=when, ice=ice, ws_path=f"/videochiamata/{token}/ws"))


def _same_origin(ws: WebSocket) -> bool:
    """A browser always sends Origin on a websocket: ours only (cross-site websocket hijacking)."""
    origin = ws.headers.get("origin")
    host = ws.headers.get("host")
    return bool(origin and host) and origin.split("://", 1)[-1] == host


def _sayer(ws: WebSocket):
    lock = asyncio.Lock()

    async def say(message: dict) -> None:
        async with lock:
            await ws.send_json(message)

    return say


async def _messages(ws: WebSocket):
    while True:
        try:
            text = await ws.receive_text()
        except (WebSocketDisconnect, RuntimeError):
            return
        if len(text) > MAX_MESSAGE:
            continue
        try:
            message = json.loads(text)
        except ValueError:
            continue
        if isinstance(message, dict):
            yield message


@router.websocket("/videochiamata/{token}/ws")
async def citizen_socket(ws: WebSocket, token: str):
    app = ws.app.state.sportello
    if not _same_origin(ws):
        await ws.close(code=1008)
        return
    try:
        reference, _, _ = await run_in_threadpool(_open_link, app, token)
    except LinkInvalid:
        await ws.close(code=1008)
        return
    await ws.accept()
    room = rooms(ws.app.state).get(reference)
    say = _sayer(ws)
    await room.join("citizen", say)
    try:
        async for m in _messages(ws):
            if m.get("type") == "offer" and isinstance(m.get("sdp"), str):
                try:
                    await say({"type": "answer", "sdp": await room.offer("citizen", m["sdp"])})
                except Exception as exc:  # noqa: BLE001 - a malformed offer: the page says so
                    log.warning("citizen offer refused on a call: %s", type(exc).__name__)
                    await say({"type": "error", "text": "Collegamento video non riuscito: ricarichi la pagina."})
                await room.tell("operator", room.presence())
    finally:
        await room.leave("citizen", say)


# -- the operator's side --------------------------------------------------------------------------------------


def _console_context(app, user: CurrentUser, reference: str) -> dict:
    """What the console shows; CallError when this user may not hold this request's call now."""
    with app.db.session() as s:
        req = s.scalar(select(Req).where(Req.reference == reference))
        if req is None or req.province not in user.provinces:
            raise HTTPException(404)
        identification.office_user(s, user.username, req.province)
        if req.status != "booked":
            raise CallError(f"la pratica è in stato «{labels.label(labels.STATUS_LABELS, req.status)}»: la videochiamata è per una "
                            "pratica prenotata")
        b = s.scalar(select(Booking).where(Booking.request_id == req.id, Booking.status == "active"))
        if b is None:
            raise CallError("la pratica non ha un appuntamento attivo")
        now = as_utc(wiring.now())
        if call_window(as_utc(b.start), as_utc(b.end) + CONSOLE_OVERRUN, now):
            raise CallError(f"la videochiamata è fissata per {slot_label(b.start)}: la console si apre 15 minuti "
                            "prima")
        who = person_on_the_call(req.form_type)
        docs = [d for d in s.scalars(select(Document).where(Document.request_id == req.id))
                if d.slot.startswith(f"{who}_id") and d.attachment_id]
        scans = [{"label": labels.SLOT_LABELS.get(d.slot, d.slot), "attachment": d.attachment_id,
                  "page": d.page or 1, "number": d.number, "expiry": d.expiry, "type": d.doc_type} for d in docs]
        person = {
            "role": "titolare" if who == "holder" else "dichiarante",
            "surname": getattr(req, f"{who}_surname"),
            "given_names": getattr(req, f"{who}_given_names"),
            "codice_fiscale": getattr(req, f"{who}_codice_fiscale"),
            "birth_date": getattr(req, f"{who}_birth_date"),
        }
        return {"reference": req.reference, "province": PROVINCE_NAMES.get(req.province, req.province),
                "when": slot_label(b.start), "person": person, "scans": scans,
                "phone": req.contact_phone, "email": req.contact_email or req.sender_email}


@router.get("/pratiche/{reference}/videochiamata")
def console_page(request: Request, reference: str, user: CurrentUser = Depends(current_user)):
    app = request.app.state.sportello
    try:
        ctx = _console_context(app, user, reference)
    except CallError as exc:
        return render(request, "error.html", user=user, status_code=409, title="Videochiamata non disponibile",
                      text=str(exc)[:1].upper() + str(exc)[1:] + ".")
    services = rooms(request.app.state).services
    return _with_camera(render(
        request, "call_console.html", user=user, nav="chiamate", ice=json.dumps(services.ice_servers),
        ws_path=f"/pratiche/{reference}/videochiamata/ws", channel=services.channel,
        decisions=DECISIONS, local_phone=services.gateway is LOCAL_PHONE, **ctx))


def _socket_user(ws: WebSocket) -> CurrentUser | None:
    """The session's user, as backoffice.auth.current_user checks it, for a websocket."""
    uid, epoch = ws.session.get("uid"), ws.session.get("epoch")
    if uid is None:
        return None
    with ws.app.state.sportello.db.session() as s:
        u = s.get(User, uid)
        if u is None or not u.active or u.session_epoch != epoch:
            return None
        return CurrentUser(u.id, u.username, u.full_name or "", u.role, tuple(u.provinces or ()))


def _supervisor(app, username: str, password: str, province: str) -> str:
    """The supervisor who confirms at the operator's desk, by their own password."""
    with app.db.session() as s:
        u = s.scalar(select(User).where(User.username == username))
        ok = (u is not None and u.active and u.role in ("supervisor", "admin") and province in (u.provinces or [])
              and verify_password(u.password_hash, password))
    if not ok:
        log.warning("supervisor confirmation refused on a call")
        raise CallError("conferma del supervisore non valida")
    return username


def _province(app, reference: str) -> str:
    with app.db.session() as s:
        return s.scalar(select(Req.province).where(Req.reference == reference))


@router.websocket("/pratiche/{reference}/videochiamata/ws")
async def operator_socket(ws: WebSocket, reference: str):
    app = ws.app.state.sportello
    user = await run_in_threadpool(_socket_user, ws) if _same_origin(ws) else None
    if user is None:
        await ws.close(code=1008)
        return
    try:
        await run_in_threadpool(_console_context, app, user, reference)
        call_id = await run_in_threadpool(identification.start, app.db, reference, operator=user.username)
    except (CallError, HTTPException):
        await ws.close(code=1008)
        return
    registry = rooms(ws.app.state)
    room = registry.get(reference)
    if room.operator_name not in (None, user.username) and "operator" in room.sockets:
        await ws.close(code=1008)
        return
    room.call_id, room.operator_name = call_id, user.username
    await ws.accept()
    say = _sayer(ws)
    if "operator" in room.sockets:  # the same operator's console reopened: the new one takes over
        await room.tell("operator", {"type": "replaced"})
    await room.join("operator", say)
    try:
        async for m in _messages(ws):
            kind = m.get("type")
            if kind == "offer" and isinstance(m.get("sdp"), str):
                try:
                    await say({"type": "answer", "sdp": await room.offer("operator", m["sdp"])})
                except Exception as exc:  # noqa: BLE001
                    log.warning("operator offer refused on a call: %s", type(exc).__name__)
                    await say({"type": "error", "text": "collegamento video non riuscito: ricarica la pagina"})
                await say(room.presence())
                continue
            if room.busy.locked():
                await say({"type": "error", "text": "attendi la fine dell'operazione in corso"})
                continue
            async with room.busy:
                try:
                    await say(await _step(app, room, kind, m))
                except CallError as exc:
                    await say({"type": "error", "text": str(exc)})
                except Exception as exc:  # noqa: BLE001 - one step failed; the call goes on
                    log.error("call step %s failed: %s", kind, type(exc).__name__)
                    await say({"type": "error", "text": "operazione non riuscita: riprova"})
            if kind == "end":
                break
    finally:
        await room.leave("operator", say)
        if kind_is_final(room):
            await registry.discard(reference)


def kind_is_final(room) -> bool:
    """Whether the room can go: nobody left on it."""
    return not room.sockets


async def _step(app, room, kind: str | None, m: dict) -> dict:
    if kind == "capture":
        return await room.capture()
    if kind == "challenge":
        return await room.run_challenge()
    if kind == "send_code":
        return await room.send_code()
    if kind == "check_code":
        return await room.check_code(str(m.get("code", ""))[:20])
    if kind == "decide":
        decision = m.get("decision")
        if decision not in DECISIONS:
            raise CallError("decisione sconosciuta")
        supervisor = None
        if m.get("supervisor"):
            province = await run_in_threadpool(_province, app, room.reference)
            supervisor = await run_in_threadpool(_supervisor, app, str(m["supervisor"])[:80],
                                                 str(m.get("supervisor_password", ""))[:200], province)
        reason = str(m.get("reason") or "").strip()[:1000] or None
        return await room.decide(decision, reason, supervisor)
    if kind == "release":
        return await room.release()
    if kind == "end":
        await room.tell("citizen", {"type": "ended", "text": "La videochiamata è terminata."})
        return {"type": "ended"}
    raise CallError("operazione sconosciuta")


@router.get("/telefono-di-prova")
def local_phone(request: Request, user: CurrentUser = Depends(current_user)):
    """The demo's phone: the texts the local SMS gateway took, in memory, for 15 minutes (no real gateway)."""
    services = rooms(request.app.state).services
    if services.gateway is not LOCAL_PHONE:
        raise HTTPException(404)
    texts = [{"to": to, "text": text} for to, text in reversed(LOCAL_PHONE.recent())]
    return render(request, "local_phone.html", user=user, nav="chiamate", texts=texts)

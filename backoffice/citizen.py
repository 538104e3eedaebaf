"""The citizen's booking page, reached by the signed link of the "pratica completa" mail.

No account: the link is the key, for one request only (scheduling/links.py).
The citizen picks one of the next free slots, or asks to be called. Nothing
personal is shown but the reference and the office.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request

from backoffice.booking import slot_label, slot_value, _parse_slot
from backoffice.actions import Refused
from db.secret import load_secret_key
from backoffice.templating import render
from db import lifecycle
from db.models import Request as Req, as_utc
from scheduling import bookings
from scheduling.links import LinkInvalid, read_token
from scheduling import wiring

router = APIRouter()

ACTOR = "cittadino"
SLOTS = 10
REFUSED = {
    "bad": ("Collegamento non valido",
            "Il collegamento non è corretto: usi quello ricevuto per e-mail, copiandolo per intero."),
    "expired": ("Collegamento scaduto",
                "Il collegamento per scegliere l'appuntamento è scaduto. Risponda all'e-mail ricevuta: "
                "un operatore la contatterà per fissare la videochiamata."),
    "closed": ("Appuntamento troppo vicino",
               "Mancano poche ore alla videochiamata: l'appuntamento non si può più cambiare da questa pagina. "
               "Se non può esserci, risponda all'e-mail di conferma."),
    "used": ("Collegamento già usato",
             "Questo collegamento è già stato usato oppure la pratica è cambiata nel frattempo. "
             "Se ha già prenotato, trova l'appuntamento nell'e-mail di conferma; per cambiarlo risponda a quell'e-mail."),
}


def _refuse(request: Request, reason: str):
    title, text = REFUSED[reason]
    return render(request, "citizen_refused.html", status_code=410 if reason != "bad" else 404,
                  title=title, text=text)


def _open(request: Request, token: str, want: str = "ready"):
    """(app, request row, its active booking or None) for a valid, unused link; raises LinkInvalid.

    A `ready` request's link books; a `booked` one's (sent with the invitation)
    moves or cancels, until `link_closes_hours_before` hours before the call.
    """
    from datetime import timedelta


    app = request.app.state.sportello
    now = wiring.now()
    link = read_token(load_secret_key(app.settings), token, now)
    with app.db.session() as s:
        req = s.get(Req, link.request_id)
        if req is None:
            raise LinkInvalid("bad")
        if req.version != link.version or req.status not in ("ready", "booked") or (want and req.status != want):
            raise LinkInvalid("used")
        active = bookings.active_booking(s, req.id)
        if req.status == "booked":
            if active is None:
                raise LinkInvalid("used")
            closes = as_utc(active.start) - timedelta(hours=app.settings.calendar.link_closes_hours_before)
            if as_utc(now) >= closes:
                raise LinkInvalid("closed")
            s.expunge(active)
        s.expunge(req)
    return app, req, active


def _page(request: Request, token: str, app, req: Req, error: str | None = None, status_code: int = 200):
    slots = [(slot_value(x), slot_label(x.start)) for x in wiring.next_free(app, req.province, count=SLOTS)]
    return render(request, "citizen_booking.html", status_code=status_code, token=token, reference=req.reference,
                  office=wiring.office_name(req.province), slots=slots, error=error)


@router.get("/prenota/{token}")
def booking_page(request: Request, token: str):
    try:
        app, req, active = _open(request, token, want="")
    except LinkInvalid as exc:
        return _refuse(request, exc.reason)
    if active is not None:
        return _manage_page(request, token, app, req, active)
    return _page(request, token, app, req)


def _manage_page(request: Request, token: str, app, req: Req, active, error: str | None = None,
                 status_code: int = 200):

    current = as_utc(active.start)
    slots = [(slot_value(x), slot_label(x.start)) for x in wiring.next_free(app, req.province, count=SLOTS + 1)
             if x.start != current][:SLOTS]
    return render(request, "citizen_manage.html", status_code=status_code, token=token, reference=req.reference,
                  office=wiring.office_name(req.province), when=slot_label(active.start), slots=slots, error=error)


@router.post("/prenota/{token}/sposta")
def move(request: Request, token: str, slot: str = Form("")):
    try:
        app, req, active = _open(request, token, want="booked")
    except LinkInvalid as exc:
        return _refuse(request, exc.reason)
    if not slot:
        return _manage_page(request, token, app, req, active, error="Scelga uno degli orari proposti.",
                            status_code=400)
    try:
        start, _ = _parse_slot(slot)
        out = wiring.move(app, req.reference, start, actor=ACTOR)
    except bookings.SlotTaken:
        return _manage_page(request, token, app, req, active, status_code=409,
                            error="L'orario scelto è appena stato prenotato da un'altra persona: ne scelga un altro.")
    except (bookings.BookingError, Refused) as exc:
        return _manage_page(request, token, app, req, active, error=str(exc), status_code=409)
    return render(request, "citizen_done.html", reference=req.reference, office=wiring.office_name(req.province),
                  when=slot_label(out.start), callback=False, cancelled=False)


@router.post("/prenota/{token}/annulla")
def cancel(request: Request, token: str):
    try:
        app, req, _ = _open(request, token, want="booked")
    except LinkInvalid as exc:
        return _refuse(request, exc.reason)
    wiring.cancel(app, req.reference, actor=ACTOR, reason="annullata dal cittadino con il collegamento")
    return render(request, "citizen_done.html", reference=req.reference, office=wiring.office_name(req.province),
                  when=None, callback=False, cancelled=True)


@router.post("/prenota/{token}")
def book(request: Request, token: str, slot: str = Form("")):
    try:
        app, req, _ = _open(request, token)
    except LinkInvalid as exc:
        return _refuse(request, exc.reason)
    if not slot:
        return _page(request, token, app, req, error="Scelga uno degli orari proposti.", status_code=400)
    try:
        start, _ = _parse_slot(slot)
        out = wiring.book(app, req.reference, start, actor=ACTOR, note="scelto dal cittadino con il collegamento")
    except bookings.SlotTaken:
        return _page(request, token, app, req, status_code=409,
                     error="L'orario scelto è appena stato prenotato da un'altra persona: ne scelga un altro.")
    except (bookings.BookingError, Refused) as exc:
        return _page(request, token, app, req, error=str(exc), status_code=409)
    return render(request, "citizen_done.html", reference=req.reference, office=wiring.office_name(req.province),
                  when=slot_label(out.start), callback=False, cancelled=False)


@router.post("/prenota/{token}/richiamami")
def call_me(request: Request, token: str):
    try:
        app, req, _ = _open(request, token)
    except LinkInvalid as exc:
        return _refuse(request, exc.reason)
    with app.db.session() as s:
        row = s.get(Req, req.id)
        row.version += 1  # the link is used
        lifecycle.record(s, row, "callback_requested", ACTOR, {})
    return render(request, "citizen_done.html", reference=req.reference, office=wiring.office_name(req.province),
                  when=None, callback=True, cancelled=False)

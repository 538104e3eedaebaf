"""The citizen's booking page, reached by the signed link of the "pratica completa" mail.

No account: the link is the key, for one request only (scheduling/links.py).
The citizen picks one of the next free slots, or asks to be called. Nothing
personal is shown but the reference and the office.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request

from backoffice.booking import slot_label, slot_value, _parse_slot
from backoffice.actions import Refused
from backoffice.security import load_secret_key
from backoffice.templating import render
from db import lifecycle
from db.models import Request as Req
from scheduling import bookings
from scheduling.links import LinkInvalid, read_token
from sportello import booking as wiring

router = APIRouter()

ACTOR = "cittadino"
SLOTS = 10
REFUSED = {
    "bad": ("Collegamento non valido",
            "Il collegamento non è corretto: usi quello ricevuto per e-mail, copiandolo per intero."),
    "expired": ("Collegamento scaduto",
                "Il collegamento per scegliere l'appuntamento è scaduto. Risponda all'e-mail ricevuta: "
                "un operatore la contatterà per fissare la videochiamata."),
    "used": ("Collegamento già usato",
             "Questo collegamento è già stato usato oppure la pratica è cambiata nel frattempo. "
             "Se ha già prenotato, trova l'appuntamento nell'e-mail di conferma; per cambiarlo risponda a quell'e-mail."),
}


def _refuse(request: Request, reason: str):
    title, text = REFUSED[reason]
    return render(request, "citizen_refused.html", status_code=410 if reason != "bad" else 404,
                  title=title, text=text)


def _open(request: Request, token: str):
    """(app, request row) for a valid, unused link; raises LinkInvalid."""
    app = request.app.state.sportello
    link = read_token(load_secret_key(app.settings), token, wiring.now())
    with app.db.session() as s:
        req = s.get(Req, link.request_id)
        if req is None:
            raise LinkInvalid("bad")
        if req.version != link.version or req.status != "ready":
            raise LinkInvalid("used")
        s.expunge(req)
    return app, req


def _page(request: Request, token: str, app, req: Req, error: str | None = None, status_code: int = 200):
    slots = [(slot_value(x), slot_label(x.start)) for x in wiring.next_free(app, req.province, count=SLOTS)]
    return render(request, "citizen_booking.html", status_code=status_code, token=token, reference=req.reference,
                  office=wiring.office_name(req.province), slots=slots, error=error)


@router.get("/prenota/{token}")
def booking_page(request: Request, token: str):
    try:
        app, req = _open(request, token)
    except LinkInvalid as exc:
        return _refuse(request, exc.reason)
    return _page(request, token, app, req)


@router.post("/prenota/{token}")
def book(request: Request, token: str, slot: str = Form("")):
    try:
        app, req = _open(request, token)
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
                  when=slot_label(out.start), callback=False)


@router.post("/prenota/{token}/richiamami")
def call_me(request: Request, token: str):
    try:
        app, req = _open(request, token)
    except LinkInvalid as exc:
        return _refuse(request, exc.reason)
    with app.db.session() as s:
        row = s.get(Req, req.id)
        row.version += 1  # the link is used
        lifecycle.record(s, row, "callback_requested", ACTOR, {})
    return render(request, "citizen_done.html", reference=req.reference, office=wiring.office_name(req.province),
                  when=None, callback=True)

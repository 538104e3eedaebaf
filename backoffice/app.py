"""create_app: the back office as an ASGI app, wired to one sportello App.

    web = create_app(app, reprocess=pipeline.reprocess)
    uvicorn.run(web, host=..., port=...)
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any, Callable

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from backoffice import (actions, auth, booking, call_pages, citizen, health, integration, intake_failures,
                        office_calendar, queue, request_page)
from backoffice.auth import LoginRequired
from backoffice.throttle import LoginThrottle
from backoffice.scans import ScanRenderer
from backoffice.security import CsrfError, SecurityHeaders, verify_csrf
from backoffice.session import SealedSessionMiddleware
from backoffice.templating import flash, render
from db.app import App
from db.secret import load_secret_key

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "sportello_session"
SESSION_MAX_AGE = 10 * 3600  # a working day; idle sessions end sooner (auth.IDLE_TIMEOUT)

ERRORS = {
    400: ("Richiesta non valida", "Mancano dei dati nel modulo o non sono validi."),
    403: ("Operazione non consentita", "Non hai i permessi per questa operazione."),
    404: ("Pagina non trovata", "La pagina o la pratica non esiste, oppure non appartiene alle tue province."),
    405: ("Operazione non consentita", "Questo indirizzo non accetta questa operazione."),
    429: ("Troppe richieste", "Attendi qualche minuto e riprova."),
}

Reprocess = Callable[[App, int], Any]


class _CatchAll:
    """Inside the security headers: an unexpected error becomes a plain 500 page.

    Only the exception type and the frames are logged, never its message:
    database errors quote the values of the statement, personal data included.
    """

    PAGE = ("<!doctype html><html lang=it><meta charset=utf-8><title>Errore</title>"
            "<link rel=stylesheet href=/static/sportello.css><main class=page><div class='card error-card'>"
            "<h1>Si è verificato un errore</h1><p>L'operazione non è stata completata. Riprova; se il problema "
            "continua, avvisa l'assistenza indicando l'ora.</p><p><a href=/coda>Torna alla coda</a></p>"
            "</div></main></html>").encode()

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            log.error("unhandled %s on %s %s\n%s", type(exc).__name__, scope.get("method"), scope.get("path"),
                      "".join(traceback.format_tb(exc.__traceback__)))
            if started:
                raise
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"text/html; charset=utf-8")]})
            await send({"type": "http.response.body", "body": self.PAGE})


class _HeadAsGet:
    """HEAD wherever GET is (RFC 9110 9.3.2): monitoring checks send HEAD, FastAPI's routes answer only GET.

    Outermost, so the session, CSRF and every route see the GET; the body is dropped, the headers
    (Content-Length included) are the GET's.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message):
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def _error_page(request: Request, status: int, title: str | None = None, text: str | None = None):
    t, m = ERRORS.get(status, ("Errore", "Operazione non riuscita."))
    return render(request, "error.html", status_code=status, title=title or t, text=text or m)


def create_app(app: App, reprocess: Reprocess | None = None) -> FastAPI:
    """The back office for `app`. `reprocess(app, message_id)` re-runs intake on a quarantined message."""
    settings = app.settings.backoffice
    web = FastAPI(title="sportello", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(verify_csrf)])
    web.state.sportello = app
    web.state.reprocess = reprocess
    web.state.renderer = ScanRenderer(app.blobs, app.settings.limits.max_image_pixels,
                                      max_pages=app.settings.limits.max_pdf_pages)
    web.state.login_throttle = LoginThrottle(settings.throttle_storage)

    for module in (health, auth, queue, request_page, actions, booking, citizen, office_calendar, integration,
                   intake_failures, call_pages):
        web.include_router(module.router)

    @web.on_event("shutdown")
    async def _close_calls():
        if getattr(web.state, "rooms", None) is not None:
            await web.state.rooms.close_all()
    web.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Added last = outermost: headers on every response, the session inside them.
    web.add_middleware(_CatchAll)
    web.add_middleware(SealedSessionMiddleware, secret_key=load_secret_key(app.settings), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE, same_site="lax", secure=settings.secure_cookies)
    web.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    web.add_middleware(_HeadAsGet)

    @web.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        if exc.expired:
            flash(request, "warn", "La sessione è terminata: accedi di nuovo.")
        target = "/accesso"
        if request.method == "GET" and request.url.path not in ("/", "/coda"):
            target += f"?next={request.url.path}"
        return RedirectResponse(target, status_code=303)

    @web.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError):
        return _error_page(request, 403, "Richiesta rifiutata",
                           "Il modulo è scaduto o non proviene da questa applicazione. Ricarica la pagina e riprova.")

    @web.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code in ERRORS:
            return _error_page(request, exc.status_code)
        return HTMLResponse(str(exc.detail), status_code=exc.status_code)

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return _error_page(request, 400)

    return web

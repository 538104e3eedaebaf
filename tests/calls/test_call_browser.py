"""The identification call end to end in Debian's chromium: two browser contexts over loopback.

One module fixture runs the slow part once: a real server (uvicorn, the
server an aiortc peer of each browser), aiosmtpd for the e-mail channel, and
four chromium processes whose fake cameras play a Y4M made from a face photo
shipped in a package (tests/corpus/faces: scikit-image's astronaut, matplotlib's
grace_hopper): the operator's, the genuine citizen's (the astronaut, blinking)
and an impostor's (grace_hopper, still) and the astronaut's photo held still, each against a request whose identity
document carries the astronaut's photo. Every step on the operator's console
is done with the keyboard; axe-core runs on each page at 1366 and 390 px.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from backoffice.passwords import hash_password
from db.models import Request, User
from tests.backoffice.test_booking_browser import axe_violations
from tests.calls import fakecam
from tests.calls.conftest import booked_now
from tests.conftest import write_config

PASSWORD = "password-di-prova"
CHROMIUM = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
VIEWPORTS = ({"width": 1366, "height": 900}, {"width": 390, "height": 844})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.mails: list = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def texts(self) -> list[str]:
        return [m.get_content() for m in self.mails]

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for text in reversed(self.texts()):
                found = re.search(pattern, text)
                if found:
                    return found
            time.sleep(0.2)
        raise AssertionError(f"no mail matching {pattern!r}: {self.texts()}")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The server, the SMTP inbox, the requests and their call links (SQLite: the browser part runs once)."""
    import uvicorn
    from aiosmtpd.controller import Controller

    from backoffice.app import create_app
    from db.app import App
    from db.migrate import upgrade
    from db.secret import load_secret_key
    from scheduling.links import make_call_token

    tmp = tmp_path_factory.mktemp("call")
    inbox = Inbox()
    smtp_port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    data = tmp / "data"
    cfg = write_config(tmp / "sportello.toml", data, f"sqlite:///{tmp / 'sportello.db'}", extra=(
        f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\nsender = "spazioregione.mi@example.org"\n'
        '\n[call]\nchannel = "email"\n'))
    app = App.from_config(str(cfg))
    upgrade(app.db.engine)
    with app.db.session() as s:
        for name, role in (("op.mi", "operator"), ("sup.mi", "supervisor"), ("op.bg", "operator")):
            s.add(User(username=name, full_name=name, password_hash=hash_password(PASSWORD), role=role,
                       provinces=["BG"] if name.endswith(".bg") else ["MI"]))
    secret = load_secret_key(app.settings)
    refs = {}
    for who, face in (("genuine", "astronaut"), ("impostor", "astronaut"), ("still", "astronaut")):
        ref, booking_id = booked_now(app, who.upper(), face)
        refs[who] = (ref, f"/videochiamata/{make_call_token(secret, booking_id, 0)}")
    web = create_app(app)
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=_free_port(), log_level="warning",
                                           lifespan="off", ws="websockets-sansio"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield {"app": app, "base": f"http://127.0.0.1:{server.config.port}", "refs": refs, "inbox": inbox,
           "tmp": tmp, "data": data, "web": web}
    server.should_exit = True
    thread.join(10)
    controller.stop()
    app.close()


@pytest.fixture(scope="module")
def chromium(site):
    """Four browsers: the operator's (the fake device's own pattern), the genuine citizen's, the impostor's,
    and the genuine person's still photo held up to the camera."""
    from playwright.sync_api import sync_playwright

    tmp = site["tmp"]
    genuine = fakecam.write_y4m(tmp / "genuine.y4m", fakecam.blinking("astronaut"))
    impostor = fakecam.write_y4m(tmp / "impostor.y4m", fakecam.still("grace_hopper"))
    photo = fakecam.write_y4m(tmp / "photo.y4m", fakecam.still("astronaut"))
    with sync_playwright() as p:
        def launch(y4m=None):
            extra = [f"--use-file-for-fake-video-capture={y4m}"] if y4m else []
            return p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM + extra)

        browsers = {"operator": launch(), "genuine": launch(genuine), "impostor": launch(impostor),
                    "photo": launch(photo)}
        yield browsers
        for b in browsers.values():
            b.close()


def until(page, script: str, timeout: float = 30) -> None:
    """Poll `script` (evaluated by CDP, which the pages' CSP allows, unlike wait_for_function's eval)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            status = page.evaluate("(document.getElementById('call-status') || {}).textContent")
            raise AssertionError(f"not true after {timeout} s: {script} (status: {status!r})")
        time.sleep(0.2)


def _page(browser, viewport=VIEWPORTS[0]):
    ctx = browser.new_context(viewport=viewport, locale="it-IT")
    return ctx.new_page()


def press(locator, key: str = "Enter") -> None:
    """An action by the keyboard alone: focus the control, press the key."""
    locator.focus()
    locator.page.keyboard.press(key)


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accesso")
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    press(page.get_by_label("Password"))
    page.wait_for_url(re.compile(r".*/coda.*"))


def _join(browser, base: str, link: str):
    citizen = _page(browser)
    citizen.goto(base + link)
    assert citizen.get_by_role("heading", name="Prima di iniziare: come trattiamo i suoi dati").is_visible()
    assert "GDPR" in citizen.inner_text("main")
    assert axe_violations(citizen) == []
    press(citizen.get_by_role("link", name="Ho letto: entro nella videochiamata"))
    citizen.wait_for_url(re.compile(r".*/entra$"))
    assert axe_violations(citizen) == []
    press(citizen.get_by_role("button", name="Attiva fotocamera e microfono"))
    until(citizen, "document.getElementById('call-status').textContent.startsWith('Collegato')", 30)
    return citizen


def _console(browser, base: str, ref: str):
    op = _page(browser)
    _log_in(op, base, "op.mi")
    op.goto(f"{base}/pratiche/{ref}/videochiamata")
    until(op, "document.getElementById('call-status').textContent.includes('il suo video arriva')", 30)
    until(op, "document.getElementById('remote-video').videoWidth > 0", 30)
    return op


def _result(op, element: str, pattern: str, timeout: float = 60) -> str:
    until(op, f"/{pattern}/.test(document.getElementById('{element}').textContent)", timeout)
    return op.inner_text(f"#{element}")


@pytest.fixture(scope="module")
def genuine_call(site, chromium):
    """The genuine citizen's whole call, to the release; what each end showed, kept for the tests below."""
    import calls.liveness

    base, inbox = site["base"], site["inbox"]
    ref, link = site["refs"]["genuine"]
    mp = pytest.MonkeyPatch()
    mp.setattr(calls.liveness, "choose", lambda: calls.liveness.BLINK)  # the Y4M blinks: the server's pick, fixed
    try:
        citizen = _join(chromium["genuine"], base, link)
        op = _console(chromium["operator"], base, ref)
        seen = {"console_axe": axe_violations(op)}
        press(op.get_by_role("button", name="Cattura un fotogramma e confronta"))
        seen["face"] = _result(op, "face-result", "corrisponde|da ripetere")
        press(op.get_by_role("button", name="Avvia la prova"))
        until(citizen, "!document.getElementById('call-prompt').hidden", 20)
        seen["prompt"] = citizen.inner_text("#call-prompt")
        seen["liveness"] = _result(op, "liveness-result", "superata")
        press(op.get_by_role("button", name="Invia il codice"))
        code = inbox.wait_for(r"il codice da dire all'operatore in videochiamata è (\d{6})").group(1)
        op.fill("#code-input", code)
        press(op.locator("#code-input"))
        seen["code"] = _result(op, "code-result", "corretto|errato")
        press(op.locator("#step-document"), " ")
        press(op.get_by_role("radio", name="Identificato"), " ")
        press(op.get_by_role("button", name="Conferma la decisione"))
        _result(op, "console-message", "Esito registrato")
        until(op, "!document.getElementById('release-button').disabled")
        press(op.get_by_role("button", name="Rilascia i codici"))
        op.wait_for_selector("#codes:not([hidden])", timeout=30000)
        seen["pin2"], seen["puk2"] = op.inner_text("#pin-digits"), op.inner_text("#puk-digits")
        rest = inbox.wait_for(r"PIN: le 2 cifre dette in videochiamata seguite da (\d+)\. PUK: le 2 cifre dette seguite da (\d+)")
        seen["pin"], seen["puk"] = seen["pin2"] + rest.group(1), seen["puk2"] + rest.group(2)
        until(citizen, "document.getElementById('call-status').textContent.includes('Riconoscimento completato')")
        seen["citizen_end"] = citizen.inner_text("#call-status")
        seen["console_axe_after"] = axe_violations(op)
        citizen.close()  # the citizen leaves: the first digits go from the console
        op.wait_for_selector("#codes", state="hidden", timeout=20000)
        seen["digits_after_leaving"] = op.inner_text("#pin-digits") + op.inner_text("#puk-digits")
        seen["console_text_after"] = op.inner_text("main")
        op.close()
    finally:
        mp.undo()
    return seen


def test_the_genuine_person_is_identified_and_the_codes_released(site, genuine_call):
    seen = genuine_call
    assert seen["console_axe"] == [] and seen["console_axe_after"] == []
    assert seen["face"] == "corrisponde"
    assert seen["prompt"].startswith("Chiuda gli occhi")
    assert seen["liveness"].startswith("superata")
    assert seen["code"] == "corretto"
    assert re.fullmatch(r"\d\d", seen["pin2"]) and re.fullmatch(r"\d\d", seen["puk2"])
    assert re.fullmatch(r"\d{5}", seen["pin"]) and re.fullmatch(r"\d{8}", seen["puk"])
    assert "Riconoscimento completato" in seen["citizen_end"]
    assert seen["digits_after_leaving"] == ""
    ref, _ = site["refs"]["genuine"]
    with site["app"].db.session() as s:
        assert s.scalar(select(Request.status).where(Request.reference == ref)) == "released"


def test_no_released_digit_is_left_anywhere(site, genuine_call, caplog):
    pin, puk = genuine_call["pin"], genuine_call["puk"]
    found = []
    for path in site["tmp"].rglob("*"):
        if path.is_file() and not path.suffix == ".y4m":
            blob = path.read_bytes()
            found += [str(path) for code in (pin, puk) if code.encode() in blob]
    assert found == []
    assert pin not in genuine_call["console_text_after"] and puk not in genuine_call["console_text_after"]


def test_the_export_says_how_the_call_went_and_nothing_biometric(site, genuine_call):
    from db.export import all_requests, request_record

    ref, _ = site["refs"]["genuine"]
    with site["app"].db.session() as s:
        ident = next(request_record(r) for r in all_requests(s) if r.reference == ref)["identification"]
    assert ident["face_band"] == "corrisponde" and ident["liveness_passed"] and ident["channel_verified"]
    assert ident["outcome"] == "identified" and ident["operator"] == "op.mi"
    assert not {"distance", "encoding", "frame"} & set(ident)


def test_the_impostor_does_not_match_and_nothing_is_released_without_a_supervisor(site, chromium, genuine_call):
    base = site["base"]
    ref, link = site["refs"]["impostor"]
    citizen = _join(chromium["impostor"], base, link)
    op = _console(chromium["operator"], base, ref)
    press(op.get_by_role("button", name="Cattura un fotogramma e confronta"))
    assert _result(op, "face-result", "corrisponde|da ripetere") == "non corrisponde"
    press(op.get_by_role("radio", name="Identificato"), " ")
    press(op.get_by_role("button", name="Conferma la decisione"))
    message = _result(op, "console-message", "supervisore|Esito")
    assert "serve la conferma di un supervisore" in message
    assert op.locator("#release-button").is_disabled()
    op.evaluate("window.sportelloCall.send({type: 'release'})")  # past the disabled button: the server refuses
    assert "si rilasciano i codici solo di una pratica" in _result(op, "console-message", "rilasciano")
    with site["app"].db.session() as s:
        assert s.scalar(select(Request.status).where(Request.reference == ref)) == "booked"
    # the impostor's call is sent to review (no supervisor needed: it hands the decision over)
    press(op.get_by_role("radio", name="Da revisionare"), " ")
    op.fill("#decide-reason", "il volto non corrisponde alla foto del documento")
    press(op.get_by_role("button", name="Conferma la decisione"))
    assert "da revisionare" in _result(op, "console-message", "Esito registrato")
    until(citizen, "document.getElementById('call-status').textContent.includes('conclusa')")
    with site["app"].db.session() as s:
        assert s.scalar(select(Request.status).where(Request.reference == ref)) == "needs_review"
    citizen.close()
    op.close()


def test_a_still_photo_of_the_genuine_person_matches_but_fails_the_challenge(site, chromium, genuine_call):
    import calls.liveness

    base = site["base"]
    ref, link = site["refs"]["still"]
    mp = pytest.MonkeyPatch()
    mp.setattr(calls.liveness, "choose", lambda: calls.liveness.BLINK)  # the one the blinking video passes
    try:
        citizen = _join(chromium["photo"], base, link)
        op = _console(chromium["operator"], base, ref)
        press(op.get_by_role("button", name="Cattura un fotogramma e confronta"))
        assert _result(op, "face-result", "corrisponde|da ripetere") == "corrisponde"
        press(op.get_by_role("button", name="Avvia la prova"))
        assert _result(op, "liveness-result", "superata").startswith("non superata")
    finally:
        mp.undo()
    with site["app"].db.session() as s:
        from db.models import Identification

        call = s.scalar(select(Identification).join(Request, Request.id == Identification.request_id)
                        .where(Request.reference == ref))
        assert call.face_band == "corrisponde" and call.liveness_passed is False
    citizen.close()
    op.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["1366", "390"])
def test_the_call_pages_pass_axe_and_fit_the_phone(site, chromium, viewport, genuine_call):
    """The refusal pages (the genuine link is used now), the privacy notice, the call page, the console
    and the demo phone, at both widths."""
    from calls.wiring import LOCAL_PHONE

    base = site["base"]
    _, used = site["refs"]["genuine"]
    ref, link = site["refs"]["still"]
    page = _page(chromium["operator"], viewport)
    for url in (base + used, base + "/videochiamata/forged", base + link, base + link + "/entra"):
        page.goto(url)
        assert axe_violations(page) == [], url
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], url
    _log_in(page, base, "op.mi")
    services = site["web"].state.rooms.services
    channel = services.gateway
    services.gateway = LOCAL_PHONE
    LOCAL_PHONE.send("+393331234567", "spazioRegione: il codice da dire all'operatore in videochiamata è 000000.")
    try:
        for url in (f"{base}/pratiche/{ref}/videochiamata", f"{base}/telefono-di-prova"):
            page.goto(url)
            assert axe_violations(page) == [], url
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], url
    finally:
        services.gateway = channel
    page.close()

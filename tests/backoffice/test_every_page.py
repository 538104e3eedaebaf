"""Every page of the back office and of the citizen, in Debian's chromium at 1366x900 and 390x844:
no sideways scrolling (of the page or of anything in it) and no WCAG 2.1 A/AA violation by axe-core.

The walk is built from the app's own GET routes: a new page that is not walked here fails the test,
so that it cannot be added without being looked at on a phone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from backoffice.app import create_app
from db.models import Request
from db.secret import load_secret_key
from scheduling.links import make_call_token, make_token
from tests.backoffice.conftest import screenshot
from tests.backoffice.test_booking_browser import axe_violations
from tests.backoffice.test_browser import log_in
from tests.calls.conftest import booked_now

pytestmark = pytest.mark.slow

# GET routes that are not pages a person reads (data, images, probes, downloads).
NOT_PAGES = {"/metrics", "/healthz", "/readyz", "/", "/pratiche/{reference}/allegati/{attachment_id}/pagina/{page}",
             "/pratiche/{reference}/allegati/{attachment_id}/originale", "/static"}
VIEWPORTS = ((1366, 900), (390, 844))
# Anything wider than its box that scrolls sideways (the page itself or a container inside it).
SIDEWAYS = """() => {
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth) out.push('page ' + document.documentElement.scrollWidth);
  for (const el of document.querySelectorAll('body *')) {
    const st = getComputedStyle(el);
    if ((st.overflowX === 'auto' || st.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1)
      out.push((el.id || el.className || el.tagName) + ' ' + el.scrollWidth + '>' + el.clientWidth);
  }
  return out;
}"""


def page_routes(web) -> set[str]:
    return {r.path for r in web.routes if "GET" in getattr(r, "methods", set()) and r.path not in NOT_PAGES}


def walk(app, seeded) -> dict[str, list[str]]:
    """route -> the URLs that show it, from the seeded data (logged in as a supervisor of BG and MI)."""
    secret = load_secret_key(app.settings)
    call_ref, booking_id = booked_now(app, "PAGINE")
    with app.db.session() as s:
        ready = s.scalar(select(Request).where(Request.reference == seeded.refs["mi_ready"]))
        prenota = make_token(secret, ready.id, ready.version, datetime.now(timezone.utc), 168)
    call = make_call_token(secret, booking_id, 0)
    today = datetime.now().date().isoformat()
    requests = [f"/pratiche/{seeded.refs[k]}" for k in ("a", "b", "c", "xss", "failed", "bg", "mi_booked",
                                                         "mi_released", "mi_not_a_request")]
    return {
        "/accesso": ["/accesso"],
        "/coda": ["/coda", "/coda?stato=all", "/coda?stato=needs_review", "/coda?stato=ready",
                  "/coda?stato=not_a_request", "/coda?provincia=MI", "/coda?q=ROSSI"],
        "/pratiche/{reference}": requests,
        "/pratiche/{reference}/allegati/{attachment_id}": [
            f"/pratiche/{seeded.refs['bg']}/allegati/{seeded.attachments['bg']}?pagina=1"],
        "/pratiche/{reference}/integrazione": [f"/pratiche/{seeded.refs['a']}/integrazione"],
        "/pratiche/{reference}/videochiamata": [f"/pratiche/{call_ref}/videochiamata"],
        "/intake-non-riuscite": ["/intake-non-riuscite"],
        "/calendario": ["/calendario", f"/calendario?provincia=MI&giorno={today}&vista=settimana"],
        "/chiamate": ["/chiamate"],
        "/prenota/{token}": [f"/prenota/{prenota}", "/prenota/non-valido"],
        "/videochiamata/{token}": [f"/videochiamata/{call}", "/videochiamata/non-valido"],
        "/videochiamata/{token}/entra": [f"/videochiamata/{call}/entra"],
        "/telefono-di-prova": ["/telefono-di-prova"],
        "error": ["/pratiche/MI-1999-999999", "/non-esiste"],
    }


def test_every_page_fits_a_phone_and_passes_axe(app, seeded, server, page):
    urls = walk(app, seeded)
    missing = page_routes(create_app(app)) - set(urls)
    assert not missing, f"pages not walked by this test: {sorted(missing)}"

    log_in(page, server, "sup")
    problems: list[str] = []
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        for route, targets in urls.items():
            if route == "/accesso":
                continue  # logged in: shown below, logged out
            for url in targets:
                response = page.goto(server + url)
                refused = route == "error" or url.endswith("non-valido")
                if (response.status == 200) == refused or "/accesso" in page.url:
                    problems.append(f"{url}: answered {response.status} at {page.url}")
                if wide := page.evaluate(SIDEWAYS):
                    problems.append(f"{width}px {url}: sideways {wide[:3]}")
                if bad := axe_violations(page):
                    problems.append(f"{width}px {url}: axe {bad}")
        screenshot(page, f"60-ogni-pagina-{width}")
    page.context.clear_cookies()
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(server + "/accesso")
        if wide := page.evaluate(SIDEWAYS):
            problems.append(f"{width}px /accesso: sideways {wide[:3]}")
        if bad := axe_violations(page):
            problems.append(f"{width}px /accesso: axe {bad}")
    assert problems == []

"""The queue's "oldest first" is the time a request became complete (first `ready`), else the time it
was received: a change of status does not send it to the bottom. Both times are shown; another open
request with the same codice fiscale, in any province, is pointed out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from db import lifecycle
from db.models import Event, Request, utcnow
from tests.backoffice.conftest import screenshot
from tests.backoffice.test_booking_browser import axe_violations
from tests.backoffice.test_browser import log_in


def order(html: str) -> list[str]:
    return re.findall(r'<td class="nowrap" data-label="Pratica"><a class="ref" href="/pratiche/([^"]+)"', html)


def move(app, rid: int, *targets: str) -> None:
    with app.db.session() as s:
        r = s.get(Request, rid)
        for t in targets:
            lifecycle.transition(s, r, t, "op.mi")


def test_a_change_of_status_keeps_the_requests_place(login, seeded, app):
    mi = login("op.mi")
    before = order(mi.get("/coda?stato=needs_review").text)
    assert len(before) >= 2
    oldest = before[0]
    with app.db.session() as s:
        rid = s.scalar(select(Request.id).where(Request.reference == oldest))
    # Checked again (a correction, a new look): under the old order, time in status, it went last.
    move(app, rid, "received", "needs_review")
    after = order(mi.get("/coda?stato=needs_review").text)
    assert after == before


def test_a_request_waits_from_when_it_became_complete(login, seeded, app):
    mi = login("op.mi")
    # Two ready requests: the one received later but complete earlier comes first.
    early_ref, late_ref = seeded.refs["mi_ready"], seeded.refs["c"]
    with app.db.session() as s:
        early = s.scalar(select(Request).where(Request.reference == early_ref))
        late = s.scalar(select(Request).where(Request.reference == late_ref))
        late.created_at = early.created_at + timedelta(hours=1)
        s.flush()
        late_id = late.id
    move(app, late_id, "ready")
    with app.db.session() as s:
        ev = s.scalars(select(Event).where(Event.request_id == late_id, Event.to_status == "ready")).one()
        ev.at = utcnow() - timedelta(days=30)  # complete long ago, although received after the other
    move(app, late_id, "needs_review", "ready")  # then re-checked today: still waiting from the first time
    html = mi.get("/coda?stato=ready").text
    rows = order(html)
    assert rows.index(late_ref) < rows.index(early_ref)
    assert "completa dal" in html and "in questo stato da" in html
    # Received, never complete: "ricevuta il".
    assert "ricevuta il" in mi.get("/coda?stato=needs_review").text


def test_the_same_codice_fiscale_in_another_open_request_is_pointed_out(login, seeded, app):
    mi_ref, bg_ref = seeded.refs["c"], seeded.refs["bg"]
    with app.db.session() as s:
        mi = s.scalar(select(Request).where(Request.reference == mi_ref))
        bg = s.scalar(select(Request).where(Request.reference == bg_ref))
        released = s.scalar(select(Request).where(Request.reference == seeded.refs["mi_released"]))
        bg.holder_codice_fiscale = released.holder_codice_fiscale = mi.holder_codice_fiscale
    op = login("op.mi")
    page = op.get(f"/pratiche/{mi_ref}").text
    warning = page[page.index('id="stesso-cf"'):].split("</div>")[0]
    assert bg_ref in warning and "non tra le tue province" in warning and f'href="/pratiche/{bg_ref}"' not in warning
    assert seeded.refs["mi_released"] not in warning  # a closed request is no duplicate
    assert "stesso CF in 1 altra pratica aperta" in op.get("/coda?stato=all").text
    sup = login("sup").get(f"/pratiche/{mi_ref}").text
    assert f'href="/pratiche/{bg_ref}"' in sup[sup.index('id="stesso-cf"'):].split("</div>")[0]
    assert 'id="stesso-cf"' not in op.get(f"/pratiche/{seeded.refs['a']}").text


@pytest.mark.slow
def test_order_and_duplicate_warning_in_the_browser(app, seeded, server, page):
    mi_ref, bg_ref = seeded.refs["c"], seeded.refs["bg"]
    with app.db.session() as s:
        cf = s.scalar(select(Request.holder_codice_fiscale).where(Request.reference == mi_ref))
        s.scalar(select(Request).where(Request.reference == bg_ref)).holder_codice_fiscale = cf
    log_in(page, server, "sup")
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{server}/coda?stato=all")
        row = page.locator("tr", has=page.locator(f'a.ref:text-is("{mi_ref}")'))
        assert "stesso CF in 1 altra pratica aperta" in row.inner_text()
        assert re.search(r"(ricevuta il|completa dal) \d\d/\d\d/\d{4}", row.inner_text())
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert row.locator("td[data-label='In attesa da']").is_visible()
        page.goto(f"{server}/pratiche/{mi_ref}")
        warning = page.locator("#stesso-cf")
        assert warning.is_visible() and bg_ref in warning.inner_text()
        assert axe_violations(page) == []
        screenshot(page, f"52-stesso-cf-{width}")
    # From the warning to the other request, by keyboard.
    page.locator(f"#stesso-cf a:text-is('{bg_ref}')").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/pratiche/{bg_ref}")

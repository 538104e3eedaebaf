"""Issue 18 in Debian's chromium, at 1366×900 and 390×844, by keyboard: the province column of the
all-provinces queue, "Correggi" visible without a pointer, long file names kept in their column,
HEAD on the pages. axe-core (WCAG 2.1 AA) on each page. Screenshots in artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from db.models import Attachment
from tests.backoffice.conftest import screenshot
from tests.backoffice.test_booking_browser import axe_violations
from tests.backoffice.test_login_browser import VIEWPORTS, keyboard_login
from tests.backoffice.seed import PASSWORD

pytestmark = pytest.mark.slow

LONG_NAME = "scansione_carta_identita_fronte_definitiva_ultima_versione_inviata_il_2026-12-07_ore_10-32_rossi.png"


@pytest.fixture(params=list(VIEWPORTS))
def desk(request, browser):
    ctx = browser.new_context(viewport=VIEWPORTS[request.param], locale="it-IT")
    pg = ctx.new_page()
    pg.viewport_name = request.param
    yield pg
    ctx.close()


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_the_all_provinces_queue_has_a_province_column(server, seeded, desk):
    keyboard_login(desk, server, "sup", PASSWORD)
    desk.goto(f"{server}/coda?stato=needs_review")
    header = desk.get_by_role("columnheader", name="Provincia")
    assert header.is_visible()
    cells = desk.locator("table.queue tbody td.province")
    assert set(cells.all_inner_texts()) == {"BG", "MI"}
    bg_row = desk.locator("table.queue tbody tr", has=desk.locator(f"a.ref:text-is('{seeded.refs['bg']}')"))
    assert bg_row.locator("td.province").inner_text() == "BG"
    # Every province link and closed view is on screen; the table scrolls in its card, never cut off.
    for link in desk.locator(".page-head .segmented a, .closed-views a").all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[desk.viewport_name]["width"], link.inner_text()
    card = desk.locator(".table-card")
    assert desk.evaluate("(el) => getComputedStyle(el).overflowX", card.element_handle()) == "auto"
    assert axe_violations(desk) == []
    screenshot(desk, f"18-09-coda-tutte-province-{desk.viewport_name}")
    # One province: the column goes.
    desk.get_by_role("link", name="MI", exact=True).focus()
    with desk.expect_navigation():
        desk.keyboard.press("Enter")
    assert desk.get_by_role("columnheader", name="Provincia").count() == 0


def test_correggi_is_visible_without_hover_and_long_file_names_stay_in_their_column(app, server, seeded, desk):
    with app.db.session() as s:
        s.execute(update(Attachment).where(Attachment.id == seeded.attachments["a_id"]).values(filename=LONG_NAME))
    keyboard_login(desk, server, "op.mi", PASSWORD)
    desk.goto(f"{server}/pratiche/{seeded.refs['a']}")
    desk.mouse.move(0, 0)  # nothing hovered, as on a touch screen

    doc = desk.locator(f"#doc-{seeded.documents['a_id']}")
    row = doc.locator(".kv", has_text="Cognome")
    summary = row.locator("summary", has_text="Correggi")
    assert summary.is_visible()
    assert desk.evaluate("(el) => getComputedStyle(el).opacity", summary.element_handle()) == "1"
    assert not boxes_overlap(summary.bounding_box(), row.locator("dd > span").first.bounding_box())
    for label in doc.locator(".kv dt").all():
        assert not boxes_overlap(summary.bounding_box(), label.bounding_box())

    name = doc.locator(".doc-thumb .sub")
    assert LONG_NAME in name.inner_text()
    thumb, body, name_box = (doc.locator(".doc-thumb").bounding_box(), doc.locator(".doc-body").bounding_box(),
                             name.bounding_box())
    assert name_box["x"] + name_box["width"] <= thumb["x"] + thumb["width"] + 0.5
    assert not boxes_overlap(name_box, body)
    assert desk.evaluate("(el) => el.scrollWidth <= el.clientWidth", name.element_handle())
    # Nothing runs off the right edge (the narrow layout's .page would hide it in a sideways scroll).
    wide = desk.evaluate("""() => Array.from(document.querySelectorAll('.req-main *'))
        .filter(el => !el.parentElement.closest('.table-scroll'))
        .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
        .slice(0, 5).map(el => el.tagName + '.' + el.className)""")
    assert wide == []
    assert axe_violations(desk) == []
    screenshot(desk, f"18-09-pratica-correggi-{desk.viewport_name}")

    # By keyboard: Correggi is in the tab order; Enter opens it, Enter saves.
    assert desk.evaluate("(el) => el.tabIndex", summary.element_handle()) >= 0
    summary.focus()
    desk.keyboard.press("Enter")
    value = row.locator("input[name=value]")
    assert value.is_visible()
    value.focus()
    desk.keyboard.press("Control+A")
    desk.keyboard.type("ROSSI")
    with desk.expect_navigation():
        desk.keyboard.press("Enter")
    assert "ROSSO" in desk.locator(f"#doc-{seeded.documents['a_id']} .kv.corrected .fixnote").inner_text()


def test_head_on_pages_in_the_browsers_http_stack(server, seeded, desk):
    keyboard_login(desk, server, "op.mi", PASSWORD)
    for path in ("/healthz", "/coda", f"/pratiche/{seeded.refs['a']}"):
        r = desk.request.fetch(f"{server}{path}", method="HEAD", max_redirects=0)
        assert r.status == 200, (path, r.status)
        assert r.body() == b""
    assert desk.request.fetch(f"{server}/esci", method="HEAD", max_redirects=0).status == 405
    desk.goto(f"{server}/coda")
    assert re.match(rf"{server}/coda", desk.url)


def test_the_queue_opens_on_the_work_with_every_count_shown(server, seeded, desk):
    keyboard_login(desk, server, "op.mi", PASSWORD)
    assert desk.url == f"{server}/coda"
    active = desk.locator(".tabs a[aria-current=page]")
    assert active.get_attribute("data-status") == "open" and active.inner_text().startswith("Aperte")
    assert desk.locator("text=Nessuna pratica in questa vista").count() == 0
    statuses = set(desk.locator("table.queue tbody .status").all_inner_texts())
    assert {"Incompleta", "Pronta per la chiamata", "Da revisionare"} <= statuses
    assert desk.locator("table.queue tbody a.ref").first.inner_text() == seeded.refs["a"]
    counts = desk.locator(".tabs .count, .closed-views .count")
    assert counts.count() == 12  # Aperte, six working statuses, Tutte, four closed
    for i in range(counts.count()):
        assert counts.nth(i).is_visible() and re.fullmatch(r"\d+", counts.nth(i).inner_text())
    assert axe_violations(desk) == []
    screenshot(desk, f"18-01-coda-iniziale-{desk.viewport_name}")

    # Claim one by keyboard; back on /coda the view is the clerk's own.
    desk.goto(f"{server}/pratiche/{seeded.refs['mi_ready']}")
    desk.get_by_role("button", name="Prendi in carico").focus()
    with desk.expect_navigation():
        desk.keyboard.press("Enter")
    desk.goto(f"{server}/coda")
    assert desk.locator("table.queue tbody a.ref").all_inner_texts() == [seeded.refs["mi_ready"]]
    assert "in carico a te" in desk.locator(".page-head").inner_text()
    assert axe_violations(desk) == []
    screenshot(desk, f"18-01-coda-mie-{desk.viewport_name}")
    # The other tabs stay a keypress away.
    desk.locator(".tabs a[data-status=needs_review]").focus()
    with desk.expect_navigation():
        desk.keyboard.press("Enter")
    assert desk.locator(".tabs a[aria-current=page]").get_attribute("data-status") == "needs_review"

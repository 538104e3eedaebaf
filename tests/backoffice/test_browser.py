"""End to end in Debian's chromium: log in, review a request to `ready`,
send an integration request for another. Screenshots go to
artifacts/screenshots/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select

from db.models import Event, Finding, OutgoingMail, Request
from tests.backoffice.conftest import screenshot
from tests.backoffice.seed import PASSWORD, XSS_FILENAME, XSS_SUBJECT

pytestmark = pytest.mark.slow


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/coda")
    assert page.url.startswith(f"{base}/accesso")
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Entra").click()
    page.wait_for_url(f"{base}/coda")


def status_of(app, reference: str) -> str:
    with app.db.session() as s:
        return s.scalar(select(Request.status).where(Request.reference == reference))


def test_review_a_request_from_the_queue_to_ready(app, seeded, server, page):
    # An operator validates only a request without blocking findings (the blocking path:
    # test_blocking_findings.py, test_blocking_browser.py): here the missing back has arrived.
    with app.db.session() as s:
        s.execute(delete(Finding).where(Finding.request_id == seeded.ids["a"], Finding.severity == "blocking"))
    page.goto(f"{server}/accesso")
    screenshot(page, "01-accesso")
    log_in(page, server, "op.mi")

    # The queue opens on "Da revisionare", oldest first: request "a" (3 days, late) leads.
    rows = page.locator("table.queue tbody tr")
    assert rows.first.locator("a.ref").inner_text() == seeded.refs["a"]
    assert "age-late" in rows.first.locator(".age").get_attribute("class")
    assert page.locator(f"text={seeded.refs['bg']}").count() == 0  # another province
    screenshot(page, "02-coda")
    page.get_by_role("link", name=re.compile("^Tutte")).click()
    screenshot(page, "02b-coda-tutte")
    page.get_by_role("link", name=re.compile("^Da revisionare")).click()

    rows.first.locator("a.ref").click()
    page.wait_for_url(f"{server}/pratiche/{seeded.refs['a']}")
    assert page.locator("h1 .status").inner_text() == "Da revisionare"
    # The scans load as images served by us.
    thumb = page.locator("#documenti img").first
    thumb.wait_for()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", thumb.element_handle())
    screenshot(page, "03-pratica")

    page.get_by_role("button", name="Prendi in carico").click()
    page.wait_for_url(re.compile(rf".*/pratiche/{seeded.refs['a']}$"))
    assert "Pratica presa in carico" in page.locator(".flash").inner_text()

    # Correct the surname read from the ID card: the extracted value stays visible.
    doc = page.locator(f"#doc-{seeded.documents['a_id']}")
    surname_row = doc.locator(".kv", has_text="Cognome")
    surname_row.locator("summary", has_text="Correggi").click()
    surname_row.locator("input[name=value]").fill("ROSSI")
    surname_row.locator("input[name=note]").fill("lettura OCR errata")
    surname_row.get_by_role("button", name="Salva").click()
    page.wait_for_url(re.compile(r".*/pratiche/.*"))
    fixed = page.locator(f"#doc-{seeded.documents['a_id']} .kv.corrected")
    assert "ROSSO" in fixed.locator(".fixnote").inner_text()

    page.get_by_label(re.compile("Completa e valida")).check()
    page.get_by_label("Nota").fill("Documenti verificati, cognome corretto a mano.")
    page.get_by_role("button", name="Registra la revisione").click()
    page.wait_for_url(re.compile(rf".*/pratiche/{seeded.refs['a']}$"))
    assert page.locator("h1 .status").inner_text() == "Pronta per la chiamata"
    assert status_of(app, seeded.refs["a"]) == "ready"
    history = page.locator("#cronologia").inner_text()
    assert "Da revisionare → Pronta per la chiamata" in history and "op.mi" in history
    screenshot(page, "04-pratica-pronta")

    # The scan viewer, zoomed.
    with page.expect_popup() as popup:
        page.locator("#scansioni a.shot", has_text="carta_identita_fronte.png").click()
    viewer = popup.value
    viewer.wait_for_load_state()
    viewer.get_by_role("link", name="200%").click()
    viewer.wait_for_load_state()
    assert viewer.locator(".viewer-canvas.zoom-200 img").count() == 1
    screenshot(viewer, "05-scansione")
    assert not page.console_errors  # no CSP violation, no broken resource


def test_send_an_integration_request(app, seeded, server, page):
    log_in(page, server, "op.mi")
    page.locator("a.ref", has_text=seeded.refs["b"]).click()
    page.get_by_role("link", name="Richiedi integrazione…").click()
    body = page.get_by_label("Testo")
    text = body.input_value()
    assert "Manca il retro della Tessera Sanitaria-CNS del titolare." in text  # pre-filled from the findings
    body.fill(text.replace("Cordiali saluti,", "Grazie per la collaborazione.\n\nCordiali saluti,"))
    screenshot(page, "06-integrazione")
    page.get_by_role("button", name="Anteprima").click()
    preview = page.locator(".mail-preview")
    assert f"[{seeded.refs['b']}]" in preview.inner_text()
    assert f"Codice pratica: {seeded.refs['b']}" in preview.inner_text()
    screenshot(page, "07-anteprima")
    page.get_by_role("button", name="Invia al cittadino").click()
    page.wait_for_url(re.compile(rf".*/pratiche/{seeded.refs['b']}.*"))
    assert "messa in coda di invio" in page.locator(".flash").inner_text()
    assert page.locator("h1 .status").inner_text() == "Incompleta"
    assert "in coda di invio" in page.locator("#messaggi").inner_text()
    screenshot(page, "08-pratica-incompleta")

    with app.db.session() as s:
        mails = s.scalars(select(OutgoingMail).where(OutgoingMail.request_id == seeded.ids["b"])).all()
        kinds = s.scalars(select(Event.kind).where(Event.request_id == seeded.ids["b"])).all()
    assert len(mails) == 1 and mails[0].status == "pending" and b"Grazie per la collaborazione." in mails[0].raw
    assert "integration_requested" in kinds
    assert status_of(app, seeded.refs["b"]) == "incomplete"


def test_failed_intake_view_and_reprocess(app, seeded, server, page):
    log_in(page, server, "op.mi")
    page.get_by_role("link", name=re.compile("Messaggi non letti")).click()
    row = page.locator("table.grid tbody tr").first
    assert "<script>alert('errore')</script>" in row.inner_text()  # shown as text
    screenshot(page, "09-messaggi-non-letti")
    row.get_by_role("button", name="Elabora di nuovo").click()
    page.wait_for_url(f"{server}/intake-non-riuscite")
    assert page.locator(".flash").count() == 1


def test_html_from_citizens_is_inert_in_the_browser(seeded, server, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, server, "op.mi")
    page.goto(f"{server}/pratiche/{seeded.refs['xss']}")
    assert page.locator(".mail-subject").first.inner_text() == XSS_SUBJECT
    assert page.locator(".attachments a").first.inner_text() == XSS_FILENAME
    assert page.locator("#messaggi b, #messaggi img[src=x], #dati b").count() == 0
    assert dialogs == []

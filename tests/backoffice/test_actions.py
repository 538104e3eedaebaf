"""What operators do to a request, and the events each action leaves."""

from __future__ import annotations

import email
import re
from email import policy

from sqlalchemy import select

from db.models import Document, Event, OutgoingMail, Request


def req(app, rid: int) -> Request:
    with app.db.session() as s:
        return s.get(Request, rid)


def events(app, rid: int, kind: str | None = None) -> list[Event]:
    with app.db.session() as s:
        q = select(Event).where(Event.request_id == rid).order_by(Event.id)
        if kind:
            q = q.where(Event.kind == kind)
        return list(s.scalars(q))


def flashes(html: str) -> list[str]:
    return re.findall(r'class="flash flash-\w+" role="\w+">([^<]*)<', html)


def test_review_to_ready_leaves_events_with_who_and_when(login, seeded, app):
    mi = login("op.mi")
    assert "Manca il retro del documento d&#39;identità del titolare." in mi.get(f"/pratiche/{seeded.refs['a']}").text
    ref, rid = seeded.refs["c"], seeded.ids["c"]  # no blocking finding (see test_blocking_findings.py)
    version = req(app, rid).version
    r = mi.post(f"/pratiche/{ref}/revisione", {"outcome": "ready", "note": "tutto in ordine", "version": version})
    assert r.status_code == 303
    after = req(app, rid)
    assert after.status == "ready" and after.assigned_to == "op.mi" and after.version == version + 1
    status = events(app, rid, "status")[-1]
    assert (status.actor, status.from_status, status.to_status) == ("op.mi", "needs_review", "ready")
    assert status.detail == {"action": "review", "reason": "tutto in ordine"} and status.at is not None
    assert events(app, rid, "claimed")[-1].detail == {"auto": True}
    assert "Revisione registrata" in " ".join(flashes(mi.get(f"/pratiche/{ref}").text))


def test_review_to_incomplete_leads_to_the_integration_request(login, seeded, app):
    mi = login("op.mi")
    version = req(app, seeded.ids["c"]).version
    r = mi.post(f"/pratiche/{seeded.refs['c']}/revisione", {"outcome": "incomplete", "version": version})
    assert r.headers["location"] == f"/pratiche/{seeded.refs['c']}/integrazione"
    # Incomplete only once the letter is sent (tests/backoffice/test_citizen_informed.py).
    assert req(app, seeded.ids["c"]).status == "needs_review" and req(app, seeded.ids["c"]).version == version


def test_a_stale_form_is_refused(login, seeded, app):
    mi, mi2 = login("op.mi"), login("op.mi2")
    ref, rid = seeded.refs["c"], seeded.ids["c"]
    version = req(app, rid).version
    assert mi2.post(f"/pratiche/{ref}/correggi", {"target": "request", "field": "contact_phone",
                                                  "value": "+393330000000", "version": version}).status_code == 303
    assert mi2.post(f"/pratiche/{ref}/lascia").status_code == 303
    r = mi.post(f"/pratiche/{ref}/revisione", {"outcome": "ready", "version": version})
    assert r.status_code == 303
    assert req(app, rid).status == "needs_review"
    assert "modificata da qualcun altro" in " ".join(flashes(mi.get(f"/pratiche/{ref}").text))


def test_a_request_in_someone_elses_hands(login, seeded, app):
    mi, mi2, sup = login("op.mi"), login("op.mi2"), login("sup")
    ref, rid = seeded.refs["c"], seeded.ids["c"]
    assert mi2.post(f"/pratiche/{ref}/prendi").status_code == 303
    assert req(app, rid).assigned_to == "op.mi2"

    page = mi.get(f"/pratiche/{ref}").text
    assert "la pratica è aperta anche da" in page and "op.mi2" in page
    assert "puoi consultarla ma non modificarla" in page
    assert "Registra la revisione" not in page
    version = req(app, rid).version
    mi.post(f"/pratiche/{ref}/prendi")
    mi.post(f"/pratiche/{ref}/revisione", {"outcome": "ready", "version": version})
    mi.post(f"/pratiche/{ref}/lascia")
    after = req(app, rid)
    assert (after.assigned_to, after.status) == ("op.mi2", "needs_review")
    assert "in carico a op.mi2" in " ".join(flashes(mi.get(f"/pratiche/{ref}").text))

    # A supervisor may take it over; the event says from whom.
    assert sup.post(f"/pratiche/{ref}/prendi").status_code == 303
    assert req(app, rid).assigned_to == "sup"
    assert events(app, rid, "claimed")[-1].detail == {"previous": "op.mi2"}


def test_correcting_a_field_keeps_the_extracted_value(login, seeded, app):
    mi = login("op.mi")
    ref, rid, doc_id = seeded.refs["a"], seeded.ids["a"], seeded.documents["a_id"]
    for value in ("ROSSI", "ROSSINI"):
        r = mi.post(f"/pratiche/{ref}/correggi", {"target": f"document:{doc_id}", "field": "surname", "value": value,
                                                  "note": "OCR", "version": req(app, rid).version})
        assert r.status_code == 303 and r.headers["location"].endswith(f"#doc-{doc_id}")
    with app.db.session() as s:
        assert s.get(Document, doc_id).fields["surname"] == "ROSSINI"
    fixes = events(app, rid, "field_corrected")
    assert [(e.detail["previous"], e.detail["value"], e.detail["original"]) for e in fixes] == [
        ("ROSSO", "ROSSI", "ROSSO"), ("ROSSI", "ROSSINI", "ROSSO")]
    page = mi.get(f"/pratiche/{ref}").text
    assert "estratto: <s>ROSSO</s>" in page

    # Request-level data, typed: a date, a codice fiscale; bad input is refused.
    v = req(app, rid).version
    mi.post(f"/pratiche/{ref}/correggi", {"target": "request", "field": "holder_birth_date", "value": "02/01/1980",
                                          "version": v})
    assert str(req(app, rid).holder_birth_date) == "1980-01-02"
    v = req(app, rid).version
    mi.post(f"/pratiche/{ref}/correggi", {"target": "request", "field": "holder_codice_fiscale", "value": "nonvalido",
                                          "version": v})
    assert req(app, rid).holder_codice_fiscale == "ROSMAR80A01F205X"
    assert "16 caratteri" in " ".join(flashes(mi.get(f"/pratiche/{ref}").text))
    # Only known fields of this request's own documents.
    assert mi.post(f"/pratiche/{ref}/correggi", {"target": "request", "field": "status", "value": "released",
                                                 "version": v}).status_code == 400
    other_doc = doc_id + 1000
    assert mi.post(f"/pratiche/{ref}/correggi", {"target": f"document:{other_doc}", "field": "surname",
                                                 "value": "X", "version": v}).status_code == 404


def test_reject_needs_a_reason(login, seeded, app):
    mi = login("op.mi")
    ref, rid = seeded.refs["c"], seeded.ids["c"]
    v = req(app, rid).version
    mi.post(f"/pratiche/{ref}/rifiuta", {"reason": "", "version": v})
    assert req(app, rid).status == "needs_review"
    mi.post(f"/pratiche/{ref}/rifiuta", {"reason": "Richiesta duplicata della SR-MI-2026-000001", "version": v})
    assert req(app, rid).status == "rejected"
    assert events(app, rid, "status")[-1].detail["reason"].startswith("Richiesta duplicata")
    page = mi.get(f"/pratiche/{ref}").text
    assert "Respingi" not in page and "Registra la revisione" not in page  # closed: nothing more to do


def test_an_illegal_transition_is_explained(login, seeded, app):
    mi = login("op.mi")
    ref, rid = seeded.refs["mi_released"], seeded.ids["mi_released"]
    r = mi.post(f"/pratiche/{ref}/rifiuta", {"reason": "non si può più", "version": req(app, rid).version})
    assert r.status_code == 303 and req(app, rid).status == "released"
    assert "non possibile" in " ".join(flashes(mi.get(f"/pratiche/{ref}").text))


def test_integration_request_is_queued_as_an_rfc5322_mail(login, seeded, app):
    mi = login("op.mi")
    ref, rid = seeded.refs["b"], seeded.ids["b"]
    compose = mi.get(f"/pratiche/{ref}/integrazione").text
    assert "Manca il retro della Tessera Sanitaria-CNS del titolare." in compose
    assert "Il documento d&#39;identità del dichiarante è scaduto il 01/03/2025." in compose
    body = "Gentile signora,\nci manca il retro della TS-CNS.\nGrazie"
    preview = mi.post(f"/pratiche/{ref}/integrazione/anteprima", {"subject": "Documenti mancanti", "body": body})
    assert preview.status_code == 200
    assert f"[{ref}] Documenti mancanti" in preview.text and f"Codice pratica: {ref}" in preview.text
    assert req(app, rid).status == "needs_review"  # a preview changes nothing
    with app.db.session() as s:
        assert s.scalar(select(OutgoingMail).where(OutgoingMail.request_id == rid)) is None
    nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', preview.text).group(1)
    form = {"subject": f"[{ref}] Documenti mancanti", "body": body, "nonce": nonce,
            "version": req(app, rid).version}
    assert mi.post(f"/pratiche/{ref}/integrazione/invia", form).status_code == 303

    with app.db.session() as s:
        mail = s.scalars(select(OutgoingMail).where(OutgoingMail.request_id == rid)).one()
    assert (mail.kind, mail.status, mail.recipient) == ("integration_request", "pending", "lucia.brambilla@example.org")
    msg = email.message_from_bytes(mail.raw, policy=policy.default)
    assert msg["To"] == "lucia.brambilla@example.org" and f"[{ref}]" in msg["Subject"]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["X-Sportello-Loop"] == "1"
    assert msg["Message-ID"] == mail.message_id and msg["In-Reply-To"] == "<seed2@example.org>"
    text = msg.get_content()
    assert "ci manca il retro della TS-CNS." in text
    assert f"\nCodice pratica: {ref}\n" in text
    after = req(app, rid)
    assert after.status == "incomplete" and after.assigned_to == "op.mi"
    ev = events(app, rid, "integration_requested")[-1]
    assert ev.actor == "op.mi" and ev.detail["recipient"] == mail.recipient
    assert set(ev.detail["findings"]) == {"missing_holder_cns_back", "expired_declarant_id"}

    # Pressing "Invia" twice sends one mail.
    form["version"] = req(app, rid).version
    assert mi.post(f"/pratiche/{ref}/integrazione/invia", form).status_code == 303
    with app.db.session() as s:
        assert len(s.scalars(select(OutgoingMail).where(OutgoingMail.request_id == rid)).all()) == 1
    # The mail shows in the thread, waiting for the outbox worker.
    assert "in coda di invio" in mi.get(f"/pratiche/{ref}").text


def test_integration_request_on_an_incomplete_request_keeps_its_status(login, seeded, app):
    mi = login("op.mi")
    ref, rid = seeded.refs["mi_incomplete"], seeded.ids["mi_incomplete"]
    preview = mi.post(f"/pratiche/{ref}/integrazione/anteprima", {"subject": "", "body": "Manca il modulo."})
    nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', preview.text).group(1)
    mi.post(f"/pratiche/{ref}/integrazione/invia", {"subject": "", "body": "Manca il modulo.", "nonce": nonce,
                                                    "version": req(app, rid).version})
    assert req(app, rid).status == "incomplete"
    with app.db.session() as s:
        mail = s.scalars(select(OutgoingMail).where(OutgoingMail.request_id == rid)).one()
    assert f"[{ref}]" in email.message_from_bytes(mail.raw, policy=policy.default)["Subject"]


def test_opening_a_request_is_recorded_once_in_a_while(login, seeded, app):
    mi = login("op.mi")
    for _ in range(3):
        mi.get(f"/pratiche/{seeded.refs['c']}")
    opened = events(app, seeded.ids["c"], "opened")
    assert [e.actor for e in opened] == ["op.mi"]


def test_the_queue_is_oldest_first_with_service_level_colours(login, seeded):
    mi = login("op.mi")
    page = mi.get("/coda?stato=needs_review").text
    refs = re.findall(r'class="ref" href="/pratiche/([^"]+)"', page)
    assert refs == [seeded.refs["a"], seeded.refs["b"], seeded.refs["xss"], seeded.refs["c"]]
    levels = re.findall(r'<tr class="row-(\w+)">', page)
    assert levels == ["late", "warn", "ok", "ok"]
    counts = dict(re.findall(r'data-status="(\w+)"[^>]*>.*?<span class="count">(\d+)</span>', page, re.S))
    assert counts["needs_review"] == "4" and counts["received"] == "2" and counts["released"] == "1"
    mine = mi.get("/coda?mie=1").text
    assert "Nessuna pratica" in mine

"""Blocking findings are set aside only by a supervisor, with a reason kept as an event, and
`cns_without_chip` never; a correction runs the verification rules again over the corrected evidence."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from db.models import Document, Finding
from tests.backoffice.test_actions import events, flashes, req


@pytest.fixture(autouse=True)
def day(monkeypatch):
    monkeypatch.setenv("SPORTELLO_TODAY", "2026-12-07")


def codes(app, rid: int) -> set[str]:
    with app.db.session() as s:
        return set(s.scalars(select(Finding.code).where(Finding.request_id == rid)))


def add_finding(app, rid: int, code: str, message: str, **evidence) -> None:
    with app.db.session() as s:
        s.add(Finding(request_id=rid, code=code, severity="blocking", message=message, evidence=evidence))


def validate(client, ref: str, version: int, override: str = ""):
    return client.post(f"/pratiche/{ref}/revisione", {"outcome": "ready", "override": override, "version": version})


def test_an_operator_cannot_validate_over_a_blocking_finding(login, seeded, app):
    mi = login("op.mi")
    ref, rid = seeded.refs["a"], seeded.ids["a"]
    page = mi.get(f"/pratiche/{ref}").text
    assert 'value="ready"' not in page and "Chiedi al cittadino che cosa manca, oppure chiedi a un supervisore" in page
    v = req(app, rid).version
    validate(mi, ref, v, override="lo dico io, va bene così")
    assert req(app, rid).status == "needs_review" and req(app, rid).version == v
    assert events(app, rid, "findings_overridden") == []
    assert "supervisore" in " ".join(flashes(mi.get(f"/pratiche/{ref}").text))


def test_a_supervisor_sets_a_blocking_finding_aside_with_a_reason(login, seeded, app):
    sup = login("sup")
    ref, rid = seeded.refs["a"], seeded.ids["a"]
    page = sup.get(f"/pratiche/{ref}").text
    assert 'value="ready"' in page and "Motivo per validare nonostante le segnalazioni bloccanti" in page
    v = req(app, rid).version
    validate(sup, ref, v, override="")  # no reason: refused
    assert req(app, rid).status == "needs_review"
    assert "scrivi il motivo" in " ".join(flashes(sup.get(f"/pratiche/{ref}").text))
    reason = "Il retro della CIE è arrivato a mano allo sportello, visto da me."
    validate(sup, ref, v, override=reason)
    assert req(app, rid).status == "ready"
    (ev,) = events(app, rid, "findings_overridden")
    assert ev.actor == "sup" and ev.detail == {"codes": ["missing_holder_id_back"], "reason": reason}
    assert ev.id < events(app, rid, "status")[-1].id  # the reason comes before the change it allowed
    history = sup.get(f"/pratiche/{ref}").text
    assert "Segnalazioni bloccanti superate dal supervisore" in history and reason in history


@pytest.mark.parametrize("who", ["op.mi", "sup"])
def test_nobody_validates_over_cns_without_chip(login, seeded, app, who):
    ref, rid = seeded.refs["c"], seeded.ids["c"]
    add_finding(app, rid, "cns_without_chip", "La tessera sanitaria inviata è senza chip.")
    client = login(who)
    page = client.get(f"/pratiche/{ref}").text
    assert 'value="ready"' not in page and "non ha un PIN da rilasciare" in page
    v = req(app, rid).version
    validate(client, ref, v, override="Il cittadino giura che il chip c'era, lo so per certo.")
    assert req(app, rid).status == "needs_review" and events(app, rid, "findings_overridden") == []
    assert "non ha un PIN da rilasciare" in " ".join(flashes(client.get(f"/pratiche/{ref}").text))


def correct_expiry(client, app, ref: str, rid: int, doc_id: int, value: str):
    return client.post(f"/pratiche/{ref}/correggi", {"target": f"document:{doc_id}", "field": "col:expiry",
                                                    "value": value, "version": req(app, rid).version})


def test_a_corrected_expiry_runs_the_rules_again_and_the_finding_goes(login, seeded, app):
    ref, rid, doc_id = seeded.refs["a"], seeded.ids["a"], seeded.documents["a_id"]
    with app.db.session() as s:  # as verification leaves a CIE misread as expired in 2024
        s.get(Document, doc_id).expiry = date(2024, 5, 1)
    add_finding(app, rid, "expired_holder_id", "Il documento d'identità del titolare è scaduto il 01/05/2024.",
                expiry="2024-05-01")
    mi = login("op.mi")
    correct_expiry(mi, app, ref, rid, doc_id, "01/05/2031")
    assert "expired_holder_id" not in codes(app, rid)
    assert "missing_holder_id_back" in codes(app, rid)  # what the correction did not touch stays
    (ev,) = events(app, rid, "rules_rerun")
    assert ev.detail["resolved"] == ["expired_holder_id"] and ev.detail["verdict"] == "incomplete"
    page = mi.get(f"/pratiche/{ref}").text
    assert "Controlli ripetuti sui dati corretti: ci sono ancora segnalazioni bloccanti." in " ".join(flashes(page))
    assert "scaduto il 01/05/2024" not in page


def test_a_wrong_expiry_brings_the_finding_and_a_ready_request_back_to_review(login, seeded, app):
    ref, rid, doc_id = seeded.refs["a"], seeded.ids["a"], seeded.documents["a_id"]
    sup = login("sup")
    validate(sup, ref, req(app, rid).version, override="Il retro è stato visto allo sportello.")
    assert req(app, rid).status == "ready"
    correct_expiry(sup, app, ref, rid, doc_id, "01/05/2024")
    assert "expired_holder_id" in codes(app, rid)
    assert req(app, rid).status == "needs_review"
    with app.db.session() as s:
        f = s.scalars(select(Finding).where(Finding.request_id == rid, Finding.code == "expired_holder_id")).one()
    assert f.severity == "blocking" and "01/05/2024" in f.message


def test_a_correction_that_changes_no_rule_leaves_the_findings_alone(login, seeded, app):
    ref, rid = seeded.refs["a"], seeded.ids["a"]
    before = codes(app, rid)
    mi = login("op.mi")
    mi.post(f"/pratiche/{ref}/correggi", {"target": "request", "field": "contact_phone", "value": "+393330000000",
                                         "version": req(app, rid).version})
    assert codes(app, rid) == before and events(app, rid, "rules_rerun") == []


def test_correcting_a_misread_surname_clears_the_name_mismatch_the_rules_raised(login, seeded, app):
    """The seed's ROSSO/ROSSI is within OCR tolerance: the rules never raise it, so no correction
    "resolves" it. A surname the rules do flag (BIANCHI against ROSSI) goes when corrected."""
    ref, rid, doc_id = seeded.refs["a"], seeded.ids["a"], seeded.documents["a_id"]
    with app.db.session() as s:
        doc = s.get(Document, doc_id)
        doc.fields = {**doc.fields, "surname": "BIANCHI"}
    mi = login("op.mi")
    mi.post(f"/pratiche/{ref}/correggi", {"target": f"document:{doc_id}", "field": "surname", "value": "ROSSI",
                                         "version": req(app, rid).version})
    assert "name_mismatch" not in codes(app, rid) and "missing_holder_id_back" in codes(app, rid)
    assert events(app, rid, "rules_rerun")[-1].detail["resolved"] == ["name_mismatch"]


def test_rerunning_without_a_change_touches_no_request(seeded, app):
    """Over every seeded request (every status, every shape of stored record), the rules run on the
    stored evidence without error, and with nothing corrected nothing is resolved or added."""
    from backoffice import recheck
    from db.models import Request

    pif = app.settings.verification.paper_id_invalid_from
    with app.db.session() as s:
        for r in list(s.scalars(select(Request))):
            before = {f.code for f in r.findings}
            result = recheck.rerun(r, recheck.stored_evidence(r, pif), pif)
            assert (result.resolved, result.added) == ((), ()), r.reference
            assert {f.code for f in r.findings} == before
            assert result.status in ("incomplete", "needs_review", "ready")
            s.rollback()

"""The identification call's record: every step an event, the outcome through the lifecycle, the export."""

import json

import pytest
from sqlalchemy import inspect, select

from calls import identification as ident
from calls.decision import DOUBT, MATCH, NO_MATCH
from db import audit
from db.export import all_requests, request_record
from db.models import Booking, Event, Identification, Request


def _status(app, ref):
    with app.db.session() as s:
        return s.scalar(select(Request.status).where(Request.reference == ref))


def _kinds(app, ref):
    with app.db.session() as s:
        req = s.scalar(select(Request).where(Request.reference == ref))
        return [e.kind for e in s.scalars(select(Event).where(Event.request_id == req.id).order_by(Event.id))]


def _export(app, ref):
    with app.db.session() as s:
        return next(request_record(r) for r in all_requests(s) if r.reference == ref)


def _full_call(app, ref, band=MATCH, live=True, channel=True):
    call = ident.start(app.db, ref, operator="op.mi")
    ident.record_face(app.db, call, band, actor="op.mi")
    ident.record_liveness(app.db, call, live, actor="op.mi", challenge="turn_left")
    ident.record_channel(app.db, call, channel, actor="op.mi", masked="+39 333 *** **67")
    return call


def test_the_person_on_the_call():
    assert ident.person_on_the_call("direct") == "holder"
    assert ident.person_on_the_call("delegate") == "declarant"
    assert ident.person_on_the_call("guardian") == "declarant"
    with pytest.raises(ident.CallError):
        ident.person_on_the_call(None)


def test_a_successful_call_goes_booked_to_identified_with_an_event_per_step(app, booked):
    assert _export(app, booked)["identification"] is None
    call = _full_call(app, booked)
    assert ident.conclude(app.db, call, "identified", actor="op.mi") == "identified"
    assert _status(app, booked) == "identified"
    assert _kinds(app, booked)[-5:] == ["call_started", "face_compared", "liveness_checked", "channel_checked", "status"]
    rec = _export(app, booked)["identification"]
    assert {k: rec[k] for k in ("operator", "face_band", "liveness_passed", "channel_verified", "outcome")} == {
        "operator": "op.mi", "face_band": MATCH, "liveness_passed": True, "channel_verified": True,
        "outcome": "identified"}
    assert rec["when"].startswith("20")
    with app.db.session() as s:
        assert s.scalars(select(Booking)).one().status == "done"
        assert audit.verify(s.connection()) == []


def test_the_table_has_no_column_for_distances_frames_encodings_or_codes(app):
    cols = {c["name"] for c in inspect(app.db.engine).get_columns("identifications")}
    assert {"face_band", "liveness_passed", "channel_verified", "channel_masked", "outcome", "reason",
            "supervisor"} <= cols
    assert not [c for c in cols if any(w in c for w in ("distance", "frame", "encoding", "code", "pin", "puk"))]


def test_identified_needs_liveness_and_the_channel(app, booked):
    call = _full_call(app, booked, live=False)
    with pytest.raises(ident.CallError, match="vitalità"):
        ident.conclude(app.db, call, "identified", actor="op.mi", supervisor="sup.mi")
    assert _status(app, booked) == "booked"


def test_a_failed_call_goes_to_review_or_rejected_with_a_reason(app, booked):
    call = _full_call(app, booked, band=DOUBT)
    with pytest.raises(ident.CallError, match="motivo"):
        ident.conclude(app.db, call, "needs_review", actor="op.mi")
    assert ident.conclude(app.db, call, "needs_review", actor="op.mi", reason="immagine sfocata") == "needs_review"
    rec = _export(app, booked)["identification"]
    assert (rec["outcome"], rec["face_band"]) == ("needs_review", DOUBT)
    with app.db.session() as s:
        ev = s.scalars(select(Event).where(Event.to_status == "needs_review")).one()
        assert ev.detail["reason"] == "immagine sfocata" and ev.from_status == "booked"


def test_rejected_against_a_non_match_needs_no_supervisor(app, booked):
    call = _full_call(app, booked, band=NO_MATCH)
    assert ident.conclude(app.db, call, "rejected", actor="op.mi", reason="non è la persona del documento") == "rejected"


def test_a_decision_against_the_band_needs_a_supervisor_of_that_office(app, booked):
    call = _full_call(app, booked, band=DOUBT)
    with pytest.raises(ident.CallError, match="supervisore"):
        ident.conclude(app.db, call, "identified", actor="op.mi")
    with pytest.raises(ident.CallError, match="un'altra persona"):
        ident.conclude(app.db, call, "identified", actor="op.mi", supervisor="op.mi")
    with pytest.raises(ident.CallError, match="non lavora per l'ufficio MI"):
        ident.conclude(app.db, call, "identified", actor="op.mi", supervisor="sup.bg")
    with pytest.raises(ident.CallError):
        ident.conclude(app.db, call, "identified", actor="op.mi", supervisor="op2.mi")  # not a supervisor
    assert _status(app, booked) == "booked"
    assert ident.conclude(app.db, call, "identified", actor="op.mi", supervisor="sup.mi") == "identified"
    with app.db.session() as s:
        row = s.scalars(select(Identification)).one()
        assert row.supervisor == "sup.mi" and row.supervisor_confirmed_at is not None


def test_only_the_calls_operator_records_it_and_only_once(app, booked):
    with pytest.raises(ident.CallError, match="ufficio MI"):
        ident.start(app.db, booked, operator="op.bg")
    call = _full_call(app, booked)
    with pytest.raises(ident.CallError, match="solo l'operatore"):
        ident.record_face(app.db, call, NO_MATCH, actor="op2.mi")
    ident.conclude(app.db, call, "identified", actor="op.mi")
    with pytest.raises(ident.CallError, match="conclusa"):
        ident.record_face(app.db, call, NO_MATCH, actor="op.mi")
    with pytest.raises(ident.CallError, match="'booked'"):
        ident.start(app.db, booked, operator="op.mi")


def test_a_ready_request_has_no_call(app):
    from tests.calls.conftest import add_users
    from tests.scheduling.conftest import make_ready

    add_users(app)
    ref, = make_ready(app, 1)
    with pytest.raises(ident.CallError, match="'ready'"):
        ident.start(app.db, ref, operator="op.mi")


def test_the_export_is_json(app, booked):
    _full_call(app, booked)
    json.dumps(_export(app, booked))

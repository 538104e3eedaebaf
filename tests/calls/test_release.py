"""The release of the codes: only from `identified`, once, by the call's operator; no digit left behind."""

import logging
import random
from pathlib import Path

import pytest
from sqlalchemy import select

from calls import identification as ident
from calls.channels import GatewayError, MemoryGateway, deliver, mask_phone
from calls.decision import MATCH
from calls.issuer import Codes, IssuerError, LocalIssuer
from calls.release import release
from db.models import Event, Request


class _Seeded(LocalIssuer):
    """A LocalIssuer that remembers what it issued, so the test knows which digits to look for."""

    def __init__(self, seed):
        super().__init__(random.Random(seed))
        self.issued = []

    def issue(self, reference, card_number):
        codes = super().issue(reference, card_number)
        self.issued.append(codes)
        return codes


def _identify(app, ref, operator="op.mi"):
    call = ident.start(app.db, ref, operator=operator)
    ident.record_face(app.db, call, MATCH, actor=operator)
    ident.record_liveness(app.db, call, True, actor=operator, challenge="blink")
    ident.record_channel(app.db, call, True, actor=operator, masked=mask_phone("+393331234567"))
    ident.conclude(app.db, call, "identified", actor=operator)


def _release(app, ref, actor="op.mi", issuer=None, gateway=None):
    return release(app.db, ref, actor=actor, issuer=issuer or _Seeded(1), gateway=gateway or MemoryGateway())


def _status(app, ref):
    with app.db.session() as s:
        return s.scalar(select(Request.status).where(Request.reference == ref))


def test_local_codes_are_5_and_8_digits_and_show_nothing():
    c = LocalIssuer().issue("SR-MI-2026-000001", None)
    assert len(c.pin) == 5 and len(c.puk) == 8 and (c.pin + c.puk).isdigit()
    assert c.pin not in repr(c) and c.puk not in str(c)
    assert c.on_the_call == (c.pin[:2], c.puk[:2]) and c.to_the_channel == (c.pin[2:], c.puk[2:])
    with pytest.raises(IssuerError):
        Codes("1234", "12345678")


def test_the_phone_is_masked():
    assert mask_phone("+393331234567") == "+39 333 *** **67"


def test_refused_before_identified(app, booked):
    with pytest.raises(ident.CallError, match="'booked'"):
        _release(app, booked)
    assert _status(app, booked) == "booked"


def test_released_once_by_the_calls_operator_only(app, booked):
    _identify(app, booked)
    with pytest.raises(ident.CallError, match="ufficio MI"):
        _release(app, booked, actor="op.bg")  # another office's operator
    with pytest.raises(ident.CallError, match="solo l'operatore"):
        _release(app, booked, actor="op2.mi")  # same office, not the call's operator
    issuer, phone = _Seeded(7), MemoryGateway()
    out = _release(app, booked, issuer=issuer, gateway=phone)
    codes = issuer.issued[0]
    assert (out.pin_on_the_call, out.puk_on_the_call) == (codes.pin[:2], codes.puk[:2])
    assert phone.sent[0][0] == "+393331234567"
    text = phone.sent[0][1]
    assert codes.pin[2:] in text and codes.puk[2:] in text and codes.pin not in text and codes.puk not in text
    assert _status(app, booked) == "released"
    again = _Seeded(8)
    with pytest.raises(ident.CallError):
        _release(app, booked, issuer=again)
    assert again.issued == []  # the second attempt never reached the issuer
    with app.db.session() as s:
        kinds = [e.kind for e in s.scalars(select(Event).order_by(Event.id))]
    assert kinds[-2:] == ["status", "codes_delivered"]


def _grep(root: Path, needles: list[str]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path.name}: {n}" for n in needles if n.encode() in data]
    return hits


def test_no_released_digit_is_left_in_the_database_the_data_folder_or_the_logs(app, booked, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    _identify(app, booked)
    issuer, phone = _Seeded(12345), MemoryGateway()
    _release(app, booked, issuer=issuer, gateway=phone)
    codes = issuer.issued[0]
    app.db.dispose()  # everything written out
    needles = [codes.pin, codes.puk, codes.puk[2:], f"da {codes.pin[2:]}.", phone.sent[0][1]]
    assert (tmp_path / "sportello.db").exists() or "postgresql" in app.settings.database_url
    assert _grep(tmp_path, needles) == []  # tmp_path holds the SQLite file and the data folder
    assert [n for n in needles if n in caplog.text] == []
    with app.db.session() as s:
        dumped = " ".join(str(e.detail) for e in s.scalars(select(Event)))
    assert [n for n in needles if n in dumped] == []


def test_the_grep_would_find_a_leak(tmp_path):
    # the check above can fail: a copy of the text left on disk is found
    (tmp_path / "x.sms").write_text("PIN 12345")
    assert _grep(tmp_path, ["12345"]) == ["x.sms: 12345"]


def test_a_gateway_failure_leaves_no_copy_and_is_an_event(app, booked):
    class Down:
        def send(self, phone, text):
            raise OSError("no route")

    _identify(app, booked)
    with pytest.raises(ident.CallError, match="non consegnati"):
        _release(app, booked, gateway=Down())
    with app.db.session() as s:
        ev = s.scalars(select(Event).order_by(Event.id.desc())).first()
        assert ev.kind == "codes_not_delivered" and "no route" not in str(ev.detail)


def test_deliver_hands_the_text_over_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    phone = MemoryGateway()
    deliver(phone, "+393331234567", "PIN 999")
    assert phone.sent == [("+393331234567", "PIN 999")] and list(tmp_path.iterdir()) == []
    with pytest.raises(GatewayError) as err:
        deliver(type("G", (), {"send": lambda self, p, t: 1 / 0})(), "+39", "PIN 999")
    assert "999" not in str(err.value)


def test_two_releases_at_once_give_one(app, booked):
    import threading

    _identify(app, booked)
    issuer, results, barrier = _Seeded(3), [], threading.Barrier(4)

    def worker():
        barrier.wait()
        try:
            results.append(_release(app, booked, issuer=issuer))
        except Exception as exc:  # noqa: BLE001 - a refusal or the database's serialization error
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(issuer.issued) == 1
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert _status(app, booked) == "released"
    with app.db.session() as s:
        assert len(s.scalars(select(Event).where(Event.to_status == "released")).all()) == 1

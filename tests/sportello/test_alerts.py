"""The stale-mailbox alert: the administrators told once per stale spell and once on recovery,
also when two nodes check at the same moment (SQLite and PostgreSQL)."""

import email
import logging
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from db.app import App
from db.migrate import upgrade
from db.models import MailboxState, OutgoingMail, utcnow
from sportello.alerts import check_mailboxes
from tests.conftest import write_config
from tests.nodes import as_nodes

ALERTS = """
[alerts]
to = ["sistemi@example.org", "reperibile@example.org"]
"""
MAILBOXES = """
[[mailboxes]]
province = "BG"
host = "imap.example.org"
username = "spazioregione.bg"
password_env = "SPORTELLO_BG_PASSWORD"
stale_after = 600

[[mailboxes]]
province = "MI"
host = "imap.example.org"
username = "spazioregione.mi"
password_env = "SPORTELLO_MI_PASSWORD"
"""


@pytest.fixture
def office(tmp_path, db_url):
    config = write_config(tmp_path / "alerts.toml", tmp_path / "data", db_url, ALERTS + MAILBOXES)
    a = App.from_config(str(config))
    upgrade(a.db.engine)
    now = utcnow()
    with a.db.session() as s:
        for mb in a.settings.mailboxes:
            s.add(MailboxState(key=mb.key, province=mb.province, last_success_at=now))
    yield a, config
    a.close()


def _set(app, province, **values):
    with app.db.session() as s:
        st = s.scalars(select(MailboxState).where(MailboxState.province == province)).one()
        for k, v in values.items():
            setattr(st, k, v)


def _mails(app) -> list[tuple[str, str, str]]:
    with app.db.session() as s:
        rows = s.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()
        out = []
        for r in rows:
            m = email.message_from_bytes(r.raw, policy=policy.default)
            out.append((r.kind, r.recipient, m["Subject"], m.get_content()))
        return out


def test_told_once_when_stale_and_once_when_it_recovers(office):
    app, _ = office
    assert check_mailboxes(app) == [] and _mails(app) == []

    _set(app, "BG", last_success_at=utcnow() - timedelta(minutes=20), last_error="ConnectionRefusedError: [Errno 111]")
    alerts = check_mailboxes(app)
    assert [(a.kind, a.recipients) for a in alerts] == [("mailbox_stale", 2)]
    mails = _mails(app)
    assert sorted(to for _, to, _, _ in mails) == ["reperibile@example.org", "sistemi@example.org"]
    kind, _, subject, body = mails[0]
    assert kind == "mailbox_stale" and subject == "[sportello] La casella di Bergamo non risponde"
    assert "spazioregione.bg@imap.example.org" in body and "ConnectionRefusedError" in body
    assert "spazioregione.mi" not in body  # Milano is fine

    for _ in range(3):  # still stale: nothing more
        assert check_mailboxes(app) == []
    assert len(_mails(app)) == 2

    _set(app, "BG", last_success_at=utcnow())
    assert [a.kind for a in check_mailboxes(app)] == ["mailbox_recovered"]
    assert check_mailboxes(app) == []
    recovered = [m for m in _mails(app) if m[0] == "mailbox_recovered"]
    assert len(recovered) == 2 and recovered[0][2] == "[sportello] La casella di Bergamo è di nuovo raggiungibile"

    _set(app, "BG", last_success_at=utcnow() - timedelta(hours=1))  # a second spell: told again
    assert [a.kind for a in check_mailboxes(app)] == ["mailbox_stale"]
    assert len(_mails(app)) == 6


def test_a_mailbox_never_fetched_successfully_is_stale_too(office):
    app, _ = office
    _set(app, "MI", last_success_at=None, last_error="imap: LOGIN failed", last_error_at=utcnow())
    assert [(a.kind, a.mailbox) for a in check_mailboxes(app)] == [("mailbox_stale", app.settings.mailboxes[1].key)]
    body = _mails(app)[0][3]
    assert "da quando sportello è in servizio" in body and "LOGIN failed" in body


def test_two_nodes_checking_at_once_send_one_alert(office):
    app, config = office
    _set(app, "MI", last_success_at=utcnow() - timedelta(hours=2))  # default stale_after: one hour
    results = []
    as_nodes(config, 8, lambda a, _i: results.extend(check_mailboxes(a)))
    assert [a.kind for a in results] == ["mailbox_stale"]
    assert len(_mails(app)) == 2


def test_without_recipients_it_is_logged_and_still_once(tmp_path, db_url, caplog):
    config = write_config(tmp_path / "quiet.toml", tmp_path / "data", db_url, MAILBOXES)
    app = App.from_config(str(config))
    upgrade(app.db.engine)
    try:
        with app.db.session() as s:
            for mb in app.settings.mailboxes:
                s.add(MailboxState(key=mb.key, province=mb.province, last_success_at=utcnow() - timedelta(days=1)))
        with caplog.at_level(logging.WARNING, logger="sportello.alerts"):
            assert sorted(a.kind for a in check_mailboxes(app)) == ["mailbox_stale", "mailbox_stale"]
        assert "no [alerts] to is configured" in caplog.text
        assert check_mailboxes(app) == [] and _mails(app) == []
    finally:
        app.close()


def test_an_address_that_is_not_one_is_refused(tmp_path, db_url):
    from config.settings import ConfigError, load_settings

    config = write_config(tmp_path / "bad.toml", tmp_path / "data", db_url, '[alerts]\nto = ["sistemi at example"]\n')
    with pytest.raises(ConfigError, match="not an e-mail address"):
        load_settings(config)

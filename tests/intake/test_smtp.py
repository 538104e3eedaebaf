"""Outgoing mail through a real SMTP server (aiosmtpd on 127.0.0.1)."""

import email
import socket
import ssl
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from config.settings import SmtpSettings
from intake.outgoing import SmtpSender, compose
from tests.dovecot import _make_self_signed_cert


class Inbox:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"office" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture
def certs(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    _make_self_signed_cert(cert, key)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


def _mail():
    return compose("acknowledgement", sender="spazioregione.mi@example.org", recipient="mario@example.org",
                   reference="SR-MI-2026-000001", name="Mario Rossi", office="spazioRegione Milano")


@pytest.mark.parametrize("security", ["none", "starttls", "ssl"])
def test_mail_reaches_the_smtp_server(security, certs, monkeypatch, tmp_path):
    server_ctx, client_ctx = certs
    inbox = Inbox()
    port = _free_port()
    kwargs = dict(hostname="127.0.0.1", port=port)
    if security == "starttls":
        kwargs.update(tls_context=server_ctx, require_starttls=True, authenticator=_authenticator,
                      auth_require_tls=True)
    elif security == "ssl":
        kwargs.update(ssl_context=server_ctx, authenticator=_authenticator, auth_require_tls=False)
    controller = Controller(inbox, **kwargs)
    controller.start()
    try:
        pw = tmp_path / "pw"
        pw.write_text("s3cret")
        settings = SmtpSettings(host="127.0.0.1", port=port, security=security,
                                username=None if security == "none" else "office",
                                password_file=None if security == "none" else str(pw),
                                sender="spazioregione.mi@example.org")
        msg = _mail()
        SmtpSender(settings, timeout=10, ssl_context=client_ctx).send(msg.as_bytes(), "mario@example.org")
    finally:
        controller.stop()
    ((mail_from, rcpt, content),) = inbox.received
    assert mail_from == "spazioregione.mi@example.org" and rcpt == ["mario@example.org"]
    got = email.message_from_bytes(content, policy=policy.default)
    assert "SR-MI-2026-000001" in got["Subject"] and got["Auto-Submitted"] == "auto-replied"


def test_wrong_password_is_an_error_not_a_silent_drop(certs, tmp_path):
    server_ctx, client_ctx = certs
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_ctx, require_starttls=True,
                            authenticator=_authenticator, auth_require_tls=True)
    controller.start()
    try:
        pw = tmp_path / "pw"
        pw.write_text("wrong")
        settings = SmtpSettings(host="127.0.0.1", port=port, security="starttls", username="office",
                                password_file=str(pw), sender="x@example.org")
        with pytest.raises(Exception):
            SmtpSender(settings, timeout=10, ssl_context=client_ctx).send(_mail().as_bytes(), "mario@example.org")
    finally:
        controller.stop()
    assert inbox.received == []

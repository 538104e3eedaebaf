"""ImapSource against a real Dovecot (tests/dovecot.py): no mocks."""

from __future__ import annotations

import threading
import time
from email.message import EmailMessage

import pytest

from intake.imap import ImapSource
from intake.source import FetchedMail, MailSource, SourceAuthError, SourceError, SourceUnavailable
from tests.dovecot import free_port, free_ports

USER = "spazioregione.mi"
PASSWORD = "s3greto-Molto-Lungo"


def make_mail(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Cittadino {n} <cittadino{n}@example.org>"
    msg["To"] = "spazioregione.mi@example.org"
    msg["Subject"] = f"Richiesta codici PIN/PUK n. {n}"
    msg["Message-ID"] = f"<req-{n}@example.org>"
    msg.set_content(f"Buongiorno, allego il modulo {n}.\n")
    return msg.as_bytes().replace(b"\n", b"\r\n")


@pytest.fixture
def server(dovecot):
    dovecot.add_user(USER, PASSWORD)
    return dovecot


@pytest.fixture
def source(server):
    src = ImapSource(server.mailbox_settings(USER), timeout=5)
    yield src
    src.close()


def later(seconds: float, fn, *args) -> threading.Thread:
    t = threading.Timer(seconds, fn, args)
    t.start()
    return t


@pytest.mark.parametrize("security", ["ssl", "starttls", "none"])
def test_open_in_each_security_mode(server, security):
    src = ImapSource(server.mailbox_settings(USER, security=security), ssl_context=server.ssl_context(), timeout=5)
    _: MailSource = src  # the static Protocol fits
    try:
        uidvalidity = src.open()
        assert uidvalidity == server.uidvalidity(USER, "INBOX")
        assert src.uids_after(0) == []
        tls = src._client.socket().version() if security != "none" else None
        assert (tls is not None) == (security != "none")
    finally:
        src.close()


def test_ssl_default_context_rejects_unknown_certificate(server):
    src = ImapSource(server.mailbox_settings(USER, security="ssl"), timeout=5)
    with pytest.raises(SourceUnavailable, match="certificate"):
        src.open()


def test_key_and_province_come_from_settings(server):
    settings = server.mailbox_settings(USER, province="bg")
    src = ImapSource(settings)
    assert (src.key, src.province) == (f"imap:{USER}@127.0.0.1:{server.port}/INBOX", "BG")


def test_uidvalidity_is_stable_across_reconnects_and_restarts(server, source):
    server.append(USER, "INBOX", make_mail(1))
    first = source.open()
    source.close()
    assert source.open() == first
    source.close()
    server.restart()
    assert source.open() == first


def test_uids_after(server, source):
    for n in (1, 2, 3):
        server.append(USER, "INBOX", make_mail(n))
    source.open()
    assert source.uids_after(0) == [1, 2, 3]
    assert source.uids_after(1) == [2, 3]
    # `4:*` matches UID 3 on the server (RFC 3501): must not come back.
    assert source.uids_after(3) == []
    assert source.uids_after(1000) == []
    server.append(USER, "INBOX", make_mail(4))
    assert source.uids_after(3) == [4]


def test_fetch_returns_whole_messages_and_leaves_them_unseen(server, source):
    raws = [make_mail(n) for n in (1, 2)]
    for raw in raws:
        server.append(USER, "INBOX", raw)
    source.open()
    mails = source.fetch([2, 1, 99])  # 99 never existed: skipped
    assert mails == [FetchedMail(uid=2, raw=raws[1]), FetchedMail(uid=1, raw=raws[0])]
    assert all(b"\\Seen" not in flags for flags in server.flags(USER, "INBOX").values())
    assert source.fetch([]) == []


def test_fetch_skips_messages_another_session_expunged(server, source):
    for n in (1, 2, 3):
        server.append(USER, "INBOX", make_mail(n))
    source.open()
    with server.client(USER) as other:
        other.select_folder("INBOX")
        other.delete_messages([2])
        other.expunge()
    assert [m.uid for m in source.fetch([1, 2, 3])] == [1, 3]


def test_move_creates_the_folder_and_is_idempotent(server, source):
    raw = make_mail(1)
    server.append(USER, "INBOX", raw)
    server.append(USER, "INBOX", make_mail(2))
    source.open()
    assert "Processed" not in server.folders(USER)
    source.move(1, "Processed")
    source.move(1, "Processed")  # a retry after success is a no-op
    assert "Processed" in server.folders(USER)
    assert server.fetch_all(USER, "Processed") == [raw]
    assert server.uids(USER, "INBOX") == [2]
    # the same after a reconnect (the folder is known to exist now)
    source.close()
    source.open()
    source.move(1, "Processed")
    source.move(2, "Failed")
    assert server.uids(USER, "INBOX") == []
    assert len(server.fetch_all(USER, "Processed")) == 1
    assert len(server.fetch_all(USER, "Failed")) == 1


def test_move_without_the_move_extension_expunges_only_that_uid(server, source):
    for n in (1, 2, 3):
        server.append(USER, "INBOX", make_mail(n))
    with server.client(USER) as other:  # a human flagged UID 3 \Deleted: not ours to expunge
        other.select_folder("INBOX")
        other.add_flags([3], [b"\\Deleted"])
    source.open()
    source._capabilities -= {b"MOVE"}  # behave as with a server that lacks RFC 6851
    source.move(1, "Processed")
    source.move(1, "Processed")
    assert server.uids(USER, "INBOX") == [2, 3]
    assert server.fetch_all(USER, "Processed") == [make_mail(1)]


def test_move_without_move_or_uidplus_never_expunges_other_mail(server, source):
    for n in (1, 2, 3):
        server.append(USER, "INBOX", make_mail(n))
    source.open()
    source._capabilities -= {b"MOVE", b"UIDPLUS"}
    source.move(1, "Processed")  # ours is the only \\Deleted one: plain EXPUNGE is safe
    assert server.uids(USER, "INBOX") == [2, 3]
    with server.client(USER) as other:
        other.select_folder("INBOX")
        other.add_flags([3], [b"\\Deleted"])
    with pytest.raises(SourceError, match="UIDPLUS") as info:
        source.move(2, "Processed")
    assert not isinstance(info.value, SourceUnavailable)
    assert server.uids(USER, "INBOX") == [2, 3]
    assert server.fetch_all(USER, "Processed") == [make_mail(1)]


def test_move_of_a_message_another_session_just_expunged_is_success(server, source):
    for n in (1, 2):
        server.append(USER, "INBOX", make_mail(n))
    source.open()
    source.uids_after(0)
    with server.client(USER) as other:  # e.g. a second poller that got there first
        other.create_folder("Processed")
        other.select_folder("INBOX")
        other.move([1], "Processed")
    source.move(1, "Processed")
    source.move(2, "Processed")
    assert server.uids(USER, "INBOX") == []
    assert len(server.fetch_all(USER, "Processed")) == 2


def test_moving_to_the_source_folder_is_refused(server, source):
    source.open()
    with pytest.raises(ValueError):
        source.move(1, "INBOX")


def test_restart_breaks_the_old_connection_and_reopen_recovers(server, source):
    server.append(USER, "INBOX", make_mail(1))
    uidvalidity = source.open()
    server.restart()
    with pytest.raises(SourceUnavailable):
        source.uids_after(0)
    with pytest.raises(SourceUnavailable):  # stays unusable until reopened
        source.fetch([1])
    assert source.open() == uidvalidity
    assert source.uids_after(0) == [1]


def test_crashed_server_is_unavailable_until_it_is_back(server, source):
    server.append(USER, "INBOX", make_mail(1))
    source.open()
    server.kill()
    with pytest.raises(SourceUnavailable):
        source.fetch([1])
    with pytest.raises(SourceUnavailable, match="refused"):
        source.open()
    server.start()
    source.open()
    assert [m.uid for m in source.fetch([1])] == [1]


def test_nobody_listening_is_unavailable(server):
    settings = server.mailbox_settings(USER, port=free_port())
    with pytest.raises(SourceUnavailable):
        ImapSource(settings, timeout=2).open()


def test_wait_returns_true_when_mail_arrives_during_idle(server, source):
    source.open()
    t = later(0.3, server.append, USER, "INBOX", make_mail(1))
    started = time.monotonic()
    assert source.wait(10) is True
    assert time.monotonic() - started < 2
    t.join()
    assert source.uids_after(0) == [1]  # the connection is usable after IDLE


def test_wait_reports_mail_that_arrived_before_idle_began(server, source):
    source.open()
    server.append(USER, "INBOX", make_mail(1))  # no command since: the session has not heard of it
    started = time.monotonic()
    assert source.wait(5) is True
    assert time.monotonic() - started < 2


def test_wait_reports_mail_announced_before_it_was_called(server, source):
    server.append(USER, "INBOX", make_mail(1))
    source.open()
    assert source.uids_after(0) == [1]
    server.append(USER, "INBOX", make_mail(2))
    source.fetch([1])  # the server may announce UID 2 in this reply, which nobody reads
    source.move(1, "Processed")
    started = time.monotonic()
    assert source.wait(5) is True
    assert time.monotonic() - started < 2
    assert source.uids_after(1) == [2]
    assert source.wait(0.3) is False  # nothing newer than what the caller has seen


def test_wait_times_out_without_mail(server, source):
    source.open()
    started = time.monotonic()
    assert source.wait(0.5) is False
    assert 0.4 < time.monotonic() - started < 2
    assert source.uids_after(0) == []


def test_wait_ignores_changes_that_are_not_new_mail(server, source):
    server.append(USER, "INBOX", make_mail(1))
    source.open()

    def flag_it():
        with server.client(USER) as other:
            other.select_folder("INBOX")
            other.add_flags([1], [b"\\Flagged"])

    t = later(0.2, flag_it)
    assert source.wait(1.0) is False
    t.join()


@pytest.mark.parametrize("how", ["kill", "restart"])
def test_wait_raises_unavailable_when_the_server_goes_away(server, source, how):
    source.open()
    t = later(0.3, getattr(server, how))
    started = time.monotonic()
    with pytest.raises(SourceUnavailable):
        source.wait(10)
    assert time.monotonic() - started < 5
    t.join()


def test_wait_without_idle_sleeps(server):
    src = ImapSource(server.mailbox_settings(USER, idle=False), timeout=5)
    src.open()
    try:
        server.append(USER, "INBOX", make_mail(1))
        started = time.monotonic()
        assert src.wait(0.3) is False
        assert time.monotonic() - started >= 0.3
    finally:
        src.close()


def test_wrong_password_is_an_auth_error_without_the_password(server):
    server.add_user("spazioregione.bg", "giusta")
    settings = server.mailbox_settings("spazioregione.bg")
    server.add_user("spazioregione.bg", "cambiata-nel-frattempo")  # the file still says "giusta"
    with pytest.raises(SourceAuthError) as info:
        ImapSource(settings, timeout=5).open()
    assert "giusta" not in str(info.value)
    assert "cambiata" not in str(info.value)
    assert "AUTHENTICATIONFAILED" in str(info.value)
    assert "b'" not in str(info.value)


def test_missing_secret_is_an_auth_error(server, monkeypatch):
    monkeypatch.delenv("SPORTELLO_TEST_NOPE", raising=False)
    settings = server.mailbox_settings(USER, password_file=None, password_env="SPORTELLO_TEST_NOPE")
    with pytest.raises(SourceAuthError, match="SPORTELLO_TEST_NOPE"):
        ImapSource(settings).open()


def test_missing_folder_is_a_source_error_not_retryable(server):
    src = ImapSource(server.mailbox_settings(USER, folder="NonEsiste"), timeout=5)
    with pytest.raises(SourceError) as info:
        src.open()
    assert not isinstance(info.value, (SourceUnavailable, SourceAuthError))


def test_xoauth2_login(server):
    server.add_oauth2_token(USER, "ya29.valid-token")
    good = ImapSource(server.mailbox_settings(USER, oauth2_token="ya29.valid-token"), timeout=5)
    try:
        assert good.open() == server.uidvalidity(USER)
    finally:
        good.close()
    bad = ImapSource(server.mailbox_settings(USER, oauth2_token="ya29.revoked-token"), timeout=5)
    with pytest.raises(SourceAuthError) as info:
        bad.open()
    assert "revoked-token" not in str(info.value)


def test_session_server_gives_each_test_its_own_user(dovecot_server, dovecot_user):
    dovecot_server.append(dovecot_user, "INBOX", make_mail(1))
    src = ImapSource(dovecot_server.mailbox_settings(dovecot_user), timeout=5)
    try:
        src.open()
        assert src.uids_after(0) == [1]
    finally:
        src.close()


def test_ports_picked_together_are_different():
    # picked one after the other the kernel may hand out one port twice, and
    # Dovecot then refuses its config ("duplicate listener")
    for _ in range(200):
        imap, imaps = free_ports(2)
        assert imap != imaps

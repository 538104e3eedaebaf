"""The sync engine against a real Dovecot: each mail stored once, then moved; no mocks.

Must show (intake issue): many MIME shapes arrive once each through the real
`sportello poll --once`; polling again adds nothing; a changed UIDVALIDITY
rescans without duplicates; one failing mailbox never stops the others and
`sportello status` reports it.
"""

from __future__ import annotations

import glob
import json
import os
import time
from datetime import timedelta
from email.mime.text import MIMEText

import pytest
from sqlalchemy import select, update

from db.models import MailboxState, Message, utcnow
from intake.imap import ImapSource
from intake.sync import MailOrigin, poller_id
from sportello.pipeline import ingest
from sportello.polling import mailboxes, poll_mailbox
from sportello.status import collect
from tests import mailfactory as mf
from tests.dovecot import free_port
from tests.intake.intake_env import IntakeEnv, crlf

pytestmark = pytest.mark.slow

USER = "spazioregione.mi"
JPEG, PDF = mf.jpeg(seed=1), mf.pdf(pages=2)


@pytest.fixture
def env(dovecot, tmp_path, db_url):
    e = IntakeEnv(dovecot, tmp_path, db_url)
    yield e
    e.close()


def mime_shapes() -> dict[str, bytes]:
    """One mail per shape a citizen's mailer produces, each with its own Message-ID (seed)."""
    first = mf.mail(mf.attachment(JPEG, "fronte.jpg", "image/jpeg"), mf.attachment(PDF, "modulo.pdf", "application/pdf"), seed=1)
    shapes = {
        "jpeg+pdf": first,
        "plain text only": mf.simple(seed=2, text="Buongiorno, come invio i documenti?"),
        "html + inline image": mf.mail(mf.inline_image(mf.png(seed=3), "foto1"), html="<p>foto <img src='cid:foto1'></p>", seed=3),
        "rfc2047 filename": mf.mail(mf.attachment(JPEG, "carta d'identità.jpg", "image/jpeg", name_style="rfc2047"), seed=4),
        "forwarded message": mf.mail(mf.forwarded(mf.mail(mf.attachment(mf.png(seed=5), "retro.png"), seed=105)), seed=5),
        "attached .eml": mf.mail(mf.eml_attachment(mf.mail(mf.attachment(JPEG, "cns.jpg"), seed=106)), seed=6),
        "zip of scans": mf.mail(mf.attachment(mf.zip_archive({"fronte.jpg": JPEG, "modulo.pdf": PDF}), "documenti.zip", "application/zip"), seed=7),
        "winmail.dat": mf.mail(mf.attachment(mf.tnef([("fronte.jpg", JPEG)]), "winmail.dat", "application/ms-tnef"), seed=8),
        "signed .p7m": mf.mail(mf.attachment(mf.p7m(PDF), "modulo.pdf.p7m", "application/pkcs7-mime"), seed=9),
        "s/mime signed": mf.mail(root=mf.smime_signed(MIMEText("Firmato digitalmente.", "plain", "utf-8")), seed=10),
        "s/mime opaque": mf.mail(root=mf.smime_opaque(MIMEText("Firmato opaco.", "plain", "utf-8")), seed=11),
        "heic photo": mf.mail(mf.attachment(mf.heic(seed=12), "IMG_0001.HEIC", "image/heic"), seed=12),
        "multipage tiff": mf.mail(mf.attachment(mf.tiff(pages=2, seed=13), "scansione.tif", "image/tiff"), seed=13),
        "PEC envelope": mf.pec_envelope(mf.mail(mf.attachment(PDF, "modulo.pdf", "application/pdf"), seed=114), seed=14),
        "bounce (DSN)": mf.dsn(mf.simple(seed=115), seed=15),
        "out of office": mf.simple(seed=16, subject="Risposta automatica: fuori ufficio", extra_headers={"Auto-Submitted": "auto-replied"}),
        "no Message-ID": mf.mail(mf.attachment(JPEG, "senza-id.jpg", "image/jpeg"), seed=17, message_id=False),
        "8-bit latin-1 subject": mf.simple(seed=18).replace(b"Subject: Richiesta codici PIN/PUK", b"Subject: Richiesta identit\xe0"),
        "reply to the first": mf.mail(mf.attachment(mf.jpeg(seed=19), "retro.jpg", "image/jpeg"), subject="Re: Richiesta codici PIN/PUK",
                                      seed=19, extra_headers={"In-Reply-To": "<mail-1@example.org>", "References": "<mail-1@example.org>"}),
        "same Message-ID, other body": mf.simple(seed=1, text="Un altro corpo con lo stesso Message-ID."),
    }
    return {name: crlf(raw) for name, raw in shapes.items()}


def test_many_mime_shapes_arrive_once_each_through_the_cli_over_tls(env, dovecot):
    """`sportello poll --once` over implicit TLS (the fixture's CA via SSL_CERT_FILE, as an operator
    with a private CA would do): every mail stored once, all in Processed, none \\Seen, none deleted;
    the same mail delivered twice is stored once and both copies leave the inbox."""
    shapes = mime_shapes()
    delivered = list(shapes.values()) + [shapes["jpeg+pdf"]]  # the same mail delivered twice
    env.add_mailbox(USER, security="ssl")
    env.write()
    env.cli("init")
    env.append(USER, delivered)
    trust = {"SSL_CERT_FILE": str(dovecot.cert_path)}

    out = env.cli("poll", "--once", env=trust).stdout.decode()
    assert f"{len(shapes)} new messages, 1 already stored, 0 quarantined" in out, out

    rows = env.assert_exactly_once(delivered)
    env.assert_all_moved(USER, delivered)
    # BODY.PEEK: MOVE keeps flags, so a fetch that set \Seen would show here.
    assert all(b"\\Seen" not in flags for flags in dovecot.flags(USER, "Processed").values())
    assert {m.server_target for m in rows} == {"Processed"}

    by_id = {}
    for m in rows:
        by_id.setdefault(m.message_id, []).append(m)
    assert len(by_id["<mail-1@example.org>"]) == 2  # same Message-ID, different body: two mails
    assert any(mid.endswith("@sportello.invalid>") for mid in by_id)  # generated id for the one without

    export = json.loads(env.cli("requests", "export", "--json").stdout)
    listed = [mid for rec in export for mid in rec["message_ids"]]
    assert sorted(listed) == sorted(m.message_id for m in rows)
    first = next(rec for rec in export if "<mail-19@example.org>" in rec["message_ids"])
    assert "<mail-1@example.org>" in first["message_ids"]  # the reply joined its request
    statuses = {rec["status"] for rec in export if "<mail-15@example.org>" in rec["message_ids"]}
    assert statuses == {"not_a_request"}

    again = env.cli("poll", "--once", env=trust).stdout.decode()
    assert "0 new messages, 0 already stored" in again
    assert env.message_count() == len(rows)
    env.assert_all_moved(USER, delivered)


def test_polling_again_adds_nothing_and_new_mail_is_picked_up(env, dovecot, app):
    """Python API, plain IMAP: a second and third pass store only what is new."""
    env.add_mailbox(USER)
    env.write()
    (mb,) = mailboxes(env.app)
    first = [crlf(mf.simple(seed=i)) for i in range(5)]
    env.append(USER, first)
    r1 = poll_mailbox(env.app, mb, poller_id())
    assert (r1.stored, r1.moved, r1.errors, r1.complete) == (5, 5, [], True)
    r2 = poll_mailbox(env.app, mb, poller_id())
    assert (r2.stored, r2.duplicates, r2.moved) == (0, 0, 0)
    later = [crlf(mf.simple(seed=i)) for i in range(5, 8)]
    env.append(USER, later)
    r3 = poll_mailbox(env.app, mb, poller_id())
    assert (r3.stored, r3.duplicates, r3.moved) == (3, 0, 3)
    env.assert_exactly_once(first + later)
    env.assert_all_moved(USER, first + later)
    state = env.mailbox_state(mb.key)
    assert state.last_uid == 8 and state.lease_owner is None and state.last_error is None


def _new_uidvalidity(dovecot, user: str) -> tuple[int, int]:
    """Make Dovecot forget INBOX's UIDs (as a restored or rebuilt mailbox does): new UIDVALIDITY."""
    before = dovecot.uidvalidity(user)
    dovecot.stop()
    maildir = dovecot.mail_dir / user / "Maildir"
    for path in glob.glob(str(maildir / "dovecot.index*")) + [str(maildir / "dovecot-uidlist")]:
        os.unlink(path)
    dovecot.start()
    after = dovecot.uidvalidity(user)
    assert after != before
    return before, after


def test_uidvalidity_change_rescans_without_duplicates(env, dovecot, app):
    """A mailbox restored from backup: the processed mails are back in the inbox with new UIDs and a
    new UIDVALIDITY, plus two new ones. Only the new ones are stored; all leave the inbox again."""
    env.add_mailbox(USER)
    env.write()
    (mb,) = mailboxes(env.app)
    old = [crlf(mf.simple(seed=i)) for i in range(6)]
    env.append(USER, old)
    assert poll_mailbox(env.app, mb, poller_id()).stored == 6

    env.append(USER, old)  # the restore puts them back ...
    _new_uidvalidity(dovecot, USER)  # ... and the server numbers everything anew
    new = [crlf(mf.simple(seed=i)) for i in (50, 51)]
    env.append(USER, new)

    report = poll_mailbox(env.app, mb, poller_id())
    assert (report.stored, report.duplicates, report.errors) == (2, 6, [])
    env.assert_exactly_once(old + new)
    env.assert_all_moved(USER, old + old + new)  # nothing deleted: the restored copies sit in Processed too
    assert env.mailbox_state(mb.key).uidvalidity == dovecot.uidvalidity(USER)


def test_uidvalidity_change_with_moves_still_pending(env, dovecot, app):
    """Mails stored under the old UIDVALIDITY whose move never happened (a crash): their old UIDs
    mean nothing now; the rescan finds them by content, stores nothing, and moves them."""
    env.add_mailbox(USER)
    env.write()
    (mb,) = mailboxes(env.app)
    raws = [crlf(mf.mail(mf.attachment(mf.jpeg(seed=i), "fronte.jpg", "image/jpeg"), seed=i)) for i in range(4)]
    env.append(USER, raws)
    # A pass that stored everything and was killed before moving anything:
    source = ImapSource(mb.imap)
    uidvalidity = source.open()
    for mail in source.fetch(source.uids_after(0)):
        ingest(env.app, mail.raw, "MI", MailOrigin(mb.key, uidvalidity, mail.uid))
    source.close()
    with env.app.db.session() as s:
        s.add(MailboxState(key=mb.key, province="MI", uidvalidity=uidvalidity, last_uid=4))
    assert "4 moves pending" in next(line for line in collect(env.app).lines if mb.key in line)

    _new_uidvalidity(dovecot, USER)
    report = poll_mailbox(env.app, mb, poller_id())
    assert (report.stored, report.duplicates, report.moved, report.errors) == (0, 4, 4, [])
    with env.app.db.session() as s:
        actions = set(s.scalars(select(Message.server_action)))
    assert actions == {"rescan"}  # no longer "pending": nothing is retried by a dead UID
    assert "moves pending" not in "".join(collect(env.app).lines)
    assert dovecot.uids(USER, "INBOX") == []
    assert sorted(dovecot.fetch_all(USER, "Processed")) == sorted(raws)


def test_a_failing_mailbox_never_stops_the_others_and_status_reports_it(env, dovecot, app):
    """BG: wrong password; CO: nothing listens on its port; MI: fine. One `poll --once` stores MI's
    mail, exits non-zero, and `sportello status` names both failing mailboxes with their errors."""
    env.add_mailbox("spazioregione.bg", province="BG")
    (dovecot.root / "secrets" / "spazioregione.bg.password").write_text("sbagliata")  # spoil it
    env.add_user("spazioregione.co")
    env.add_mailbox("spazioregione.co", province="CO", port=free_port())
    env.add_mailbox(USER, province="MI")
    env.write()
    env.cli("init")
    raws = [crlf(mf.simple(seed=i)) for i in range(3)]
    env.append(USER, raws)

    started = time.monotonic()
    proc = env.cli("poll", "--once", check=False)
    elapsed = time.monotonic() - started
    assert proc.returncode == 3, proc.stderr.decode()
    err = proc.stderr.decode()
    assert "spazioregione.bg" in err and "login refused" in err
    assert "spazioregione.co" in err and "connection refused" in err
    assert "3 new messages" in proc.stdout.decode()
    assert elapsed < 15, f"an unreachable mailbox held the pass up for {elapsed:.1f}s"
    env.assert_exactly_once(raws)
    env.assert_all_moved(USER, raws)

    status = env.cli("status", check=False)
    lines = status.stdout.decode().splitlines()
    assert status.returncode == 4
    bg = next(line for line in lines if line.strip().startswith("BG"))
    co = next(line for line in lines if line.strip().startswith("CO"))
    mi = next(line for line in lines if line.strip().startswith("MI"))
    assert "STALE" in bg and "UTC: SourceAuthError: login refused for spazioregione.bg" in bg
    assert "STALE" in co and "connection refused" in co
    assert "ok" in mi and "last error" not in mi
    assert "sbagliata" not in status.stdout.decode() + err  # no password in any message


def test_status_is_stale_only_after_stale_after(env, dovecot, app):
    """A mailbox that worked and now fails is reported with its error at once, but `status` fails
    only when the last successful fetch is older than its stale_after."""
    env.add_mailbox(USER, stale_after=600)
    env.write()
    env.cli("init")
    env.cli("poll", "--once")
    secret = dovecot.root / "secrets" / f"{USER}.password"
    secret.write_text("sbagliata")
    assert env.cli("poll", "--once", check=False).returncode == 3

    fresh = env.cli("status", check=False)
    assert fresh.returncode == 0, fresh.stdout.decode()
    assert "ok" in fresh.stdout.decode() and "login refused" in fresh.stdout.decode()

    with env.app.db.session() as s:
        s.execute(update(MailboxState).values(last_success_at=utcnow() - timedelta(seconds=601)))
    old = env.cli("status", check=False)
    assert old.returncode == 4
    assert "STALE" in old.stdout.decode() and "login refused" in old.stdout.decode()

"""A hostile batch through the real `sportello poll --once` and Dovecot.

Zip bomb, pixel bomb, truncated PDF, malformed and absurd headers, a 30 MB
message and bytes that are no e-mail at all: the poller keeps going, every
message is stored with its reason, the unreadable ones go to the Failed
folder, and `sportello requests show` / `export` show them.
"""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from db.models import Attachment, Message
from intake import threading as mail_threading
from intake.sync import poller_id
from sportello.polling import mailboxes, poll_mailbox
from tests import mailfactory as mf
from tests.intake.intake_env import IntakeEnv, crlf, sha

pytestmark = pytest.mark.slow

USER = "spazioregione.mi"
MB = 1024 * 1024

MALFORMED = (
    b"From: =?utf-8?B?!!broken?= <Mario@Example.org>\r\n"
    b"To: \"Ufficio\" <spazioregione.mi@example.org>, @@@, =?x-unknown?q?abc?=\r\n"
    b"Subject: Carta d'identit\xe0 =?utf-8?q?caf=C3=A9?= =?iso-8859-1?b?broken\r\n"
    b"Date: 32 Foo 20260 99:99\r\n"
    b"Message-ID: senza-parentesi@example.org\r\n"
    b"References: <a@b> garbage <c@d\r\n"
    b"X-Strano: \xff\xfe\x01\r\n"
    b"\r\n"
    b"corpo\r\n"
)


def absurd_headers() -> bytes:
    """Every header field longer than any column made for it."""
    long_local = "x" * 400
    return crlf(mf.mail(
        mf.attachment(mf.jpeg(seed=3), ("nome-lunghissimo-" * 30) + ".jpg", "image/" + "j" * 300),
        subject="Oggetto " * 2000,
        sender=f"{'Nome ' * 200}<{long_local}@{'d' * 300}.example.org>",
        seed=33,
        extra_headers={"In-Reply-To": "<" + "r" * 3000 + "@example.org>", "References": " ".join(
            f"<ref{i}-{'z' * 60}@example.org>" for i in range(300))},
    ).replace(b"Message-ID: <mail-33@example.org>", b"Message-ID: <" + b"m" * 2500 + b"@example.org>"))


def hostile_batch() -> dict[str, bytes]:
    big = random.Random(30).randbytes(23 * MB)  # base64: a message of about 31 MB
    batch = {
        "zip bomb": mf.mail(mf.attachment(mf.zip_bomb(), "documenti.zip", "application/zip"), seed=1),
        "pixel bomb": mf.mail(mf.attachment(mf.huge_png(50_000, 50_000), "fronte.png", "image/png"), seed=2),
        "truncated pdf": mf.mail(mf.attachment(mf.truncated_pdf(), "modulo.pdf", "application/pdf"), seed=3),
        "malformed headers": MALFORMED,
        "absurd headers": absurd_headers(),
        "30 MB": mf.mail(mf.attachment(big, "video.mov", "video/quicktime"), seed=5),
        "not an e-mail": b"Nota: questo non e' un messaggio\r\n\r\nsolo testo, nessuna intestazione\r\n",
        "a pdf, not a mail": mf.pdf(seed=7),
        "normal, after them all": mf.mail(mf.attachment(mf.jpeg(seed=8), "fronte.jpg", "image/jpeg"), seed=8),
    }
    return {k: crlf(v) for k, v in batch.items()}


@pytest.fixture
def env(dovecot, tmp_path, db_url):
    e = IntakeEnv(dovecot, tmp_path, db_url)
    yield e
    e.close()


def test_hostile_batch_is_stored_with_reasons_and_the_poller_keeps_going(env, dovecot):
    batch = hostile_batch()
    assert len(batch["30 MB"]) > 30_000_000
    env.add_mailbox(USER)
    env.write()
    env.cli("init")
    env.append(USER, list(batch.values()))

    proc = env.cli("poll", "--once", timeout=240)
    out = proc.stdout.decode()
    assert f"{len(batch) - 3} new messages, 0 already stored, 3 quarantined" in out, out + proc.stderr.decode()

    failed = [batch["30 MB"], batch["not an e-mail"], batch["a pdf, not a mail"]]
    env.assert_exactly_once(list(batch.values()))
    env.assert_all_moved(USER, list(batch.values()), failed=failed)

    with env.app.db.session() as s:
        rows = {m.sha256: m for m in s.scalars(select(Message).options(selectinload(Message.request)))}
    msg = {name: rows[sha(raw)] for name, raw in batch.items()}
    assert msg["30 MB"].intake_error == "message over the size limit"
    assert msg["30 MB"].server_target == "Failed" and msg["30 MB"].size == len(batch["30 MB"])
    assert env.app.blobs.get(msg["30 MB"].sha256) == batch["30 MB"]  # kept whole
    assert msg["not an e-mail"].intake_error.startswith("not an e-mail")
    assert msg["a pdf, not a mail"].intake_error.startswith("not an e-mail")
    assert msg["absurd headers"].message_id.endswith("@sportello.invalid>")  # 2,500 characters: no one's id
    assert msg["absurd headers"].request.sender_email is None  # 700 characters: no one's address
    for name in ("zip bomb", "pixel bomb", "truncated pdf", "malformed headers", "absurd headers", "normal, after them all"):
        assert msg[name].intake_status == "ok", (name, msg[name].intake_error)
        assert msg[name].server_target == "Processed"

    with env.app.db.session() as s:
        reasons = {}
        for a in s.scalars(select(Attachment)):
            reasons.setdefault(a.message_id, []).append(a.reject_reason)
        ids = {name: m.id for name, m in msg.items()}
    for name in ("zip bomb", "pixel bomb", "truncated pdf"):
        assert reasons.get(ids[name]) and all(reasons[ids[name]]), (name, reasons.get(ids[name]))
    assert reasons[ids["normal, after them all"]] == [None]

    big_ref, bomb_ref = msg["30 MB"].request.reference, msg["zip bomb"].request.reference
    show = env.cli("requests", "show", big_ref).stdout.decode()
    assert "!! message over the size limit" in show, show
    bomb = env.cli("requests", "show", bomb_ref).stdout.decode()
    assert "scartato:" in bomb, bomb
    export = json.loads(env.cli("requests", "export", "--json").stdout)
    listed = sorted(mid for rec in export for mid in rec["message_ids"])
    assert listed == sorted(m.message_id for m in rows.values())
    by_ref = {rec["reference"]: rec for rec in export}
    assert by_ref[big_ref]["status"] == "needs_review"
    assert msg["30 MB"].message_id in by_ref[big_ref]["message_ids"]

    assert "0 new messages" in env.cli("poll", "--once").stdout.decode()


def test_a_mail_that_breaks_intake_is_quarantined_and_the_rest_go_on(env, dovecot, app, monkeypatch):
    """A bug that makes intake raise on one mail (forced here: threading raises for its subject)
    must not make every pass fail on it again, holding up the mails behind it: it is kept whole,
    quarantined with the error, moved to Failed; the others are stored as usual."""
    real = mail_threading.clues

    def clues(subject, *args, **kwargs):
        if "esplode" in subject:
            raise RuntimeError("bug forzato")
        return real(subject, *args, **kwargs)

    monkeypatch.setattr(mail_threading, "clues", clues)
    raws = [crlf(mf.simple(seed=1)), crlf(mf.simple(seed=2, subject="Questo esplode")), crlf(mf.simple(seed=3))]
    env.add_mailbox(USER)
    env.write()
    env.append(USER, raws)
    (mb,) = mailboxes(env.app)
    report = poll_mailbox(env.app, mb, poller_id())
    assert (report.stored, report.failed, report.errors) == (2, 1, [])
    env.assert_exactly_once(raws)
    env.assert_all_moved(USER, raws, failed=[raws[1]])
    broken = next(m for m in env.messages() if m.sha256 == sha(raws[1]))
    assert broken.intake_error == "intake error: RuntimeError: bug forzato"
    assert poll_mailbox(env.app, mb, poller_id()).stored == 0

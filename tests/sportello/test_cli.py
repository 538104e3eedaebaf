"""The command line as a user meets it: the real console script in a subprocess."""

import json
from email.message import EmailMessage

import pytest

SPEC_KEYS = {"reference", "province", "status", "form_type", "holder", "declarant", "contact",
             "documents", "findings", "message_ids"}


def make_mail(path, *, subject="Richiesta PIN PUK", sender="mario.rossi@example.org", msgid="<abc@example.org>",
              attach=True):
    m = EmailMessage()
    m["From"] = f"Mario Rossi <{sender}>"
    m["To"] = "spazioregione.mi@example.org"
    m["Subject"] = subject
    if msgid:
        m["Message-ID"] = msgid
    m["Date"] = "Thu, 26 Nov 2026 09:00:00 +0100"
    m.set_content("Buongiorno, in allegato i documenti.\n")
    if attach:
        m.add_attachment(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", maintype="application",
                         subtype="pdf", filename="modulo.pdf")
    path.write_bytes(m.as_bytes())
    return path


def export(cli):
    return json.loads(cli("requests", "export", "--json").stdout)


def test_ingest_then_export_has_every_spec_key(cli, tmp_path):
    cli("init")
    eml = make_mail(tmp_path / "a.eml")
    out = cli("ingest", "--province", "mi", str(eml)).stdout.decode()
    assert "SR-MI-" in out
    records = export(cli)
    assert len(records) == 1
    rec = records[0]
    assert SPEC_KEYS <= set(rec)
    assert rec["province"] == "MI"
    # A PDF that is no form, and no documents: the citizen is told what to send.
    assert rec["status"] == "incomplete"
    assert {"form_missing", "missing_holder_id_front", "missing_holder_cns_back"} <= {f["code"] for f in rec["findings"]}
    assert all(f["severity"] in ("blocking", "review", "info") and f["message"] for f in rec["findings"])
    assert rec["reference"].startswith("SR-MI-") and len(rec["reference"]) == len("SR-MI-2026-000042")
    assert set(rec["holder"]) == {"codice_fiscale", "surname", "given_names", "birth_date"}
    assert set(rec["contact"]) == {"email", "phone"}
    assert rec["contact"]["email"] == "mario.rossi@example.org"
    assert rec["message_ids"] == ["<abc@example.org>"]


def test_ingesting_the_same_file_twice_keeps_one_message_and_one_request(cli, tmp_path):
    cli("init")
    eml = make_mail(tmp_path / "a.eml")
    cli("ingest", "--province", "MI", str(eml))
    second = cli("ingest", "--province", "MI", str(eml)).stdout.decode()
    assert "already stored" in second
    records = export(cli)
    assert len(records) == 1 and len(records[0]["message_ids"]) == 1


def test_a_message_without_message_id_gets_a_stable_generated_one(cli, tmp_path):
    cli("init")
    eml = make_mail(tmp_path / "a.eml", msgid=None)
    cli("ingest", "--province", "MI", str(eml))
    cli("ingest", "--province", "MI", str(eml))
    (rec,) = export(cli)
    (mid,) = rec["message_ids"]
    assert mid.startswith("<") and mid.endswith("@sportello.invalid>")


def test_a_file_that_is_not_an_email_is_refused_and_changes_nothing(cli, tmp_path):
    cli("init")
    good = make_mail(tmp_path / "a.eml")
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    proc = cli("ingest", "--province", "MI", str(good), str(pdf), check=False)
    assert proc.returncode != 0
    err = proc.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "scan.pdf" in err and "not an e-mail" in err
    assert "Traceback" not in err
    assert export(cli) == []


def test_reply_with_reference_joins_the_request(cli, tmp_path):
    cli("init")
    cli("ingest", "--province", "MI", str(make_mail(tmp_path / "a.eml")))
    ref = export(cli)[0]["reference"]
    reply = make_mail(tmp_path / "b.eml", subject=f"Re: [{ref}] documenti", msgid="<reply@example.org>",
                      sender="altro.indirizzo@example.org")
    cli("ingest", "--province", "MI", str(reply))
    (rec,) = export(cli)
    assert rec["message_ids"] == ["<abc@example.org>", "<reply@example.org>"]


def test_commands_before_init_say_what_to_do(cli):
    proc = cli("requests", "export", "--json", check=False)
    assert proc.returncode != 0
    assert "sportello init" in proc.stderr.decode()


def test_show_prints_the_request_without_clear_codice_fiscale(cli, tmp_path):
    cli("init")
    cli("ingest", "--province", "MI", str(make_mail(tmp_path / "a.eml")))
    ref = export(cli)[0]["reference"]
    out = cli("requests", "show", ref).stdout.decode()
    assert ref in out and "incomplete" in out and "modulo.pdf" in out and "form_missing" in out
    assert cli("requests", "show", "SR-MI-1999-000001", check=False).returncode != 0


@pytest.mark.parametrize("extra, reason", [
    ("colour = 'blue'\n", "unknown key 'colour'"),
    ("[database]\nurl = 'oracle://x'\n", "database.url"),
    ("[backoffice]\ntrusted_proxies = ['10.0.0.0/8', 'nginx']\n", "'nginx' is not an IP address or network"),
])
def test_config_check_fails_with_the_reason(cli, tmp_path, extra, reason):
    bad = tmp_path / "bad.toml"
    bad.write_text(extra)
    proc = cli("config", "check", "--config", str(bad), check=False)
    assert proc.returncode != 0
    assert reason in proc.stderr.decode()
    assert len(proc.stderr.decode().strip().splitlines()) == 1


def test_config_check_hides_secrets(cli, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[database]\nurl = "postgresql+psycopg://u:topsecret@db/x"\n'
        '[[mailboxes]]\nprovince = "BG"\nhost = "h"\nusername = "u"\npassword_env = "BG_PW"\n'
    )
    proc = cli("config", "check", "--config", str(cfg), env={"BG_PW": "hunter2"})
    out = proc.stdout.decode()
    assert "topsecret" not in out and "hunter2" not in out
    assert json.loads(out)["mailboxes"][0]["password_env"] == "BG_PW"
    missing = cli("config", "check", "--config", str(cfg), check=False)
    assert missing.returncode != 0 and "BG_PW is not set" in missing.stderr.decode()


def test_forms_writes_the_three_fillable_forms_with_the_spec_titles(cli, tmp_path):
    import pdfplumber
    from pypdf import PdfReader

    out = cli("forms", str(tmp_path / "moduli")).stdout.decode().split()
    assert len(out) == 3
    seconds = {
        "MODULO DI ATTIVAZIONE DIRETTA",
        "MODULO DELEGATO – IMPEDIMENTO TEMPORANEO PER MOTIVI DI SALUTE",
        "MODULO GENITORE / TUTORE – TITOLARE MINORENNE O TUTELATO",
    }
    found = set()
    for path in out:
        assert PdfReader(path).get_fields()  # fillable
        with pdfplumber.open(path) as pdf:
            text = pdf.pages[0].extract_text()
        assert "RICHIESTA DEI CODICI PIN/PUK DELLA TESSERA SANITARIA" in text
        found |= {s for s in seconds if s in text}
    assert found == seconds

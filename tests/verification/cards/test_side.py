"""Reading identity documents from page images: real outcomes on rendered, captured documents."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import cv2
import numpy as np
import pytest

from tests.corpus import capture, documents
from tests.verification.cards import cases as cc
from verification.cards import fields as cfd
from verification import codice_fiscale
from verification.cards.side import classify_text, has_category_table, read_card
from verification.evidence import SourceRef
from verification.cards.find import find_cards
from verification.images.decode import load_image
from verification.cards.page import read_cards_on_image

SOURCE = SourceRef("allegato.jpg", 1)


def read_one(img):
    readings = read_cards_on_image(img, SOURCE, cc.TODAY)
    assert len(readings) == 1, [(r.doc_type, r.side) for r in readings]
    return readings[0]


@pytest.mark.parametrize("style", ["photo", "scan"])
def test_cie_front(style):
    r = read_one(cc.captured("cie", "front", style))
    want = cc.expected("cie")
    assert (r.doc_type, r.side, r.readable) == ("cie", "front", True)
    assert r.number == want["number"]
    assert r.expiry == want["expiry"]
    assert (r.surname, r.given_names) == (want["surname"], want["given_names"])
    assert r.face_count == 1  # the photo, not the small ghost image
    assert r.source == SOURCE and r.region is not None


@pytest.mark.parametrize("style", ["photo", "scan"])
def test_cie_back_mrz_and_barcode(style):
    r = read_one(cc.captured("cie", "back", style))
    want = cc.expected("cie")
    assert (r.doc_type, r.side) == ("cie", "back")
    assert r.mrz is not None and r.mrz.valid and r.mrz.document_code.startswith("C")
    assert (r.number, r.expiry, r.birth_date) == (want["number"], want["expiry"], want["birth_date"])
    assert r.codice_fiscale == want["codice_fiscale"]
    # At 200 dpi the Code 39's narrow bars are 1.3 px: then the printed code is read instead.
    assert r.cf_sources.get("barcode", r.cf_sources.get("back_text")) == want["codice_fiscale"]


def test_passport_data_page():
    r = read_one(cc.captured("passport", "data_page", "photo"))
    want = cc.expected("passport")
    assert (r.doc_type, r.side) == ("passport", "data_page")
    assert r.mrz is not None and r.mrz.valid and r.mrz.format == "TD3"
    assert (r.number, r.expiry, r.birth_date) == (want["number"], want["expiry"], want["birth_date"])
    assert r.face_count == 1


@pytest.mark.parametrize("style", ["photo", "scan"])
def test_ts_cns_front(style):
    r = read_one(cc.captured("ts_cns", "front", style))
    want = cc.expected("ts_cns")
    assert (r.doc_type, r.side, r.has_chip) == ("ts_cns", "front", True)
    assert r.codice_fiscale == want["codice_fiscale"] == r.cf_sources["front_text"]
    assert (r.expiry, r.birth_date) == (want["expiry"], want["birth_date"])
    assert r.surname == want["surname"]


def test_ts_without_chip_front():
    r = read_one(cc.captured("ts_no_chip", "front", "photo"))
    assert (r.doc_type, r.side, r.has_chip) == ("ts_no_chip", "front", False)
    assert r.codice_fiscale == cc.expected("ts_no_chip")["codice_fiscale"]


def grey(img):
    return cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def test_a_ts_cns_front_scanned_in_grey_is_told_by_its_plate():
    r = read_one(grey(cc.captured("ts_cns", "front", "scan")))
    assert (r.doc_type, r.side, r.has_chip) == ("ts_cns", "front", True)  # was None: the gold not seen
    assert r.codice_fiscale == cc.expected("ts_cns")["codice_fiscale"]


@pytest.mark.parametrize("doc_type", ["ts_no_chip", "cie", "driving_licence", "paper_id"])
def test_no_plate_is_seen_on_other_fronts_scanned_in_grey(doc_type):
    from verification.cards.side import has_chip_plate

    (card,) = find_cards(grey(cc.captured(doc_type, "front", "scan")))
    assert not has_chip_plate(card.image)


@pytest.mark.parametrize("style", ["photo", "scan"])
def test_ts_back(style):
    r = read_one(cc.captured("ts_cns", "back", style))
    want = cc.expected("ts_cns")
    assert (r.doc_type, r.side) == ("ts_cns", "back")
    # The barcode stands for field 6: the printed code is not read as well.
    assert r.cf_sources == {"barcode": want["codice_fiscale"]} and r.codice_fiscale == want["codice_fiscale"]
    assert (r.surname, r.given_names) == (want["surname"], want["given_names"])
    assert r.number == want["number"] and r.number.startswith("80380") and len(r.number) == 20
    assert r.extra["ts_card_number"] == want["number"] and "ts_card_number_luhn" not in r.extra
    assert r.expiry == want["expiry"]


@pytest.mark.parametrize("barcode", [False, True])
def test_ts_back_values_go_by_shape_and_order_without_their_labels(barcode):
    from verification.cards.readers import READERS
    from verification.cards.regions import Sheet
    from verification.images.ocr import Word

    want = cc.expected("ts_cns")
    lines = ["TESSERA EUROPEA DI", "ASSICURAZIONE MALATTIA", want["surname"], want["given_names"],
             want["birth_date"].strftime("%d/%m/%Y"), want["codice_fiscale"], "SSN-MIN SALUTE 500001",
             want["number"], want["expiry"].strftime("%d/%m/%Y")]
    sheet = Sheet(cc.bgr(cc.rendered("ts_cns", "back")))
    sheet.words = [Word(text, 90, 470 + 120 * i, 150 + 36 * n, 110, 24, n)
                   for n, line in enumerate(lines) for i, text in enumerate(line.split())]
    found: dict = {"cf_sources": {"barcode": want["codice_fiscale"]} if barcode else {}, "extra": {}}
    READERS[("ts_cns", "back")](sheet, found, cc.TODAY)
    assert sheet.read == []  # everything needed was among the words: no OCR
    assert (found["surname"], found["given_names"]) == (want["surname"], want["given_names"])
    assert (found["birth_date"], found["expiry"], found["number"]) == (want["birth_date"], want["expiry"], want["number"])
    assert found["cf_sources"].get("ehic_field6") == (None if barcode else want["codice_fiscale"])


def test_a_date_still_to_come_is_the_expiry_when_its_label_misses_it():
    from verification.cards.readers import READERS
    from verification.cards.regions import Sheet
    from verification.images.ocr import Word

    # "SCADENZA" lost, "EXPIRY" read right of the value: the label alone finds no date under it.
    rows = [[("CA12345AB", 800)], [("COGNOME", 330), ("/", 420), ("SURNAME", 440)], [("ROSSI", 330)],
            [("NOME", 330), ("/", 390), ("NAME", 410)], [("MARIO", 330)],
            [("EMISSIONE", 330), ("ISSUIN", 440), ("IZA", 570), ("EXPIRY", 640)],
            [("30.11.2025", 330), ("23.", 570), ("10.", 605), ("2036", 645)]]
    sheet = Sheet(cc.bgr(cc.rendered("cie", "front")))
    sheet.words = [Word(text, 90, x, 60 + 40 * n, 10 * len(text), 24, n) for n, row in enumerate(rows) for text, x in row]
    found: dict = {"cf_sources": {}, "extra": {}}
    READERS[("cie", "front")](sheet, found, cc.TODAY)
    assert sheet.read == [] and found["expiry"] == date(2036, 10, 23)


def test_ts_back_luhn_failure_is_only_noted():
    doc = cc.document("ts_cns")
    good = doc.number
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    image = documents.render(replace(doc, number=bad), "back")
    r = read_one(cc.bgr(capture.phone_photo(image, random.Random(3))))
    assert r.number == bad and r.readable
    assert r.extra["ts_card_number_luhn"] == "failed"


def test_driving_licence_front():
    r = read_one(cc.captured("driving_licence", "front", "photo"))
    want = cc.expected("driving_licence")
    assert (r.doc_type, r.side) == ("driving_licence", "front")
    assert (r.surname, r.given_names, r.number) == (want["surname"], want["given_names"], want["number"])
    assert (r.birth_date, r.issue_date, r.expiry) == (want["birth_date"], want["issue_date"], want["expiry"])
    assert r.face_count == 1


def test_driving_licence_back_is_recognised():
    r = read_one(cc.captured("driving_licence", "back", "flat"))
    assert (r.doc_type, r.side) == ("driving_licence", "back")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("style", ["photo", "scan", "scan200"])
def test_driving_licence_back_captured_is_recognised_by_its_table(style, seed):
    # OCR reads little of the ruled category table (a 200 dpi scan: "10." and "AM" at best);
    # the rules themselves say it, unevenly lit as well.
    if style == "scan200":
        img = cc.bgr(capture.flat_scan([cc.rendered("driving_licence", "back", seed)], random.Random(seed), dpi=200))
    else:
        img = cc.captured("driving_licence", "back", style, seed)
    r = read_one(img)
    assert (r.doc_type, r.side, r.readable) == ("driving_licence", "back", True)
    assert (r.surname, r.given_names) == (None, None)  # a licence back carries no name


def test_licence_back_keeps_a_licence_number_already_read():
    from verification.cards.readers import READERS
    from verification.cards.regions import Sheet
    from verification.images.ocr import Word

    sheet = Sheet(cc.bgr(cc.rendered("driving_licence", "back")))
    sheet.words = [Word("5.", 90, 30, 600, 20, 20, 1), Word("MI1234567X", 90, 60, 600, 150, 20, 1)]
    found: dict = {"cf_sources": {}, "extra": {}}
    READERS[("driving_licence", "back")](sheet, found, cc.TODAY)
    assert found["number"] == "MI1234567X"


def test_rows_already_read_across_the_card_are_not_read_again():
    from verification.cards.regions import REST, Sheet

    sheet = Sheet(cc.bgr(cc.rendered("ts_cns", "back")))
    band = (0.0, 0.20, 1.0, 0.80)  # a band across the card
    sheet.ocr(band)
    (_, b0, _, b1), *rest = sheet.read
    sheet.ocr(REST)  # only the strips above and below the band
    assert rest == [] and [(y0, y1) for _, y0, _, y1 in sheet.read[1:]] == [(0, b0), (b1, 638)]
    assert len(sheet.words) == len({(w.x, w.y) for w in sheet.words})


@pytest.mark.parametrize(("doc_type", "side"), [
    ("cie", "front"), ("cie", "back"), ("ts_cns", "front"), ("ts_cns", "back"), ("ts_no_chip", "front"),
    ("driving_licence", "front"), ("passport", "data_page"), ("paper_id", "front"), ("paper_id", "back")])
def test_only_the_licence_back_has_a_category_table(doc_type, side):
    for style in ("flat", "photo"):
        for card in find_cards(cc.captured(doc_type, side, style)):
            assert not has_category_table(card.image), (doc_type, side, style)
    assert all(has_category_table(c.image) for c in find_cards(cc.captured("driving_licence", "back", "photo")))


@pytest.mark.parametrize("seed", [2, 4])  # outlines 1.33 and 1.32 wide
def test_passport_photographed_at_an_angle_is_found(seed):
    # Foreshortened by the phone's tilt, the data page (1.42) looks 1.33 wide: still a page, not a 4:3 frame.
    page = cc.rendered("passport", "data_page")
    squashed = page.resize((int(page.width * 0.935), page.height))
    r = read_one(cc.bgr(capture.phone_photo(squashed, random.Random(seed), fill=0.7)))
    want = cc.expected("passport")
    assert (r.doc_type, r.side) == ("passport", "data_page")
    assert r.mrz is not None and r.mrz.valid and r.number == want["number"]


def test_paper_id():
    want = cc.expected("paper_id")
    front = read_one(cc.captured("paper_id", "front", "photo"))
    assert (front.doc_type, front.side) == ("paper_id", "front")
    # The stamp over the photo runs into the expiry date: its first digit is not always read.
    assert front.number == want["number"] and front.face_count == 1
    back = read_one(cc.captured("paper_id", "back", "flat"))
    assert (back.doc_type, back.number, back.expiry) == ("paper_id", want["number"], want["expiry"])


def test_upside_down_photo_is_read():
    img = cv2.rotate(cc.captured("cie", "front", "photo"), cv2.ROTATE_180)
    r = read_one(img)
    assert (r.doc_type, r.side, r.number) == ("cie", "front", cc.expected("cie")["number"])


def test_card_photographed_sideways_is_read():
    img = cv2.rotate(cc.captured("cie", "back", "photo"), cv2.ROTATE_90_CLOCKWISE)
    r = read_one(img)
    assert (r.doc_type, r.side) == ("cie", "back") and r.mrz is not None and r.mrz.valid


def test_several_cards_on_one_scan_in_reading_order():
    images = [cc.rendered("cie", "front"), cc.rendered("cie", "back"), cc.rendered("ts_cns", "front"),
              cc.rendered("ts_cns", "back")]
    page = cc.bgr(capture.flat_scan(images, random.Random(7), dpi=200))
    readings = read_cards_on_image(page, SOURCE, cc.TODAY)
    assert [(r.doc_type, r.side) for r in readings] == [
        ("cie", "front"), ("cie", "back"), ("ts_cns", "front"), ("ts_cns", "back")]
    assert all(r.readable for r in readings)
    assert readings[1].codice_fiscale == readings[2].codice_fiscale == readings[3].codice_fiscale


@pytest.mark.parametrize(("style", "reason"), [("blurred", "blurred"), ("cut_off", "cut_off"), ("low_res", "too_small")])
@pytest.mark.parametrize(("doc_type", "side"), [("cie", "front"), ("ts_cns", "back")])
def test_unreadable_captures_still_yield_a_reading(doc_type, side, style, reason):
    readings = read_cards_on_image(cc.captured(doc_type, side, style), SOURCE, cc.TODAY)
    assert len(readings) == 1
    r = readings[0]
    assert (r.readable, r.unreadable_reason) == (False, reason)
    assert r.doc_type in (doc_type, None) and r.number is None


def test_files_of_every_kind_are_read():
    image = cc.rendered("cie", "back")
    for fmt in ("heic", "tiff", "pdf"):
        data, _ = capture.encode(capture.phone_photo(image, random.Random(1)), fmt, random.Random(1))
        pages = load_image(data) if fmt != "pdf" else __import__("verification.images.decode", fromlist=["pdf_page_images"]).pdf_page_images(data)
        r = read_one(pages[0])
        assert (r.doc_type, r.side, r.mrz.valid) == ("cie", "back", True), fmt


def test_invalid_codice_fiscale_is_returned_as_read():
    cf = cc.expected("ts_cns")["codice_fiscale"]
    wrong = cf[:15] + next(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != cf[15])
    from verification.cards.fields import find_cfs

    assert find_cfs(f"Codice fiscale {wrong}") == [wrong]
    assert not codice_fiscale.is_valid(wrong)
    # OCR look-alikes are repaired where the check character confirms it: 8O is 80 in a year.
    assert find_cfs("RSSMRA8OA01F205X") == ["RSSMRA80A01F205X"]


def test_unreadable_card_is_classified_without_reading_fields():
    card = find_cards(cc.captured("cie", "back", "photo"))[0]
    r = read_card(card, SOURCE, cc.TODAY, readable=False, unreadable_reason="blurred")
    assert (r.doc_type, r.readable, r.unreadable_reason, r.number) == ("cie", False, "blurred", None)


@pytest.mark.parametrize(("text", "expected"), [
    ("REPUBBLICA ITALIANA\nCARTA DI IDENTITÀ / IDENTITY CARD", ("cie", "front")),
    ("TESSERA SANITARIA\nCarta Nazionale dei Servizi", ("ts_cns", "front")),
    ("TESSERA SANITARIA", ("ts_no_chip", "front")),
    ("TESSERA EUROPEA DI\nASSICURAZIONE MALATTIA", ("ts_cns", "back")),
    ("PATENTE DI GUIDA", ("driving_licence", "front")),
    ("REPUBBLICA ITALIANA\nPASSAPORTO / PASSPORT", ("passport", "data_page")),
    ("REPUBBLICA ITALIANA\nCARTA D'IDENTITÀ\nN. AX 1234567", ("paper_id", "back")),
    ("9. 10. 11. 12.\nAM 01/02/2020\nA1\nB1", ("driving_licence", "back")),
    ("nothing to see", None),
])
def test_classify_text(text, expected):
    assert classify_text(text) == expected


def test_a_year_before_1900_is_a_misread_not_a_date():
    from verification.cards.fields import parse_date

    assert parse_date("PAVIA (PV) 08. 12. 1005") is None
    assert parse_date("PAVIA (PV) 08. 12. 1965") == date(1965, 12, 8)


def test_a_given_names_label_run_into_the_surname_line_is_told_apart():
    """Small labels on a small scan: "NOME / NAME" lands in the surname's line, the given names below it."""
    from verification.cards.readers import READERS
    from verification.cards.regions import Sheet
    from verification.images.ocr import Word

    rows = [[("CW31614KG", 800)], [("COGNOME", 330), ("SURNAME", 440)],
            [("COPPOLA", 330), ("ME", 420), ("NAME", 450), ("D'ANCELO", 520)],
            [("FRANCESCO", 330), ("AND", 470), ("DATE", 520), ("OF", 570), ("BIRTH", 600)],
            [("EMISSIONE", 330), ("SCADENZA", 570)], [("15.11.2025", 330), ("16.04.2036", 570)]]
    sheet = Sheet(cc.bgr(cc.rendered("cie", "front")))
    sheet.words = [Word(text, 90, x, 60 + 40 * n, 10 * len(text), 24, n) for n, row in enumerate(rows) for text, x in row]
    found: dict = {"cf_sources": {}, "extra": {}}
    READERS[("cie", "front")](sheet, found, cc.TODAY)
    assert (found["surname"], found["given_names"]) == ("COPPOLA", "FRANCESCO")


def test_a_name_read_with_low_confidence_is_read_again_alone(monkeypatch):
    """A clean TS front scanned on a page, whose surname line ran into the label under it ("CATO").

    Read the way a card is read when its value rows are not found (the region
    whole, labels and all): read by its value rows alone, this one is right.
    """
    from tests.corpus.cases import build_case
    import verification.cards.side as cards_module
    from verification.cards.regions import Sheet

    monkeypatch.setattr(Sheet, "ocr_values", lambda self, region, expected, pick, tails=(): None)

    case = build_case("direct-ready-form-photographed-v1")
    [data] = [data for name, data, _ in case.attachments if name == "scansione_tessera_sanitaria.jpg"]

    def front_surname() -> str | None:
        found = [r for r in read_cards_on_image(load_image(data)[0], SOURCE, cc.TODAY) if r.side == "front"]
        assert [r.doc_type for r in found] == ["ts_cns"]
        return found[0].surname

    assert front_surname() == case.holder.surname.upper()
    monkeypatch.setattr(cards_module, "reread_doubtful_names", lambda sheet, found: None)
    assert front_surname() != case.holder.surname.upper()  # the region's own reading was the garbled one


def _canonical(doc_type: str, side: str):
    from verification.cards.regions import Sheet

    [card] = find_cards(cc.captured(doc_type, side, "photo"))
    return Sheet(card.image)


def test_value_rows_are_read_without_their_labels():
    """The TS front's five value rows are found from the ink alone; the picked ones are read, no label."""
    from verification.cards.readers import TS_FRONT_VALUES as region

    sheet = _canonical("ts_cns", "front")
    want = cc.expected("ts_cns")
    words = sheet.ocr_values(region, 5, (0, 1, 2, 4))
    text = " ".join(w.text for w in words)
    rows = [" ".join(w.text for w in row) for row in cfd.lines(words)]
    assert len(rows) == 4 and len(rows[0].replace(" ", "")) >= 16  # the codice fiscale's row
    assert (rows[1], rows[2]) == (want["surname"], want["given_names"])
    assert want["expiry"].strftime("%d/%m/%Y") in text
    assert not {"Cognome", "Nome", "Codice", "Sesso", "Provincia", "scadenza"} & set(text.split())
    assert sheet.read == []  # nothing counts as read: a fallback reads the region whole
    assert sheet.ocr_values(region, 6, (0,)) is None  # not the layout expected: no OCR, no words


def test_of_the_cie_birth_row_only_the_date_is_read():
    from verification.cards.readers import CIE_FRONT_PICK, CIE_FRONT_TAILS, CIE_FRONT_VALUES
    from verification.cards.regions import last_word

    sheet = _canonical("cie", "front")
    want = cc.expected("cie")
    rows = cfd.lines(sheet.ocr_values(CIE_FRONT_VALUES, 6, CIE_FRONT_PICK, CIE_FRONT_TAILS))
    birth = " ".join(w.text for w in rows[2])
    assert birth == want["birth_date"].strftime("%d.%m.%Y")  # no place of birth before it
    assert (rows[0][0].text, " ".join(w.text for w in rows[1])) == (want["surname"], want["given_names"])
    row = np.full((30, 300), 255, np.uint8)
    cv2.putText(row, "PAVIA (PV) 01.02.1980", (5, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 0, 2)
    start = last_word(row, 14)
    assert 100 < start < 200 and (row[:, start - 3 : start] >= 128).all()  # in the space before the date
    assert last_word(row[:, start:], 14) == 0  # the date is one word: its dots are no space


def test_a_code_whose_check_character_was_misread_is_read_again_alone(monkeypatch):
    """'Q' read as '0' in the TS front's code row: that row is read again closer, not the whole region."""
    from verification.cards.readers import READERS, TS_FRONT_VALUES
    from verification.cards.regions import Sheet
    from verification.images.ocr import Word

    sheet = _canonical("ts_cns", "front")
    want = cc.expected("ts_cns")
    words = sheet.ocr_values(TS_FRONT_VALUES, 5, (0, 1, 2, 4))
    first = cfd.lines(words)[0]  # the code's row, as one word where it stands
    x0, y0 = min(w.x for w in first), min(w.y for w in first)
    x1, y1 = max(w.x + w.w for w in first), max(w.y + w.h for w in first)
    slip = "0" if want["codice_fiscale"][-1] != "O" else "Q"  # a check character that does not hold
    code = Word(want["codice_fiscale"][:-1] + slip, 90.0, x0, y0, x1 - x0, y1 - y0, first[0].line)
    misread = [code] + [w for w in words if w not in first]
    sheet.words.clear()  # as read by those rows alone
    monkeypatch.setattr(Sheet, "ocr_values", lambda self, region, expected, pick, tails=(): misread)
    found: dict = {"cf_sources": {}, "extra": {}}
    READERS[("ts_cns", "front")](sheet, found, cc.TODAY)
    assert found["cf_sources"]["front_text"] == want["codice_fiscale"]
    assert (found["surname"], found["expiry"]) == (want["surname"], want["expiry"])
    assert sheet.read == []  # no region read whole


def test_a_card_whose_value_rows_are_not_as_expected_is_read_whole(monkeypatch):
    """When the rows do not come out as the layout says, the reader falls back to its regions and labels."""
    from verification.cards import regions as card_sheet

    sheet = _canonical("cie", "front")
    monkeypatch.setattr(card_sheet, "value_rows", lambda rows: [(a, b) for a, b, _ in rows[:2]])  # two of six
    found: dict = {"cf_sources": {}, "extra": {}}
    from verification.cards.readers import READERS

    READERS[("cie", "front")](sheet, found, cc.TODAY)
    want = cc.expected("cie")
    assert sheet.read, "the bands were read"
    assert (found["surname"], found["given_names"], found["expiry"]) == (want["surname"], want["given_names"], want["expiry"])


def test_cie_front_by_value_rows_reads_no_band():
    from verification.cards.readers import READERS
    from verification.cards.side import HEADER

    sheet = _canonical("cie", "front")
    sheet.ocr(HEADER)  # as classify does: the number is in the header
    found: dict = {"cf_sources": {}, "extra": {}}
    READERS[("cie", "front")](sheet, found, cc.TODAY)
    want = cc.expected("cie")
    assert len(sheet.read) == 1  # the header only
    assert (found["number"], found["surname"], found["given_names"]) == (want["number"], want["surname"], want["given_names"])
    assert (found["birth_date"], found["expiry"]) == (want["birth_date"], want["expiry"])


@pytest.mark.parametrize("style", ["photo", "scan"])
def test_licence_front_by_value_rows_reads_no_region(style):
    from verification.cards.readers import READERS
    from verification.cards.regions import Sheet

    [card] = find_cards(cc.captured("driving_licence", "front", style))
    sheet = Sheet(card.image)
    found: dict = {"cf_sources": {}, "extra": {}}
    READERS[("driving_licence", "front")](sheet, found, cc.TODAY)
    want = cc.expected("driving_licence")
    assert sheet.read == []  # the six value rows only: no field region, no rest of the card
    assert (found["surname"], found["given_names"], found["number"]) == (want["surname"], want["given_names"], want["number"])
    assert (found["birth_date"], found["issue_date"], found["expiry"]) == (want["birth_date"], want["issue_date"], want["expiry"])


def test_a_cie_front_is_told_by_its_number_top_right_without_the_header():
    from verification.cards.side import classify
    from verification.cards.find import find_cards

    [card] = find_cards(cc.captured("cie", "front", "photo"))
    found: dict = {"cf_sources": {}, "extra": {}}
    sheet, doc, mrz = classify(card, found, cc.TODAY)
    assert doc == ("cie", "front") and mrz is None
    [(x0, y0, x1, y1)] = sheet.read  # one small corner read, not the header band
    assert x0 > 0.6 * card.image.shape[1] and y1 < 0.2 * card.image.shape[0]


def test_a_cie_front_taken_for_a_data_page_is_still_told_by_its_corner():
    """Photographed close at an angle, a CIE's outline can come out 1.42:1, a passport page's shape."""
    from verification.cards.side import classify
    from verification.cards.find import PAGE_SIZE, find_cards

    [card] = find_cards(cc.captured("cie", "front", "photo"))
    as_page = replace(card, kind="page", image=cv2.resize(card.image, PAGE_SIZE))
    found: dict = {"cf_sources": {}, "extra": {}}
    sheet, doc, _ = classify(as_page, found, cc.TODAY)
    assert doc == ("cie", "front")
    [(x0, y0, x1, y1)] = sheet.read  # the corner only, not the header band
    assert x0 > 0.6 * as_page.image.shape[1] and y1 < 0.2 * as_page.image.shape[0]


@pytest.mark.parametrize("doc_type", ["cie", "ts_no_chip"])
def test_an_id1_card_warped_as_a_data_page_is_read_at_its_own_shape(doc_type, monkeypatch):
    """Its print a tenth taller than the regions expect, the value rows did not come out as expected and
    the card was read region by region (or not at all): once classified, it is read as an ID-1 card."""
    from verification.cards.regions import Sheet
    from verification.cards.find import PAGE_SIZE

    [card] = find_cards(cc.captured(doc_type, "front", "photo"))
    as_page = replace(card, kind="page", image=cv2.resize(card.image, PAGE_SIZE))
    regions = []
    real_read = Sheet._read
    monkeypatch.setattr(Sheet, "_read", lambda self, *box: regions.append(box) or real_read(self, *box))
    r = read_card(as_page, SOURCE, cc.TODAY)
    want = cc.expected(doc_type)
    assert (r.doc_type, r.side) == (doc_type, "front")
    assert (r.surname, r.given_names, r.expiry) == (want["surname"], want["given_names"], want["expiry"])
    if doc_type == "cie":
        assert r.number == want["number"]
        assert len(regions) == 1  # the number's corner, then the value rows: no field region read whole
    else:
        assert r.codice_fiscale == want["codice_fiscale"]


def test_a_round_glyph_read_twice_is_read_once():
    from verification.cards.readers import shaped
    from verification.images.ocr import Word

    def words(text):
        return [Word(text, 90.0, 10, 10, 200, 30, 0)]

    assert shaped(words("CO087293HI"), "AA99999AA") == "CO87293HI"
    assert shaped(words("CA00123AB"), "AA99999AA") == "CA00123AB"  # read right: nothing taken out
    assert shaped(words("CA112345AB"), "AA99999AA") is None  # only a round glyph is taken for a double


def test_a_licence_front_is_not_taken_for_a_cie_by_its_corner():
    r = read_one(cc.captured("driving_licence", "front", "scan"))
    assert (r.doc_type, r.side) == ("driving_licence", "front")


def _print_rows(rows: list[tuple[str, str, int]], size=(700, 260)):
    """A grey crop with one row of print per (text, font, size), the way a card's flat image looks."""
    import numpy as np
    from PIL import Image, ImageDraw

    from tests.corpus.drawing import font

    img = Image.new("L", size, 245)
    draw = ImageDraw.Draw(img)
    y = 10
    for text, name, px in rows:
        draw.text((20, y), text, font=font(name, px), fill=20)
        y += int(px * 1.45)
    return np.array(img)


def test_a_short_word_of_capitals_is_one_value_row():
    """Between the bars of "ZOE" only thin strokes hold ink: its pixel rows must not fall apart."""
    from verification.cards.regions import text_rows, value_rows

    crop = _print_rows([("Cognome", "sans", 16), ("GRECO BIANCHI DELLA VALLE", "sans_bold", 30),
                        ("Nome", "sans", 16), ("ZOE", "sans_bold", 30), ("Data di nascita", "sans", 16),
                        ("05/07/2024", "sans_bold", 30)])
    assert len(value_rows(text_rows(crop))) == 3


def test_a_mark_across_a_label_and_its_value_does_not_join_them():
    import numpy as np

    from verification.cards.regions import text_rows, value_rows

    crop = _print_rows([("EMISSIONE / ISSUING        SCADENZA / EXPIRY", "sans", 16),
                        ("15.10.2026          19.01.2030", "sans_bold", 30),
                        ("LUOGO E DATA DI NASCITA / PLACE AND DATE OF BIRTH", "sans", 16),
                        ("PAVIA (PV) 19.01.2025", "sans_bold", 30)])
    rows = text_rows(crop)
    assert len(rows) == 4
    crop[rows[0][1] - 3 : rows[1][0] + 5, 2:6] = 20  # a card edge's shadow, the height of a letter, across both rows
    assert len(value_rows(text_rows(crop))) == 2


def test_bars_cut_off_a_card_found_short_are_read_on_the_page_around_it():
    """A white quiet zone on a white scanner bed: the outline misses the card's edge and the warped card
    loses the barcode's end; the page around the card still has it whole."""
    from dataclasses import replace as copy_with

    page = cc.captured("cie", "back", "photo")
    [card] = find_cards(page)
    want = cc.expected("cie")
    w = card.image.shape[1]
    short = card.image.copy()
    short[:, int(0.9 * w) :] = short[5, 5]  # the bars' end and the quiet zone gone
    assert "barcode" not in read_card(copy_with(card, image=short, page=None), SOURCE, cc.TODAY).cf_sources
    reading = read_card(copy_with(card, image=short), SOURCE, cc.TODAY)
    assert reading.cf_sources.get("barcode") == want["codice_fiscale"]


def test_a_valid_printed_code_beats_bars_read_as_letters():
    from verification.cards.readers import _cf_text
    from verification.images.ocr import Word

    want = cc.expected("cie")["codice_fiscale"]
    words = [Word("CODICE", 95, 10, 10, 60, 12, 0), Word("FISCALE", 95, 75, 10, 70, 12, 0),
             Word("INIMAMMNAMMINNPI", 40, 160, 10, 300, 20, 0),  # the barcode beside the label, OCR'd
             Word(want, 90, 10, 30, 200, 20, 1)]
    found: dict = {"cf_sources": {}}
    _cf_text(words, found, "back_text", r"CODICE FISCALE")
    assert found["cf_sources"]["back_text"] == want


def test_a_row_the_region_edge_cuts_through_is_not_a_value_row():
    """A card warped a little short moves its rows down: the region's bottom edge cuts the next field's row."""
    from verification.cards.regions import Sheet, text_rows

    values = ["ROSSI", "MARIO", "01/02/1960", "RSSMRA60B01F205Z", "SSN-MIN SALUTE", "80380000001234567890",
              "18/05/2029", "NEXT FIELD"]
    gray = _print_rows([(v, "sans_bold", 26) for v in values], size=(700, 340))
    sheet = Sheet(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
    rows = text_rows(sheet.flat)
    cut = rows[7][0] + 0.85 * (rows[7][1] - rows[7][0])  # through the eighth row's feet: its letters keep their height
    region = (0.0, 0.0, 1.0, cut / gray.shape[0])
    words = sheet.ocr_values(region, 7, (0, 6))
    assert words is not None
    assert [" ".join(w.text for w in row) for row in cfd.lines(words)] == ["ROSSI", "18/05/2029"]

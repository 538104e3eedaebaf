"""Cards drawn by a hand the corpus never uses: light print on a dark band, a data page whose MRZ lies past its outline.

The cards here are drawn with OpenCV's Hershey fonts, by a hand the corpus
never uses: a blue header band with the title in white, the fields below, and
no chip drawn, as a photo of a card often shows it (the plate in glare).
"""

from __future__ import annotations

from datetime import date

import cv2
import numpy as np
import pytest

from verification.cards.find import Card
from verification.cards.regions import light_background
from verification.cards.side import classify
from verification.evidence import SourceRef
from verification.cards.side import read_card

W, H = 1012, 638
FONT = cv2.FONT_HERSHEY_DUPLEX


def _ts_front(with_cns_line: bool, band=(150, 80, 20)) -> np.ndarray:
    img = np.full((H, W, 3), (245, 235, 225), np.uint8)
    cv2.rectangle(img, (0, 0), (W, 120), band, -1)
    cv2.putText(img, "Ministero dell'Economia", (30, 45), FONT, 0.7, (255, 255, 255), 1, cv2.LINE_AA)
    cv2.putText(img, "TESSERA SANITARIA", (500, 60), FONT, 1.3, (255, 255, 255), 2, cv2.LINE_AA)
    if with_cns_line:
        cv2.putText(img, "Carta Nazionale dei Servizi", (560, 100), FONT, 0.8, (255, 255, 255), 1, cv2.LINE_AA)
    rows = [("Codice Fiscale", "RSSMRA80A01F205X"), ("Cognome", "ROSSI"), ("Nome", "MARIO"),
            ("Data di scadenza", "01/05/2031")]
    for i, (label, value) in enumerate(rows):
        y = 170 + i * 95
        cv2.putText(img, label, (250, y), FONT, 0.6, (90, 60, 40), 1, cv2.LINE_AA)
        cv2.putText(img, value, (250, y + 40), FONT, 1.1, (20, 20, 20), 2, cv2.LINE_AA)
    return img


def test_a_dark_band_with_light_print_is_inverted_and_nothing_else():
    grey = cv2.cvtColor(_ts_front(True), cv2.COLOR_BGR2GRAY)
    out = light_background(grey)
    flipped = np.flatnonzero((out != grey).any(axis=1))
    assert flipped.size and flipped.min() < 20 and 100 <= flipped.max() < 170  # the band, not the fields
    # Under the band now: a light ground with dark print.
    band = out[10:110]
    assert np.median(band) > 128 and band.min() < 80


def test_a_dimly_lit_card_with_dark_print_is_left_alone():
    grey = cv2.cvtColor(_ts_front(True), cv2.COLOR_BGR2GRAY)[130:]  # the fields only
    dim = (grey.astype(np.float32) * 0.45).astype(np.uint8)  # ground ~100: dark, but the print is darker
    assert np.array_equal(light_background(dim), dim)


@pytest.mark.parametrize(("cns_line", "doc"), [(True, ("ts_cns", "front")), (False, ("ts_no_chip", "front"))])
def test_a_ts_front_whose_title_is_white_on_blue_is_a_ts_front_not_a_cie_back(cns_line, doc):
    card = Card(_ts_front(cns_line), (0, 0, W, H), float(W))
    _, found_doc, mrz = classify(card, {"cf_sources": {}}, date(2026, 11, 26))
    assert (found_doc, mrz) == (doc, None)


def test_its_fields_are_read_once_it_is_known():
    card = Card(_ts_front(True), (0, 0, W, H), float(W))
    reading = read_card(card, SourceRef("tessera.jpg", 1), date(2026, 11, 26))
    assert (reading.doc_type, reading.side) == ("ts_cns", "front")
    assert reading.codice_fiscale == "RSSMRA80A01F205X"


# --- a data page whose MRZ lies on a white strip outside the outline found ---------------------------

def _passport_scan() -> np.ndarray:
    """A scanner bed (light grey) with a tinted data page, and under it the page's whiter MRZ strip."""
    from PIL import Image, ImageDraw, ImageFont

    from verification.mrz.build import make_td3

    lines = make_td3(number="YB1234567", birth_date=date(1979, 3, 4), sex="F", expiry=date(2033, 6, 30),
                     surname="VERDI", given_names="CHIARA ANNA")
    bed = Image.new("RGB", (1400, 1000), (238, 238, 238))
    draw = ImageDraw.Draw(bed)
    draw.rectangle((80, 70, 1300, 650), fill=(226, 214, 236), outline=(120, 110, 130), width=2)  # the tint
    draw.rectangle((80, 650, 1300, 900), fill=(246, 246, 246))  # the strip, nearly as light as the bed
    hershey = np.array(bed)
    cv2.putText(hershey, "PASSAPORTO  PASSPORT  PASSEPORT", (420, 150), FONT, 1.0, (60, 40, 70), 2, cv2.LINE_AA)
    cv2.putText(hershey, "REPUBBLICA ITALIANA", (480, 110), FONT, 1.1, (60, 40, 70), 2, cv2.LINE_AA)
    cv2.rectangle(hershey, (120, 220), (400, 600), (150, 150, 150), -1)  # where the photo goes
    bed = Image.fromarray(hershey)
    draw = ImageDraw.Draw(bed)
    font = ImageFont.truetype("/usr/share/fonts/opentype/ocr-b/OCRB.otf", 36)
    for i, line in enumerate(lines):
        draw.text((110, 720 + i * 70), line, font=font, fill=(25, 25, 25))
    return cv2.cvtColor(np.array(bed), cv2.COLOR_RGB2BGR)


def test_a_passports_mrz_beyond_the_outline_found_is_read():
    """The outline stops where the tint stops (as a scan of a real page often shows it): the MRZ under it
    is found on the page, read, and its check digits verify."""
    page = _passport_scan()
    x, y, w, h = 80, 70, 1220, 580  # the tinted part only
    card = Card(cv2.resize(page[y:y + h, x:x + w], (1400, 808)), (x, y, w, h), float(w), kind="booklet", page=page)
    reading = read_card(card, SourceRef("passaporto.jpg", 1), date(2026, 11, 26))

    assert (reading.doc_type, reading.side) == ("passport", "data_page")
    assert reading.mrz is not None and reading.mrz.valid
    assert (reading.number, reading.surname, reading.expiry) == ("YB1234567", "VERDI", date(2033, 6, 30))


# --- a phone screenshot: a card shown on black, a few pixels from the screen's edges ------------------

def test_a_card_in_a_screenshot_close_to_the_screens_edges_is_whole_not_cut_off():
    from verification.cards.find import assess, find_cards

    screen = np.zeros((2532, 1170, 3), np.uint8)  # a portrait phone screen, black around the picture
    card = cv2.resize(_ts_front(True), (1130, 712))
    screen[910:910 + 712, 20:20 + 1130] = card  # 20 px of black either side
    cv2.putText(screen, "13:25", (90, 120), FONT, 2.0, (255, 255, 255), 3, cv2.LINE_AA)  # the status bar
    (found,) = [c for c in find_cards(screen) if c.region[2] > 900]

    assert not found.cut_off
    assert assess(found) == (True, None)
    x, _, w, _ = found.region
    assert abs(x - 20) < 12 and abs(x + w - 1150) < 12


def test_a_card_inside_a_photo_shown_in_a_screenshot_is_the_card_not_the_photo():
    from verification.cards.find import find_cards

    screen = np.zeros((2532, 1170, 3), np.uint8)
    photo = np.full((860, 1150, 3), (120, 70, 40), np.uint8)  # a blue table, as the gallery shows the photo
    photo[90:90 + 638, 110:110 + 1012] = _ts_front(True)
    screen[830:830 + 860, 10:10 + 1150] = photo
    (card,) = find_cards(screen)

    x, y, w, h = card.region
    assert abs(x - 120) < 15 and abs(y - 920) < 15 and abs(w - 1012) < 25 and not card.cut_off
    assert card.page is screen  # the page around it is the screenshot, for a second look

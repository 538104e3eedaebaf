"""ID-1 cards (85.60 × 53.98 mm, drawn at 300 dpi): CIE 3.0, TS-CNS / TS without chip, driving licence.

Layouts follow the public specimens described in DOCUMENTS.md: the wording,
the field order and where things sit, not the security features.
"""

from __future__ import annotations

import random
from datetime import date

from PIL import Image, ImageDraw, ImageFilter

from tests.corpus.drawing import (
    chip,
    code39,
    draw_signature,
    emblem,
    eu_flag,
    face_photo,
    fit_font,
    font,
    guilloche,
    landscape,
    rounded_card,
)
from tests.corpus.people import Person
from verification.mrz.build import make_td1

CARD_SIZE = (1012, 638)  # ID-1 at 300 dpi
MRZ_PITCH = 30  # ICAO 9303: 2.54 mm per character, at 300 dpi
_GREY, _INK, _RED, _BLUE = (95, 95, 95), (20, 20, 25), (190, 30, 40), (20, 60, 140)


def dmy(day: date, sep: str = "/") -> str:
    return day.strftime(f"%d{sep}%m{sep}%Y")


def photo_area(kind: str, person: Person, size: tuple[int, int], rng: random.Random, grey: bool = True) -> Image.Image:
    """The ID photo: the person's face, or (for face_not_found cases) a landscape or nothing."""
    if kind == "face":
        return face_photo(person.face, size, grey=grey)
    if kind == "landscape":
        image = landscape(size, rng)
        return image.convert("L").convert("RGB") if grey else image
    return Image.new("RGB", size, (238, 238, 236))


def field(draw: ImageDraw.ImageDraw, xy: tuple[int, int], label: str, value: str, *, width: int = 600,
          label_size: int = 17, value_size: int = 30, colour=_INK, label_colour=_GREY) -> int:
    """A label with its value underneath; returns the y below it."""
    x, y = xy
    draw.text((x, y), label, font=font("sans", label_size), fill=label_colour)
    f = fit_font("sans_bold", value, width, value_size)
    draw.text((x, y + label_size + 4), value, font=f, fill=colour)
    return y + label_size + value_size + 14


def mrz_zone(draw: ImageDraw.ImageDraw, lines: tuple[str, ...], x: int, y: int, line_pitch: int = 50) -> None:
    f = font("ocrb", round(MRZ_PITCH / 0.723))  # OCR-B advance is 0.723 em
    for i, line in enumerate(lines):
        for j, char in enumerate(line):
            draw.text((x + j * MRZ_PITCH, y + i * line_pitch), char, font=f, fill=(10, 10, 10))


def _finish(card: Image.Image, mask: Image.Image) -> Image.Image:
    """The card on white, corners rounded: what a scanner lid sees around it."""
    out = Image.new("RGB", card.size, (255, 255, 255))
    out.paste(card, (0, 0), mask)
    return out


# --- CIE 3.0 ---------------------------------------------------------------------


def cie_front(person: Person, number: str, issue: date, expiry: date, *, issuer: str, can: str,
              photo: str, rng: random.Random) -> Image.Image:
    card, mask = rounded_card(CARD_SIZE, (236, 232, 238))
    guilloche(card, rng, (214, 200, 222), 18)
    draw = ImageDraw.Draw(card)
    emblem(draw, (62, 58), 34)
    draw.text((110, 26), "REPUBBLICA ITALIANA", font=font("sans_bold", 30), fill=_INK)
    draw.text((110, 62), "MINISTERO DELL'INTERNO", font=font("sans", 18), fill=_GREY)
    draw.text((110, 90), "CARTA DI IDENTITÀ / IDENTITY CARD", font=font("sans_bold", 26), fill=_BLUE)
    draw.text((CARD_SIZE[0] - 36, 30), number, font=font("sans_bold", 40), fill=_RED, anchor="ra")
    face = photo_area(photo, person, (262, 336), rng)
    card.paste(face, (36, 150))
    x, y = 330, 140
    y = field(draw, (x, y), "COMUNE DI / MUNICIPALITY", issuer)
    y = field(draw, (x, y), "COGNOME / SURNAME", person.surname)
    y = field(draw, (x, y), "NOME / NAME", person.given_names)
    y = field(draw, (x, y), "LUOGO E DATA DI NASCITA / PLACE AND DATE OF BIRTH",
              f"{person.birthplace} ({person.birth_province}) {dmy(person.birth_date, '.')}")
    field(draw, (x, y), "SESSO / SEX", person.sex, width=120)
    field(draw, (x + 150, y), "STATURA / HEIGHT", str(person.height_cm), width=140)
    y = field(draw, (x + 330, y), "CITTADINANZA / NATIONALITY", "ITA", width=200)
    field(draw, (x, y), "EMISSIONE / ISSUING", dmy(issue, "."), width=220)
    field(draw, (x + 250, y), "SCADENZA / EXPIRY", dmy(expiry, "."), width=220)
    draw.text((36, 500), "FIRMA DEL TITOLARE / HOLDER'S SIGNATURE", font=font("sans", 15), fill=_GREY)
    if not person.is_minor or person.age_on() >= 12:
        draw_signature(card, (40, 520, 290, 610), rng, colour=(30, 30, 30), width=2)
    # The ghost image: small and faint, it is not the photo (face detectors must not count it).
    ghost = face.resize((52, 66)).convert("L").point(lambda v: 175 + v * 0.28).convert("RGB")
    card.paste(ghost, (CARD_SIZE[0] - 110, CARD_SIZE[1] - 150))
    draw.text((CARD_SIZE[0] - 40, CARD_SIZE[1] - 40), can, font=font("sans_bold", 22), fill=_INK, anchor="rs")
    return _finish(card, mask)


def cie_back(person: Person, number: str, issue: date, expiry: date, *, rng: random.Random,
             parents: str | None = None) -> Image.Image:
    card, mask = rounded_card(CARD_SIZE, (236, 232, 238))
    guilloche(card, rng, (214, 200, 222), 12)
    draw = ImageDraw.Draw(card)
    cf = person.codice_fiscale
    draw.text((36, 24), "CODICE FISCALE / FISCAL CODE", font=font("sans", 17), fill=_GREY)
    draw.text((36, 46), cf, font=font("sans_bold", 32), fill=_INK)
    barcode = code39(cf, narrow=2, wide=5, height=64, quiet=16).convert("RGB")
    card.paste(barcode, (CARD_SIZE[0] - barcode.width - 30, 26))
    y = 112
    y = field(draw, (36, y), "INDIRIZZO DI RESIDENZA / RESIDENCE",
              f"{person.address} {person.birthplace} ({person.birth_province})", width=920, value_size=24)
    y = field(draw, (36, y), "ESTREMI ATTO DI NASCITA",
              f"{rng.randrange(1, 3000):04d} 1 A {person.birth_date.year}", width=500, value_size=24)
    if parents:
        field(draw, (36, y), "COGNOME, NOME DEI GENITORI O DI CHI NE FA LE VECI / PARENTS OR GUARDIAN",
              parents, width=920, value_size=22)
    draw.rectangle((0, 438, CARD_SIZE[0], CARD_SIZE[1]), fill=(250, 250, 250))
    lines = make_td1(number=number, birth_date=person.birth_date, sex=person.sex, expiry=expiry,
                     surname=person.surname, given_names=person.given_names)
    mrz_zone(draw, lines, 56, 458, 56)
    return _finish(card, mask)


# --- TS-CNS ----------------------------------------------------------------------


def ts_front(person: Person, expiry: date, *, with_chip: bool, rng: random.Random) -> Image.Image:
    card, mask = rounded_card(CARD_SIZE, (232, 240, 248))
    guilloche(card, rng, (205, 222, 240), 10)
    draw = ImageDraw.Draw(card)
    emblem(draw, (60, 56), 30, colour=_BLUE)
    draw.text((104, 24), "Ministero dell'Economia e delle Finanze", font=font("sans", 20), fill=_BLUE)
    draw.text((104, 50), "TESSERA SANITARIA", font=font("sans_bold", 44), fill=_BLUE)
    if with_chip:
        draw.text((104, 100), "Carta Nazionale dei Servizi", font=font("sans_bold", 26), fill=(0, 110, 60))
        draw.text((CARD_SIZE[0] - 30, 30), "Regione", font=font("sans", 22), fill=(0, 110, 60), anchor="ra")
        draw.text((CARD_SIZE[0] - 30, 56), "Lombardia", font=font("sans_bold", 26), fill=(0, 110, 60), anchor="ra")
        card.paste(chip((150, 118)), (60, 220))
        x = 260
    else:
        x = 60
    width = CARD_SIZE[0] - x - 40
    y = 160
    y = field(draw, (x, y), "Codice fiscale", person.codice_fiscale, width=width, value_size=38)
    y = field(draw, (x, y), "Cognome", person.surname, width=width)
    y = field(draw, (x, y), "Nome", person.given_names, width=width)
    field(draw, (x, y), "Sesso", person.sex, width=80)
    field(draw, (x + 110, y), "Luogo di nascita", person.birthplace, width=330)
    y = field(draw, (x + 470, y), "Provincia", person.birth_province, width=120)
    field(draw, (x, y), "Data di nascita", dmy(person.birth_date), width=260)
    field(draw, (x + 290, y), "Data di scadenza", dmy(expiry), width=260)
    for i, letter_dots in enumerate(((0, 1, 3), (1, 2, 3, 4), (0, 1, 2))):  # three Braille cells
        for dot in letter_dots:
            cx, cy = 60 + i * 34 + (dot % 2) * 12, 560 + (dot // 2) * 12
            draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), fill=(200, 210, 222), outline=(170, 180, 200))
    return _finish(card, mask)


def ts_back(person: Person, card_number: str, expiry: date, *, rng: random.Random) -> Image.Image:
    card, mask = rounded_card(CARD_SIZE, (244, 246, 250))
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 34, CARD_SIZE[0], 140), fill=(25, 22, 20))  # magnetic stripe
    card.paste(eu_flag((120, 84), "IT"), (36, 158))
    draw.text((176, 160), "TESSERA EUROPEA DI", font=font("sans_bold", 28), fill=_BLUE)
    draw.text((176, 194), "ASSICURAZIONE MALATTIA", font=font("sans_bold", 28), fill=_BLUE)
    rows = (
        ("3", "Cognome", person.surname),
        ("4", "Nomi", person.given_names),
        ("5", "Data di nascita", dmy(person.birth_date)),
        ("6", "Numero di identificazione personale", person.codice_fiscale),
        ("7", "Numero di identificazione dell'istituzione", "SSN-MIN SALUTE - 500001"),
        ("8", "Numero di identificazione della tessera", card_number),
        ("9", "Data di scadenza", dmy(expiry)),
    )
    y = 250
    for number, label, value in rows:
        draw.text((36, y + 4), f"{number}.", font=font("sans_bold", 18), fill=_GREY)
        draw.text((66, y + 4), label, font=font("sans", 16), fill=_GREY)
        draw.text((470, y), value, font=fit_font("sans_bold", value, 510, 26), fill=_INK)
        y += 36
    barcode = code39(person.codice_fiscale, narrow=3, wide=7, height=58, quiet=14).convert("RGB")
    card.paste(barcode, (36, 508))
    draw.text((36 + barcode.width // 2, 570), person.codice_fiscale, font=font("sans", 20), fill=_INK, anchor="ma")
    return _finish(card, mask)


# --- driving licence --------------------------------------------------------------

LICENCE_CATEGORIES = ("AM", "A1", "A2", "A", "B1", "B", "C1", "C", "D1", "D", "BE", "C1E", "CE", "D1E", "DE")


def licence_front(person: Person, number: str, issue: date, expiry: date, *, photo: str,
                  rng: random.Random) -> Image.Image:
    card, mask = rounded_card(CARD_SIZE, (246, 222, 226))
    guilloche(card, rng, (236, 196, 204), 16)
    draw = ImageDraw.Draw(card)
    card.paste(eu_flag((112, 84), "I"), (30, 26))
    draw.text((170, 22), "PATENTE DI GUIDA", font=font("sans_bold", 44), fill=(170, 20, 60))
    draw.text((170, 74), "REPUBBLICA ITALIANA", font=font("sans", 22), fill=_INK)
    face = photo_area(photo, person, (250, 320), rng)
    card.paste(face, (34, 150))
    x, y, f_label = 320, 140, font("sans_bold", 22)
    values = (
        ("1.", person.surname),
        ("2.", person.given_names),
        ("3.", f"{dmy(person.birth_date)} {person.birthplace} ({person.birth_province})"),
        ("4a.", dmy(issue)),
        ("4b.", dmy(expiry)),
        ("4c.", "MIT-UCO"),
        ("5.", number),
    )
    for label, value in values:
        if label == "4c.":
            draw.text((x + 300, y - 44), label, font=f_label, fill=_INK)
            draw.text((x + 350, y - 48), value, font=font("sans_bold", 28), fill=_INK)
            continue
        draw.text((x, y + 4), label, font=f_label, fill=_INK)
        draw.text((x + 50, y), value, font=fit_font("sans_bold", value, 600, 28), fill=_INK)
        y += 44
    draw.text((x, y + 8), "7.", font=f_label, fill=_INK)
    draw_signature(card, (x + 50, y, x + 330, y + 80), rng, colour=(30, 30, 30), width=2)
    draw.text((34, 500), "9.", font=f_label, fill=_INK)
    draw.text((80, 496), "AM/B1/B", font=font("sans_bold", 28), fill=_INK)
    return _finish(card, mask)


def licence_back(person: Person, issue: date, expiry: date, *, rng: random.Random) -> Image.Image:
    card, mask = rounded_card(CARD_SIZE, (246, 222, 226))
    guilloche(card, rng, (236, 196, 204), 12)
    draw = ImageDraw.Draw(card)
    top, row_h, cols = 30, 34, (30, 170, 370, 570, 980)
    headers = ("9.", "10.", "11.", "12.")
    for i, header in enumerate(headers):
        draw.text((cols[i] + 10, top + 4), header, font=font("sans_bold", 22), fill=_INK)
    for r, category in enumerate(LICENCE_CATEGORIES):
        y = top + row_h * (r + 1)
        draw.line((cols[0], y, cols[-1], y), fill=(150, 110, 120), width=1)
        draw.text((cols[0] + 10, y + 5), category, font=font("sans_bold", 22), fill=_INK)
        if category in ("AM", "B1", "B"):
            draw.text((cols[1] + 10, y + 5), dmy(issue), font=font("sans", 22), fill=_INK)
            draw.text((cols[2] + 10, y + 5), dmy(expiry), font=font("sans", 22), fill=_INK)
    bottom = top + row_h * (len(LICENCE_CATEGORIES) + 1)
    for x in cols:
        draw.line((x, top, x, bottom), fill=(150, 110, 120), width=1)
    draw.line((cols[0], top, cols[-1], top), fill=(150, 110, 120), width=1)
    draw.line((cols[0], bottom, cols[-1], bottom), fill=(150, 110, 120), width=1)
    draw.text((cols[0], bottom + 8), "12.", font=font("sans_bold", 18), fill=_INK)
    return _finish(card, mask.filter(ImageFilter.MinFilter(1)))

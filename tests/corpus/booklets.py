"""Booklet documents: the passport data page (TD3, 125 × 88 mm) and the paper carta d'identità."""

from __future__ import annotations

import random
from datetime import date

from PIL import Image, ImageDraw

from tests.corpus.cards import MRZ_PITCH, dmy, mrz_zone, photo_area
from tests.corpus.drawing import draw_signature, emblem, fit_font, font, guilloche
from tests.corpus.people import Person
from verification.mrz.build import make_td3

PASSPORT_SIZE = (1476, 1039)  # TD3 at 300 dpi
PAPER_ID_SIZE = (1560, 900)  # the open booklet: two pages side by side
_INK, _GREY, _RED = (20, 20, 25), (90, 90, 90), (180, 30, 40)
_MONTHS = ("GEN/JAN", "FEB/FEB", "MAR/MAR", "APR/APR", "MAG/MAY", "GIU/JUN",
           "LUG/JUL", "AGO/AUG", "SET/SEP", "OTT/OCT", "NOV/NOV", "DIC/DEC")


def passport_date(day: date) -> str:
    """The passport's date style: 01 GEN/JAN 1980."""
    return f"{day.day:02d} {_MONTHS[day.month - 1]} {day.year}"


def passport_page(person: Person, number: str, issue: date, expiry: date, *, photo: str,
                  rng: random.Random) -> Image.Image:
    page = Image.new("RGB", PASSPORT_SIZE, (238, 234, 244))
    guilloche(page, rng, (220, 208, 230), 24)
    draw = ImageDraw.Draw(page)
    emblem(draw, (90, 80), 44)
    draw.text((150, 40), "REPUBBLICA ITALIANA", font=font("sans_bold", 40), fill=_INK)
    draw.text((150, 90), "PASSAPORTO / PASSPORT / PASSEPORT", font=font("sans", 30), fill=_GREY)
    page.paste(photo_area(photo, person, (340, 440), rng), (56, 180))
    x, y = 440, 170
    label = font("sans", 20)

    def row(items: tuple[tuple[str, str, int], ...]) -> None:
        nonlocal y
        for text, data, dx in items:
            draw.text((x + dx, y), text, font=label, fill=_GREY)
            draw.text((x + dx, y + 24), data, font=fit_font("sans_bold", data, 980 - dx, 34), fill=_INK)
        y += 74

    row((("Tipo / Type / Type", "P", 0), ("Codice Paese / Code of issuing State", "ITA", 230),
         ("Passaporto N. / Passport No.", number, 660)))
    row((("1. Cognome / Surname / Nom", person.surname, 0),))
    row((("2. Nome / Given names / Prénoms", person.given_names, 0),))
    row((("3. Cittadinanza / Nationality", "ITALIANA", 0),
         ("4. Data di nascita / Date of birth", passport_date(person.birth_date), 480)))
    row((("5. Sesso / Sex", person.sex, 0),
         ("6. Luogo di nascita / Place of birth", f"{person.birthplace} ({person.birth_province})", 230)))
    row((("7. Data di rilascio / Date of issue", passport_date(issue), 0),
         ("9. Autorità / Authority", "MINISTRO AFFARI ESTERI", 480)))
    row((("8. Data di scadenza / Date of expiry", passport_date(expiry), 0),))
    draw.text((x, y), "10. Firma del titolare / Holder's signature", font=label, fill=_GREY)
    draw_signature(page, (x + 20, y + 26, x + 420, y + 110), rng, colour=(30, 30, 60), width=3)
    draw.rectangle((0, 840, PASSPORT_SIZE[0], PASSPORT_SIZE[1]), fill=(248, 248, 250))
    lines = make_td3(number=number, birth_date=person.birth_date, sex=person.sex, expiry=expiry,
                     surname=person.surname, given_names=person.given_names)
    mrz_zone(draw, lines, (PASSPORT_SIZE[0] - 44 * MRZ_PITCH) // 2, 880, 70)
    return page


def _stamp(image: Image.Image, centre: tuple[int, int], text: str) -> None:
    """A round municipal rubber stamp, half over the photo."""
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    cx, cy, r = *centre, 95
    ink = (70, 60, 150, 150)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=ink, width=5)
    draw.ellipse((cx - r + 22, cy - r + 22, cx + r - 22, cy + r - 22), outline=ink, width=3)
    draw.text((cx, cy - 12), "COMUNE DI", font=font("sans_bold", 20), fill=ink, anchor="mm")
    draw.text((cx, cy + 14), text, font=font("sans_bold", 22), fill=ink, anchor="mm")
    image.paste(Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB"))


def paper_id_inside(person: Person, number: str, issue: date, expiry: date, *, issuer: str, photo: str,
                    rng: random.Random) -> Image.Image:
    """The open booklet: personal data on the left page, photo, stamp and number on the right."""
    page = Image.new("RGB", PAPER_ID_SIZE, (226, 232, 214))
    guilloche(page, rng, (208, 218, 196), 22)
    draw = ImageDraw.Draw(page)
    half = PAPER_ID_SIZE[0] // 2
    draw.line((half, 0, half, PAPER_ID_SIZE[1]), fill=(180, 190, 170), width=3)
    draw.text((half // 2, 40), f"COMUNE DI {issuer}", font=font("serif_bold", 34), fill=_INK, anchor="ma")
    rows = (
        ("Cognome", person.surname),
        ("Nome", person.given_names),
        ("nato il", f"{dmy(person.birth_date)}  (atto n. {rng.randrange(1, 2000)} P. I S. A)"),
        ("a", f"{person.birthplace} ({person.birth_province})"),
        ("Cittadinanza", "ITALIANA"),
        ("Residenza", issuer),
        ("Via", person.address),
        ("Stato civile", rng.choice(("CONIUGATO", "CELIBE/NUBILE", "-"))),
        ("Professione", rng.choice(("IMPIEGATO", "PENSIONATO", "STUDENTE", "LIBERO PROFESSIONISTA"))),
    )
    y = 110
    for label, value in rows:
        draw.text((40, y + 6), label, font=font("serif_italic", 26), fill=_GREY)
        draw.text((230, y), value, font=fit_font("sans_bold", value, half - 270, 32), fill=_INK)
        draw.line((225, y + 40, half - 30, y + 40), fill=(150, 160, 140), width=1)
        y += 56
    draw.text((40, y + 10), "CONNOTATI E CONTRASSEGNI SALIENTI", font=font("serif_bold", 24), fill=_INK)
    y += 50
    for label, value in (("Statura", f"{person.height_cm / 100:.2f}".replace(".", ",")),
                         ("Capelli", rng.choice(("CASTANI", "NERI", "BIONDI", "GRIGI"))),
                         ("Occhi", rng.choice(("CASTANI", "VERDI", "AZZURRI"))), ("Segni particolari", "-")):
        draw.text((40, y + 4), label, font=font("serif_italic", 24), fill=_GREY)
        draw.text((260, y), value, font=font("sans_bold", 28), fill=_INK)
        y += 40
    # Right page.
    draw.text((PAPER_ID_SIZE[0] - 40, 30), f"N. {number}", font=font("sans_bold", 40), fill=_RED, anchor="ra")
    photo_box = (half + 50, 110, half + 50 + 320, 110 + 410)
    page.paste(photo_area(photo, person, (320, 410), rng, grey=False), photo_box[:2])
    _stamp(page, (photo_box[2] - 10, photo_box[3] - 20), issuer)
    draw.text((half + 50, 560), "Firma del titolare", font=font("serif_italic", 24), fill=_GREY)
    draw_signature(page, (half + 50, 590, half + 400, 680), rng, colour=(20, 30, 110), width=3)
    draw.text((half + 430, 140), f"{issuer.title()}, lì {dmy(issue)}", font=font("serif", 26), fill=_INK)
    draw.text((half + 430, 200), "IL SINDACO", font=font("serif_bold", 26), fill=_INK)
    draw_signature(page, (half + 430, 230, half + 730, 320), rng, colour=(20, 20, 20), width=2)
    draw.text((half + 430, 380), "Scadenza", font=font("serif_italic", 26), fill=_GREY)
    draw.text((half + 430, 414), dmy(expiry), font=font("sans_bold", 34), fill=_INK)
    draw.rectangle((half + 430, 560, half + 700, 800), outline=(120, 130, 110), width=2)
    draw.text((half + 440, 810), "Impronta del dito indice sinistro", font=font("serif_italic", 18), fill=_GREY)
    return page


def paper_id_outside(number: str, expiry: date, *, rng: random.Random) -> Image.Image:
    """The closed booklet's outer spread: back cover (left) and front cover (right)."""
    page = Image.new("RGB", PAPER_ID_SIZE, (200, 214, 190))
    guilloche(page, rng, (186, 202, 176), 14)
    draw = ImageDraw.Draw(page)
    half = PAPER_ID_SIZE[0] // 2
    draw.line((half, 0, half, PAPER_ID_SIZE[1]), fill=(160, 174, 150), width=3)
    emblem(draw, (half + half // 2, 220), 90)
    draw.text((half + half // 2, 360), "REPUBBLICA ITALIANA", font=font("serif_bold", 44), fill=_INK, anchor="ma")
    draw.text((half + half // 2, 440), "CARTA D'IDENTITÀ", font=font("serif_bold", 56), fill=_INK, anchor="ma")
    draw.text((half + half // 2, 540), f"N. {number}", font=font("sans_bold", 40), fill=_RED, anchor="ma")
    notes = ("La presente carta è valida per l'espatrio", "nei Paesi che la riconoscono.",
             f"Scadenza: {dmy(expiry)}")
    for i, text in enumerate(notes):
        draw.text((60, 300 + i * 44), text, font=font("serif_italic", 28), fill=_INK)
    return page

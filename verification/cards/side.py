"""Reading one side of one card: classify it from cheap cues, then read only what the checks need.

Cost drives the order. Free cues first: an MRZ band (found by morphology,
no OCR; read by matching its OCR-B glyphs, verification.mrz.glyphs, and by
tesseract only when the check digits fail), a chip's gold contact plate, a Code 39 barcode (zxing, a few ms,
the codice fiscale for free on a CIE back and a TS back). Then OCR of the
header band only, which names the document; then small field regions where
that document keeps the fields, widening to the rest of the card only when
a field is still missing. Values are found by their labels
(verification.cards.fields), never at fixed coordinates. No whole-page OCR.
"""

from __future__ import annotations

import re
from datetime import date

import cv2
import numpy as np

from verification.cards import fields as cfd
from verification.images import faces
from verification.images import ocr
from verification.images.barcode import read_cf_barcodes, read_fine_cf_barcodes
from verification.cards.readers import (READERS, TS_BACK_VALUES, best_cf, read_nothing, reread_doubtful_names,
                                       shaped, ts_back_pick, ts_number)
from verification.cards.regions import FIELD_REGIONS, HEADER, PHOTO_REGIONS, REST, Region, Sheet, crop
from verification.evidence import SourceRef
from verification.cards.find import ID1_SIZE, Card, chip_mask
from verification.mrz.text import MrzData, MrzError, parse
from verification.mrz.lines import find_mrz
from verification.mrz.glyphs import read_glyphs
from verification.readings import CardReading

CIE_NUMBER: Region = (0.70, 0.03, 0.99, 0.16)  # the CIE front's number, in red, top right
_LICENCE_CATEGORIES = {"AM", "A1", "A2", "B1", "C1", "D1", "BE", "C1E", "CE", "D1E", "DE"}


# ---------------------------------------------------------------- cheap cues


def mrz_band(image: np.ndarray) -> tuple[str, tuple[int, int, int, int]] | None:
    """Where an MRZ is — ("bottom" | "top", (x0, y0, x1, y1)) — from long monospaced text lines; no OCR."""
    h, w = image.shape[:2]
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    ink = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 20)
    joined = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (w // 40, 1)))
    for where, (lo, hi) in (("bottom", (int(0.55 * h), h)), ("top", (0, int(0.45 * h)))):
        contours, _ = cv2.findContours(joined[lo:hi], cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        rows = []
        for contour in contours:
            x, y, cw, ch = cv2.boundingRect(contour)
            if cw > 0.7 * w and 0.025 * h < ch < 0.11 * h and _monospaced(ink[lo + y : lo + y + ch, x : x + cw]):
                rows.append((x, lo + y, x + cw, lo + y + ch))
        if len(rows) >= 2:
            pad = int(0.02 * h)  # not more: the card's edge, read as a letter, would start a names line
            return where, (max(0, min(r[0] for r in rows) - pad), max(0, min(r[1] for r in rows) - pad),
                           min(w, max(r[2] for r in rows) + pad), min(h, max(r[3] for r in rows) + pad))
    return None


def _monospaced(line: np.ndarray) -> bool:
    """At least 18 glyphs of one height at an even pitch: OCR-B in the MRZ, not a label and its value."""
    count, _, stats, centroids = cv2.connectedComponentsWithStats(line, connectivity=8)
    h = line.shape[0]
    glyphs = sorted(centroids[i][0] for i in range(1, count) if 0.35 * h <= stats[i][3] <= h and stats[i][2] < h)
    if len(glyphs) < 18:
        return False
    gaps = np.diff(glyphs)
    pitch = float(np.median(gaps))
    # Fillers ('<' runs) keep the pitch; a gap is a multiple of it where a glyph broke or merged.
    off = np.abs(gaps / pitch - np.round(gaps / pitch))
    return bool(np.mean(off < 0.25) > 0.8)


def has_chip_plate(image: np.ndarray) -> bool:
    """A contact plate in the left part of the card (ISO/IEC 7816-2 puts it there): gold, or on a card
    scanned in grey, a solid plate of its shape (see _grey_plate)."""
    h, w = image.shape[:2]
    left = image[int(0.2 * h) : int(0.75 * h), : int(0.35 * w)]
    gold = chip_mask(left)
    if gold.mean() < 0.04:
        return _grey_plate(image, left)
    contours, _ = cv2.findContours(gold.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return any(_plate_sized(contour, w, h, 0.6) for contour in contours)


def _plate_sized(contour: np.ndarray, w: int, h: int, fill: float) -> bool:
    x, y, cw, ch = cv2.boundingRect(contour)
    return 0.08 * w < cw < 0.3 * w and 0.1 * h < ch < 0.4 * h and cv2.contourArea(contour) > fill * cw * ch


GREY_MAX_SATURATION = 40  # HSV saturation: a grey scan's every pixel is under it, a colour photo's card many


def _grey_plate(image: np.ndarray, left: np.ndarray) -> bool:
    """On a card without any colour (a grey scan, where gold is grey too): a plate darker than the
    card, solid to its rounded corners, chip-sized and a little wider than tall (1.0-1.7; the
    holder's photo is taller than wide, and larger). A colour card's plate is told by its gold."""
    small = cv2.pyrDown(image)
    if np.count_nonzero(cv2.cvtColor(small, cv2.COLOR_BGR2HSV)[:, :, 1] > GREY_MAX_SATURATION) > 0.001 * small[:, :, 0].size:
        return False
    h, w = image.shape[:2]
    dark = cv2.threshold(cv2.cvtColor(left, cv2.COLOR_BGR2GRAY), 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    contours, _ = cv2.findContours(dark, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for contour in contours:
        x, y, cw, ch = cv2.boundingRect(contour)
        if _plate_sized(contour, w, h, 0.9) and 1.0 < cw / ch < 1.7:
            return True
    return False


def has_category_table(image: np.ndarray) -> bool:
    """A ruled table over most of the card: the licence back's categories (fields 9 to 12); no OCR.

    At least 10 ruled rows across half the width or more, and at least 3
    column rules down half the height or more. Tesseract reads little of a
    ruled table (the rules break its line finding), but the rules themselves
    are the surest cue: no other card we take has them. Segments of a tenth
    of the card are enough (a rule fades where the light falls off), and a
    rule may wander over a few pixel rows (a card warped a degree off).
    """
    h, w = image.shape[:2]
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    ink = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 15, 8)
    across = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (w // 10, 1)))
    across = cv2.dilate(across, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 5)))
    if _runs((across > 0).sum(axis=1) > 0.5 * w) < 10:
        return False
    down = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, h // 10)))
    down = cv2.dilate(down, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 1)))
    return _runs((down > 0).sum(axis=0) > 0.5 * h) >= 3


def _runs(flags: np.ndarray) -> int:
    """How many separate runs of True: one ruled line may be two or three pixels thick."""
    flags = flags.astype(np.int8)
    return int(np.count_nonzero(np.diff(flags, prepend=0) == 1))


# ---------------------------------------------------------------- classification


def classify_text(text: str, kind: str = "id1") -> tuple[str, str] | None:
    """(doc_type, side) from header words; None when nothing says."""
    compact = re.sub(r"[^A-Z]", "", cfd.fold(text))
    if "PATENTE" in compact:
        return "driving_licence", "front"
    if "TESSERAEUROPEA" in compact or "ASSICURAZIONEMALATTIA" in compact:
        return "ts_cns", "back"
    if "TESSERASANITARIA" in compact:
        return ("ts_cns" if "NAZIONALEDEISERVIZI" in compact else "ts_no_chip"), "front"
    if "PASSAPORTO" in compact or "PASSPORT" in compact:
        return "passport", "data_page"
    if "IDENTITYCARD" in compact or "CARTADIIDENTITA" in compact:
        return "cie", "front"
    if "CARTADIDENTITA" in compact:
        return "paper_id", "back"
    if "FISCALCODE" in compact or ("CODICEFISCALE" in compact and kind == "id1"):
        return "cie", "back"
    if "COMUNEDI" in compact and kind != "id1":
        return "paper_id", "front"
    words = set(re.findall(r"[A-Z0-9]+", cfd.fold(text)))
    # The back of a licence: the category table, headed by fields 9 to 12.
    if len(words & _LICENCE_CATEGORIES) >= 3 or len(words & {"9", "10", "11", "12"}) >= 3:
        return "driving_licence", "back"
    return None


# ---------------------------------------------------------------- reading


def classify(card: Card, found: dict, today: date, effort: str = "full"
             ) -> tuple[Sheet, tuple[str, str] | None, MrzData | None]:
    """(the card turned upright, (doc_type, side) or None, the MRZ) from the cheapest cues that decide.

    MRZ band → MRZ (CIE back, passport); else a codice fiscale barcode → TS
    back (the CIE back also has one, but it has an MRZ); else a chip's contact
    plate → TS-CNS front; else a CIE number (AA99999AA) in the top right corner,
    where no other card we take prints one → CIE front (a fifth of the header's
    OCR); else the header band, the other way up, and at last the whole card. `effort` "header" stops before the whole card, "cues"
    before any OCR (a blurred or tiny card has nothing legible to OCR).
    """
    sharpen = card.source_width < 0.9 * card.image.shape[1]
    sheet = Sheet(card.image, sharpen)
    band = mrz_band(sheet.image)
    if band and band[0] == "top":
        sheet = Sheet(cv2.rotate(card.image, cv2.ROTATE_180), sharpen)
        band = mrz_band(sheet.image)
    if band and effort != "cues":
        mrz = _read_mrz(sheet, band, today)
        if mrz is not None:
            return sheet, (("passport", "data_page") if mrz.format == "TD3" else ("cie", "back")), mrz
    barcodes = read_cf_barcodes(sheet.image)
    if barcodes:
        found["cf_sources"]["barcode"] = barcodes[0]
        if band:  # a barcode and an MRZ whose text did not read: a CIE back
            return sheet, ("cie", "back"), None
        doc = None
        if effort != "cues":
            # The card number's 80380 on its row of the EHIC side says TS back; else its words say.
            values = sheet.ocr_values(TS_BACK_VALUES, 7, ts_back_pick(True)) or []
            if any(ts_number(row) for row in cfd.lines(values)):
                return sheet, ("ts_cns", "back"), None
            doc = classify_text(cfd.all_text(sheet.ocr(FIELD_REGIONS[("ts_cns", "back")][0])), card.kind)
        return sheet, doc or ("ts_cns", "back"), None
    if has_chip_plate(sheet.image):  # only the TS-CNS front shows a contact plate
        found["has_chip"] = True
        return sheet, ("ts_cns", "front"), None
    if card.kind != "booklet" and has_category_table(sheet.image):  # a shadow can make it a "page"
        return sheet, ("driving_licence", "back"), None
    if effort == "cues":
        return sheet, _band_guess(band, card), None
    # A CIE photographed close at an angle may be taken for a data page (1.42:1): its corner still says.
    if card.kind in ("id1", "page") and shaped(sheet.ocr(CIE_NUMBER), "AA99999AA"):
        return sheet, ("cie", "front"), None
    for attempt in (sheet, Sheet(cv2.rotate(card.image, cv2.ROTATE_180), sharpen)):
        doc = classify_text(cfd.all_text(attempt.ocr(HEADER)), card.kind)
        if doc is not None:
            return attempt, doc, None
    doc = classify_text(cfd.all_text(sheet.ocr(REST)), card.kind) if effort == "full" else None
    return sheet, doc or _band_guess(band, card), None


def _band_guess(band, card: Card) -> tuple[str, str] | None:
    """An MRZ band that did not read: its place says which document."""
    if band is None:
        return None
    return ("passport", "data_page") if card.kind == "page" else ("cie", "back")


ID1_DOCUMENTS = ("cie", "ts_cns", "ts_no_chip", "driving_licence")  # 85.6 × 54 mm, 1.59:1


def read_card(card: Card, source: SourceRef, today: date, *, readable: bool = True,
              unreadable_reason: str | None = None) -> CardReading:
    """Read one card side (see the module docstring). Never raises for what it cannot read: fields stay None.

    An unreadable card (`readable=False`, from cards.find.assess) is only
    classified, so that the citizen can be told which side to send again.
    """
    found: dict = {"cf_sources": {}, "extra": {}}
    effort = "full" if readable else "header" if unreadable_reason == "cut_off" else "cues"
    sheet, doc, mrz = classify(card, found, today, effort)
    if not readable or doc is None:
        return CardReading(doc_type=doc[0] if doc else None, side=doc[1] if doc else None, source=source,
                           region=card.region, readable=readable and doc is not None,
                           unreadable_reason=unreadable_reason or (None if doc else "unrecognised"))
    doc_type, side = doc
    if card.kind == "page" and doc_type in ID1_DOCUMENTS:
        # An ID-1 card photographed at an angle can look 1.42:1 and be warped as a data page: its print is
        # then a tenth taller than the readers' regions and rows expect. Read it at its own shape.
        sheet = sheet.resized(ID1_SIZE)
    if doc_type == "passport" and mrz is None:
        mrz = _mrz_beyond(card, today)
    if mrz is not None:
        _from_mrz(mrz, found)
    if doc_type in ("ts_cns", "ts_no_chip") and side == "front":
        found["has_chip"] = found.get("has_chip") or has_chip_plate(sheet.image)  # seen by classify, or turned
        if found["has_chip"]:
            doc_type = "ts_cns"
        elif doc_type == "ts_cns":
            found["has_chip"] = None  # the wording says CNS but no plate is seen (glare?): not our call
    if doc_type == "cie" and side == "back" and "barcode" not in found["cf_sources"]:
        found["cf_sources"].update({"barcode": v for v in _barcodes(card, sheet)[:1]})
    READERS.get((doc_type, side), read_nothing)(sheet, found, today)
    reread_doubtful_names(sheet, found)
    if doc_type in PHOTO_REGIONS and side in ("front", "data_page"):
        found["face_count"] = faces.count_faces(crop(sheet.image, PHOTO_REGIONS[doc_type]))
    found.pop("cf_back", None)
    found["codice_fiscale"] = best_cf(found["cf_sources"])
    return CardReading(doc_type=doc_type, side=side, source=source, region=card.region, mrz=mrz, **found)


def _mrz_beyond(card: Card, today: date) -> MrzData | None:
    """A data page's MRZ outside the outline found: a scan often shows the tinted page apart from the
    white strip its MRZ is printed on, and the outline then stops above the MRZ. The page below the
    outline (and above it, for a page upside down) is looked at as it lies there."""
    if card.page is None:
        return None
    x, y, w, h = card.region
    page_h, page_w = card.page.shape[:2]
    x0, x1 = max(0, x - w // 20), min(page_w, x + w + w // 20)
    below = card.page[y : min(page_h, y + int(1.6 * h)), x0:x1]
    above = card.page[max(0, y + h - int(1.6 * h)) : y + h, x0:x1]
    for part in (below, cv2.rotate(above, cv2.ROTATE_180)):
        if part.shape[0] <= h or part.shape[1] < 12:
            continue  # nothing of the page lies beyond the outline on that side
        sheet = Sheet(part)
        band = mrz_band(sheet.image)
        if band and band[0] == "bottom" and band[1][1] >= 0.8 * h:  # the lines lie past the outline
            mrz = _read_mrz(sheet, band, today)
            if mrz is not None and mrz.format == "TD3" and mrz.valid:
                return mrz
    return None


def _barcodes(card: Card, sheet: Sheet) -> list[str]:
    """The codice fiscale barcodes of the card; else of the page around it, as it lies there: an outline
    found short (a white quiet zone on a white scanner bed) cuts the bars off the warped card."""
    found = read_cf_barcodes(sheet.image)
    around = card.surroundings()
    if not found and around is not None:
        found = read_cf_barcodes(around)
    if found:
        return found
    # Bars too fine to read as scanned (200 dpi): drawn wider along them, on the page if the card lies
    # across it there, else on the card.
    lies_across = around is not None and around.shape[1] > around.shape[0]
    return read_fine_cf_barcodes(around if lies_across else sheet.image)


def _read_mrz(sheet: Sheet, band: tuple[str, tuple[int, int, int, int]], today: date) -> MrzData | None:
    """The MRZ: its glyphs matched against OCR-B (verification.mrz.glyphs, ~6 ms), else tesseract
    on up to four renderings of its band, until the check digits verify.

    The legacy engine is fickle on OCR-B (D or 0, a lost first letter) in a way
    that changes with the rendering, and the check digits tell us when it got
    it right: the lighting-flattened band (sharpened if the card was
    enlarged), the same half as large again (a band of small print: a third
    of the first one's failures read right so), across the whole card, and
    the plain grey band.
    """
    x0, y0, x1, y1 = band[1]
    best = _read_mrz_glyphs(sheet.flat[y0:y1], today)
    if best is not None and best.valid:
        return best
    renderings = (
        lambda: sheet.flat[y0:y1, x0:x1],
        lambda: cv2.resize(sheet.flat[y0:y1, x0:x1], None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC),
        lambda: sheet.flat[y0:y1],
        lambda: cv2.cvtColor(sheet.image[y0:y1], cv2.COLOR_BGR2GRAY),
    )
    for render in renderings:
        mrz = _d_for_o(find_mrz(ocr.ocr_mrz(render()), today), today)
        if mrz is not None and mrz.valid:
            return mrz
        if mrz is not None and (best is None or sum(mrz.checks.values()) > sum(best.checks.values())):
            best = mrz
    return best


def _read_mrz_glyphs(rows: np.ndarray, today: date) -> MrzData | None:
    """The MRZ from its glyphs across the whole card's width (no glyph cut by the band's box); when its
    check digits fail, the second choice of each of the closest calls is tried in turn."""
    reading = read_glyphs(rows)
    if reading is None:
        return None
    mrz = _d_for_o(find_mrz(reading.lines, today), today)
    if mrz is not None and mrz.valid:
        return mrz
    for doubt in reading.doubts:
        lines = list(reading.lines)
        line = lines[doubt.line]
        lines[doubt.line] = line[: doubt.position] + doubt.second + line[doubt.position + 1 :]
        try:
            candidate = parse(lines, today)
        except MrzError:
            continue
        if candidate.valid:
            return candidate
    return mrz


def _d_for_o(mrz: MrzData | None, today: date) -> MrzData | None:
    """The legacy engine reads OCR-B's D as 0 (repaired to O in a letter position): try D and Q for O
    in the document number, kept only if the check digits then verify."""
    if mrz is None or mrz.checks.get("number", True):
        return mrz
    row, start = (0, 5) if mrz.format == "TD1" else (1, 0)
    line = mrz.lines[row]
    for i in (i for i in range(start, start + 9) if line[i] == "O"):
        for letter in "DQ":
            lines = list(mrz.lines)
            lines[row] = line[:i] + letter + line[i + 1 :]
            candidate = parse(lines, today)
            if candidate.valid:
                return candidate
    return mrz


def _from_mrz(mrz: MrzData, found: dict) -> None:
    checks = mrz.checks
    if checks.get("number"):
        found["number"] = mrz.number
    if checks.get("birth_date") and mrz.birth_date:
        found["birth_date"] = mrz.birth_date
    if checks.get("expiry") and mrz.expiry:
        found["expiry"] = mrz.expiry
    if mrz.surname:
        found["surname"], found["given_names"] = mrz.surname, mrz.given_names or None

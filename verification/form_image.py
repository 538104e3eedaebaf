"""Reading a paper form from a scan or a phone photo.

Straighten first (verification.sheet): a photo's page is found by its
outline and warped flat, every page is evened out, deskewed and scaled to
150 dpi. One OCR pass of the whole page (Italian model, psm 6) gives words
with boxes; values are read by their labels (verification.form_labels), tick
boxes and the signature by the ink next to their labels (verification.form_marks).

`looks_like_form` is the cheap gate the caller runs before choosing between
this reader and the card reader: one small OCR of the page's title band.
"""

from __future__ import annotations

import cv2
import numpy as np

from verification import forms, ocr
from verification.evidence import FormEvidence, SourceRef
from verification.form_labels import LabelledForm, evidence_from_values, guess_sections, read_labels
from verification.form_marks import SIGNATURE_MIN_FILL, best_tick, binarize, relationship_fills, signature_ink
from verification.form_text import (
    Box,
    cf_doubtful,
    classify_form_text,
    clean_value,
    is_form_text,
    parse_date,
    parse_email,
    parse_phone,
)
from verification.reading import FormReading
from verification.sheet import (
    flatten_light,
    gray_of,
    orientations,
    quad_size,
    sheet,
    straighten,
    turned,
    warp,
)

PAGE_WIDTH = 1240  # A4 at 150 dpi: enough for 7 pt print, and one OCR pass fits in ~1.5 s
BAND_WIDTH = 800  # the title band for looks_like_form: ~14 px capitals
BAND_HEIGHT = 0.15  # of the page: the two title lines sit in its top eighth


def _title_band_is_form(gray: np.ndarray, quad: np.ndarray, turns: int) -> bool:
    band = flatten_light(warp(gray, turned(quad, turns), BAND_WIDTH, BAND_HEIGHT))
    return _has_long_line(band) and is_form_text(ocr.ocr_text(band, psm=6))


def _has_long_line(band: np.ndarray) -> bool:
    """Whether a line of text runs across more than half the band, as the title's ~90 characters do.

    Words are smeared into lines; a card's few short words never make one. It spares the OCR
    (~0.1 s) on every picture of a card scanned on an A4 sheet.
    """
    ink = cv2.threshold(band, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))  # paper grain
    smeared = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (band.shape[1] // 40, 1)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(smeared)
    h = band.shape[0]
    return any(stats[i, cv2.CC_STAT_WIDTH] > band.shape[1] / 2 and stats[i, cv2.CC_STAT_HEIGHT] < h / 4
               for i in range(1, count))


def looks_like_form(img: np.ndarray) -> bool:
    """Whether the picture is a page of a request form: the title read in the top band of the sheet.

    Cheap (one OCR of an 800 x 180 band, ~0.12 s; a second one for a sheet
    that is not upright): the caller runs it on every picture before choosing
    between this reader and the card reader. An identity card is refused by
    its shape when photographed lying (ID-1 is 1.59:1 across, a page stands
    up), else by its words (a TS-CNS says TESSERA SANITARIA but never
    RICHIESTA DEI CODICI PIN/PUK).
    """
    gray = gray_of(img)
    quad, photographed = sheet(img)
    w, h = quad_size(quad)
    ratio = max(w, h) / max(min(w, h), 1.0)
    if not 1.1 <= ratio <= 1.75:  # A4 is 1.41, stretched or squashed a little by the camera's angle
        return False
    if photographed and w > h and ratio > 1.5:
        return False  # an ID-1 card (1.59), photographed as people hold it: lying, long side across
    if not photographed and w > h:
        return False  # no sheet in sight and wider than tall: cards on a desk, not a page (scans stand up)
    if any(_title_band_is_form(gray, quad, turns) for turns in orientations(quad)):
        return True
    return h > w and blurred_page(gray, quad)


# Edge energy against contrast, at 600 px wide (var(Laplacian) / var(page)): sharp pages
# (forms, cards on a sheet, a few cards on a blank page) 2-4; a shaken photo of a form 0.1.
BLUR_MAX_SHARPNESS = 0.5


def blurred_page(gray: np.ndarray, quad: np.ndarray) -> bool:
    """A standing sheet too blurred to read anything: a form, as far as anyone can tell, but unreadable.

    The corpus of cards never comes this blurred standing up; the finding it
    leads to (unreadable_form) asks the citizen for a better copy.
    """
    page = flatten_light(warp(gray, quad, 600))
    contrast = float(np.var(page))
    if contrast < 9.0:
        return False  # a blank sheet, or nothing at all
    return bool(cv2.Laplacian(page, cv2.CV_64F).var() / contrast < BLUR_MAX_SHARPNESS)


REREAD_BELOW_CONF = 80  # tesseract's word confidence under which a value is read again, closer


def _doubtful(name: str, value: str | None, words: list[Box]) -> bool:
    """A value worth a second look: missing, not of its kind, or read with low confidence."""
    if not value:
        return name != forms.PLACE_DATE_FIELD
    if name.endswith("codice_fiscale"):
        return cf_doubtful(value)  # its check character repairs it better than a second look
    if name.endswith(("birth_date", "card_expiry")) and parse_date(value) is None:
        return True
    if (name == "phone" and parse_phone(value) is None) or (name == "email" and parse_email(value) is None):
        return True
    return min((w.conf for w in words), default=0.0) < REREAD_BELOW_CONF


def _reread_doubtful(page: np.ndarray, labelled: LabelledForm) -> None:
    """OCR again each doubtful value, alone on its line, at two and three times the size.

    The full-page pass at 150 dpi sometimes slips on a small glyph
    ("aanna.bianchi") or loses a whole line on a photo; two looks at the
    value's own line cost ~50 ms. They replace the first reading when they
    agree and are of the right kind (a date that parses, an e-mail address …),
    or when the first one was not of its kind.
    """
    h = labelled.word_height or 10.0
    for name, (x0, top, x1, bottom) in labelled.value_regions.items():
        old = labelled.values.get(name)
        if not _doubtful(name, old, labelled.value_boxes.get(name, [])):
            continue
        crop = page[max(0, int(top - 0.6 * h)) : int(bottom + 0.6 * h), max(0, int(x0)) : int(x1)]
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            continue
        crop = _without_rules(crop, h)
        readings = {clean_value(" ".join(ocr.ocr_text(cv2.resize(crop, None, fx=f, fy=f,
                                                                interpolation=cv2.INTER_CUBIC), psm=7).split()))
                    for f in (2, 3)}
        readings.discard("")
        fitting = [r for r in readings if not _doubtful(name, r, [Box(r, 0, 0, 0, 0, REREAD_BELOW_CONF)])]
        old_fits = bool(old) and not _doubtful(name, old, [Box(old, 0, 0, 0, 0, REREAD_BELOW_CONF)])
        agree = len({"".join(r.split()) for r in readings}) == 1  # "anna.bianchi @example.org" is the same
        # Two closer looks that agree beat the first one; one of the right kind beats one that is not.
        if agree and fitting:
            labelled.values[name] = fitting[0]
        elif fitting and not old_fits:
            labelled.values[name] = fitting[0]
        elif readings and not old:
            labelled.values[name] = sorted(readings)[0]


def _without_rules(gray: np.ndarray, h: float) -> np.ndarray:
    """The crop on white paper, the field's underline and any box edge erased: psm 7 reads a rule as text."""
    if gray.size == 0:
        return gray
    ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(8, int(3 * h)), 1)))
    # and box edges standing taller than any letter
    rules |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(8, int(1.8 * h)))))
    paper = float(np.median(gray))
    out = gray.astype(np.float32)
    out[cv2.dilate(rules, np.ones((3, 3), np.uint8)) > 0] = paper
    dark = float(out.min())
    out = (out - dark) * (255.0 / max(paper - dark, 1.0))  # paper white, ink black, as on a scan
    return np.clip(out, 0, 255).astype(np.uint8)


def _erase_rules(page: np.ndarray) -> np.ndarray:
    """The page without its long rules: tesseract runs a value into the line it is written on
    ("_____m_anna.bianchi@example.org") and loses it. Marks are measured on the page as it is."""
    ink = cv2.adaptiveThreshold(page, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (page.shape[1] // 12, 1)))
    # box edges too (taller than two lines of text): left alone, tesseract takes them for letters
    rules |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, page.shape[0] // 50)))
    out = page.copy()
    out[cv2.dilate(rules, np.ones((3, 3), np.uint8)) > 0] = int(np.median(page))
    return out


def _read_upright(img: np.ndarray):
    """(page, words, text) of the sheet turned the way its title reads, or None when no way does.

    An upright sheet costs one full OCR; any other way is tried only when its
    title band reads as a form (a small OCR instead of a wasted full one).
    """
    gray = gray_of(img)
    quad = sheet(img)[0]
    for turns in orientations(quad):
        if turns != 0 and not _title_band_is_form(gray, quad, turns):
            continue
        page = straighten(gray, PAGE_WIDTH, turns, quad)
        words = ocr.ocr_words(_erase_rules(page), psm=6)
        boxes = [Box(w.text, w.x, w.y, w.x + w.w, w.y + w.h, w.conf) for w in words]
        text = " ".join(b.text for b in boxes)
        if classify_form_text(text) or is_form_text(text):
            return page, boxes, text
    return None


def read_form_image(img: np.ndarray, source: SourceRef) -> FormReading | None:
    """The form on a scanned or photographed page; None when the page is not a form."""
    found = _read_upright(img)
    if found is None:
        quad = sheet(img)[0]
        w, h = quad_size(quad)
        if h > w and blurred_page(gray_of(img), quad):
            return FormReading(source, FormEvidence(form_type=None), "ocr", readable=False,
                               unreadable_reason="blurred")
        return None
    page, boxes, text = found
    form_type = classify_form_text(text)
    sections = form_type or guess_sections(text)
    labelled = read_labels(boxes, sections)
    _reread_doubtful(page, labelled)
    binary = binarize(page)
    relationship = None
    if sections != "direct":
        labels = {code: (h.x0, h.top, h.x1, h.bottom) for code, h in labelled.relationship_labels.items()}
        relationship = best_tick(relationship_fills(binary, labels, forms.RELATIONSHIP_LABELS))
    signed = False
    if labelled.signature_label is not None:
        hit = labelled.signature_label
        # Printed words read with confidence are not ink; a scribble OCR'd as letters has a low one.
        printed = [(b.x0, b.top, b.x1, b.bottom) for b in boxes
                   if b.conf >= 80 and sum(c.isalpha() for c in b.text) >= 3]
        ink = signature_ink(binary, (hit.x0, hit.top, hit.x1, hit.bottom), printed)
        signed = ink.fill >= SIGNATURE_MIN_FILL
    evidence = evidence_from_values(form_type, labelled.values, relationship, signed=signed,
                                    signature_kind="ink" if signed else None)
    readable = len(labelled.labels) >= 3 and bool(labelled.values)
    raw = labelled.raw_fields()
    if relationship:
        raw["Rapporto con il titolare"] = relationship
    return FormReading(source, evidence, "ocr", readable=readable,
                       unreadable_reason=None if readable else "labels_not_found", raw_fields=raw)

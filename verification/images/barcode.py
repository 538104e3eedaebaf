"""The codice fiscale as a barcode: Code 39 on the CIE back and the TS back (Code 128 read too).

zxing-cpp reads it in milliseconds, far cheaper and surer than OCR of the
printed code, so the card readers try it first. OpenCV's barcode module has
no Code 39.
"""

from __future__ import annotations

import cv2
import numpy as np
import zxingcpp

from verification import codice_fiscale

_FORMATS = (zxingcpp.BarcodeFormat.Code39, zxingcpp.BarcodeFormat.Code128)


def read_barcodes(img: np.ndarray) -> list[str]:
    """Every Code 39 / Code 128 text on the image (BGR or grey), bars upright, in the order zxing finds them.

    The cards come warped landscape, their barcodes running across (upside
    down reads as well): zxing need not try the picture turned a quarter,
    which halves its time, and it is handed grey (a third less again).
    """
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else np.ascontiguousarray(img)
    found = zxingcpp.read_barcodes(grey, formats=_FORMATS, try_invert=False, try_rotate=False)
    return [b.text for b in found if b.valid and b.text]


def read_cf_barcodes(img: np.ndarray) -> list[str]:
    """The barcodes on the image that hold something shaped like a codice fiscale (upper-cased, unique).

    The check character is not verified here: a card whose barcode holds an
    invalid code is for the rules (`cf_invalid`) to flag.
    """
    values: list[str] = []
    for text in read_barcodes(img):
        value = codice_fiscale.normalize(text)
        if codice_fiscale.looks_like_cf(value) and value not in values:
            values.append(value)
    return values


def read_fine_cf_barcodes(img: np.ndarray) -> list[str]:
    """As read_cf_barcodes, for bars too fine for zxing as they lie: a CIE back scanned at 200 dpi prints
    a module in ~1.3 px, and its narrow bars blur to grey. Drawn twice as wide (cubic) and sharpened,
    they read again (all 11 such CIE backs of the corpus, ~5 ms). The bars must run across `img`."""
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    wide = cv2.resize(grey, None, fx=2, fy=1, interpolation=cv2.INTER_CUBIC)
    return read_cf_barcodes(cv2.addWeighted(wide, 2.5, cv2.GaussianBlur(wide, (0, 0), 1.5), -1.5, 0))

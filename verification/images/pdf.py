"""The pages of a PDF as pdfplumber shows them: characters, words, drawn paths, pictures.

The label and mark heuristics work on pdfplumber's view of a page: PDF points,
origin top left, `doctop` counting down the whole document, a rect/line/curve
split of the drawn paths, a character's box from its font's advance and
descent, words by `extract_words(x_tolerance=1.5)`. pdfium (C) gives the same
characters, paths and pictures many times faster than pdfminer's pure-Python
content-stream parser, so `Document.open` builds that view from pdfium; a
document it cannot map exactly (a rotated page, a media box off the origin,
turned text) is parsed by pdfplumber instead.
"""

from __future__ import annotations

import ctypes
import io
import logging
from functools import cache

import numpy as np
import pdfplumber
import pypdfium2
import pypdfium2.raw as pdfium_c

from verification.images.boxes import Box
from verification.images.budget import render_scale

log = logging.getLogger(__name__)

__all__ = ["Document", "Page", "textless_pages"]

_TEXT_PAGE_CHARS = 20  # fewer characters than this: a page without a text layer
_MARK_KINDS = ("rect", "line", "curve", "image")
_LIGATURES = {"ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}  # as pdfplumber
_X_TOLERANCE, _Y_TOLERANCE = 1.5, 3.0  # pdfplumber's extract_words(x_tolerance=1.5), default y


class Unsupported(Exception):
    """A page pdfium cannot show as pdfplumber would: the document goes to pdfplumber."""


class Page:
    """One page, pdfplumber's way. `marks()`: "rect", "line", "curve", "image" and "annot" (ink and
    stamp annotations) as dicts with x0, x1, top, bottom, width, height in points from the top left."""

    number: int  # 1-based
    doctop: float  # the page's top in document coordinates
    width: float
    height: float

    def words(self) -> list[Box]:
        raise NotImplementedError

    def char_boxes(self) -> list[tuple[float, float, float, float]]:
        """(x0, x1, top, bottom) of every character."""
        raise NotImplementedError

    def marks(self) -> dict[str, list[dict]]:
        raise NotImplementedError

    def gray(self, dpi: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def rects(self) -> list[dict]:
        return self.marks()["rect"]

    @property
    def lines(self) -> list[dict]:
        return self.marks()["line"]

    @property
    def curves(self) -> list[dict]:
        return self.marks()["curve"]

    @property
    def images(self) -> list[dict]:
        return self.marks()["image"]

    @property
    def annots(self) -> list[dict]:
        return self.marks()["annot"]


class Document:
    """The pages of a PDF (see `Page`); a context manager that closes the file."""

    def __init__(self, pages: list[Page], close):
        self.pages = pages
        self._close = close

    @classmethod
    def open(cls, data: bytes) -> Document:
        try:
            document = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError as exc:
            log.info("PDF not opened by pdfium, trying pdfplumber: %s", exc)
        else:
            try:
                pages, doctop = [], 0.0
                for index in range(len(document)):
                    page = PdfiumPage(document, index, doctop, data)
                    pages.append(page)
                    doctop += page.height
                return cls(pages, lambda: _close_pdfium(pages, document))
            except Exception as exc:  # noqa: BLE001 - Unsupported, or a page pdfium cannot load
                _close_pdfium(pages, document)
                log.info("PDF read by pdfplumber: %s", exc)
        pdf = pdfplumber.open(io.BytesIO(data))
        return cls([PlumberPage(page) for page in pdf.pages], pdf.close)

    def __enter__(self) -> Document:
        return self

    def __exit__(self, *exc) -> None:
        self._close()


def _close_pdfium(pages: list[PdfiumPage], document) -> None:
    for page in pages:
        page.page.close()
    document.close()


# pdfminer sizes a character of a standard font by Adobe's metrics, whatever the
# PDF's font descriptor says (pdfium by its substitute font): their descents.
_STANDARD_DESCENTS = {
    **dict.fromkeys(("Helvetica", "Helvetica-Bold", "Helvetica-BoldOblique", "Helvetica-Oblique", "Arial",
                     "Arial,Italic", "Arial,Bold", "Arial,BoldItalic"), -207.0),
    **dict.fromkeys(("Courier", "Courier-Bold", "Courier-BoldOblique", "Courier-Oblique", "CourierNew",
                     "CourierNew,Italic", "CourierNew,Bold", "CourierNew,BoldItalic"), -194.0),
    **dict.fromkeys(("Times-Bold", "Times-BoldItalic", "Times-Italic", "Times-Roman", "TimesNewRoman",
                     "TimesNewRoman,Italic", "TimesNewRoman,Bold", "TimesNewRoman,BoldItalic"), -217.0),
    "Symbol": 0.0,
    "ZapfDingbats": 0.0,
}


@cache
def _c(name: str, restype, *argtypes):
    """pdfium's function `name` taking and returning plain addresses and numbers: the per-character
    calls, thousands a page, cost half as much as through pypdfium2's typed pointers."""
    address = ctypes.cast(getattr(pdfium_c, name), ctypes.c_void_p).value
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)


def _x0(char: tuple) -> float:
    return char[1]


def _address(handle) -> int:
    return ctypes.cast(handle, ctypes.c_void_p).value or 0


def _matrix(get, *args) -> tuple[float, float, float, float, float, float]:
    m = pdfium_c.FS_MATRIX()
    if not get(*args, ctypes.byref(m)):
        raise Unsupported("no matrix")
    return m.a, m.b, m.c, m.d, m.e, m.f


def _then(inner, outer):
    """The matrix applying `inner`, then `outer` (pdfium's a b c d e f)."""
    a1, b1, c1, d1, e1, f1 = inner
    a2, b2, c2, d2, e2, f2 = outer
    return (a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2)


def _page_text(raw, enough: int | None = None) -> list[tuple[int, str]]:
    """(index, character) of the characters in the page's content (the first `enough` of them);
    pdfium's own spaces and line breaks between words (generated) left out."""
    n = pdfium_c.FPDFText_CountChars(raw)
    buffer = ctypes.create_string_buffer(2 * (n + 1))
    written = pdfium_c.FPDFText_GetText(raw, 0, n, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
    text = buffer.raw[: 2 * max(written - 1, 0)].decode("utf-16-le", errors="surrogatepass")
    if len(text) != n:  # characters beyond the BMP: one at a time
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, i)) for i in range(n))
    generated = _c("FPDFText_IsGenerated", ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
    address = _address(raw)
    out = []
    for i, ch in enumerate(text):
        # pdfium generates only spaces and line breaks: the letters need no asking
        if ch.isalnum() or not generated(address, i):
            out.append((i, ch))
            if len(out) == enough:
                break
    return out


class PdfiumPage(Page):
    def __init__(self, document, index: int, doctop: float, data: bytes):
        self.page = document[index]
        self._data = data  # for pdfplumber, should pdfium fail on the page's drawings
        self.number = index + 1
        self.doctop = doctop
        x0, y0, x1, y1 = self.page.get_mediabox()
        if self.page.get_rotation() % 360 or (x0, y0) != (0, 0) or self.page.get_cropbox() != (x0, y0, x1, y1):
            raise Unsupported("a rotated or offset page")
        # pdfium keeps the numbers as float32: back to the decimals written in the file, as pdfminer reads them
        self.width, self.height = float(str(np.float32(x1))), float(str(np.float32(y1)))
        if _text_in_forms(self.page.raw, pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject):
            raise Unsupported("text in a Form XObject")  # pdfium places it otherwise than pdfminer
        self.chars = self._chars()  # (text, x0, x1, top, bottom), in content order
        self._marks: dict[str, list[dict]] | None = None

    def _chars(self) -> list[tuple[str, float, float, float, float]]:
        textpage = self.page.get_textpage()
        try:
            raw = textpage.raw
            address = _address(raw)
            text_object = _c("FPDFText_GetTextObject", ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
            origin = _c("FPDFText_GetCharOrigin", ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                        ctypes.c_void_p)
            x, y = ctypes.c_double(), ctypes.c_double()
            x_at, y_at = ctypes.addressof(x), ctypes.addressof(y)
            width = ctypes.c_float()
            objects: dict[int, tuple] = {}  # text object -> (matrix a b c d, font size, font, descent, advances)
            height = self.height
            chars = []
            last = last_origin = None
            for i, ch in _page_text(raw):
                key = text_object(address, i)
                if key != last:
                    if not key:
                        raise Unsupported("a character without its text object")
                    found = objects.get(key)
                    if found is None:
                        found = objects[key] = _text_object(raw, i)
                    a, b, c, d, size, font, descent, advances = found
                    last = key
                advance = advances.get(ch)
                if advance is None:
                    if not pdfium_c.FPDFFont_GetGlyphWidth(font, ord(ch), 1.0, ctypes.byref(width)):
                        raise Unsupported("a glyph without a width")
                    advance = advances[ch] = width.value * size
                origin(address, i, x_at, y_at)
                ox, oy = x.value, y.value
                if (ox, oy) == last_origin:
                    raise Unsupported("a ligature")  # pdfium splits it, pdfminer keeps one glyph
                last_origin = ox, oy
                low, high = descent * size, (descent + 1) * size  # the glyph's box, in text space
                if b or c:
                    xs = (ox + c * low, ox + c * high, ox + a * advance + c * low, ox + a * advance + c * high)
                    ys = (oy + d * low, oy + d * high, oy + b * advance + d * low, oy + b * advance + d * high)
                    chars.append((ch, min(xs), max(xs), height - max(ys), height - min(ys)))
                else:
                    chars.append((ch, ox, ox + a * advance, height - (oy + d * high), height - (oy + d * low)))
            return chars
        finally:
            textpage.close()

    def char_boxes(self) -> list[tuple[float, float, float, float]]:
        return [c[1:] for c in self.chars]

    def words(self) -> list[Box]:
        """pdfplumber's `extract_words(x_tolerance=1.5)` of upright text, in document coordinates."""
        # Lines: tops chained within the y tolerance, top to bottom; in a line, left to right.
        line_of: dict[float, int] = {}
        line, last = -1, None
        for top in sorted({c[3] for c in self.chars}):
            if last is None or top > last + _Y_TOLERANCE:
                line += 1
            line_of[top] = line
            last = top
        lines: list[list[tuple]] = [[] for _ in range(line + 1)]
        for c in self.chars:
            lines[line_of[c[3]]].append(c)
        out: list[Box] = []
        for members in lines:
            members.sort(key=_x0)
            word: list[tuple] = []
            for c in members:
                if c[0].isspace():
                    self._word(word, out)
                    word = []
                    continue
                if word:
                    prev = word[-1]
                    if c[1] < prev[1] or c[1] > prev[2] + _X_TOLERANCE or abs(c[3] - prev[3]) > _Y_TOLERANCE:
                        self._word(word, out)
                        word = []
                word.append(c)
            self._word(word, out)
        return out

    def _word(self, chars: list[tuple], out: list[Box]) -> None:
        if not chars:
            return
        first = chars[0]
        top, bottom = min(c[3] for c in chars), max(c[4] for c in chars)
        doctop = top + ((self.doctop + first[3]) - first[3])  # pdfplumber's arithmetic, to the last bit
        text = "".join(_LIGATURES.get(c[0], c[0]) for c in chars)
        out.append(Box(text, min(c[1] for c in chars), doctop, max(c[2] for c in chars), doctop + (bottom - top)))

    def marks(self) -> dict[str, list[dict]]:
        if self._marks is None:
            self._marks = {kind: [] for kind in (*_MARK_KINDS, "annot")}
            try:
                self._objects(self.page.raw, pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject,
                              (1, 0, 0, 1, 0, 0))
                self._annotations()
            except Exception as exc:  # noqa: BLE001 - e.g. an object without a matrix
                log.info("page drawings read by pdfplumber: %s", exc)
                with pdfplumber.open(io.BytesIO(self._data)) as pdf:
                    self._marks = PlumberPage(pdf.pages[self.number - 1]).marks()
        return self._marks

    def _box(self, kind: str, x0: float, y0: float, x1: float, y1: float) -> None:
        self._marks[kind].append({"x0": x0, "x1": x1, "top": self.height - y1, "bottom": self.height - y0,
                                  "width": x1 - x0, "height": y1 - y0})

    def _objects(self, parent, count, get, outer) -> None:
        """Paths and pictures, in Form XObjects too, by pdfminer's rules (points in page space)."""
        for i in range(count(parent)):
            obj = get(parent, i)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind not in (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_FORM):
                continue
            matrix = _then(_matrix(pdfium_c.FPDFPageObj_GetMatrix, obj), outer)
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                self._objects(obj, pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject, matrix)
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                a, b, c, d, e, f = matrix
                xs, ys = (e, a + e, c + e, a + c + e), (f, b + f, d + f, b + d + f)
                self._box("image", min(xs), min(ys), max(xs), max(ys))
            else:
                for subpath in _subpaths(obj, matrix):
                    self._path(subpath)

    def _path(self, ops: list[tuple[str, tuple[float, float]]]) -> None:
        """pdfminer's `paint_path` for one subpath: a line, a rect or a curve."""
        shape = "".join(op for op, _ in ops)
        pts = [p for _, p in ops]
        if len(shape) > 3 and shape[-2:] == "lh" and pts[-2] == pts[0]:
            shape = shape[:-2] + "h"
            pts.pop()
        if shape in ("mlh", "ml"):
            (x0, y0), (x1, y1) = pts[:2]
            self._box("line", min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            return
        if shape in ("mlllh", "mllll"):
            (x0, y0), (x1, y1), (x2, y2), (x3, y3), _ = pts
            square = (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (y0 == y1 and x1 == x2 and y2 == y3
                                                                          and x3 == x0)
            if pts[0] == pts[4] and square:
                self._box("rect", min(x0, x2), min(y0, y2), max(x0, x2), max(y0, y2))
                return
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        self._box("curve", min(xs), min(ys), max(xs), max(ys))

    def _annotations(self) -> None:
        rect = pdfium_c.FS_RECTF()
        for i in range(pdfium_c.FPDFPage_GetAnnotCount(self.page.raw)):
            annot = pdfium_c.FPDFPage_GetAnnot(self.page.raw, i)
            try:
                subtype = pdfium_c.FPDFAnnot_GetSubtype(annot)
                if subtype in (pdfium_c.FPDF_ANNOT_INK, pdfium_c.FPDF_ANNOT_STAMP) and \
                        pdfium_c.FPDFAnnot_GetRect(annot, ctypes.byref(rect)):
                    self._box("annot", min(rect.left, rect.right), min(rect.bottom, rect.top),
                              max(rect.left, rect.right), max(rect.bottom, rect.top))
            finally:
                pdfium_c.FPDFPage_CloseAnnot(annot)

    def gray(self, dpi: int) -> np.ndarray:
        # As pdfplumber's `to_image(resolution=dpi)` renders it; a page of absurd size at a lower
        # resolution, within the decoding budget (a 200-inch page at 150 dpi would be 900 Mpx).
        bitmap = self.page.render(scale=render_scale(self.width, self.height, dpi), no_smoothtext=True, no_smoothpath=True, no_smoothimage=True,
                                  prefer_bgrx=True)
        return np.array(bitmap.to_pil().convert("RGB").convert("L"))


def _text_object(raw, i: int) -> tuple:
    """(matrix a b c d, font size, font, descent, {} for advances) of the text object of character i."""
    a, b, c, d, _, _ = _matrix(pdfium_c.FPDFText_GetMatrix, raw, i)
    if a * d <= 0 or b * c > 0:
        raise Unsupported("text not upright")  # pdfplumber reads it top to bottom
    font = pdfium_c.FPDFTextObj_GetFont(pdfium_c.FPDFText_GetTextObject(raw, i))
    return a, b, c, d, pdfium_c.FPDFText_GetFontSize(raw, i), font, _descent(font), {}


def _text_in_forms(parent, count, get, inside: bool = False) -> bool:
    for i in range(count(parent)):
        obj = get(parent, i)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_TEXT and inside:
            return True
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM and _text_in_forms(
                obj, pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject, True):
            return True
    return False


def _descent(font) -> float:
    """The font's descent per unit of size, negative, as pdfminer takes it."""
    size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
    name = ctypes.create_string_buffer(max(size, 1))
    pdfium_c.FPDFFont_GetBaseFontName(font, name, size)
    standard = _STANDARD_DESCENTS.get(name.value.decode("latin-1"))
    if standard is not None:
        return standard / 1000
    descent = ctypes.c_float()
    if not pdfium_c.FPDFFont_GetDescent(font, 1.0, ctypes.byref(descent)):
        raise Unsupported("a font without a descent")
    return -abs(descent.value)


def _subpaths(obj, matrix) -> list[list[tuple[str, tuple[float, float]]]]:
    """A path object's subpaths as pdfminer sees them: (operator, end point in page space), "h" closing."""
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    if not pdfium_c.FPDFPath_GetDrawMode(obj, ctypes.byref(fill), ctypes.byref(stroke)) or not (
            fill.value or stroke.value):
        return []  # not painted: pdfminer makes nothing of it
    a, b, c, d, e, f = matrix
    x, y = ctypes.c_float(), ctypes.c_float()
    out: list[list] = []
    ops: list | None = None
    bezier = 0
    for k in range(pdfium_c.FPDFPath_CountSegments(obj)):
        segment = pdfium_c.FPDFPath_GetPathSegment(obj, k)
        pdfium_c.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y))
        point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            ops = [("m", point)]
            out.append(ops)
            bezier = 0
        elif ops is None:
            continue
        elif kind == pdfium_c.FPDF_SEGMENT_BEZIERTO:
            bezier += 1
            if bezier % 3:
                continue  # a control point: pdfminer keeps the end point only
            ops.append(("c", point))
        else:
            bezier = 0
            ops.append(("l", point))
        if pdfium_c.FPDFPathSegment_GetClose(segment):
            ops.append(("h", ops[0][1]))
    return [ops for ops in out if len(ops) > 1]


class PlumberPage(Page):
    """The fallback: pdfplumber's own page."""

    def __init__(self, page):
        self.page = page
        self.number = page.page_number
        self.doctop = page.initial_doctop
        self.width, self.height = page.width, page.height
        self._marks: dict[str, list[dict]] | None = None

    def words(self) -> list[Box]:
        out = []
        for w in self.page.extract_words(x_tolerance=_X_TOLERANCE, keep_blank_chars=False):
            top = w["doctop"]
            out.append(Box(w["text"], w["x0"], top, w["x1"], top + (w["bottom"] - w["top"])))
        return out

    def char_boxes(self) -> list[tuple[float, float, float, float]]:
        return [(c["x0"], c["x1"], c["top"], c["bottom"]) for c in self.page.chars]

    def marks(self) -> dict[str, list[dict]]:
        if self._marks is None:
            self._marks = {kind: getattr(self.page, kind + "s") for kind in _MARK_KINDS}
            self._marks["annot"] = [
                a for a in self.page.annots or []
                if str((a.get("data") or {}).get("Subtype", "")).strip("/'").endswith(("Ink", "Stamp"))
            ]
        return self._marks

    def gray(self, dpi: int) -> np.ndarray:
        resolution = render_scale(self.width, self.height, dpi) * 72
        return np.array(self.page.to_image(resolution=resolution).original.convert("L"))


def textless_pages(data: bytes) -> list[int]:
    """0-based indexes of the pages of a PDF with (almost) no text layer: scans inside a PDF."""
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return [i for i, page in enumerate(pdf.pages) if len(page.chars) < _TEXT_PAGE_CHARS]
    try:
        out = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            if len(_page_text(textpage.raw, _TEXT_PAGE_CHARS)) < _TEXT_PAGE_CHARS:
                out.append(index)
            textpage.close()
            page.close()
        return out
    finally:
        document.close()

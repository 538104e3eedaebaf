"""The scans as the browser gets them: every page re-encoded to JPEG by us.

A citizen's file is never served with its own bytes and content type for
viewing: images are decoded with Pillow (HEIC too) and PDFs rendered with
pdfium, then re-encoded, so nothing active in the original reaches the
browser. Rendered pages are kept in a small in-memory LRU cache; the
authorisation check happens before any lookup.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict

from PIL import Image, ImageOps

from db.blobs import BlobStore

SIZES = {"mini": 480, "grande": 2400}
ROTATIONS = (0, 90, 180, 270)
_PDF_LOCK = threading.Lock()  # pdfium is not thread-safe


class ScanError(Exception):
    """This file cannot be shown as an image."""


def is_scan(content_type: str, filename: str) -> bool:
    ct = (content_type or "").lower()
    name = (filename or "").lower()
    return ct.startswith("image/") or ct == "application/pdf" or name.endswith((".pdf", ".jpg", ".jpeg", ".png",
                                                                                 ".heic", ".heif", ".tif", ".tiff",
                                                                                 ".webp", ".bmp"))


def _is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(b"%PDF")


_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
        except ImportError:  # pragma: no cover - pillow-heif is a pinned dependency
            pass
        _heif_registered = True


def _open_image(data: bytes, max_pixels: int) -> Image.Image:
    _register_heif()
    try:
        im = Image.open(io.BytesIO(data))
        if im.width * im.height > max_pixels:
            raise ScanError("image too large")
        im.seek(0)
        im = ImageOps.exif_transpose(im)
        im.load()
    except ScanError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure means "not viewable"
        raise ScanError(f"cannot decode image: {type(exc).__name__}") from None
    return im


def _pdf_page(data: bytes, page: int, max_side: int) -> Image.Image:
    import pypdfium2 as pdfium

    with _PDF_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except Exception as exc:  # noqa: BLE001
            raise ScanError(f"cannot open PDF: {type(exc).__name__}") from None
        try:
            if not 1 <= page <= len(pdf):
                raise ScanError("no such page")
            p = pdf[page - 1]
            w, h = p.get_size()
            scale = min(max_side / max(w, h, 1), 6.0)
            im = p.render(scale=scale).to_pil()
            p.close()
            return im
        finally:
            pdf.close()


def _pdf_pages(data: bytes) -> int:
    import pypdfium2 as pdfium

    with _PDF_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except Exception:  # noqa: BLE001
            return 1
        try:
            return len(pdf)
        finally:
            pdf.close()


class ScanRenderer:
    def __init__(self, blobs: BlobStore, max_pixels: int, cache_items: int = 48, max_pages: int = 20):
        self.blobs = blobs
        self.max_pixels = max_pixels
        self.max_pages = max_pages
        self._cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._pages: dict[str, int] = {}
        self._lock = threading.Lock()
        self.cache_items = cache_items

    def page_count(self, sha256: str) -> int:
        if sha256 not in self._pages:
            try:
                data = self.blobs.get(sha256)
            except OSError:
                return 1
            if len(self._pages) > 10_000:
                self._pages.clear()
            self._pages[sha256] = min(_pdf_pages(data), self.max_pages) if _is_pdf(data) else 1
        return self._pages[sha256]

    def render(self, sha256: str, page: int, size: str, rotate: int) -> bytes:
        if size not in SIZES or rotate not in ROTATIONS:
            raise ScanError("bad parameters")
        key = (sha256, page, size, rotate)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            data = self.blobs.get(sha256)
        except OSError:
            raise ScanError("file missing from the store") from None
        max_side = SIZES[size]
        if _is_pdf(data):
            im = _pdf_page(data, page, max_side)
        elif page == 1:
            im = _open_image(data, self.max_pixels)
        else:
            raise ScanError("no such page")
        im = im.convert("RGB")
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        if rotate:
            im = im.rotate(-rotate, expand=True)  # clockwise, as the buttons say
        out = io.BytesIO()
        im.save(out, "JPEG", quality=85, optimize=True)
        jpeg = out.getvalue()
        with self._lock:
            self._cache[key] = jpeg
            while len(self._cache) > self.cache_items:
                self._cache.popitem(last=False)
        return jpeg

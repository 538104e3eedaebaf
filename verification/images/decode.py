"""Bytes in, page images out: pictures (JPEG, PNG, TIFF, HEIC, …) and PDF pages as BGR arrays.

Refuses what is not an image, or a decompression bomb (over MAX_PIXELS, from
the header, before decoding); turns pictures upright by their EXIF
orientation; decodes pictures over the decoding budget reduced
(verification.images.budget). Knows no document.
"""

from __future__ import annotations

import io
from functools import cache

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps, ImageSequence

from verification.images.budget import reduction, render_scale

MAX_PIXELS = 60_000_000


class ImageError(ValueError):
    """The bytes are not an image we can read."""


class ImageTooLarge(ImageError):
    """More pixels than MAX_PIXELS: refused before decoding (decompression bombs)."""




_ORIENTATION = 0x0112  # the EXIF tag


@cache
def _register_heif() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()


def load_image(data: bytes) -> list[np.ndarray]:
    """Every page of an image file as BGR arrays, EXIF orientation applied.

    JPEG, PNG, WebP, GIF (first frame), TIFF (every page), HEIC/HEIF.
    Raises ImageTooLarge over MAX_PIXELS (checked from the header, before
    decoding) and ImageError for anything unreadable or truncated. Pictures
    over the decoding budget come out reduced (verification.images.budget).
    """
    _register_heif()
    try:
        image = Image.open(io.BytesIO(data))
    except Exception as exc:  # PIL raises many kinds
        raise ImageError(f"not a readable image: {exc}") from exc
    try:
        return _decoded(image, data)
    except ImageError:
        raise
    except Exception as exc:  # damaged EXIF, a header Pillow reads and nothing else does (tests: test_fuzz_openers)
        raise ImageError(f"cannot decode image: {exc}") from exc


def _decoded(image: Image.Image, data: bytes) -> list[np.ndarray]:
    if _plain(image, data):
        _check_size(image)
        factor = reduction(*image.size, jpeg=image.format == "JPEG")
        flags = _REDUCED.get(factor, cv2.IMREAD_COLOR) | cv2.IMREAD_IGNORE_ORIENTATION
        # OpenCV reduces a PNG after decoding it whole, and with more copies than Pillow: only JPEG here.
        if factor == 1 or image.format == "JPEG":
            decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
            expected = tuple(-(-side // factor) for side in image.size)  # OpenCV rounds up
            if decoded is not None and decoded.shape[1::-1] == expected:
                return [decoded]
    pages = []
    frames = ImageSequence.Iterator(image) if image.format == "TIFF" else [image]
    # Importing face_recognition sets LOAD_TRUNCATED_IMAGES for the whole
    # process; a truncated file must still be an error here.
    saved, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        for frame in frames:
            _check_size(frame)
            frame = _reduced(frame)
            # exif_transpose copies the whole picture even when it has nothing to turn.
            upright = ImageOps.exif_transpose(frame) if frame.getexif().get(_ORIENTATION, 1) != 1 else frame
            rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
            pages.append(cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR))
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f"cannot decode image: {exc}") from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved
    return pages


# OpenCV's reduced decoding of a JPEG: scaled by libjpeg while decoding, never whole in memory.
_REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def _reduced(frame: Image.Image) -> Image.Image:
    """A frame over the decoding budget, reduced: JPEG drafts at 1/2-1/8, anything else a box reduction."""
    factor = reduction(*frame.size, jpeg=frame.format == "JPEG")
    if factor == 1:
        return frame
    if frame.format == "JPEG":
        frame.draft("RGB", (frame.width // factor, frame.height // factor))
        return frame
    reduced = frame.reduce(factor)
    if frame.format != "TIFF":  # a TIFF's next pages are read from it; anything else: free the full picture now
        frame.close()
    return reduced


def _check_size(image: Image.Image) -> None:
    """ImageTooLarge over MAX_PIXELS, from the header alone (before decoding)."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(f"{width}×{height} px is more than {MAX_PIXELS // 1_000_000} Mpx")


def _plain(image: Image.Image, data: bytes) -> bool:
    """A whole JPEG or PNG in RGB or grey with nothing to turn: OpenCV decodes it straight to BGR,
    twice as fast as Pillow and a copy. Whole: ending with its end marker (a truncated file goes
    through Pillow, which refuses it; OpenCV would fill the rest in grey)."""
    if image.mode not in ("RGB", "L") or image.getexif().get(_ORIENTATION, 1) != 1:
        return False
    tail = data.rstrip(b"\0")
    if image.format == "JPEG":
        return tail.endswith(b"\xff\xd9")
    return image.format == "PNG" and tail[-8:-4] == b"IEND"


def pdf_page_images(data: bytes, dpi: int = 200) -> list[np.ndarray]:
    """Every page of a PDF rendered at `dpi` as BGR (a page over the decoding budget at a lower dpi)."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except Exception as exc:
        raise ImageError(f"not a readable PDF: {exc}") from exc
    pages = []
    try:
        for index in range(len(document)):
            page = document[index]
            width_pt, height_pt = page.get_size()
            rgb = page.render(scale=render_scale(width_pt, height_pt, dpi)).to_numpy()
            pages.append(cv2.cvtColor(rgb[..., :3], cv2.COLOR_RGB2BGR) if rgb.shape[2] >= 3 else rgb)
            page.close()
    except Exception as exc:  # a page pdfium cannot load or render (tests: test_fuzz_openers)
        raise ImageError(f"PDF page not readable: {exc}") from exc
    finally:
        document.close()
    return pages

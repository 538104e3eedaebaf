"""Leaf files turned into what verification reads: PDF, JPEG or PNG, checked against the limits.

Images are measured from their header before any pixel is decoded (PIL opens
lazily), so a 50,000 × 50,000 PNG of a few hundred bytes costs nothing.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from intake import cms, sniff
from intake.filenames import with_extension

log = logging.getLogger(__name__)
# pypdf's warnings about a damaged file quote bytes of it (attachment content
# must not reach the logs); its errors still do, as exceptions we catch.
logging.getLogger("pypdf").setLevel(logging.ERROR)

register_heif_opener()

_CONVERTED_TO_PNG = {sniff.GIF, sniff.WEBP, sniff.BMP, sniff.TIFF}
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}
MAX_SIGNATURE_FIELDS = 500
# A PNG over this many pixels is checked chunk by chunk (every CRC, IDAT included)
# instead of decoded: decoding a 60 Mpx one costs ~230 MB for a yes/no answer.
STRICT_DECODE_MAX_PIXELS = 16_000_000


@dataclass(frozen=True)
class Document:
    filename: str
    content_type: str
    data: bytes
    suffix: str = ""  # added to the origin: "/page:2" for a page split out of a TIFF
    rejected: str | None = None
    page_count: int | None = None
    signer_certificate: bytes | None = None  # of a signed PDF
    signed: bool = False
    notes: tuple[str, ...] = ()  # for the clerk: accepted, but worth knowing (a PDF with JavaScript)


def normalise(name: str, content_type: str, data: bytes, *, max_pixels: int, max_pages: int, max_output: int) -> list[Document]:
    """The document(s) in one file: a PDF checked, an image measured and converted when needed.

    max_output bounds the bytes conversions may produce (the message's
    remaining unpacked budget): pages past it are rejected, not converted.
    """
    if content_type == sniff.PDF:
        return [_pdf(name, data, max_pages)]
    if content_type in (sniff.JPEG, sniff.PNG, sniff.HEIF) or content_type in _CONVERTED_TO_PNG:
        return _image(name, content_type, data, max_pixels, max_pages, max_output)
    return [Document(name, content_type, data, rejected=f"unsupported file type ({content_type})")]


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header alone, or None if it is not an image Pillow knows."""
    try:
        with _opened(data, max_pixels=0) as im:
            return im.size
    except Exception:  # noqa: BLE001
        return None


def _opened(data: bytes, max_pixels: int):
    # Pillow's own bomb guard (a DecompressionBombError at twice its limit)
    # must never be stricter than the configured limit, which _too_big checks
    # exactly; so its limit is raised to ours when ours is higher, never lowered
    # (a process-wide setting other threads may rely on).
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels
    return Image.open(io.BytesIO(data))


def _too_big(size: tuple[int, int], max_pixels: int) -> str | None:
    width, height = size
    if width * height > max_pixels:
        return f"image: too many pixels ({width}x{height})"
    return None


def _image(name: str, content_type: str, data: bytes, max_pixels: int, max_pages: int, max_output: int) -> list[Document]:
    try:
        im = _opened(data, max_pixels)
    except Image.DecompressionBombError:
        return [Document(name, content_type, data, rejected="image: too many pixels")]
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        log.debug("image not readable: %s", type(exc).__name__)
        return [Document(name, content_type, data, rejected="image: unreadable or corrupt")]
    try:
        frames = getattr(im, "n_frames", 1) if content_type == sniff.TIFF else 1
        if frames > max_pages:
            return [Document(name, content_type, data, rejected=f"tiff: too many pages ({frames})")]
        if reason := _too_big(im.size, max_pixels):
            return [Document(name, content_type, data, rejected=reason)]
        if content_type in (sniff.JPEG, sniff.PNG):
            if not _ends_whole(content_type, data):
                _load_strictly(im)  # a truncated photo fails here, not in the OCR worker
            return [Document(name, content_type, data, page_count=1, notes=_reduced_note(im.size))]
        if content_type == sniff.HEIF:
            return [Document(with_extension(name, "jpg"), sniff.JPEG, _to_jpeg(im), page_count=1)]
        pages, produced = [], 0
        for index in range(frames):
            im.seek(index)
            if reason := _too_big(im.size, max_pixels):
                return [Document(name, content_type, data, rejected=reason)]
            suffix, tag = (f"-p{index + 1}", f"/page:{index + 1}") if frames > 1 else ("", "")
            page_name = with_extension(name, "png", suffix)
            if produced >= max_output:
                pages.append(Document(page_name, sniff.PNG, b"", suffix=tag, rejected="unpacked size limit reached"))
                continue
            page = _to_png(im)
            produced += len(page)
            pages.append(Document(page_name, sniff.PNG, page, suffix=tag, page_count=1))
        return pages
    except Image.DecompressionBombError:
        return [Document(name, content_type, data, rejected="image: too many pixels")]
    except Exception as exc:  # noqa: BLE001 - decoders raise OSError, ValueError, SyntaxError, struct.error …
        log.debug("image not decodable: %s", type(exc).__name__)
        return [Document(name, content_type, data, rejected="image: unreadable or corrupt")]
    finally:
        im.close()


def _reduced_note(size: tuple[int, int]) -> tuple[str, ...]:
    """For the clerk: verification reads pictures over its decoding budget (verification/images/budget.py,
    the same 16 Mpx) at a reduced resolution; the original is kept whole."""
    width, height = size
    if width * height <= STRICT_DECODE_MAX_PIXELS:
        return ()
    return (f"image decoded reduced for reading ({width}x{height} px, over 16 Mpx; the original is kept)",)


def _to_jpeg(im: Image.Image) -> bytes:
    # Upright pixels and no EXIF: downstream needs no orientation logic, and
    # the phone's GPS position is not copied into our storage.
    frame = ImageOps.exif_transpose(im).convert("RGB")
    out = io.BytesIO()
    frame.save(out, "JPEG", quality=92)
    return out.getvalue()


def _to_png(im: Image.Image) -> bytes:
    frame = im if im.mode in _PNG_MODES else im.convert("RGBA" if "A" in im.mode else "RGB")
    out = io.BytesIO()
    # The fastest deflate level: ~8x less CPU than the default for a 200 dpi page, ~25 % larger.
    frame.save(out, "PNG", compress_level=1)
    return out.getvalue()


def _pdf(name: str, data: bytes, max_pages: int) -> Document:
    from pypdf import PdfReader

    # A PDF cut short in transit still opens in pypdf's lenient mode, with
    # pages missing: the end-of-file marker is what tells it was truncated.
    if b"%%EOF" not in data[-4096:]:
        return Document(name, sniff.PDF, data, rejected="pdf: corrupt or truncated")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return Document(name, sniff.PDF, data, rejected="pdf: password-protected")
        pages = len(reader.pages)
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on broken files
        log.debug("pdf not readable: %s", type(exc).__name__)
        return Document(name, sniff.PDF, data, rejected="pdf: corrupt or truncated")
    if pages == 0:
        return Document(name, sniff.PDF, data, rejected="pdf: no pages", page_count=0)
    if pages > max_pages:
        return Document(name, sniff.PDF, data, rejected=f"pdf: too many pages ({pages})", page_count=pages)
    signed, certificate = _pdf_signature(reader)
    return Document(name, sniff.PDF, data, page_count=pages, signed=signed, signer_certificate=certificate,
                    notes=_pdf_active_content(reader, data))


def _pdf_active_content(reader, data: bytes) -> tuple[str, ...]:
    """What a PDF could do when opened: scripts, embedded files, an action on opening.

    Nothing of it is run or opened here (pdfium and pypdf only read pages),
    but such a PDF is unusual for a scanned form: it is kept, and the clerk
    who opens the original is told. The catalogue's name trees and actions
    are read first; the raw bytes are searched too, for objects in no tree.
    """
    notes: list[str] = []
    javascript = embedded = opens = False
    try:
        root = reader.trailer["/Root"].get_object()
        names = root.get("/Names")
        names = names.get_object() if names is not None else {}
        javascript = "/JavaScript" in names
        embedded = "/EmbeddedFiles" in names
        action = root.get("/OpenAction")
        action = action.get_object() if action is not None else None
        if hasattr(action, "get"):  # a dictionary (an action), not an array (a destination)
            opens = True
            javascript = javascript or action.get("/S") == "/JavaScript" or "/JS" in action
        opens = opens or "/AA" in root
    except Exception as exc:  # noqa: BLE001 - a damaged catalogue: the byte search below still answers
        log.debug("pdf catalogue not readable: %s", type(exc).__name__)
    javascript = javascript or b"/JavaScript" in data or b"/JS " in data or b"/JS(" in data or b"/JS<" in data
    embedded = embedded or b"/EmbeddedFile" in data
    if javascript:
        notes.append("pdf contains JavaScript (not run)")
    if embedded:
        notes.append("pdf has embedded files (not opened)")
    if opens and not javascript:
        notes.append("pdf opens an action when opened (not run)")
    return tuple(notes)


def _pdf_signature(reader) -> tuple[bool, bytes | None]:
    """Whether a signature field holds a value (PAdES), and its signer certificate."""
    try:
        form = reader.trailer["/Root"].get("/AcroForm")
        form = form.get_object() if form is not None else None
        if not form:
            return False, None
        todo, seen = list(form.get("/Fields", [])), 0
        while todo and seen < MAX_SIGNATURE_FIELDS:
            field = todo.pop().get_object()
            seen += 1
            todo.extend(field.get("/Kids", []))
            value = field.get("/V")
            if field.get("/FT") == "/Sig" and value is not None:
                contents = value.get_object().get("/Contents")
                certificate = None
                if contents:
                    try:
                        # The zero padding after the DER is ignored by the reader.
                        certificate = cms.read_signed_data(bytes(contents)).signer_certificate
                    except cms.CmsError:
                        pass
                return True, certificate
    except Exception as exc:  # noqa: BLE001
        log.debug("pdf signature not readable: %s", type(exc).__name__)
    return False, None


def _ends_whole(content_type: str, data: bytes) -> bool:
    """Whether a JPEG ends with its end marker (a camera may pad the file with zeros).

    Truncation in transit cuts the end off, and such a file is decoded in full
    to be refused (`_load_strictly`); a JPEG that ends whole is not decoded
    here (~2.5 ms a phone photo, on top of the reader's own decoding): damage
    inside one decodes with warnings, not errors, nine times out of ten
    anyway. A PNG is always decoded: its checksums find damage anywhere.
    """
    return content_type == sniff.JPEG and data[-64:].rstrip(b"\0").endswith(b"\xff\xd9")


def _load_strictly(im) -> None:
    """Decode the whole file, refusing a truncated one whatever the process-wide setting.

    Importing face_recognition sets Pillow's LOAD_TRUNCATED_IMAGES for the
    whole process; intake must still tell a truncated photo from a whole one.
    """
    from PIL import ImageFile

    if im.format == "PNG" and im.width * im.height > STRICT_DECODE_MAX_PIXELS:
        im.verify()  # raises on a bad CRC or a file cut short; im is not usable afterwards
        return
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    if im.format == "JPEG":
        # Every byte is still decoded, at an eighth of the size: a third of the CPU.
        im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
    try:
        im.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved

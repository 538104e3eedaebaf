"""What a file really is, from its first bytes; the declared Content-Type is never trusted.

Citizens' mailers label scans `application/octet-stream`, name PDFs `.jpg`
and send HEIC photos as `image/jpeg`, so every decision downstream keys on
the type sniffed here.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zipfile

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
GIF = "image/gif"
TIFF = "image/tiff"
HEIF = "image/heif"
WEBP = "image/webp"
BMP = "image/bmp"
ZIP = "application/zip"
TNEF = "application/vnd.ms-tnef"
PKCS7 = "application/pkcs7-mime"
EML = "message/rfc822"
OFFICE = "application/vnd.openxmlformats-officedocument"
OPENDOCUMENT = "application/vnd.oasis.opendocument"
EXECUTABLE = "application/x-msdownload"
TEXT = "text/plain"
UNKNOWN = "application/octet-stream"

# The file types the verification stage reads; everything else is rejected.
DOCUMENT_TYPES = frozenset({PDF, JPEG, PNG})

EXTENSIONS = {
    PDF: "pdf", JPEG: "jpg", PNG: "png", GIF: "gif", TIFF: "tif", HEIF: "heic", WEBP: "webp",
    BMP: "bmp", ZIP: "zip", TNEF: "dat", PKCS7: "p7m", EML: "eml", TEXT: "txt",
}

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# DER: OBJECT IDENTIFIER 1.2.840.113549.1.7.2 (id-signedData), 1.2.840.113549.1.7.3 (envelopedData)
_OID_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")
_OID_ENVELOPED_DATA = bytes.fromhex("06092a864886f70d010703")
_PEM_RE = re.compile(rb"-----BEGIN (?:PKCS7|CMS|PKCS #7 SIGNED DATA)-----(.*?)-----END", re.S)
_BASE64_RE = re.compile(rb"^[A-Za-z0-9+/=\r\n]+$")
_HEADER_LINE_RE = re.compile(rb"^[!-9;-~]+:[ \t]?[^\r\n]*\r?\n")  # RFC 5322 field-name: value
_MAIL_FIELDS_RE = re.compile(rb"^(from|date|subject|message-id|received|return-path):", re.I | re.M)


def sniff(data: bytes) -> str:
    """The MIME type of `data`, from its magic bytes alone."""
    head = data[:64]
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    if head[4:8] == b"ftyp" and _is_heif(data):
        return HEIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:2] == b"BM" and len(data) > 26:
        return BMP
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _zip_kind(data)
    if head[:4] == b"\x78\x9f\x3e\x22":
        return TNEF
    if head[:2] == b"MZ":
        return EXECUTABLE
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "application/x-ole-storage"  # .doc, .xls, .msg
    if pkcs7_der(data) is not None:
        return PKCS7  # before the loose PDF test below: a .p7m holds a PDF in its first bytes
    if b"%PDF-" in data[:1024]:
        return PDF  # readers accept junk before the header; so do we
    if looks_like_email(data):
        return EML
    if _is_text(data):
        return TEXT
    return UNKNOWN


def _is_heif(data: bytes) -> bool:
    size = int.from_bytes(data[:4], "big")
    box = data[8 : min(max(size, 16), 256)]
    brands = {box[i : i + 4] for i in range(0, len(box), 4)} - {b"\x00\x00\x00\x00"}
    # An AVIF file also lists mif1; it is not HEIC and pillow-heif does not read it.
    return bool(brands & _HEIF_BRANDS) and not brands & {b"avif", b"avis"}


def _zip_kind(data: bytes) -> str:
    """A zip, or an office document that happens to be a zip (docx, odt …)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist()[:200])
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return ZIP  # unpack() reports it as corrupt
    if "[Content_Types].xml" in names:
        return OFFICE
    if "mimetype" in names and "META-INF/manifest.xml" in names:
        return OPENDOCUMENT
    return ZIP


def pkcs7_der(data: bytes) -> bytes | None:
    """The DER of a CMS signed/enveloped structure, whether sent as DER, PEM or bare base64.

    Italian signing tools write .p7m both ways: DER (the standard) and base64
    without armour (some web signing services).
    """
    if data[:1] == b"\x30" and (_OID_SIGNED_DATA in data[:32] or _OID_ENVELOPED_DATA in data[:32]):
        return data
    head = data[:4096].lstrip()
    if head.startswith(b"-----BEGIN"):
        match = _PEM_RE.search(data)
        if match:
            return _pkcs7_from_base64(match.group(1))
        return None
    if head[:3] in (b"MII", b"MIA") and _BASE64_RE.match(head):
        return _pkcs7_from_base64(data)
    return None


def _pkcs7_from_base64(text: bytes) -> bytes | None:
    try:
        der = base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if der[:1] == b"\x30" and (_OID_SIGNED_DATA in der[:32] or _OID_ENVELOPED_DATA in der[:32]):
        return der
    return None


def is_enveloped(der: bytes) -> bool:
    return _OID_ENVELOPED_DATA in der[:32]


def looks_like_email(data: bytes) -> bool:
    """RFC 5322 at a glance: a header line first, and a field every real mail carries."""
    head = data[:16384]
    if not _HEADER_LINE_RE.match(head):
        return False
    end = re.search(rb"\r?\n\r?\n", head)
    block = head[: end.start() + 1] if end else head
    return _MAIL_FIELDS_RE.search(block) is not None


def _is_text(data: bytes) -> bool:
    sample = data[:4096]
    if not sample or b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the sample's end
            return False
    return True


def extension(content_type: str) -> str:
    return EXTENSIONS.get(content_type, "bin")

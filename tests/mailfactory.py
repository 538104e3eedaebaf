"""E-mails as citizens' mailers really send them, built with the stdlib `email` package.

Everything is deterministic by seed, so a failing case can be regenerated and
opened in a mail client: `Path("x.eml").write_bytes(mailfactory.mail(...))`.

    raw = mail(attachment(jpeg(seed=1), "fronte.jpg"), text="Buongiorno", seed=7)

Files:      jpeg png gif tiff heic pdf truncated_pdf huge_png tracking_pixel
Containers: zip_archive zip_bomb tnef p7m smime_opaque smime_signed
Parts:      attachment inline_image forwarded eml_attachment
Messages:   mail (plus auto_reply / dsn for the auto-reply tests)
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import random
import struct
import zipfile
import zlib
from email import encoders, policy
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

from PIL import Image

SENDER = "Mario Rossi <mario.rossi@example.org>"
OFFICE = "spazioregione.mi@example.org"
# compat32 writes the headers built here verbatim (policy.SMTP would re-fold them).
_SMTP = policy.compat32.clone(linesep="\r\n")

# ---- files ----------------------------------------------------------------------


def _noise_image(width: int, height: int, seed: int, mode: str = "RGB") -> Image.Image:
    """Noisy pixels: they do not compress, so a 100×80 image is well over the 2 KB logo threshold."""
    rng = random.Random(seed)
    channels = len(mode)
    return Image.frombytes(mode, (width, height), rng.randbytes(width * height * channels))


def _save(im: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def jpeg(width: int = 120, height: int = 90, seed: int = 0) -> bytes:
    return _save(_noise_image(width, height, seed), "JPEG", quality=90)


def png(width: int = 120, height: int = 90, seed: int = 0) -> bytes:
    return _save(_noise_image(width, height, seed), "PNG")


def small_logo_png(width: int = 40, height: int = 20) -> bytes:
    """A flat-colour logo: a few hundred bytes."""
    return _save(Image.new("RGB", (width, height), (0, 90, 160)), "PNG")


def tracking_pixel() -> bytes:
    return _save(Image.new("RGB", (1, 1), (255, 255, 255)), "GIF")


def gif(width: int = 80, height: int = 60, seed: int = 0) -> bytes:
    return _save(_noise_image(width, height, seed).convert("P"), "GIF")


def tiff(pages: int = 3, width: int = 100, height: int = 140, seed: int = 0) -> bytes:
    frames = [_noise_image(width, height, seed + i, "L") for i in range(pages)]
    return _save(frames[0], "TIFF", save_all=True, append_images=frames[1:], compression="raw")


def heic(width: int = 96, height: int = 64, seed: int = 0) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return _save(_noise_image(width, height, seed), "HEIF", quality=60)


def huge_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid PNG header declaring width×height pixels, with a tiny IDAT: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def pdf(pages: int = 1, seed: int = 0) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": f"Modulo {seed}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def truncated_pdf(pages: int = 2) -> bytes:
    data = pdf(pages)
    return data[: len(data) * 2 // 3]


def docx_like() -> bytes:
    return zip_archive({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def exe() -> bytes:
    return b"MZ\x90\x00" + bytes(200)


# ---- containers -------------------------------------------------------------------


def zip_archive(members: dict[str, bytes], *, utf8_names: bool = True, encrypted: set[str] = frozenset()) -> bytes:
    """A zip of `members`; names in `encrypted` get the encryption flag (their data is not really encrypted)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 2, 3, 4, 6))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    data = out.getvalue()
    for name in encrypted:
        data = _set_zip_flag(data, name.encode(), 0x1)
    return data


def _set_zip_flag(data: bytes, name: bytes, flag: int) -> bytes:
    """Set a general-purpose flag bit on a member in both its local and central headers."""
    buf = bytearray(data)
    for signature, flag_offset, name_len_offset, name_offset in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
        start = 0
        while (pos := buf.find(signature, start)) >= 0:
            length = struct.unpack_from("<H", buf, pos + name_len_offset)[0]
            if bytes(buf[pos + name_offset : pos + name_offset + length]) == name:
                value = struct.unpack_from("<H", buf, pos + flag_offset)[0] | flag
                struct.pack_into("<H", buf, pos + flag_offset, value)
            start = pos + 4
    return bytes(buf)


def zip_bomb(levels: int = 3, zeros: int = 8 * 1024 * 1024) -> bytes:
    """`levels` zips nested in each other around `zeros` zero bytes: a few KB that expand past the limits."""
    data = zip_archive({"zeros.bin": bytes(zeros)})
    for level in range(1, levels):
        data = zip_archive({f"livello{level}.zip": data})
    return data


def tnef(files: list[tuple[str, bytes]], body: str | None = "Vedere allegati.") -> bytes:
    """A winmail.dat per MS-OXTNEF: message attributes, then per file attAttachRendData,
    attAttachTitle (8.3 name), attAttachData and attAttachment with PR_ATTACH_LONG_FILENAME."""

    def attribute(level: int, attr_id: int, attr_type: int, data: bytes) -> bytes:
        header = struct.pack("<BHHI", level, attr_id, attr_type, len(data))
        return header + data + struct.pack("<H", sum(data) & 0xFFFF)

    def mapi_unicode(prop_id: int, text: str) -> bytes:
        value = text.encode("utf-16-le") + b"\x00\x00"
        return struct.pack("<HHII", 0x001F, prop_id, 1, len(value)) + value + bytes(-len(value) % 4)

    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += attribute(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # attOemCodepage
    out += attribute(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")  # attMessageClass
    if body is not None:
        out += attribute(1, 0x800C, 0x0002, body.encode("cp1252"))  # attBody
    for name, data in files:
        stem, _, ext = name.rpartition(".")
        short = f"{stem[:8]}.{ext[:3]}".upper().encode("ascii", "replace") + b"\x00"  # the 8.3 name
        out += attribute(2, 0x9002, 0x0006, struct.pack("<IIIHH", 1, 0xFFFFFFFF, 0, 0, 0) + bytes(4))  # attAttachRendData
        out += attribute(2, 0x8010, 0x0001, short)  # attAttachTitle
        out += attribute(2, 0x800F, 0x0006, data)  # attAttachData
        out += attribute(2, 0x9005, 0x0006, struct.pack("<I", 1) + mapi_unicode(0x3707, name))  # attAttachment
    return out


# A fixed 1024-bit RSA test key: RSA PKCS#1 v1.5 signatures are deterministic
# (ECDSA ones are not) and cryptography's PKCS7 builder takes only RSA or EC keys.
_TEST_P = 0xF750FF3DF0713003275A35ADEC465BA0C89238F8D236CC614C4A32EF8B6CFBF9EE3CE2E45BBABB7FCE43CB93457EDF313ADDF7B391D594CF278CC5032E9A82E7
_TEST_Q = 0xE64CDD599D841DB6C047DB84513FE870185737B42FDA3B4237AF5EF4FA026D92BA557D3901339BF20EBA738FDD74BB2D085093176CE4FA9DF962CFE41B6CB54B


@functools.lru_cache(maxsize=None)
def _test_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    p, q, e = _TEST_P, _TEST_Q, 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(e, p * q)
    return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), public).private_key()


@functools.lru_cache(maxsize=None)
def signer(seed: int = 0, common_name: str = "ROSSI MARIO"):
    """A self-signed certificate (serial and name from the seed) and its RSA key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = _test_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name), x509.NameAttribute(NameOID.SERIAL_NUMBER, f"TINIT-RSSMRA80A01F205{seed % 10}")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(4242 + seed)
        .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
        .not_valid_after(dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _signed_der(content: bytes, seed: int, detached: bool) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    cert, key = signer(seed)
    # NoAttributes: no signing-time attribute, so the same seed gives the same bytes.
    # Real CAdES files carry signed attributes; the reader does not depend on them.
    options = [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.NoAttributes]
    if detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    return pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(cert, key, hashes.SHA256()).sign(Encoding.DER, options)


def p7m(content: bytes, seed: int = 0) -> bytes:
    """A CAdES-style .p7m: DER SignedData with the content inside (not detached)."""
    return _signed_der(content, seed, detached=False)


def signer_der(seed: int = 0) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return signer(seed)[0].public_bytes(Encoding.DER)


def smime_signed(content: MIMEBase, seed: int = 0) -> MIMEMultipart:
    """multipart/signed (RFC 8551): the content part and a detached application/pkcs7-signature."""
    signed = MIMEMultipart("signed", protocol="application/pkcs7-signature", micalg="sha-256")
    _fix_boundaries(content, f"s{seed}")
    signed.attach(content)
    signature = MIMEBase("application", "pkcs7-signature", name="smime.p7s")
    signature.set_payload(_signed_der(content.as_bytes(policy=_SMTP), seed, detached=True))
    encoders.encode_base64(signature)
    signature.add_header("Content-Disposition", "attachment", filename="smime.p7s")
    signed.attach(signature)
    return signed


def smime_opaque(content: MIMEBase, seed: int = 0) -> MIMEBase:
    """application/pkcs7-mime; smime-type=signed-data: the MIME content inside the signature."""
    part = MIMEBase("application", "pkcs7-mime", **{"smime-type": "signed-data", "name": "smime.p7m"})
    _fix_boundaries(content, f"o{seed}")
    part.set_payload(_signed_der(content.as_bytes(policy=_SMTP), seed, detached=False))
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename="smime.p7m")
    return part


# ---- parts ----------------------------------------------------------------------------


def attachment(
    data: bytes,
    filename: str | None = None,
    ctype: str = "application/octet-stream",
    *,
    disposition: str | None = "attachment",
    name_style: str = "rfc2231",
    cid: str | None = None,
) -> MIMEBase:
    """A base64 part. name_style: rfc2231 (the standard), rfc2047 (Outlook, Gmail), none.

    For raw 8-bit names, build with an ASCII placeholder and replace it in the bytes.
    """
    maintype, subtype = ctype.split("/", 1)
    part = MIMEBase(maintype, subtype)
    part.set_payload(data)
    encoders.encode_base64(part)
    if filename is not None and name_style != "none":
        if name_style == "rfc2231":
            part.set_param("name", ("utf-8", "", filename))
            if disposition:
                part.add_header("Content-Disposition", disposition, filename=("utf-8", "", filename))
        elif name_style == "rfc2047":
            encoded = Header(filename, "utf-8").encode()
            part.set_param("name", encoded)
            if disposition:
                part["Content-Disposition"] = f'{disposition}; filename="{encoded}"'
        else:
            raise ValueError(name_style)
    elif disposition:
        part["Content-Disposition"] = disposition
    if cid:
        part["Content-ID"] = f"<{cid}>"
    return part


def inline_image(data: bytes, cid: str, ctype: str = "image/png") -> MIMEBase:
    """An image shown by the HTML body (Content-ID, no Content-Disposition, no name)."""
    return attachment(data, None, ctype, disposition=None, cid=cid)


def forwarded(inner: bytes) -> MIMEMessage:
    """A forwarded mail as a message/rfc822 part."""
    from email import message_from_bytes

    part = MIMEMessage(message_from_bytes(inner, policy=policy.compat32))
    part["Content-Disposition"] = "inline"
    return part


def eml_attachment(inner: bytes, filename: str = "messaggio.eml") -> MIMEBase:
    """A saved mail attached as a file (application/octet-stream, not message/rfc822)."""
    return attachment(inner, filename, "application/octet-stream")


# ---- messages ---------------------------------------------------------------------------


def headers_for(seed: int, subject: str, sender: str) -> dict[str, str]:
    date = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))) + dt.timedelta(minutes=seed)
    return {
        "From": sender,
        "To": OFFICE,
        "Subject": subject,
        "Date": format_datetime(date),
        "Message-ID": f"<mail-{seed}@example.org>",
        "MIME-Version": "1.0",
    }


def mail(
    *parts: MIMEBase,
    text: str | None = "Buongiorno, allego i documenti per i codici PIN/PUK.\nMario Rossi",
    html: str | None = None,
    subject: str = "Richiesta codici PIN/PUK",
    sender: str = SENDER,
    seed: int = 0,
    extra_headers: dict[str, str] | None = None,
    message_id: bool = True,
    root: MIMEBase | None = None,
) -> bytes:
    """A complete message. With html and inline images: multipart/related inside multipart/mixed,
    as Outlook and Thunderbird build them. `root` replaces the whole body with one given part."""
    if root is not None:
        msg = root
    else:
        msg = MIMEMultipart("mixed")
        body: MIMEBase
        if html is not None and text is not None:
            body = MIMEMultipart("alternative")
            body.attach(MIMEText(text, "plain", "utf-8"))
            body.attach(MIMEText(html, "html", "utf-8"))
        elif html is not None:
            body = MIMEText(html, "html", "utf-8")
        else:
            body = MIMEText(text or "", "plain", "utf-8")
        inline = [p for p in parts if p.get("Content-ID") and not p.get("Content-Disposition")]
        if inline:
            related = MIMEMultipart("related")
            related.attach(body)
            for p in inline:
                related.attach(p)
            body = related
        msg.attach(body)
        for p in parts:
            if p not in inline:
                msg.attach(p)
    for name, value in headers_for(seed, subject, sender).items():
        if name == "Message-ID" and not message_id:
            continue
        if name not in msg:
            msg[name] = value if value.isascii() else Header(value, "utf-8").encode()
    for name, value in (extra_headers or {}).items():
        msg[name] = value
    _fix_boundaries(msg, str(seed))
    return msg.as_bytes(policy=_SMTP)


def _fix_boundaries(root: MIMEBase, tag: str) -> None:
    """Boundaries from the seed, not from `random`: the same seed gives the same bytes."""
    for number, part in enumerate(p for p in root.walk() if p.is_multipart() and p.get_content_maintype() == "multipart"):
        if part.get_boundary() is None:
            part.set_boundary(f"==sportello-{tag}-{number}==")


def simple(seed: int = 0, **kwargs) -> bytes:
    """A one-part text mail."""
    return mail(root=MIMEText(kwargs.pop("text", "Buongiorno."), "plain", "utf-8"), seed=seed, **kwargs)


def dsn(original: bytes, seed: int = 0) -> bytes:
    """A delivery status notification (RFC 3464) returning `original`."""
    report = MIMEMultipart("report", **{"report-type": "delivery-status"})
    report.attach(MIMEText("Il messaggio non è stato recapitato.", "plain", "utf-8"))
    status = MIMEBase("message", "delivery-status")
    from email import message_from_string

    status.set_payload(
        [
            message_from_string("Reporting-MTA: dns; mx.example.org\n\n"),
            message_from_string("Final-Recipient: rfc822; nessuno@example.org\nAction: failed\nStatus: 5.1.1\n\n"),
        ]
    )
    report.attach(status)
    report.attach(forwarded(original))
    return mail(root=report, subject="Delivery Status Notification (Failure)", sender="Mail Delivery Subsystem <mailer-daemon@example.org>", seed=seed)


def pec_envelope(original: bytes, seed: int = 0) -> bytes:
    """A PEC transport envelope: the provider's text, daticert.xml and postacert.eml, signed by the provider.

    From is the provider; Reply-To is the citizen (DPCM 2 novembre 2005, regole tecniche PEC).
    """
    content = MIMEMultipart("mixed")
    content.attach(MIMEText("Messaggio di posta certificata. Il giorno 02/03/2026 alle ore 09:00 il messaggio è stato inviato.", "plain", "utf-8"))
    content.attach(attachment(b"<postacert tipo='posta-certificata'/>", "daticert.xml", "application/xml"))
    content.attach(forwarded(original))
    content.get_payload()[-1].replace_header("Content-Disposition", 'attachment; filename="postacert.eml"')
    envelope = smime_signed(content, seed=99)
    return mail(
        root=envelope,
        subject="POSTA CERTIFICATA: Richiesta codici PIN/PUK",
        sender='"Per conto di: mario.rossi@pec.example.org" <posta-certificata@pec.provider.example>',
        seed=seed,
        extra_headers={"Reply-To": "mario.rossi@pec.example.org", "X-Trasporto": "posta-certificata", "X-Riferimento-Message-ID": f"<mail-{seed}@example.org>"},
    )

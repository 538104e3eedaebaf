"""intake.mime: one raw e-mail → ParsedMessage with typed, checked attachments."""

from __future__ import annotations

import hashlib
import io
import random
import time
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from intake.mime import ExtractedAttachment, Limits, NotAnEmail, ParsedMessage, body_sha256, generated_message_id, parse_message
from tests import mailfactory as mf

JPEG = mf.jpeg(seed=1)
PDF = mf.pdf(pages=2)


def parse(raw: bytes, **limits) -> ParsedMessage:
    return parse_message(raw, Limits(**limits))


def only(msg: ParsedMessage) -> ExtractedAttachment:
    assert len(msg.attachments) == 1, [(a.origin, a.filename, a.rejected) for a in msg.attachments]
    return msg.attachments[0]


def by_name(msg: ParsedMessage) -> dict[str, ExtractedAttachment]:
    return {a.filename: a for a in msg.attachments}


# ---- headers and body ------------------------------------------------------------


def test_headers_are_decoded_and_normalised():
    raw = mf.mail(
        subject="Richiesta codici – Carta d'identità",
        sender="=?utf-8?q?Mar=C3=ACa_Rossi?= <Maria.Rossi@Example.ORG>",
        extra_headers={
            "In-Reply-To": "<SR-MI-2026-000042.1@sportello.example>",
            "References": "<a@x.example>\r\n <SR-MI-2026-000042.1@sportello.example>",
            "Cc": "altro@example.org",
        },
        seed=4,
    )
    msg = parse(raw)
    assert msg.message_id == "<mail-4@example.org>"
    assert msg.sender == "maria.rossi@example.org"
    assert msg.sender_name == "Marìa Rossi"
    assert msg.subject == "Richiesta codici – Carta d'identità"
    assert msg.date == datetime(2026, 3, 2, 9, 4, tzinfo=timezone(timedelta(hours=1)))
    assert msg.to == ["spazioregione.mi@example.org"]
    assert msg.in_reply_to == "<SR-MI-2026-000042.1@sportello.example>"
    assert msg.references == ["<a@x.example>", "<SR-MI-2026-000042.1@sportello.example>"]
    assert msg.text_body.startswith("Buongiorno, allego i documenti")
    assert msg.attachments == [] and msg.defects == []
    assert msg.header("CC") == "altro@example.org"


def test_html_only_body_becomes_text_without_tags():
    html = "<html><head><style>p{color:red}</style></head><body><p>Buongiorno,&nbsp;allego</p><script>x()</script><div>il modulo &amp; la CIE</div></body></html>"
    msg = parse(mf.mail(html=html, text=None))
    assert msg.text_body == "Buongiorno, allego\n\nil modulo & la CIE"


def test_plain_text_is_preferred_over_its_html_alternative():
    msg = parse(mf.mail(text="testo semplice", html="<p>testo <b>ricco</b></p>"))
    assert msg.text_body == "testo semplice"


def test_forwarded_text_is_not_the_body():
    inner = mf.mail(text="testo inoltrato SR-MI-2026-000001", seed=2)
    msg = parse(mf.mail(mf.forwarded(inner), text="testo mio"))
    assert msg.text_body == "testo mio"


def test_message_without_message_id_has_none_and_a_stable_generated_one():
    raw = mf.mail(message_id=False)
    assert parse(raw).message_id is None
    generated = generated_message_id(raw)
    assert generated == f"<{hashlib.sha256(raw).hexdigest()}@sportello.invalid>"
    assert generated == generated_message_id(bytes(raw))
    assert generated != generated_message_id(raw + b"\r\n")


def test_body_hash_ignores_trace_headers_and_line_endings():
    raw = mf.mail(mf.attachment(JPEG, "a.jpg"))
    relayed = b"Received: from mx2.example by imap.example; Mon, 2 Mar 2026 09:01:00 +0100\r\nDelivered-To: spazioregione.mb@example.org\r\n" + raw
    maildir = raw.replace(b"\r\n", b"\n")
    assert body_sha256(raw) == body_sha256(relayed) == body_sha256(maildir)
    assert body_sha256(raw) != body_sha256(mf.mail(mf.attachment(mf.jpeg(seed=2), "a.jpg")))


def test_an_mbox_from_line_is_accepted():
    msg = parse(b"From mario@example.org Mon Mar  2 09:00:00 2026\n" + mf.simple(text="ciao"))
    assert msg.sender == "mario.rossi@example.org"
    assert msg.text_body == "ciao"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n",
        mf.pdf(),
        JPEG,
        mf.png(),
        bytes(random.Random(1).randbytes(4096)),
        b"Nota: questo non e' un messaggio\n\ncorpo\n",  # header-like first line, no mail field
        b"\r\nFrom: a@b.example\r\nSubject: x\r\n\r\nbody",  # first line is not a header
    ],
    ids=["empty", "blank", "pdf", "jpeg", "png", "garbage", "text", "leading-blank-line"],
)
def test_input_that_is_not_an_email_raises_not_an_email(raw):
    with pytest.raises(NotAnEmail):
        parse(raw)


# ---- filenames -------------------------------------------------------------------


@pytest.mark.parametrize("style", ["rfc2231", "rfc2047"])
def test_accented_filenames_are_decoded(style):
    msg = parse(mf.mail(mf.attachment(JPEG, "Carta d'identità fronte.jpg", "image/jpeg", name_style=style)))
    att = only(msg)
    assert att.filename == "Carta d'identità fronte.jpg"
    assert att.content_type == "image/jpeg" and att.data == JPEG and att.origin == "2"


def test_nfd_filenames_become_nfc():
    nfd = unicodedata.normalize("NFD", "identità.jpg")
    assert nfd != "identità.jpg"
    att = only(parse(mf.mail(mf.attachment(JPEG, nfd, "image/jpeg"))))
    assert att.filename == "identità.jpg"


def test_raw_8bit_latin1_filename_is_recovered():
    raw = mf.mail(mf.attachment(JPEG, "identitX.jpg", "image/jpeg", name_style="rfc2047"))
    raw = raw.replace(b"=?utf-8?q?identitX=2Ejpg?=", b"identit\xe0.jpg").replace(b"identitX.jpg", b"identit\xe0.jpg")
    assert b"identit\xe0.jpg" in raw
    assert only(parse(raw)).filename == "identità.jpg"


@pytest.mark.parametrize("name", ["..\\..\\x.jpg", "../../x.jpg", "C:\\Users\\Mario\\x.jpg", "/etc/x.jpg"])
def test_path_components_are_stripped(name):
    att = only(parse(mf.mail(mf.attachment(JPEG, name, "image/jpeg"))))
    assert att.filename == "x.jpg"


def test_unquoted_backslash_filename_keeps_its_last_component():
    raw = mf.mail(mf.attachment(JPEG, "PLACEHOLDER", "image/jpeg", name_style="none", disposition=None))
    raw = raw.replace(b"Content-Type: image/jpeg", b"Content-Type: image/jpeg\r\nContent-Disposition: attachment; filename=..\\..\\x.jpg", 1)
    assert only(parse(raw)).filename == "x.jpg"


def test_control_and_bidi_characters_are_removed():
    att = only(parse(mf.mail(mf.attachment(mf.exe(), "foto\u202egpj.exe\x07", "image/jpeg"))))
    assert att.filename == "fotogpj.exe"
    assert att.rejected and "x-msdownload" in att.rejected


def test_missing_filenames_are_synthesised_from_the_sniffed_type():
    msg = parse(mf.mail(mf.attachment(PDF, None, "application/octet-stream"), mf.attachment(JPEG, None, "application/octet-stream")))
    assert [a.filename for a in msg.attachments] == ["allegato-1.pdf", "allegato-2.jpg"]
    assert [a.content_type for a in msg.attachments] == ["application/pdf", "image/jpeg"]


def test_a_bare_name_gets_the_extension_of_its_type():
    assert only(parse(mf.mail(mf.attachment(PDF, "scansione")))).filename == "scansione.pdf"


# ---- where attachments hide ------------------------------------------------------


def test_declared_types_are_not_trusted():
    msg = parse(mf.mail(mf.attachment(PDF, "documento.jpg", "image/jpeg"), mf.attachment(JPEG, "foto.pdf", "application/octet-stream")))
    found = by_name(msg)
    assert found["documento.jpg"].content_type == "application/pdf"
    assert found["documento.jpg"].page_count == 2
    assert found["foto.pdf"].content_type == "image/jpeg"


def test_inline_image_without_disposition_is_an_attachment():
    att = only(parse(mf.mail(mf.attachment(JPEG, None, "image/jpeg", disposition=None))))
    assert att.content_type == "image/jpeg" and att.data == JPEG


def test_logos_and_tracking_pixels_are_ignored_but_inline_photos_kept():
    photo = mf.jpeg(200, 150, seed=3)
    html = '<p>Saluti <img src="cid:logo@firma"> <img src="cid:foto@cie"></p><img src="https://t.example/p.gif">'
    raw = mf.mail(
        mf.inline_image(mf.small_logo_png(), "logo@firma"),
        mf.inline_image(photo, "foto@cie", "image/jpeg"),
        mf.attachment(mf.tracking_pixel(), "p.gif", "image/gif", disposition="inline"),
        html=html,
        text=None,
    )
    att = only(parse(raw))
    assert att.data == photo
    assert att.origin == "1/3"  # 1/1 is the HTML, 1/2 the logo


def test_a_small_logo_not_shown_by_the_html_is_kept():
    logo = mf.small_logo_png()
    att = only(parse(mf.mail(mf.attachment(logo, "logo.png", "image/png"))))
    assert att.data == logo and att.rejected is None


def test_forwarded_message_attachments_are_found():
    inner = mf.mail(mf.attachment(JPEG, "fronte.jpg", "image/jpeg"), mf.attachment(PDF, "modulo.pdf"), seed=2)
    msg = parse(mf.mail(mf.forwarded(inner), mf.attachment(mf.png(seed=4), "retro.png", "image/png")))
    assert [(a.origin, a.filename) for a in msg.attachments] == [("2/2", "fronte.jpg"), ("2/3", "modulo.pdf"), ("3", "retro.png")]


def test_attached_eml_files_are_opened():
    inner = mf.mail(mf.attachment(JPEG, "fronte.jpg", "image/jpeg"), seed=2)
    twice = mf.mail(mf.eml_attachment(inner, "inoltro.eml"), seed=3)
    msg = parse(mf.mail(mf.eml_attachment(twice, "vecchio.eml")))
    att = only(msg)
    assert (att.origin, att.filename, att.data) == ("2/2/2", "fronte.jpg", JPEG)


def test_base64_encoded_forwarded_message_is_opened():
    inner = mf.mail(mf.attachment(JPEG, "fronte.jpg", "image/jpeg"), seed=2)
    part = mf.attachment(inner, None, "message/rfc822", disposition="inline")
    att = only(parse(mf.mail(part)))
    assert (att.filename, att.data) == ("fronte.jpg", JPEG)


def test_winmail_dat_is_unpacked():
    import tnefparse

    blob = mf.tnef([("Carta d'identità.jpg", JPEG), ("modulo firmato.pdf", PDF)])
    assert [a.long_filename() for a in tnefparse.TNEF(blob).attachments] == ["Carta d'identità.jpg", "modulo firmato.pdf"]
    msg = parse(mf.mail(mf.attachment(blob, "winmail.dat", "application/ms-tnef")))
    assert [(a.origin, a.filename, a.content_type) for a in msg.attachments] == [
        ("2/tnef:Carta d'identità.jpg", "Carta d'identità.jpg", "image/jpeg"),
        ("2/tnef:modulo firmato.pdf", "modulo firmato.pdf", "application/pdf"),
    ]
    assert msg.attachments[0].data == JPEG and msg.attachments[1].data == PDF


def test_winmail_body_is_the_text_when_the_mail_has_no_other():
    blob = mf.tnef([("a.jpg", JPEG)], body="Invio i documenti richiesti.")
    msg = parse(mf.mail(mf.attachment(blob, "winmail.dat", "application/ms-tnef"), text=""))
    assert msg.text_body == "Invio i documenti richiesti."


def test_damaged_winmail_dat_is_rejected_not_raised():
    blob = mf.tnef([("a.jpg", JPEG)])
    msg = parse(mf.mail(mf.attachment(blob[:6] + b"\x02\x0f\x80\x06\x00\xff\xff\xff\x7f" + blob[200:400], "winmail.dat")))
    assert all(a.rejected or a.content_type == "image/jpeg" for a in msg.attachments)
    junk = parse(mf.mail(mf.attachment(b"\x78\x9f\x3e\x22" + b"\x00" * 3, "winmail.dat")))
    assert only(junk).rejected and only(junk).rejected.startswith("tnef:")


# ---- signatures ------------------------------------------------------------------


def test_p7m_is_unwrapped_and_keeps_the_signer_certificate():
    att = only(parse(mf.mail(mf.attachment(mf.p7m(PDF, seed=1), "modulo.pdf.p7m", "application/pkcs7-mime"))))
    assert att.filename == "modulo.pdf"
    assert att.origin == "2/p7m:modulo.pdf"
    assert att.data == PDF and att.content_type == "application/pdf" and att.page_count == 2
    assert att.signed and att.signer_certificate == mf.signer_der(seed=1)


def test_doubly_signed_and_base64_p7m_are_unwrapped():
    import base64

    double = mf.p7m(mf.p7m(PDF, seed=1), seed=2)
    bare_base64 = base64.encodebytes(mf.p7m(JPEG, seed=3))
    msg = parse(mf.mail(mf.attachment(double, "modulo.pdf.p7m.p7m"), mf.attachment(bare_base64, "foto.jpg.P7M")))
    first, second = msg.attachments
    assert (first.filename, first.data, first.origin) == ("modulo.pdf", PDF, "2/p7m:modulo.pdf.p7m/p7m:modulo.pdf")
    assert first.signer_certificate == mf.signer_der(seed=1)  # the innermost signer signed the file
    assert (second.filename, second.data, second.signer_certificate) == ("foto.jpg", JPEG, mf.signer_der(seed=3))


def test_bad_p7m_files_are_rejected():
    import base64

    truncated = mf.p7m(PDF)[:300]
    detached = base64.b64decode(mf.smime_signed(mf.attachment(JPEG, "a.jpg")).get_payload()[1].get_payload())
    msg = parse(mf.mail(mf.attachment(truncated, "modulo.pdf.p7m"), mf.attachment(detached, "firma.p7m")))
    reasons = [a.rejected for a in msg.attachments]
    assert reasons[0].startswith("p7m:")
    assert reasons[1] == "p7m: signature without content (detached)"
    assert msg.attachments[0].data == truncated


def test_smime_multipart_signed_marks_the_content_signed():
    content = mf.attachment(JPEG, "fronte.jpg", "image/jpeg")
    att = only(parse(mf.mail(root=mf.smime_signed(content, seed=5))))
    assert (att.filename, att.origin, att.data) == ("fronte.jpg", "1", JPEG)
    assert att.signed and att.signer_certificate == mf.signer_der(seed=5)


def test_smime_opaque_signed_message_is_unwrapped():
    inner = mf.mail(mf.attachment(JPEG, "fronte.jpg", "image/jpeg"), mf.attachment(PDF, "modulo.pdf"), seed=6)
    from email import message_from_bytes

    content = message_from_bytes(inner)
    msg = parse(mf.mail(mf.smime_opaque(content, seed=6), text="firmato"))
    assert [(a.origin, a.filename, a.signed) for a in msg.attachments] == [("2/2", "fronte.jpg", True), ("2/3", "modulo.pdf", True)]
    assert all(a.signer_certificate == mf.signer_der(seed=6) for a in msg.attachments)


def test_pec_transport_signature_does_not_sign_the_citizens_files():
    original = mf.mail(mf.attachment(PDF, "modulo.pdf"), text="Invio il modulo firmato a mano.", seed=8)
    msg = parse(mf.pec_envelope(original))
    att = only(msg)  # daticert.xml and the provider's smime.p7s are envelope, not documents
    assert att.filename == "modulo.pdf" and not att.signed and att.signer_certificate is None
    assert msg.sender == "mario.rossi@pec.example.org"
    assert "Invio il modulo firmato a mano." in msg.text_body


def test_signed_pdf_is_recognised():
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject, DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    signature = DictionaryObject({NameObject("/Type"): NameObject("/Sig"), NameObject("/Contents"): ByteStringObject(mf.p7m(b"x", seed=7) + bytes(64))})
    field = DictionaryObject({NameObject("/FT"): NameObject("/Sig"), NameObject("/T"): TextStringObject("Firma"), NameObject("/V"): writer._add_object(signature)})
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({NameObject("/Fields"): ArrayObject([writer._add_object(field)])})
    out = io.BytesIO()
    writer.write(out)
    att = only(parse(mf.mail(mf.attachment(out.getvalue(), "modulo.pdf"))))
    assert att.signed and att.signer_certificate == mf.signer_der(seed=7)
    assert not only(parse(mf.mail(mf.attachment(PDF, "modulo.pdf")))).signed


# ---- zip ---------------------------------------------------------------------------


def test_zip_members_are_extracted_without_their_paths_or_junk():
    archive = mf.zip_archive({"../../fronte.jpg": JPEG, "documenti/modulo.pdf": PDF, "__MACOSX/documenti/._modulo.pdf": b"\x00\x05", ".DS_Store": b"x", "vuota/": b""})
    msg = parse(mf.mail(mf.attachment(archive, "documenti.zip", "application/zip")))
    assert [(a.origin, a.filename, a.content_type) for a in msg.attachments] == [
        ("2/zip:fronte.jpg", "fronte.jpg", "image/jpeg"),
        ("2/zip:modulo.pdf", "modulo.pdf", "application/pdf"),
    ]
    assert msg.attachments[0].data == JPEG


def test_zip_names_in_the_windows_oem_code_page_are_decoded():
    archive = mf.zip_archive({"identitX.jpg": JPEG}).replace(b"identitX.jpg", b"identit\x85.jpg")  # à in cp850
    att = only(parse(mf.mail(mf.attachment(archive, "doc.zip"))))
    assert att.filename == "identità.jpg" and att.data == JPEG


def test_encrypted_zip_members_are_rejected():
    archive = mf.zip_archive({"segreto.pdf": PDF, "fronte.jpg": JPEG}, encrypted={"segreto.pdf"})
    found = by_name(parse(mf.mail(mf.attachment(archive, "doc.zip"))))
    assert found["segreto.pdf"].rejected == "zip: encrypted member" and found["segreto.pdf"].data == b""
    assert found["fronte.jpg"].rejected is None


def test_nested_zip_bomb_is_stopped():
    bomb = mf.zip_bomb(levels=4, zeros=8 * 1024 * 1024)
    assert len(bomb) < 40_000
    started = time.perf_counter()
    msg = parse(mf.mail(mf.attachment(bomb, "documenti.zip")))
    assert time.perf_counter() - started < 2
    att = only(msg)
    assert att.rejected == "zip: too many nested archives"
    assert att.origin == "2/zip:livello3.zip/zip:livello2.zip"
    assert len(att.data) < 40_000


def test_highly_compressed_member_is_rejected_by_ratio():
    att = only(parse(mf.mail(mf.attachment(mf.zip_archive({"zeros.pdf": bytes(4 * 1024 * 1024)}), "a.zip"))))
    assert att.rejected == "zip: compression ratio too high" and att.data == b""


def test_unpacked_bytes_budget_is_shared_by_all_members():
    photos = {f"foto{i}.jpg": mf.jpeg(100, 80, seed=i) for i in range(3)}
    size = len(photos["foto0.jpg"])
    msg = parse(mf.mail(mf.attachment(mf.zip_archive(photos), "a.zip")), max_unpacked_bytes=int(size * 2.5))
    assert [a.rejected for a in msg.attachments] == [None, None, "unpacked size limit reached"]


def test_corrupt_zip_is_rejected_with_its_bytes():
    archive = mf.zip_archive({"a.jpg": JPEG})
    broken = archive[:30] + b"\xff" * 40 + archive[70:]
    att = only(parse(mf.mail(mf.attachment(broken, "a.zip"))))
    assert att.rejected and att.rejected.startswith("zip:")
    office = only(parse(mf.mail(mf.attachment(mf.docx_like(), "modulo.docx"))))
    assert office.rejected and "officedocument" in office.content_type


def test_too_many_attachments_are_dropped_with_a_defect():
    parts = [mf.attachment(mf.jpeg(40, 40, seed=i), f"f{i}.jpg", "image/jpeg") for i in range(5)]
    msg = parse(mf.mail(*parts), max_attachments=3)
    # The largest three are kept (tests/intake/test_quiet_losses.py: the likeliest documents win).
    sizes = {f"f{i}.jpg": len(mf.jpeg(40, 40, seed=i)) for i in range(5)}
    assert sorted(a.filename for a in msg.attachments) == sorted(sorted(sizes, key=sizes.get)[2:])
    assert "too many attachments: 2 not kept (limit 3)" in msg.defects
    assert "too many attachments: 2 not kept (limit 3)" in msg.losses


# ---- images and PDFs -----------------------------------------------------------


def test_pixel_bomb_png_is_rejected_without_decoding():
    bomb = mf.huge_png(50_000, 50_000)
    assert len(bomb) < 200
    started = time.perf_counter()
    att = only(parse(mf.mail(mf.attachment(bomb, "foto.png", "image/png"))))
    assert time.perf_counter() - started < 1
    assert att.rejected and att.rejected.startswith("image: too many pixels")
    assert att.data == bomb


def test_images_over_the_configured_pixels_are_rejected():
    att = only(parse(mf.mail(mf.attachment(mf.jpeg(120, 90), "foto.jpg")), max_image_pixels=120 * 90 - 1))
    assert att.rejected == "image: too many pixels (120x90)"
    assert only(parse(mf.mail(mf.attachment(mf.jpeg(120, 90), "foto.jpg")), max_image_pixels=120 * 90)).rejected is None


def test_truncated_jpeg_is_rejected_with_its_bytes():
    cut = mf.jpeg(300, 200)[:3000]
    att = only(parse(mf.mail(mf.attachment(cut, "fronte.jpg"))))
    assert att.rejected == "image: unreadable or corrupt" and att.data == cut


def test_only_a_jpeg_cut_short_is_decoded_to_be_checked(monkeypatch):
    from intake import documents

    decoded, strict = [], documents._load_strictly
    monkeypatch.setattr(documents, "_load_strictly", lambda im: decoded.append(im.size) or strict(im))
    whole = mf.jpeg(300, 200)
    assert only(parse(mf.mail(mf.attachment(whole + b"\0" * 16, "fronte.jpg")))).rejected is None
    assert decoded == []  # ends with its end marker: not decoded at intake
    assert only(parse(mf.mail(mf.attachment(whole[:-200], "fronte.jpg")))).rejected == "image: unreadable or corrupt"
    assert decoded == [(300, 200)]


def test_heic_photo_becomes_jpeg():
    att = only(parse(mf.mail(mf.attachment(mf.heic(96, 64), "IMG_0001.HEIC", "image/heic"))))
    assert (att.filename, att.content_type, att.rejected) == ("IMG_0001.jpg", "image/jpeg", None)
    with Image.open(io.BytesIO(att.data)) as im:
        assert (im.format, im.size) == ("JPEG", (96, 64))


def test_multipage_tiff_is_split_into_png_pages():
    msg = parse(mf.mail(mf.attachment(mf.tiff(pages=3, width=100, height=140), "scansione.tif", "image/tiff")))
    assert [(a.origin, a.filename, a.content_type) for a in msg.attachments] == [
        ("2/page:1", "scansione-p1.png", "image/png"),
        ("2/page:2", "scansione-p2.png", "image/png"),
        ("2/page:3", "scansione-p3.png", "image/png"),
    ]
    pages = [Image.open(io.BytesIO(a.data)) for a in msg.attachments]
    assert [p.size for p in pages] == [(100, 140)] * 3
    assert pages[0].tobytes() != pages[1].tobytes()


def test_gif_becomes_png():
    att = only(parse(mf.mail(mf.attachment(mf.gif(), "scan.gif"))))
    assert (att.filename, att.content_type) == ("scan.png", "image/png")


def test_pdf_pages_are_counted_and_limited():
    msg = parse(mf.mail(mf.attachment(mf.pdf(3), "a.pdf"), mf.attachment(mf.pdf(5), "b.pdf")), max_pdf_pages=4)
    a, b = msg.attachments
    assert (a.page_count, a.rejected) == (3, None)
    assert (b.page_count, b.rejected) == (5, "pdf: too many pages (5)")


def test_truncated_pdf_is_rejected_but_kept():
    cut = mf.truncated_pdf()
    att = only(parse(mf.mail(mf.attachment(cut, "modulo.pdf"))))
    assert att.rejected == "pdf: corrupt or truncated" and att.data == cut and att.content_type == "application/pdf"


def test_pdf_cut_inside_an_incremental_update_is_rejected():
    # A signature is appended as an incremental update; cut there, pypdf
    # still reads the earlier revision: only the missing %%EOF tells.
    cut = PDF + b"\n7 0 obj\n<< /Type /Sig /Contents <" + b"30" * 4000
    att = only(parse(mf.mail(mf.attachment(cut, "modulo.pdf"))))
    assert att.rejected == "pdf: corrupt or truncated"


def test_password_protected_pdf_is_rejected():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(PDF)))
    writer.encrypt("segreta", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    assert only(parse(mf.mail(mf.attachment(out.getvalue(), "modulo.pdf")))).rejected == "pdf: password-protected"


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [(mf.exe(), "programma.exe", "application/x-msdownload"), (b"solo testo\n", "nota.txt", "text/plain"), (bytes(range(256)) * 4, "x.bin", "application/octet-stream")],
)
def test_unsupported_files_are_returned_rejected(data, name, kind):
    att = only(parse(mf.mail(mf.attachment(data, name))))
    assert (att.content_type, att.data) == (kind, data)
    assert att.rejected == f"unsupported file type ({kind})"


# ---- limits and malformed mail ------------------------------------------------


def test_message_over_the_size_limit_gets_headers_only():
    raw = mf.mail(mf.attachment(mf.jpeg(200, 200), "a.jpg"), subject="Documenti")
    msg = parse(raw, max_message_bytes=len(raw) - 1)
    assert msg.attachments == [] and msg.text_body == ""
    assert msg.subject == "Documenti" and msg.sender == "mario.rossi@example.org"
    assert any("too large" in d for d in msg.defects)


def test_malformed_headers_do_not_raise():
    raw = (
        b"From: =?utf-8?B?!!broken?= <Mario@Example.org>\r\n"
        b"To: \"Ufficio\" <spazioregione.mi@example.org>, @@@, =?x-unknown?q?abc?=\r\n"
        b"Subject: Carta d'identit\xe0 =?utf-8?q?caf=C3=A9?= =?iso-8859-1?b?broken\r\n"
        b"Date: 32 Foo 20260 99:99\r\n"
        b"Message-ID: senza-parentesi@example.org\r\n"
        b"References: <a@b> garbage <c@d\r\n"
        b"X-Strano: \xff\xfe\x00\x01\r\n"
        b"\r\n"
        b"corpo\r\n"
    )
    msg = parse(raw)
    assert msg.sender == "mario@example.org"
    assert msg.to == ["spazioregione.mi@example.org"]
    assert msg.subject.startswith("Carta d'identità café")
    assert msg.date is None
    assert msg.message_id == "<senza-parentesi@example.org>"
    assert msg.references == ["<a@b>"]
    assert msg.text_body == "corpo"


def test_missing_content_type_is_plain_text():
    msg = parse(b"From: a@example.org\r\nSubject: x\r\n\r\nsolo testo\r\n")
    assert msg.text_body == "solo testo" and msg.content_type == "text/plain" and msg.attachments == []


def test_wrong_boundary_is_repaired():
    raw = mf.mail(mf.attachment(JPEG, "fronte.jpg", "image/jpeg"), seed=1)
    broken = raw.replace(b'boundary="==sportello-1-0=="', b'boundary="non-esiste"', 1)
    assert broken != raw
    msg = parse(broken)
    att = only(msg)
    assert (att.filename, att.data) == ("fronte.jpg", JPEG)
    assert "part 0: boundary repaired" not in msg.defects  # the repair is reported against the real part
    assert any("boundary repaired" in d for d in msg.defects)


def test_truncated_message_keeps_the_complete_parts():
    raw = mf.mail(mf.attachment(JPEG, "fronte.jpg", "image/jpeg"), mf.attachment(mf.jpeg(300, 300, seed=9), "retro.jpg", "image/jpeg"))
    cut = raw[: len(raw) - 4000]
    found = by_name(parse(cut))
    assert found["fronte.jpg"].data == JPEG and found["fronte.jpg"].rejected is None
    assert found["retro.jpg"].rejected == "image: unreadable or corrupt"


def test_absurd_nesting_does_not_raise():
    depth = 400
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth))
    raw = b"From: a@example.org\r\nSubject: nidi\r\n" + opening + b"Content-Type: text/plain\r\n\r\nfondo\r\n"
    msg = parse(raw)
    assert isinstance(msg, ParsedMessage) and msg.defects


def test_random_damage_never_raises_anything_but_not_an_email():
    rich = mf.mail(
        mf.attachment(mf.zip_archive({"a.jpg": JPEG, "b.pdf": PDF}), "a.zip"),
        mf.attachment(mf.tnef([("c.jpg", JPEG)]), "winmail.dat"),
        mf.attachment(mf.p7m(PDF), "m.pdf.p7m"),
        mf.forwarded(mf.mail(mf.attachment(mf.png(), "d.png"), seed=2)),
        html="<p>x <img src='cid:a'></p>",
    )
    rng = random.Random(2026)
    for _ in range(120):
        damaged = bytearray(rich)
        for _ in range(rng.randint(1, 30)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        if rng.random() < 0.3:
            del damaged[rng.randrange(len(damaged)) :]
        try:
            msg = parse(bytes(damaged))
        except NotAnEmail:
            continue
        for att in msg.attachments:
            assert att.filename and "/" not in att.filename and "\\" not in att.filename
            assert att.rejected or att.content_type in ("application/pdf", "image/jpeg", "image/png")


def test_tiff_pages_past_the_unpacked_budget_are_not_converted():
    page = only(parse(mf.mail(mf.attachment(mf.tiff(pages=1), "p.tif")))).data
    msg = parse(mf.mail(mf.attachment(mf.tiff(pages=3), "scansione.tif")), max_unpacked_bytes=int(len(page) * 1.5))
    assert [a.rejected for a in msg.attachments] == [None, "unpacked size limit reached", "unpacked size limit reached"]
    assert [len(a.data) > 0 for a in msg.attachments] == [True, False, False]


def test_pem_p7m_is_unwrapped():
    import base64

    der = mf.p7m(PDF, seed=4)
    pem = b"-----BEGIN PKCS7-----\n" + base64.encodebytes(der) + b"-----END PKCS7-----\n"
    att = only(parse(mf.mail(mf.attachment(pem, "modulo.pdf.p7m"))))
    assert (att.filename, att.data, att.signer_certificate) == ("modulo.pdf", PDF, mf.signer_der(seed=4))


def test_body_fragments_and_machinery_parts_are_not_attachments():
    msg = parse(
        mf.mail(
            mf.attachment(b"<p>resto del testo</p>", "ATT00001.htm", "text/html", disposition="inline"),
            mf.attachment(b"From: a@example.org\r\nSubject: x\r\n", None, "text/rfc822-headers", disposition=None),
            mf.attachment(JPEG, "fronte.jpg", "image/jpeg"),
        )
    )
    assert [a.filename for a in msg.attachments] == ["fronte.jpg"]


def test_a_message_that_is_only_an_image_has_it_at_origin_1():
    from email.mime.image import MIMEImage

    att = only(parse(mf.mail(root=MIMEImage(JPEG, "jpeg"))))
    assert (att.origin, att.filename, att.data) == ("1", "allegato-1.jpg", JPEG)


def test_a_truncated_photo_is_rejected_even_after_face_recognition_was_imported():
    from PIL import ImageFile

    from intake.mime import Limits, parse_message
    from tests import mailfactory as mf

    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True  # what `import face_recognition` does to the process
    try:
        whole = mf.jpeg(400, 300, seed=3)
        raw = mf.mail(mf.attachment(whole[: len(whole) // 2], "fronte.jpg"), seed=3)
        (att,) = parse_message(raw, Limits()).attachments
        assert att.rejected
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved

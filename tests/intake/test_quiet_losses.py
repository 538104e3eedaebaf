"""Issue 19: what intake cannot read is noted, never dropped in silence.

Every hostile message is built here, in the test. parse_message's notes are
`defects`; those that cost content are also in `losses` (the pipeline then
sends the request to an operator, tests/sportello/test_quiet_losses.py).
"""

from __future__ import annotations

import struct

from intake.mime import Limits, ParsedMessage, parse_message
from tests import mailfactory as mf

JPEG = mf.jpeg(seed=1)


def parse(raw: bytes, **limits) -> ParsedMessage:
    return parse_message(raw, Limits(**limits))


def names(msg: ParsedMessage) -> set[str]:
    return {a.filename for a in msg.attachments}


# ---- defect 1: every loss noted; the likeliest documents kept ------------------------


def test_thirty_small_pictures_before_the_scans_do_not_cost_the_scans():
    thumbs = [mf.attachment(mf.jpeg(24, 24, seed=i), f"IMG_{i:04d}.jpg", "image/jpeg") for i in range(30)]
    scans = [
        mf.attachment(mf.pdf(pages=1, seed=5), "modulo.pdf", "application/pdf"),
        mf.attachment(mf.jpeg(900, 600, seed=6), "fronte.jpg", "image/jpeg"),
        mf.attachment(mf.jpeg(900, 600, seed=7), "retro.jpg", "image/jpeg"),
    ]
    msg = parse(mf.mail(*thumbs, *scans))
    assert len(msg.attachments) == 30
    assert {"modulo.pdf", "fronte.jpg", "retro.jpg"} <= names(msg)
    assert msg.losses == ["too many attachments: 3 not kept (limit 30)"]
    assert msg.losses[0] in msg.defects


def test_a_part_past_the_nesting_limit_is_a_loss():
    # 40 multiparts, one in the other, a text at the bottom.
    raw = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
    for depth in range(40):
        raw += f'Content-Type: multipart/mixed; boundary="b{depth}"\r\n\r\n--b{depth}\r\n'.encode()
    raw += b"Content-Type: text/plain\r\n\r\nciao\r\n"
    for depth in reversed(range(40)):
        raw += f"--b{depth}--\r\n".encode()
    msg = parse(raw)
    assert any("multipart nesting too deep" in loss for loss in msg.losses)


def test_a_multipart_without_a_usable_boundary_is_a_loss():
    raw = (
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: documenti\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="dichiarato"\r\n\r\n'
        b"--altro\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n"
    )
    msg = parse(raw)
    assert any("without usable boundary" in loss for loss in msg.losses)


def test_a_file_over_the_unpacked_budget_is_a_loss_and_a_rejected_attachment():
    archive = mf.zip_archive({"fronte.jpg": mf.jpeg(400, 300, seed=3), "retro.jpg": mf.jpeg(400, 300, seed=4)})
    msg = parse(mf.mail(mf.attachment(archive, "documenti.zip", "application/zip")), max_unpacked_bytes=len(mf.jpeg(400, 300, seed=3)) + 10)
    rejected = [a for a in msg.attachments if a.rejected]
    assert [a.rejected for a in rejected] == ["unpacked size limit reached"]
    assert any("not read (unpacked size limit reached)" in loss for loss in msg.losses)


def test_a_boundary_repair_is_noted_but_loses_nothing():
    raw = (
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: documenti\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="dichiarato"\r\n\r\n'
        b"--vero\r\nContent-Type: text/plain\r\n\r\nciao\r\n"
        b"--vero\r\nContent-Type: text/plain\r\n\r\nancora\r\n--vero--\r\n"
    )
    msg = parse(raw)
    assert any("boundary repaired" in d for d in msg.defects)
    assert msg.losses == []


def test_an_ordinary_mail_has_no_losses():
    msg = parse(mf.mail(mf.attachment(JPEG, "fronte.jpg", "image/jpeg")))
    assert msg.losses == [] and names(msg) == {"fronte.jpg"}


# ---- defect 2: a corrupt winmail.dat is kept as a rejected attachment --------------------


def test_a_winmail_dat_with_a_false_attachment_length_is_kept_rejected_with_the_reason():
    blob = bytearray(mf.tnef([("fronte.jpg", JPEG)]))
    # attAttachData (level 2, id 0x800F): claim far more bytes than the file holds.
    at = blob.index(struct.pack("<BH", 2, 0x800F))
    struct.pack_into("<I", blob, at + 5, len(blob) * 4)
    msg = parse(mf.mail(mf.attachment(bytes(blob), "winmail.dat", "application/ms-tnef")))
    (kept,) = msg.attachments
    assert kept.filename == "winmail.dat" and kept.data == bytes(blob)
    assert kept.rejected.startswith("tnef: damaged (attribute 0x800f declares")
    assert any("winmail.dat" not in loss and "tnef: damaged" in loss for loss in msg.losses)


def test_a_whole_winmail_dat_still_yields_its_files_and_no_note():
    msg = parse(mf.mail(mf.attachment(mf.tnef([("fronte.jpg", JPEG)]), "winmail.dat", "application/ms-tnef")))
    assert names(msg) == {"fronte.jpg"} and msg.losses == []


# ---- defect 5: a UTF-8 byte order mark ------------------------------------------------------


def test_a_message_starting_with_a_utf8_bom_is_read():
    raw = b"\xef\xbb\xbf" + mf.mail(mf.attachment(JPEG, "fronte.jpg", "image/jpeg"), subject="Richiesta PIN", seed=9)
    msg = parse(raw)
    assert msg.subject == "Richiesta PIN" and msg.message_id == "<mail-9@example.org>"
    assert names(msg) == {"fronte.jpg"}


# ---- defect 6: a PDF with JavaScript or an embedded file is kept and noted --------------------


def _pdf_with(*, javascript: bool = False, embedded: bool = False) -> bytes:
    import io

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(mf.pdf(pages=1, seed=11))))
    if javascript:  # an action run on opening, as a form with a "validation" script carries
        action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject("app.alert('ciao');")})
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    if embedded:
        writer.add_attachment("istruzioni.exe", b"MZ\x90\x00 not a real program")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_with_javascript_is_kept_and_noted_for_the_clerk():
    msg = parse(mf.mail(mf.attachment(_pdf_with(javascript=True), "modulo.pdf", "application/pdf")))
    (kept,) = msg.attachments
    assert kept.accepted and kept.page_count == 1
    assert "attachment 2 (modulo.pdf): pdf contains JavaScript (not run)" in msg.defects
    assert msg.losses == []  # nothing was lost: it is read as any PDF


def test_a_pdf_with_an_embedded_file_is_kept_and_noted_for_the_clerk():
    msg = parse(mf.mail(mf.attachment(_pdf_with(embedded=True), "modulo.pdf", "application/pdf")))
    assert msg.attachments[0].accepted
    assert any(d.endswith("pdf has embedded files (not opened)") for d in msg.defects)
    assert not any("JavaScript" in d for d in msg.defects)


def test_a_plain_pdf_has_no_note():
    msg = parse(mf.mail(mf.attachment(mf.pdf(pages=1, seed=11), "modulo.pdf", "application/pdf")))
    assert msg.defects == [] and msg.attachments[0].accepted


def test_a_nul_in_the_charset_does_not_stop_the_message():
    """Found by tests/intake/test_fuzz.py: the stdlib raised ValueError listing the parser's defects."""
    raw = (b"Content-Type: text/plain; charset=\x00\x00\x00\x00\r\nFrom: Mario Rossi <mario.rossi@example.org>\r\n"
           b"Subject: Richiesta\r\nMessage-ID: <nul-1@example.org>\r\n\r\nBuongiorno\r\n")
    assert parse(raw).message_id == "<nul-1@example.org>"


def test_a_picture_over_the_decoding_budget_is_kept_whole_and_noted():
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (6000, 4000), "white").save(out, "PNG", compress_level=1)
    msg = parse(mf.mail(mf.attachment(out.getvalue(), "fronte.png", "image/png")))
    (kept,) = msg.attachments
    assert kept.accepted and kept.data == out.getvalue()
    assert any("image decoded reduced for reading (6000x4000 px" in d for d in msg.defects)
    assert msg.losses == []

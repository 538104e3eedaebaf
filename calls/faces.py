"""The face-comparison assist of the identification call: encodings in memory, a band for the operator.

The live frame (image bytes from the citizen's camera) and the face on the
photo of the identity document of the person on the call (the stored scan,
read at call time) are each reduced to face_recognition's 128-d encoding; the
distance between them becomes a band (calls.decision) from the `[call]`
thresholds. Faces are found by verification.images.faces, the finder the
document checks already use. Nothing leaves memory: no encoding, distance or
frame is stored, logged or returned to the database layer — only the band.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from calls.decision import band
from config.settings import CallSettings
from verification.images.decode import ImageError, load_image
from verification.images.faces import face_locations, face_recognition


class NoFace(Exception):
    """No single clear face in the picture (the console asks the citizen to face the camera)."""


@dataclass(frozen=True)
class Encoding:
    """One face's encoding, held in memory for the length of a call; its repr shows nothing."""

    vector: np.ndarray

    def __repr__(self) -> str:
        return "Encoding(<128-d, in memory>)"


def decode_frame(data: bytes) -> np.ndarray:
    """A JPEG/PNG/WebP frame as a BGR array (the first page of anything else)."""
    try:
        return load_image(data)[0]
    except (ImageError, IndexError) as exc:
        raise NoFace("immagine non leggibile") from exc


def encode(img: np.ndarray) -> Encoding:
    """The encoding of the largest face of a BGR (or grey) image; NoFace when there is none."""
    boxes = face_locations(img)
    if not boxes:
        raise NoFace("nessun volto riconoscibile")
    x, y, w, h = boxes[0]
    rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB) if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    # face_recognition wants (top, right, bottom, left); the finder's box, not its own second detection
    found = face_recognition().face_encodings(np.ascontiguousarray(rgb), known_face_locations=[(y, x + w, y + h, x)])
    if not found:
        raise NoFace("nessun volto riconoscibile")
    return Encoding(found[0])


def encode_bytes(data: bytes) -> Encoding:
    return encode(decode_frame(data))


def distance(a: Encoding, b: Encoding) -> float:
    return float(np.linalg.norm(a.vector - b.vector))


def compare(live: Encoding, document: Encoding, settings: CallSettings) -> str:
    """The band shown to the operator: "corrisponde", "dubbio" or "non corrisponde"."""
    return band(distance(live, document), settings.match_threshold, settings.doubt_threshold)


def document_photo(pages: list[np.ndarray], region: list | None) -> np.ndarray:
    """The identity document's picture as verification stored it: the page, cut to the document's region when known."""
    if not pages:
        raise NoFace("documento non leggibile")
    page = pages[0]
    if region and len(region) == 4:
        x, y, w, h = (int(v) for v in region)
        cut = page[max(0, y):y + h, max(0, x):x + w]
        if cut.size:
            return cut
    return page


def _pages(data: bytes, content_type: str) -> list[np.ndarray]:
    from verification.images.decode import pdf_page_images

    if content_type == "application/pdf" or data[:5] == b"%PDF-":
        return pdf_page_images(data)
    return load_image(data)


def document_encoding(app, reference: str) -> Encoding:
    """The face on the identity document of the person on the call, read from its stored blob now.

    `direct`: the holder's; `delegate` / `guardian`: the declarant's (calls.identification.person_on_the_call).
    """
    return encode(document_image(app, reference))


def document_image(app, reference: str) -> np.ndarray:
    """The identity document's picture of the person on the call (BGR), cut to the document's region."""
    from sqlalchemy import select

    from calls.identification import person_on_the_call
    from db.models import Document, Request

    with app.db.session() as s:
        req = s.scalar(select(Request).where(Request.reference == reference))
        if req is None:
            raise NoFace(f"nessuna pratica {reference}")
        who = person_on_the_call(req.form_type)
        docs = {d.slot: d for d in s.scalars(select(Document).where(Document.request_id == req.id))}
        doc = docs.get(f"{who}_id_front") or docs.get(f"{who}_id_back")  # a passport page fills both
        if doc is None or doc.attachment is None:
            raise NoFace("manca la foto del documento d'identità")
        sha, ctype, page, region = doc.attachment.sha256, doc.attachment.content_type, doc.page or 1, doc.region
    pages = _pages(app.blobs.get(sha), ctype)
    return document_photo(pages[page - 1:page] or pages, region)

"""The face assist on the two package-shipped portraits (tests/corpus/faces): same person close, two people apart."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from calls import faces
from calls.decision import MATCH, NO_MATCH
from config.settings import CallSettings

FACES = Path(__file__).resolve().parents[1] / "corpus" / "faces"


def _img(name):
    return cv2.imread(str(FACES / f"{name}.jpg"))


def _live(img, seed):
    """A 'live frame': the portrait shifted, scaled, brightened and mirrored on a bigger background."""
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    scale = rng.uniform(0.85, 1.15)
    face = cv2.resize(img, None, fx=scale, fy=scale)
    if rng.random() < 0.5:
        face = face[:, ::-1]
    face = np.clip(face.astype(np.float32) * rng.uniform(0.75, 1.25) + rng.uniform(-20, 20), 0, 255).astype(np.uint8)
    canvas = np.full((int(h * 1.6), int(w * 1.8), 3), 90, np.uint8)
    y, x = int(rng.integers(0, canvas.shape[0] - face.shape[0])), int(rng.integers(0, canvas.shape[1] - face.shape[1]))
    canvas[y:y + face.shape[0], x:x + face.shape[1]] = face
    return canvas


@pytest.fixture(scope="module")
def docs():
    return {n: faces.encode(_img(n)) for n in ("astronaut", "grace_hopper")}


def test_the_same_person_matches_and_two_people_do_not(docs):
    settings = CallSettings()
    for i, name in enumerate(docs):
        other = next(n for n in docs if n != name)
        ok, frame = cv2.imencode(".jpg", _live(_img(name), seed=i))
        live = faces.encode_bytes(frame.tobytes())
        assert faces.compare(live, docs[name], settings) == MATCH
        assert faces.compare(live, docs[other], settings) == NO_MATCH


def test_the_band_follows_the_configured_thresholds(docs):
    live = faces.encode(_live(_img("astronaut"), seed=3))
    d = faces.distance(live, docs["astronaut"])
    assert faces.compare(live, docs["astronaut"], CallSettings(match_threshold=d / 2, doubt_threshold=d / 1.5)) == NO_MATCH


def test_no_face_and_no_image_are_refused_without_saying_more():
    with pytest.raises(faces.NoFace):
        faces.encode(np.full((300, 300, 3), 128, np.uint8))
    with pytest.raises(faces.NoFace):
        faces.encode_bytes(b"not an image")


def test_an_encoding_shows_nothing_when_printed(docs):
    assert "128-d" in repr(docs["astronaut"]) and "." not in repr(docs["astronaut"]).split("<")[1][:5]


def test_the_document_photo_is_cut_to_its_region():
    page = np.zeros((100, 200, 3), np.uint8)
    assert faces.document_photo([page], [10, 20, 50, 30]).shape[:2] == (30, 50)
    assert faces.document_photo([page], None).shape[:2] == (100, 200)


def _stored_request(app, form_type, holder_face, declarant_face):
    """A request whose ID scans are the two portraits, stored in the blob store like intake stores them."""
    from db import lifecycle
    from db.models import Attachment, Document, Message, Request
    from db.references import next_reference

    with app.db.session() as s:
        req = Request(reference=next_reference(s, "MI", 2026), province="MI", form_type=form_type)
        lifecycle.open_request(s, req, "test")
        s.flush()
        msg = Message(request_id=req.id, direction="in", message_id=f"<{form_type}@t>", dedupe_key=form_type * 4,
                      sha256="0" * 64, size=1, province="MI")
        s.add(msg)
        s.flush()
        for slot, name in (("holder_id_front", holder_face), ("declarant_id_front", declarant_face)):
            if name is None:
                continue
            data = (FACES / f"{name}.jpg").read_bytes()
            digest = app.blobs.put(data)
            att = Attachment(message_id=msg.id, filename=f"{slot}.jpg", content_type="image/jpeg", size=len(data),
                             sha256=digest)
            s.add(att)
            s.flush()
            s.add(Document(request_id=req.id, slot=slot, doc_type="cie", attachment_id=att.id, page=1, fields={}))
        return req.reference


@pytest.mark.parametrize("form_type, expected", [("direct", "astronaut"), ("delegate", "grace_hopper"),
                                                 ("guardian", "grace_hopper")])
def test_the_document_photo_is_the_person_on_the_calls(app, docs, form_type, expected):
    ref = _stored_request(app, form_type, holder_face="astronaut", declarant_face="grace_hopper")
    got = faces.document_encoding(app, ref)
    assert faces.distance(got, docs[expected]) < 0.1
    other = next(n for n in docs if n != expected)
    assert faces.distance(got, docs[other]) > 0.6


def test_no_document_photo_is_said(app):
    ref = _stored_request(app, "delegate", holder_face="astronaut", declarant_face=None)
    with pytest.raises(faces.NoFace, match="manca la foto"):
        faces.document_encoding(app, ref)

"""Faces on ID photos: the model is installed, real faces are found, nothing else counts."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from PIL import ImageFile

from tests.corpus.drawing import FACES_DIR
from tests.verification.cards import cases as cc
from verification.images import faces
from verification.cards.regions import PHOTO_REGIONS, crop as _crop
from verification.cards.find import find_cards

FACES = sorted(FACES_DIR.glob("*.jpg"))


def test_face_model_files_are_installed():
    files = faces.model_files()
    for name in ("shape_predictor_68_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat"):
        assert os.path.getsize(files[name]) > 1_000_000, name


@pytest.mark.parametrize("path", FACES, ids=[p.stem for p in FACES])
def test_real_photo_has_one_face(path):
    img = cv2.imread(str(path))
    assert faces.count_faces(img) == 1
    (x, y, w, h), = faces.face_locations(img)
    assert 0.2 * img.shape[1] < w < img.shape[1] and 0 <= y < img.shape[0] / 2


def test_small_photos_are_upsampled():
    img = cv2.resize(cv2.imread(str(FACES[0])), (70, 90), interpolation=cv2.INTER_AREA)
    assert faces.count_faces(img) == 1


def test_no_face():
    assert faces.count_faces(np.full((300, 240, 3), 235, np.uint8)) == 0
    sky = np.zeros((300, 240, 3), np.uint8)
    sky[:] = np.linspace(120, 250, 300, dtype=np.uint8)[:, None, None]
    assert faces.count_faces(sky) == 0


def test_cie_photo_counts_one_face_not_the_ghost_image():
    card = find_cards(cc.captured("cie", "front", "photo"))[0]
    assert faces.count_faces(_crop(card.image, PHOTO_REGIONS["cie"])) == 1
    assert faces.count_faces(card.image[int(0.7 * 638) :, int(0.85 * 1012) :]) == 0  # the ghost alone


def test_face_recognition_agrees_and_leaves_pillow_strict():
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    fr = faces.face_recognition()
    assert ImageFile.LOAD_TRUNCATED_IMAGES == before
    rgb = cv2.cvtColor(cv2.imread(str(FACES[0])), cv2.COLOR_BGR2RGB)
    assert len(fr.face_locations(rgb, 0, model="hog")) == 1

"""Faces on identity-document photos: face_recognition's HOG detector on a downscaled region.

Only counts and boxes leave this module: no encoding is computed, kept or
returned here (the identification call computes its own, at the call).

face_recognition's "hog" model is dlib's frontal face detector, which we
call directly: importing face_recognition also loads its landmark and
ResNet models (~1 s, >100 MB) that counting faces does not need, and sets
Pillow's LOAD_TRUNCATED_IMAGES for the whole process (a truncated
attachment must fail to load, not be read half grey). `face_recognition()`
imports it lazily for the identification call, undoing that setting.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

# HOG's window is 80 px (the box it reports, ~50 px and up); photo regions are
# scaled to 240 rows, where the corpus's faces (0.22-0.42 of the region's
# height, real ID photos' larger) come out 53-100 px. Its cost goes with the
# pixels: at 300 rows it was 70% more, the same faces found; at 200 the
# smallest were missed and took the upsampled second look (four times the cost).
_WORK_HEIGHT = 240
_MIN_FACE_FRACTION = 0.18  # of the region height: smaller is the CIE's ghost image, a stamp, noise


@cache
def _detector():
    import dlib

    return dlib.get_frontal_face_detector()


@cache
def face_recognition():
    """The face_recognition module, imported on first use without its LOAD_TRUNCATED_IMAGES side effect."""
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    import face_recognition

    ImageFile.LOAD_TRUNCATED_IMAGES = before
    return face_recognition


def model_files() -> dict[str, str]:
    """face_recognition_models' files by name (the identification call needs them; tests check they exist)."""
    import os

    import face_recognition_models

    folder = os.path.join(os.path.dirname(face_recognition_models.__file__), "models")
    return {name: os.path.join(folder, name) for name in sorted(os.listdir(folder))}


def face_locations(img: np.ndarray, work_height: int = _WORK_HEIGHT) -> list[tuple[int, int, int, int]]:
    """Faces as (x, y, w, h) boxes in `img` coordinates, largest first.

    The image (BGR or grey) is scaled to `work_height` rows; when nothing is
    found there, HOG looks again with one upsampling (faces down to ~40 px).
    """
    if img.size == 0:
        return []
    rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB) if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    for height, upsample in ((work_height, 0), (work_height, 1)):
        scale = height / rgb.shape[0]
        small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        found = _detector()(np.ascontiguousarray(small), upsample)
        if len(found):
            boxes = [
                (max(0, int(r.left() / scale)), max(0, int(r.top() / scale)), int(r.width() / scale), int(r.height() / scale))
                for r in found
            ]
            return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)
    return []


def count_faces(img: np.ndarray, min_fraction: float = _MIN_FACE_FRACTION) -> int:
    """How many clear faces the photo region holds, not counting faces under `min_fraction` of its height."""
    return sum(1 for _, _, _, h in face_locations(img) if h >= min_fraction * img.shape[0])

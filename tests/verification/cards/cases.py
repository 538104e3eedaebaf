"""Identity documents from the test corpus, captured in each style, for the image-reading tests and bench.

Everything is deterministic by (doc_type, side, style, seed): a failing case
can be regenerated and looked at with `save(...)`.
"""

from __future__ import annotations

import random
from functools import cache

import cv2
import numpy as np
from PIL import Image

from tests.corpus import capture, documents, people

TODAY = people.TODAY
STYLES = ("flat", "scan", "photo", "blurred", "cut_off", "low_res")
SIDES = (
    ("cie", "front"), ("cie", "back"), ("passport", "data_page"), ("ts_cns", "front"), ("ts_cns", "back"),
    ("ts_no_chip", "front"), ("driving_licence", "front"), ("driving_licence", "back"), ("paper_id", "front"),
    ("paper_id", "back"),
)


@cache
def person(seed: int = 0) -> people.Person:
    return people.make_person(random.Random(seed), age=random.Random(seed).randrange(25, 80))


@cache
def document(doc_type: str, seed: int = 0) -> documents.Document:
    return documents.make_document(doc_type, person(seed), seed)


@cache
def rendered(doc_type: str, side: str, seed: int = 0) -> Image.Image:
    return documents.render(document(doc_type, seed), side)


def bgr(image: Image.Image) -> np.ndarray:
    return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)


@cache
def _captured(doc_type: str, side: str, style: str, seed: int) -> bytes:
    image = rendered(doc_type, side, seed)
    rng = random.Random(f"{doc_type}-{side}-{style}-{seed}")
    shot = {
        "flat": lambda: image,
        "scan": lambda: capture.flat_scan([image], rng),  # 300 dpi, the corpus default
        "photo": lambda: capture.phone_photo(image, rng),
        "blurred": lambda: capture.blurred(image, rng),
        "cut_off": lambda: capture.cut_off(image, rng),
        "low_res": lambda: capture.low_res(image, rng),
    }[style]()
    return cv2.imencode(".png", bgr(shot))[1].tobytes()


def captured(doc_type: str, side: str, style: str, seed: int = 0) -> np.ndarray:
    """The side captured in `style` (see STYLES), as BGR."""
    return cv2.imdecode(np.frombuffer(_captured(doc_type, side, style, seed), np.uint8), cv2.IMREAD_COLOR)


def expected(doc_type: str, seed: int = 0) -> dict:
    """What a reader should find on that document."""
    d = document(doc_type, seed)
    return {
        "number": d.number,
        "expiry": d.expiry,
        "issue_date": d.issue,
        "surname": d.person.surname,
        "given_names": d.person.given_names,
        "birth_date": d.person.birth_date,
        "codice_fiscale": d.person.codice_fiscale,
    }


def save(img: np.ndarray, path: str) -> None:
    """For a human looking at a failure."""
    cv2.imwrite(path, img)

"""Liveness at the call: a challenge the server picks at random, judged over a sequence of face landmarks.

Pure: frames arrive as face_recognition's landmark dicts (`chin`, `left_eye`,
`right_eye`, `nose_tip`, … lists of (x, y) points, image coordinates; None
for a frame with no face). Nothing here sees an image or keeps a landmark.

Measures per frame, each scale-free, so that moving or zooming a photo in
front of the camera changes none of them:

- yaw: where the nose tip sits between the two eye centres, -0.5 … +0.5
  (0 facing the camera; positive: nose towards the image's right, which is
  the citizen's left in an unmirrored camera frame);
- pitch: the nose tip's drop below the eye line over the eye distance
  (smaller when the head tilts back: "look up");
- eye aspect ratio (Soukupová and Čech 2016): eye height over eye width,
  ~0.3 open, under ~0.15 closed.

A challenge passes when the sequence faces the camera (the baseline: the
first frames that do), then moves far enough the asked way and comes back —
for a blink, closes and reopens. A still photo repeated, shifted or scaled does none of it.
"""

from __future__ import annotations

import math
import secrets
import statistics
from dataclasses import dataclass
from typing import Mapping, Sequence

Point = tuple[float, float]
Landmarks = Mapping[str, Sequence[Point]]

TURN_LEFT, TURN_RIGHT, LOOK_UP, BLINK = "turn_left", "turn_right", "look_up", "blink"
CHALLENGES = (TURN_LEFT, TURN_RIGHT, LOOK_UP, BLINK)

# What the citizen reads on the call page.
PROMPTS = {
    TURN_LEFT: "Giri lentamente la testa verso la sua sinistra, poi torni a guardare lo schermo.",
    TURN_RIGHT: "Giri lentamente la testa verso la sua destra, poi torni a guardare lo schermo.",
    LOOK_UP: "Alzi lo sguardo verso l'alto, poi torni a guardare lo schermo.",
    BLINK: "Chiuda gli occhi per un istante e li riapra.",
}

BASELINE_FRAMES = 3
MIN_FRAMES = 8
FRONTAL_YAW = 0.12   # the baseline must face the camera
TURN_YAW = 0.18      # a turn moves the nose this far from the baseline, in eye distances
LOOK_UP_DROP = 0.25  # the pitch falls by this share of the baseline
BLINK_CLOSED = 0.6   # eye aspect ratio under this share of the baseline: closed
MISSING_FRAMES = 0.2  # at most this share of the frames without a face


def choose() -> str:
    """The challenge of this call, picked by the server (never by the page)."""
    return secrets.choice(CHALLENGES)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str  # Italian, for the operator's console


def _centre(points: Sequence[Point]) -> Point:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _dist(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def yaw(lm: Landmarks) -> float:
    left, right = _centre(lm["left_eye"]), _centre(lm["right_eye"])
    nose = _centre(lm["nose_tip"])
    span = right[0] - left[0]
    if span <= 0:
        return 0.0
    return (nose[0] - left[0]) / span - 0.5


def pitch(lm: Landmarks) -> float:
    left, right = _centre(lm["left_eye"]), _centre(lm["right_eye"])
    nose = _centre(lm["nose_tip"])
    eye_y = (left[1] + right[1]) / 2
    return (nose[1] - eye_y) / max(_dist(left, right), 1e-6)


def eye_aspect_ratio(eye: Sequence[Point]) -> float:
    """(|p2-p6| + |p3-p5|) / (2 |p1-p4|) over the six points of one eye."""
    p1, p2, p3, p4, p5, p6 = eye[:6]
    return (_dist(p2, p6) + _dist(p3, p5)) / (2 * max(_dist(p1, p4), 1e-6))


def ear(lm: Landmarks) -> float:
    return (eye_aspect_ratio(lm["left_eye"]) + eye_aspect_ratio(lm["right_eye"])) / 2


def judge(challenge: str, frames: Sequence[Landmarks | None]) -> Verdict:
    """Whether the landmark sequence performs `challenge`."""
    if challenge not in CHALLENGES:
        raise ValueError(f"unknown challenge {challenge!r}")
    seen = [f for f in frames if f is not None]
    if len(seen) < MIN_FRAMES:
        return Verdict(False, "troppo pochi fotogrammi con un volto")
    if len(frames) - len(seen) > MISSING_FRAMES * len(frames):
        return Verdict(False, "il volto esce troppo spesso dall'inquadratura")
    # The baseline: the first frames facing the camera (the citizen may still be settling when the prompt shows).
    start = next((i for i in range(len(seen) - BASELINE_FRAMES + 1)
                  if all(abs(yaw(f)) <= FRONTAL_YAW for f in seen[i:i + BASELINE_FRAMES])), None)
    if start is None or len(seen) - start < MIN_FRAMES:
        return Verdict(False, "il volto non guarda lo schermo")
    base = seen[start:start + BASELINE_FRAMES]
    base_yaw = statistics.median(yaw(f) for f in base)
    rest = seen[start + BASELINE_FRAMES:]
    if challenge in (TURN_LEFT, TURN_RIGHT):
        sign = 1 if challenge == TURN_LEFT else -1
        moved = [sign * (yaw(f) - base_yaw) for f in rest]
        if max(moved) < TURN_YAW:
            return Verdict(False, "la testa non si è girata dal lato richiesto")
        if min(moved[moved.index(max(moved)):]) > TURN_YAW / 2:
            return Verdict(False, "la testa non è tornata verso lo schermo")
        return Verdict(True, "rotazione eseguita")
    if challenge == LOOK_UP:
        base_pitch = statistics.median(pitch(f) for f in base)
        if base_pitch <= 0:
            return Verdict(False, "volto non misurabile")
        drops = [(base_pitch - pitch(f)) / base_pitch for f in rest]
        if max(drops) < LOOK_UP_DROP:
            return Verdict(False, "lo sguardo non si è alzato")
        if min(drops[drops.index(max(drops)):]) > LOOK_UP_DROP / 2:
            return Verdict(False, "lo sguardo non è tornato verso lo schermo")
        return Verdict(True, "sguardo in alto eseguito")
    base_ear = statistics.median(ear(f) for f in base)
    closed = [ear(f) < BLINK_CLOSED * base_ear for f in rest]
    if not any(closed):
        return Verdict(False, "gli occhi non si sono chiusi")
    if not any(not c for c in closed[closed.index(True):]):
        return Verdict(False, "gli occhi non si sono riaperti")
    return Verdict(True, "battito di ciglia eseguito")


def landmarks_of(rgb_frames, face_recognition_module) -> list[Landmarks | None]:
    """face_recognition's landmarks of each frame's largest face (None where there is none).

    The one impure helper: the caller passes the module (calls.faces loads it), so this file imports none.
    """
    out: list[Landmarks | None] = []
    for rgb in rgb_frames:
        boxes = face_recognition_module.face_locations(rgb)
        if not boxes:
            out.append(None)
            continue
        box = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
        found = face_recognition_module.face_landmarks(rgb, face_locations=[box])
        out.append(found[0] if found else None)
    return out

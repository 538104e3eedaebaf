"""Chromium's fake camera for the call tests: a Y4M file made from a face photo shipped in a package.

`--use-file-for-fake-video-capture=FILE.y4m` plays the file in a loop as the
camera. `still` is a portrait that never moves (a photo held up); `turning`
is the same portrait whose middle slides sideways and back once a loop, the
2-D stand-in for a head turn that calls.liveness measures (nose against eyes).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

FACES = Path(__file__).resolve().parents[1] / "corpus" / "faces"
WIDTH, HEIGHT, FPS = 480, 360, 15


def portrait(name: str | np.ndarray) -> np.ndarray:
    """A package face by name (tests/corpus/faces), or any BGR image, sized for the camera frame."""
    img = cv2.imread(str(FACES / f"{name}.jpg")) if isinstance(name, str) else name
    scale = min((HEIGHT - 20) / img.shape[0], (WIDTH * 0.7) / img.shape[1])
    return cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _on_canvas(face: np.ndarray) -> np.ndarray:
    canvas = np.full((HEIGHT, WIDTH, 3), 110, np.uint8)
    y, x = (HEIGHT - face.shape[0]) // 2, (WIDTH - face.shape[1]) // 2
    canvas[y:y + face.shape[0], x:x + face.shape[1]] = face
    return canvas


def _slide(img: np.ndarray, centre_x: float, sigma: float, pixels: float) -> np.ndarray:
    """The columns around `centre_x` moved `pixels` to the image's right, the rest held (a nose that turns)."""
    h, w = img.shape[:2]
    xs = np.arange(w, dtype=np.float32)
    bump = pixels * np.exp(-((xs - centre_x) / sigma) ** 2)
    map_x = np.tile(xs - bump, (h, 1)).astype(np.float32)
    map_y = np.tile(np.arange(h, dtype=np.float32)[:, None], (1, w))
    return cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _nose_and_eye_span(img: np.ndarray) -> tuple[float, float]:
    from verification.images.faces import face_recognition

    marks = face_recognition().face_landmarks(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))[0]
    left = np.mean(marks["left_eye"], axis=0)
    right = np.mean(marks["right_eye"], axis=0)
    nose = np.mean(marks["nose_tip"], axis=0)
    return float(nose[0]), float(right[0] - left[0])


def still(name: str | np.ndarray, seconds: float = 2) -> list[np.ndarray]:
    return [_on_canvas(portrait(name))] * int(seconds * FPS)


def turning(name: str | np.ndarray, amount: float = 0.35, seconds: float = 4) -> list[np.ndarray]:
    """Frontal for half the loop, then the nose slides `amount` eye-distances to the image's right and back.

    The image's right is the citizen's left: calls.liveness reads it as "turn_left".
    """
    face = portrait(name)
    nose_x, span = _nose_and_eye_span(face)
    n = int(seconds * FPS)
    frames = []
    for i in range(n):
        t = i / n
        k = 0.0 if t < 0.5 else 1 - abs(4 * (t - 0.5) - 1)  # 0 → 1 → 0 over the second half
        frames.append(_on_canvas(_slide(face, nose_x, span * 0.3, amount * span * k)))
    return frames


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = FPS) -> Path:
    h, w = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def _eyes(img: np.ndarray) -> list[tuple[int, int, int, int]]:
    from verification.images.faces import face_recognition

    marks = face_recognition().face_landmarks(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))[0]
    boxes = []
    for key in ("left_eye", "right_eye"):
        pts = np.array(marks[key])
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        w, h = x1 - x0, max(y1 - y0, 2)
        boxes.append((int(x0 - 0.25 * w), int(y0 - 1.2 * h), int(x1 + 0.25 * w), int(y1 + 1.0 * h)))
    return boxes


def _closed(img: np.ndarray, boxes, k: float) -> np.ndarray:
    """The eyes shut by `k` (0 open, 1 shut): the skin above and below blended over them, a lash line across."""
    out = img.copy()
    if k <= 0:
        return out
    for x0, y0, x1, y1 in boxes:
        above = img[y0 - 1, x0:x1].astype(np.float32)
        below = img[y1 + 1, x0:x1].astype(np.float32)
        rows = np.linspace(0, 1, y1 - y0)[:, None, None]
        skin = above[None] * (1 - rows) + below[None] * rows
        region = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = (region * (1 - k) + skin * k).astype(np.uint8)
        if k > 0.8:
            xs = np.arange(x1 - x0)
            curve = (y0 + (y1 - y0) * 0.6 + 2 * np.sin(np.pi * xs / max(1, len(xs) - 1))).astype(int)
            for dx, yy in zip(xs, curve):
                out[yy:yy + 2, x0 + dx] = (out[yy:yy + 2, x0 + dx] * 0.35).astype(np.uint8)
    return out


def blinking(name: str | np.ndarray, seconds: float = 4) -> list[np.ndarray]:
    """Eyes open for most of the loop, shut for a moment and open again."""
    face = portrait(name)
    boxes = _eyes(face)
    n = int(seconds * FPS)
    frames = []
    for i in range(n):
        t = i / n
        k = 0.0 if t < 0.6 or t > 0.8 else 1 - abs(10 * (t - 0.6) - 1)  # shut over 0.6-0.8 of the loop
        frames.append(_on_canvas(_closed(face, boxes, min(1.0, k * 2))))
    return frames

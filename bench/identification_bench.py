"""Identification benchmark: per-frame face-compare latency and FAR/FRR at the configured thresholds.

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/identification_bench.py [--frames 40] [--config FILE]

Faces: the two public-domain portraits shipped as sample data by scikit-image
(`astronaut`) and matplotlib (`grace_hopper`), as tests/corpus/faces holds
them (nothing is downloaded). The document photo is each portrait as it is;
the "live frames" are deterministic augmentations of it (shift on a larger
background, scale 0.8-1.2, mirror, brightness/contrast, a little blur and JPEG
at quality 60-90). Genuine pairs: a frame against its own person's photo;
impostor pairs: a frame against the other person's photo.

Prints: ms per frame (decode + find + encode + compare), median and p95; then
for the configured thresholds, the share of genuine pairs in each band and of
impostor pairs in each band: FRR = genuine not "corrisponde", FAR = impostor
"corrisponde". Two people only: the FAR here says the bands separate these two
faces, not what the rate is over a population.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from calls import faces  # noqa: E402
from calls.decision import BANDS, DOUBT, MATCH, NO_MATCH, band  # noqa: E402
from config.settings import load_settings  # noqa: E402

PEOPLE = ("astronaut", "grace_hopper")
FACES = ROOT / "tests" / "corpus" / "faces"


def live_frame(img: np.ndarray, rng: np.random.Generator) -> bytes:
    h, w = img.shape[:2]
    face = cv2.resize(img, None, fx=rng.uniform(0.8, 1.2), fy=rng.uniform(0.8, 1.2) * 1.0)
    if rng.random() < 0.5:
        face = np.ascontiguousarray(face[:, ::-1])
    face = np.clip(face.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        face = cv2.GaussianBlur(face, (3, 3), 0)
    canvas = np.full((int(h * 1.7), int(w * 2.0), 3), int(rng.integers(40, 200)), np.uint8)
    y = int(rng.integers(0, canvas.shape[0] - face.shape[0]))
    x = int(rng.integers(0, canvas.shape[1] - face.shape[1]))
    canvas[y:y + face.shape[0], x:x + face.shape[1]] = face
    ok, jpg = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 91))])
    return jpg.tobytes()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=40, help="live frames per person")
    ap.add_argument("--config", default=None)
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args()
    cfg = load_settings(args.config).call
    rng = np.random.default_rng(args.seed)
    docs = {p: faces.encode(cv2.imread(str(FACES / f"{p}.jpg"))) for p in PEOPLE}
    faces.encode(cv2.imread(str(FACES / f"{PEOPLE[0]}.jpg")))  # warm the models
    genuine, impostor, ms, no_face = [], [], [], 0
    for person in PEOPLE:
        img = cv2.imread(str(FACES / f"{person}.jpg"))
        for _ in range(args.frames):
            data = live_frame(img, rng)
            t0 = time.perf_counter()
            try:
                live = faces.encode_bytes(data)
            except faces.NoFace:
                no_face += 1
                genuine.append(None)  # a frame with no face found counts as a rejection of the genuine person
                continue
            d_same = faces.distance(live, docs[person])
            ms.append((time.perf_counter() - t0) * 1000)
            genuine.append(d_same)
            impostor += [faces.distance(live, docs[o]) for o in PEOPLE if o != person]
    ms.sort()
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    print(f"frames: {len(genuine)} ({no_face} with no face found); per frame (decode+find+encode+compare): "
          f"median {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms")

    def bands(ds):
        got = [band(d, cfg.match_threshold, cfg.doubt_threshold) if d is not None else NO_MATCH for d in ds]
        return {b: got.count(b) / len(got) for b in BANDS}

    g, i = bands(genuine), bands(impostor)
    print(f"thresholds: match <= {cfg.match_threshold}, doubt <= {cfg.doubt_threshold}")
    print("| pairs | n | corrisponde | dubbio | non corrisponde |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| genuine | {len(genuine)} | {g[MATCH]:.1%} | {g[DOUBT]:.1%} | {g[NO_MATCH]:.1%} |")
    print(f"| impostor | {len(impostor)} | {i[MATCH]:.1%} | {i[DOUBT]:.1%} | {i[NO_MATCH]:.1%} |")
    print(f"FRR (genuine not 'corrisponde') {g[DOUBT] + g[NO_MATCH]:.1%}; FAR (impostor 'corrisponde') {i[MATCH]:.1%}")
    real = [d for d in genuine if d is not None]
    print(f"distances: genuine max {max(real):.3f} (median {statistics.median(real):.3f}); "
          f"impostor min {min(impostor):.3f} (median {statistics.median(impostor):.3f})")


if __name__ == "__main__":
    main()

"""Reading identity documents: CPU per card side, targeted reading vs full-page OCR, and accuracy.

    .venv/bin/python -m bench.reading_bench [--seeds 2] [--baseline 12]

Every document side of the test corpus (tests/corpus) is captured in each
style (flat render, 300 dpi flatbed scan, phone photo, blurred, cut off,
thumbnail) and read by verification.cards.page. CPU seconds count this
process and its children (tesseract subprocesses), with OMP_THREAD_LIMIT=1
everywhere. The baseline is what a reader without card detection would do:
tesseract over the whole page image, once as a subprocess (pytesseract,
what a naive implementation runs) and once in-process (our engine, so
that start-up cost is not what makes the difference).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
from collections import defaultdict
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.verification.cards import cases as cc  # noqa: E402
from verification.images import ocr  # noqa: E402
from verification.evidence import SourceRef  # noqa: E402
from verification.cards.page import read_cards_on_image  # noqa: E402

FIELDS = {  # what each side should give, as CardReading attribute -> expected() key
    ("cie", "front"): ("number", "expiry", "surname", "given_names"),
    ("cie", "back"): ("number", "expiry", "birth_date", "codice_fiscale"),
    ("passport", "data_page"): ("number", "expiry", "birth_date", "surname"),
    ("ts_cns", "front"): ("codice_fiscale", "surname", "given_names", "birth_date", "expiry"),
    ("ts_cns", "back"): ("codice_fiscale", "number", "expiry", "surname"),
    ("ts_no_chip", "front"): ("codice_fiscale", "surname", "birth_date", "expiry"),
    ("driving_licence", "front"): ("number", "expiry", "surname", "given_names", "birth_date"),
    ("driving_licence", "back"): (),
    ("paper_id", "front"): ("number", "surname"),
    ("paper_id", "back"): ("number", "expiry"),
}
UNREADABLE = {"blurred": "blurred", "cut_off": "cut_off", "low_res": "too_small"}
FACE_SIDES = {("cie", "front"), ("passport", "data_page"), ("driving_licence", "front"), ("paper_id", "front")}


def cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(function, *args):
    start = cpu()
    result = function(*args)
    return result, cpu() - start


def score(doc_type, side, style, seed, readings) -> dict[str, bool]:
    """Outcome checks for one captured side."""
    if len(readings) != 1:
        return {"one card found": False}
    r = readings[0]
    if style in UNREADABLE:
        return {"flagged unreadable": not r.readable and r.unreadable_reason == UNREADABLE[style]}
    want = cc.expected(doc_type, seed)
    checks = {"type and side": (r.doc_type, r.side) == (doc_type if side != "back" or doc_type != "ts_no_chip"
                                                        else "ts_cns", side) and r.readable}
    for name in FIELDS[(doc_type, side)]:
        checks[name] = getattr(r, name) == want[name]
    if (doc_type, side) in FACE_SIDES:
        checks["one face"] = r.face_count == 1
    if r.mrz is not None:
        checks["MRZ valid"] = r.mrz.valid
    return checks


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="people per document side")
    parser.add_argument("--baseline", type=int, default=12, help="page images to OCR whole (0: none)")
    args = parser.parse_args()
    source = SourceRef("bench.jpg")

    # Warm up: tesseract handles, dlib, zxing are loaded once per process, not per request.
    read_cards_on_image(cc.captured("cie", "front", "photo"), source, cc.TODAY)
    read_cards_on_image(cc.captured("cie", "back", "photo"), source, cc.TODAY)

    times: dict[str, list[float]] = defaultdict(list)
    results: dict[tuple, list[dict]] = defaultdict(list)
    pages = []
    for seed in range(args.seeds):
        for doc_type, side in cc.SIDES:
            for style in cc.STYLES:
                img = cc.captured(doc_type, side, style, seed)
                readings, seconds = timed(read_cards_on_image, img, source, cc.TODAY)
                times[style].append(seconds)
                times["all"].append(seconds)
                results[(doc_type, side, style)].append(score(doc_type, side, style, seed, readings))
                if style in ("scan", "photo") and seed == 0:
                    pages.append((img, seconds))

    print(f"\nAccuracy over {args.seeds} people (checks passed / checks made)\n")
    print(f"{'document side':28s}" + "".join(f"{s:>10s}" for s in cc.STYLES))
    failures: dict[str, int] = defaultdict(int)
    for doc_type, side in cc.SIDES:
        row = f"{doc_type + ' ' + side:28s}"
        for style in cc.STYLES:
            outcomes = results[(doc_type, side, style)]
            passed = sum(sum(o.values()) for o in outcomes)
            made = sum(len(o) for o in outcomes)
            row += f"{passed:>6d}/{made:<3d}"
            for o in outcomes:
                for name, ok in o.items():
                    failures[f"{doc_type} {side} {style}: {name}"] += not ok
        print(row)
    missed = {k: v for k, v in failures.items() if v}
    if missed:
        print("\nFailed checks:")
        for key, count in sorted(missed.items()):
            print(f"  {key} ×{count}")

    print("\nCPU seconds per image (one card side), targeted reading\n")
    print(f"{'capture':10s}{'n':>5s}{'median':>9s}{'p95':>9s}")
    for style in (*cc.STYLES, "all"):
        values = times[style]
        print(f"{style:10s}{len(values):>5d}{statistics.median(values):>9.3f}{percentile(values, 0.95):>9.3f}")

    readable = [t for s in ("flat", "scan", "photo") for t in times[s]]
    print(f"\nA request of 5 readable card sides ≈ {5 * statistics.median(readable):.2f} s CPU (median per side ×5)")

    if args.baseline:
        import pytesseract
        from PIL import Image

        sample = pages[: args.baseline]
        sub, inproc, ours = [], [], []
        for img, seconds in sample:
            rgb = Image.fromarray(img[:, :, ::-1])
            _, t_sub = timed(lambda: pytesseract.image_to_string(rgb, lang="ita", config="--psm 3"))
            _, t_in = timed(lambda: ocr.ocr_text(img, psm=3))
            sub.append(t_sub)
            inproc.append(t_in)
            ours.append(seconds)
        print(f"\nFull-page OCR of the same {len(sample)} scan and photo images (median CPU s per image)\n")
        print(f"{'method':44s}{'median':>9s}{'p95':>9s}{'speed-up':>10s}")
        base = statistics.median(ours)
        for name, values in (("targeted reading (find, classify, fields, face)", ours),
                             ("tesseract whole page, subprocess (pytesseract)", sub),
                             ("tesseract whole page, in-process", inproc)):
            median = statistics.median(values)
            print(f"{name:44s}{median:>9.3f}{percentile(values, 0.95):>9.3f}{median / base:>9.1f}x")


if __name__ == "__main__":
    main()

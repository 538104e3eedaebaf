"""Issue 19, defect 6: big pictures are decoded reduced, so one message stays within the memory budget.

The 60-megapixel pictures are built by the tests (in a child process, so
that building them does not count), then read by intake and verification
in a fresh process whose peak RSS is compared with its RSS before reading.
README "Memory" states the same figures.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from verification.images.decode import load_image
from verification.images.budget import DECODE_MAX_PIXELS, reduction, render_scale

ROOT = Path(__file__).resolve().parents[3]
MB = 1024 * 1024

_BUILD = textwrap.dedent("""
    import sys
    from PIL import Image, ImageDraw
    w, h, fmt, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    im = Image.new("RGB", (w, h), "white")
    ImageDraw.Draw(im).rectangle([w // 4, h // 4, w // 2, h // 2], fill=(200, 180, 160), outline="black", width=12)
    im.save(out, fmt, **({"compress_level": 1} if fmt == "PNG" else {"quality": 80}))
""")

_MEASURE = textwrap.dedent("""
    import datetime, resource, sys
    from pathlib import Path
    from intake.mime import parse_message
    from tests import mailfactory as mf
    from verification.attachment import read_attachment
    path = Path(sys.argv[1])
    raw = mf.mail(mf.attachment(path.read_bytes(), path.name, "application/octet-stream"))
    rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    before = rss()
    msg = parse_message(raw)
    (a,) = msg.attachments
    assert a.accepted, a.rejected
    read_attachment(a.filename, a.content_type, a.data, today=datetime.date(2026, 11, 26))
    print(rss() - before)
""")


def _run(code: str, *args: str) -> str:
    env = {"PYTHONPATH": str(ROOT), "OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return proc.stdout.decode()


@pytest.mark.parametrize(("fmt", "budget_mb"), [("PNG", 400), ("JPEG", 200)])
def test_a_60_megapixel_picture_stays_within_the_memory_budget(tmp_path, fmt, budget_mb):
    path = tmp_path / f"fronte.{fmt.lower()}"
    _run(_BUILD, "9000", "6600", fmt, str(path))  # 59.4 Mpx, under the default max_image_pixels
    grown = int(_run(_MEASURE, str(path)))
    assert grown < budget_mb * MB, f"{fmt}: {grown / MB:.0f} MB"


def _picture(size: tuple[int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 120, 150)).save(out, fmt)
    return out.getvalue()


def test_pictures_within_the_budget_are_decoded_whole():
    (page,) = load_image(_picture((4000, 3000), "JPEG"))
    assert page.shape == (3000, 4000, 3)


def test_a_big_jpeg_is_decoded_by_a_dct_factor_and_a_big_png_by_a_box_reduction():
    (jpeg,) = load_image(_picture((6000, 4000), "JPEG"))  # 24 Mpx: libjpeg's 1/2
    assert jpeg.shape == (2000, 3000, 3)
    (png,) = load_image(_picture((6000, 4000), "PNG"))
    assert png.shape == (2000, 3000, 3)
    assert png.shape[0] * png.shape[1] <= DECODE_MAX_PIXELS


def test_the_reduction_is_the_smallest_that_fits():
    assert reduction(4000, 4000) == 1
    assert reduction(9000, 6600) == 2
    assert reduction(20000, 20000) == 5 and reduction(20000, 20000, jpeg=True) == 8
    assert render_scale(595, 842, 150) == 150 / 72  # an A4 page: as asked
    huge = render_scale(14400, 14400, 150)  # PDF's largest page, 200 inches a side
    assert (14400 * huge) ** 2 <= DECODE_MAX_PIXELS * 1.001

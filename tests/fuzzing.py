"""Hostile bytes for the fuzz runs: real files and mails, damaged at random by hypothesis.

Shared by tests/intake/test_fuzz.py, tests/verification/images/test_fuzz_openers.py
and tests/sportello/test_fuzz_ingest.py. The runs are bounded (FUZZ_SETTINGS,
a few minutes in all) and marked `fuzz` and `slow`: scripts/test, which CI
runs, includes them; `-m "not slow"` leaves them out.
"""

from __future__ import annotations

import functools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests import mailfactory as mf

# No example database: the run must leave the worktree as it found it.
FUZZ_SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.data_too_large])


def bounded(examples: int):
    return settings(max_examples=examples, **FUZZ_SETTINGS)


@functools.cache
def seed_files() -> tuple[bytes, ...]:
    return (
        mf.jpeg(160, 120, seed=1),
        mf.png(160, 120, seed=2),
        mf.gif(),
        mf.tiff(pages=2),
        mf.pdf(pages=2, seed=3),
        mf.zip_archive({"fronte.jpg": mf.jpeg(seed=4), "modulo.pdf": mf.pdf(seed=5)}),
        mf.tnef([("fronte.jpg", mf.jpeg(seed=6))]),
        mf.p7m(mf.pdf(seed=7)),
    )


@functools.cache
def seed_mails() -> tuple[bytes, ...]:
    files = seed_files()
    return (
        mf.simple(seed=1),
        mf.mail(mf.attachment(files[0], "fronte.jpg", "image/jpeg"), seed=2),
        mf.mail(mf.attachment(files[4], "modulo.pdf", "application/pdf"),
                mf.attachment(files[5], "documenti.zip", "application/zip"), seed=3,
                html="<p>Buongiorno <img src='cid:logo'></p>"),
        mf.mail(mf.attachment(files[6], "winmail.dat", "application/ms-tnef"),
                mf.attachment(files[7], "modulo.pdf.p7m", "application/pkcs7-mime"), seed=4),
        mf.mail(mf.forwarded(mf.mail(mf.attachment(files[1], "retro.png", "image/png"), seed=5)), seed=6),
        mf.dsn(mf.simple(seed=7), seed=8),
        b"\xef\xbb\xbf" + mf.simple(seed=9),
    )


@st.composite
def damaged(draw, seeds: tuple[bytes, ...]) -> bytes:
    """One of `seeds` with a few random edits: bytes flipped, cut, inserted, repeated."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(("flip", "cut", "insert", "repeat", "truncate", "zero")))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[at : at + draw(st.integers(1, 512))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64) | st.sampled_from(
                (b"\r\n--", b"\r\n\r\n", b"=?utf-8?b?", b"Content-Type: multipart/mixed; boundary=x\r\n", b"\x00" * 16,
                 b"\xff\xd8\xff", b"%PDF-1.7\n", b"PK\x03\x04", b"\x78\x9f\x3e\x22")))
        elif op == "repeat" and data:
            chunk = bytes(data[at : at + draw(st.integers(1, 256))])
            data[at:at] = chunk * draw(st.integers(1, 20))
        elif op == "truncate":
            del data[at:]
        elif op == "zero" and data:
            data[at : at + 32] = bytes(len(data[at : at + 32]))
    return bytes(data)

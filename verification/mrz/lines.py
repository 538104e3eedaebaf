"""Find the MRZ block among the raw text lines that OCR read from a document side."""

from __future__ import annotations

import itertools
import re
from datetime import date

from verification.mrz.text import (
    FILLER,
    TD1_WIDTH,
    TD3_WIDTH,
    MrzData,
    _alphabetic,
    _unique,
    parse_td1,
    parse_td3,
)

# Look-alikes that OCR engines without an OCR-B model produce for the filler.
_OCR_FILLERS = str.maketrans({"«": "<<", "‹": "<", "≤": "<", "(": "<", "[": "<", "{": "<"})
_SLACK = 4  # OCR may drop or add a few characters on a line


def _clean_ocr(line: str) -> str:
    return re.sub(r"[^A-Z0-9<]", "", line.upper().translate(_OCR_FILLERS))


def _length_variants(line: str, width: int) -> list[str]:
    """Ways to bring a line to `width`: characters are most often lost or gained in filler runs."""
    gap = width - len(line)
    if gap == 0:
        return [line]
    runs = [m for m in re.finditer(r"<+", line)]
    longest = max(runs, key=lambda m: len(m.group()), default=None)
    if gap > 0:
        variants = [line + FILLER * gap]
        if longest:
            variants.append(line[: longest.end()] + FILLER * gap + line[longest.end() :])
        return _unique(variants)
    extra = -gap
    variants = [line[:width], line[extra:]]
    if longest and len(longest.group()) > extra:
        variants.append(line[: longest.end() - extra] + line[longest.end() :])
    variants += [line[i : i + width] for i in range(1, extra)]
    return _unique(variants)


def _plausible_start(fmt: str, line: str) -> bool:
    first = _alphabetic(line[0])
    return first in "ACI" if fmt == "TD1" else first == "P"


def find_mrz(lines: list[str], today: date | None = None) -> MrzData | None:
    """Find and parse the TD1 or TD3 MRZ among raw OCR text lines.

    Lines may carry spaces, look-alike fillers, and a few characters too many
    or too few; other text may surround the block. Returns the block whose
    check digits verify best, or None when no block verifies at least two.
    """
    cleaned = [line for line in (_clean_ocr(raw) for raw in lines) if line]
    best: tuple[tuple, MrzData] | None = None
    for fmt, width, count, parser in (("TD1", TD1_WIDTH, 3, parse_td1), ("TD3", TD3_WIDTH, 2, parse_td3)):
        fitting = [line for line in cleaned if abs(len(line) - width) <= _SLACK]
        for start in range(len(fitting) - count + 1):
            block = fitting[start : start + count]
            if not _plausible_start(fmt, block[0]):
                continue
            for edits, combination in _block_variants(block, width):
                data = parser(combination, today)
                score = (data.valid, sum(data.checks.values()), -edits)
                if best is None or score > best[0]:
                    best = (score, data)
                if data.valid and edits == 0:
                    return data
    if best is None or best[0][1] < 2:
        return None
    return best[1]


def _block_variants(block: list[str], width: int):
    per_line = [_length_variants(line, width) for line in block]
    for combination in itertools.product(*per_line):
        edits = sum(variant != line for variant, line in zip(combination, block, strict=True))
        yield edits, list(combination)

"""How many pixels one decoded picture may hold: the memory budget of reading one message.

A 60-megapixel PNG decoded whole is 180 MB of BGR, and the readers make
several working copies (grey, downscaled, warped): ~600 MB for one file.
No reader needs that many pixels (a card is read at 1012 px, a form page
at 150-200 dpi), so pictures over DECODE_MAX_PIXELS are decoded reduced —
a JPEG by its DCT scaling (1/2, 1/4, 1/8: the full picture never exists in
memory), anything else by an integer box reduction right after decoding —
and PDF pages are rendered at a resolution that keeps them within it.
README "Memory" states the figures this gives.
"""

from __future__ import annotations

import math

DECODE_MAX_PIXELS = 16_000_000  # 4,900 x 3,270: a 16 Mpx phone photo is read whole
JPEG_FACTORS = (1, 2, 4, 8)  # what libjpeg can scale by while decoding


def reduction(width: int, height: int, jpeg: bool = False) -> int:
    """The smallest integer factor that brings width x height within DECODE_MAX_PIXELS."""
    pixels = width * height
    if pixels <= DECODE_MAX_PIXELS:
        return 1
    factor = math.ceil(math.sqrt(pixels / DECODE_MAX_PIXELS))
    if jpeg:
        return next((f for f in JPEG_FACTORS if f >= factor), JPEG_FACTORS[-1])
    return factor


def render_scale(width_pt: float, height_pt: float, dpi: float) -> float:
    """pdfium's scale for a page rendered at `dpi`, lowered to stay within DECODE_MAX_PIXELS."""
    scale = dpi / 72
    if width_pt * height_pt * scale * scale > DECODE_MAX_PIXELS:
        scale = math.sqrt(DECODE_MAX_PIXELS / max(width_pt * height_pt, 1.0))
    return scale

"""Drawing helpers shared by the document renderers: fonts, Code 39, photos, signatures, ornaments."""

from __future__ import annotations

import math
import random
import subprocess
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

FACES_DIR = Path(__file__).parent / "faces"

# Where Debian puts the fonts (fonts-liberation, fonts-dejavu-core, fonts-ocr-b); fc-match otherwise.
_FONT_FILES = {
    "sans": ("liberation/LiberationSans-Regular.ttf", "dejavu/DejaVuSans.ttf"),
    "sans_bold": ("liberation/LiberationSans-Bold.ttf", "dejavu/DejaVuSans-Bold.ttf"),
    "sans_narrow": ("liberation/LiberationSansNarrow-Regular.ttf", "dejavu/DejaVuSansCondensed.ttf"),
    "sans_narrow_bold": ("liberation/LiberationSansNarrow-Bold.ttf", "dejavu/DejaVuSansCondensed-Bold.ttf"),
    "serif": ("liberation/LiberationSerif-Regular.ttf", "dejavu/DejaVuSerif.ttf"),
    "serif_bold": ("liberation/LiberationSerif-Bold.ttf", "dejavu/DejaVuSerif-Bold.ttf"),
    "serif_italic": ("liberation/LiberationSerif-Italic.ttf", "dejavu/DejaVuSerif-Italic.ttf"),
    "ocrb": ("../opentype/ocr-b/OCRB.otf",),
}
_FC_NAMES = {"ocrb": "OCR B:style=Regular", "sans": "sans", "serif": "serif"}


@cache
def font_path(name: str) -> str:
    for relative in _FONT_FILES[name]:
        path = Path("/usr/share/fonts/truetype") / relative
        if path.exists():
            return str(path.resolve())
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", _FC_NAMES.get(name.split("_")[0], "sans")],
            capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        found = ""
    if not found:
        raise FileNotFoundError(f"no font for {name!r}: install fonts-liberation and fonts-ocr-b")
    return found


@cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(name), size)


def fit_font(name: str, text: str, width: float, size: int) -> ImageFont.FreeTypeFont:
    """The largest size up to `size` at which `text` fits in `width` pixels."""
    while size > 6 and font(name, size).getlength(text) > width:
        size -= 1
    return font(name, size)


# --- Code 39 ---------------------------------------------------------------------
# Each character: 9 elements, bar/space alternating from a bar, "w" wide and "n" narrow.
_CODE39 = {
    "0": "nnnwwnwnn", "1": "wnnwnnnnw", "2": "nnwwnnnnw", "3": "wnwwnnnnn", "4": "nnnwwnnnw",
    "5": "wnnwwnnnn", "6": "nnwwwnnnn", "7": "nnnwnnwnw", "8": "wnnwnnwnn", "9": "nnwwnnwnn",
    "A": "wnnnnwnnw", "B": "nnwnnwnnw", "C": "wnwnnwnnn", "D": "nnnnwwnnw", "E": "wnnnwwnnn",
    "F": "nnwnwwnnn", "G": "nnnnnwwnw", "H": "wnnnnwwnn", "I": "nnwnnwwnn", "J": "nnnnwwwnn",
    "K": "wnnnnnnww", "L": "nnwnnnnww", "M": "wnwnnnnwn", "N": "nnnnwnnww", "O": "wnnnwnnwn",
    "P": "nnwnwnnwn", "Q": "nnnnnnwww", "R": "wnnnnnwwn", "S": "nnwnnnwwn", "T": "nnnnwnwwn",
    "U": "wwnnnnnnw", "V": "nwwnnnnnw", "W": "wwwnnnnnn", "X": "nwnnwnnnw", "Y": "wwnnwnnnn",
    "Z": "nwwnwnnnn", "-": "nwnnnnwnw", ".": "wwnnnnwnn", " ": "nwwnnnwnn", "*": "nwnnwnwnn",
}


def code39_modules(text: str, narrow: int, wide: int) -> list[tuple[bool, int]]:
    """(is_bar, width) runs of `text` between the * start/stop characters, no check character."""
    runs: list[tuple[bool, int]] = []
    for i, char in enumerate(f"*{text.upper()}*"):
        if i:
            runs.append((False, narrow))  # inter-character gap
        for j, element in enumerate(_CODE39[char]):
            runs.append((j % 2 == 0, wide if element == "w" else narrow))
    return runs


def code39(text: str, *, narrow: int = 3, wide: int = 7, height: int = 70, quiet: int = 30) -> Image.Image:
    """A black-on-white Code 39 barcode image of `text` (the codice fiscale on the CIE and TS backs)."""
    runs = code39_modules(text, narrow, wide)
    width = sum(w for _, w in runs) + 2 * quiet
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    x = quiet
    for is_bar, w in runs:
        if is_bar:
            draw.rectangle((x, 0, x + w - 1, height - 1), fill=0)
        x += w
    return image


# --- photos ----------------------------------------------------------------------


@cache
def _face_file(name: str) -> Image.Image:
    return Image.open(FACES_DIR / f"{name}.jpg").convert("RGB")


def face_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in FACES_DIR.glob("*.jpg")))


def face_photo(name: str, size: tuple[int, int], *, grey: bool = True, contrast: float = 1.0) -> Image.Image:
    """A real face photo (public-domain, see faces/README.md), cropped to `size`, greyscale like a CIE."""
    photo = ImageOps.fit(_face_file(name), size, Image.LANCZOS, centering=(0.5, 0.4))
    if grey:
        photo = ImageOps.autocontrast(photo.convert("L"), cutoff=1).convert("RGB")
    if contrast != 1.0:
        photo = Image.blend(Image.new("RGB", size, (235, 235, 235)), photo, contrast)
    return photo


def landscape(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A photo with no face in it: sky, sun, hills (for face_not_found_* cases)."""
    w, h = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(h):
        t = y / h
        draw.line((0, y, w, y), fill=(int(120 + 100 * t), int(170 + 60 * t), 235))
    r = w // 8
    cx, cy = rng.randrange(r, w - r), rng.randrange(r, h // 3)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 230, 140))
    for layer, colour in enumerate(((110, 140, 110), (70, 120, 70), (40, 90, 40))):
        base = int(h * (0.45 + 0.17 * layer))
        phase, freq = rng.random() * 6.28, 1.5 + rng.random() * 2
        points = [(x, base + int(h * 0.08 * math.sin(phase + freq * x / w * 6.28))) for x in range(0, w + 8, 8)]
        draw.polygon([(0, h), *points, (w, h)], fill=colour)
    return image.filter(ImageFilter.GaussianBlur(1))


# --- ink -------------------------------------------------------------------------


def _catmull_rom(points: list[tuple[float, float]], steps: int = 8) -> list[tuple[float, float]]:
    """A smooth curve through `points` (what a pen does between the turning points)."""
    if len(points) < 3:
        return points
    padded = [points[0], *points, points[-1]]
    out = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1 : i + 3]
        for s in range(steps):
            t = s / steps
            t2, t3 = t * t, t * t * t
            out.append(tuple(
                0.5 * (2 * p1[k] + (-p0[k] + p2[k]) * t + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t2
                       + (-p0[k] + 3 * p1[k] - 3 * p2[k] + p3[k]) * t3)
                for k in (0, 1)
            ))
    out.append(points[-1])
    return out


def signature_points(rng: random.Random, box: tuple[float, float, float, float]) -> list[list[tuple[float, float]]]:
    """Strokes of a handwritten-looking signature inside `box` (x0, y0, x1, y1, y growing downwards).

    Two words of cursive: a tall looped capital, then letters as up/down
    turning points of varying height, some looping back, smoothed into a
    curve; a flourish underneath.
    """
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    base = y0 + h * 0.62
    x = x0 + w * (0.06 + 0.06 * rng.random())
    slant = 0.25 + 0.2 * rng.random()
    strokes = []
    for word in range(2):
        points = [(x, base - h * 0.05)]
        # The capital: a tall loop.
        top = base - h * (0.45 + 0.1 * rng.random())
        points += [(x + w * 0.03, top), (x + w * 0.05, base), (x - w * 0.01, base - h * 0.22),
                   (x + w * 0.06, base - h * 0.15)]
        x += w * 0.07
        for _ in range(rng.randrange(4, 8)):
            tall = rng.random() < 0.25
            height = h * (0.32 if tall else 0.14 + 0.06 * rng.random())
            step = w * (0.018 + 0.014 * rng.random())
            points.append((x + step * 0.5 + height * slant * 0.3, base - height))
            if rng.random() < 0.3:  # a loop: back over itself
                points.append((x + step * 0.1, base - height * 0.55))
            x += step
            points.append((x, base + h * 0.02 * (rng.random() - 0.5)))
            x += step * 0.4
        points.append((x + w * 0.02, base - h * 0.08))
        clipped = [(min(max(px, x0 + 3), x1 - 3), min(max(py, y0 + 3), y1 - 3)) for px, py in points]
        strokes.append(_catmull_rom(clipped))
        x += w * (0.04 + 0.03 * rng.random())
        if x > x0 + w * 0.7 or word:
            break
    # The flourish under the name.
    fy = base + h * 0.18
    flourish = [(x0 + w * 0.08, fy + h * 0.04), (x0 + w * 0.35, fy - h * 0.02), (min(x, x1 - 5), fy + h * 0.03)]
    strokes.append(_catmull_rom(flourish))
    return strokes


def draw_signature(image: Image.Image, box: tuple[float, float, float, float], rng: random.Random,
                   colour: tuple[int, int, int] = (20, 30, 110), width: int = 3) -> None:
    draw = ImageDraw.Draw(image)
    for stroke in signature_points(rng, box):
        draw.line(stroke, fill=colour, width=width, joint="curve")


# --- ornaments -------------------------------------------------------------------


def guilloche(image: Image.Image, rng: random.Random, colour: tuple[int, int, int], lines: int = 14) -> None:
    """The fine security line pattern of card backgrounds."""
    draw = ImageDraw.Draw(image)
    w, h = image.size
    for i in range(lines):
        phase, freq, amp = rng.random() * 6.28, 2 + rng.random() * 3, h * (0.05 + 0.08 * rng.random())
        base = h * (i + 0.5) / lines
        points = [(x, base + amp * math.sin(phase + freq * 6.28 * x / w)) for x in range(0, w + 6, 6)]
        draw.line(points, fill=colour, width=1)


def star(draw: ImageDraw.ImageDraw, centre: tuple[float, float], radius: float, fill, points: int = 5) -> None:
    cx, cy = centre
    vertices = []
    for i in range(points * 2):
        r = radius if i % 2 == 0 else radius * 0.42
        a = -math.pi / 2 + i * math.pi / points
        vertices.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    draw.polygon(vertices, fill=fill)


def eu_flag(size: tuple[int, int], letters: str = "") -> Image.Image:
    """The EU flag (12 gold stars) with the state letters, as on licences and EHIC."""
    w, h = size
    flag = Image.new("RGB", size, (0, 51, 153))
    draw = ImageDraw.Draw(flag)
    r = min(w, h) * 0.3
    cx, cy = w / 2, h * (0.42 if letters else 0.5)
    for i in range(12):
        a = i * math.pi / 6
        star(draw, (cx + r * math.cos(a), cy + r * math.sin(a)), r * 0.16, (255, 204, 0))
    if letters:
        f = font("sans_bold", int(h * 0.28))
        draw.text((cx, h * 0.84), letters, font=f, fill="white", anchor="mm")
    return flag


def emblem(draw: ImageDraw.ImageDraw, centre: tuple[float, float], radius: float, colour=(40, 40, 40)) -> None:
    """A stylised emblem of the Italian Republic: star on a cogwheel within a wreath."""
    cx, cy = centre
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=colour, width=2)
    for i in range(12):
        a = i * math.pi / 6
        draw.line((cx + radius * 0.55 * math.cos(a), cy + radius * 0.55 * math.sin(a),
                   cx + radius * 0.8 * math.cos(a), cy + radius * 0.8 * math.sin(a)), fill=colour, width=3)
    draw.ellipse((cx - radius * 0.6, cy - radius * 0.6, cx + radius * 0.6, cy + radius * 0.6), fill="white")
    star(draw, (cx, cy), radius * 0.55, colour)


def chip(size: tuple[int, int]) -> Image.Image:
    """The gold contact plate of a smart card (ISO/IEC 7816-2 layout, 8 contacts)."""
    w, h = size
    plate = Image.new("RGB", size, (212, 175, 55))
    draw = ImageDraw.Draw(plate)
    for y in range(h):
        shade = int(20 * math.sin(y / h * math.pi))
        draw.line((0, y, w, y), fill=(205 + shade // 2, 168 + shade, 60 + shade))
    line = (150, 120, 40)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=w // 8, outline=line, width=2)
    draw.line((w * 0.5, 0, w * 0.5, h), fill=line, width=2)
    for y in (h / 4, h / 2, 3 * h / 4):
        draw.line((0, y, w * 0.36, y), fill=line, width=2)
        draw.line((w * 0.64, y, w, y), fill=line, width=2)
    draw.rounded_rectangle((w * 0.36, h * 0.2, w * 0.64, h * 0.8), radius=6, outline=line, width=2)
    return plate


def rounded_card(size: tuple[int, int], colour, radius: int = 36) -> tuple[Image.Image, Image.Image]:
    """A card-shaped canvas and its mask (ID-1 corners are rounded: 3.18 mm)."""
    card = Image.new("RGB", size, colour)
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), radius=radius, fill=255)
    return card, mask

"""How citizens capture documents: flatbed scans, phone photos, and the failures (blur, cut off, too small).

Every style takes rendered images (cards at 300 dpi, A4 pages) and a seeded
`random.Random`; `encode` turns the result into the bytes of a file (JPEG,
PNG, HEIC, multi-page TIFF or an image-only PDF), deterministically.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tests.corpus.drawing import font

A4_MM = (210, 297)
_SCAN_TIME = datetime(2026, 11, 20, 10, 0, 0).timetuple()  # Pillow wants a struct_time
CONTENT_TYPES = {
    "jpeg": ("image/jpeg", "jpg"),
    "png": ("image/png", "png"),
    "heic": ("image/heic", "heic"),
    "tiff": ("image/tiff", "tif"),
    "pdf": ("application/pdf", "pdf"),
}


@dataclass(frozen=True)
class File:
    filename: str
    data: bytes
    content_type: str


def _np_rng(rng: random.Random) -> np.random.Generator:
    return np.random.default_rng(rng.randrange(2**32))


@cache
def _grain_tile() -> np.ndarray:
    return np.random.default_rng(9303).standard_normal((509, 509), dtype=np.float32)


def _noise(image: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    """Sensor grain: the same luminance noise on every channel (a fixed random tile, shifted by `rng`)."""
    array = np.asarray(image.convert("RGB"))
    h, w = array.shape[:2]
    tile = _grain_tile()
    reps = (h // tile.shape[0] + 2, w // tile.shape[1] + 2)
    dy, dx = rng.randrange(tile.shape[0]), rng.randrange(tile.shape[1])
    grain = np.tile(tile, reps)[dy : dy + h, dx : dx + w] * sigma
    noisy = cv2.add(array, cv2.merge((grain, grain, grain)), dtype=cv2.CV_8U)
    return Image.fromarray(noisy)


def _rounded_mask(size: tuple[int, int], radius: int) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), radius=radius, fill=255)
    return mask


def _rotate(image: Image.Image, angle: float, fill: int | tuple[int, ...], expand: bool = True) -> Image.Image:
    """`image` turned `angle` degrees counter-clockwise (OpenCV: several times faster than PIL here)."""
    array = np.asarray(image)
    h, w = array.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    size = (w, h)
    if expand:
        cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
        size = (round(h * sin + w * cos), round(h * cos + w * sin))
        matrix[0, 2] += size[0] / 2 - w / 2
        matrix[1, 2] += size[1] / 2 - h / 2
    return Image.fromarray(cv2.warpAffine(array, matrix, size, flags=cv2.INTER_LINEAR,
                                          borderMode=cv2.BORDER_CONSTANT, borderValue=fill))


def _corner_radius(image: Image.Image) -> int:
    """Cards (landscape, ~1.59:1) have rounded corners; pages and booklets square ones."""
    w, h = image.size
    return int(w * 0.037) if 1.5 < w / h < 1.7 else 2


# --- flatbed scans ---------------------------------------------------------------


def flat_scan(images: list[Image.Image], rng: random.Random, *, dpi: int = 300, grey: bool = False,
              source_dpi: int = 300) -> Image.Image:
    """The images laid on a flatbed and scanned as one A4 page at `dpi` (several cards on one page)."""
    page_w, page_h = (round(mm / 25.4 * dpi) for mm in A4_MM)
    page = Image.new("RGB", (page_w, page_h), (252, 252, 250))
    margin = round(10 / 25.4 * dpi)
    scale = dpi / source_dpi
    if len(images) == 1 and abs(images[0].height / images[0].width - A4_MM[1] / A4_MM[0]) < 0.02:
        # A printed A4 page fills the glass.
        sheet = images[0].resize((page_w, page_h), Image.BILINEAR, reducing_gap=2.0)
        page = _rotate(sheet.convert("RGB"), rng.uniform(-0.8, 0.8), (252, 252, 250), expand=False)
        images = []
    x, y, row_h = margin, margin, 0
    for image in images:
        item = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR,
                            reducing_gap=2.0)
        if item.width > page_w - 2 * margin:  # an A4 page scanned alone: fit it
            factor = (page_w - 2 * margin) / item.width
            item = item.resize((round(item.width * factor), round(item.height * factor)), Image.LANCZOS)
        if x + item.width > page_w - margin:
            x, y, row_h = margin, y + row_h + margin, 0
        mask = _rounded_mask(item.size, _corner_radius(item))
        angle = rng.uniform(-1.2, 1.2)
        rotated = _rotate(item.convert("RGB"), angle, (252, 252, 250))
        rotated_mask = _rotate(mask, angle, 0)
        jitter = (rng.randrange(0, margin // 2 + 1), rng.randrange(0, margin // 2 + 1))
        page.paste(rotated, (x + jitter[0], y + jitter[1]), rotated_mask)
        x += rotated.width + margin
        row_h = max(row_h, rotated.height + jitter[1])
    page = Image.fromarray(cv2.GaussianBlur(np.asarray(page), (0, 0), 0.5 * dpi / 300))
    page = _noise(page, rng, 2.0)
    return page.convert("L").convert("RGB") if grey else page


# --- phone photos ----------------------------------------------------------------


def _table(size: tuple[int, int], rng: random.Random) -> np.ndarray:
    """A table top (wood grain, a grey desk or a cloth), RGB uint8; drawn at half size, it is smooth."""
    w, h = size[0] // 2, size[1] // 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    kind = rng.randrange(3)
    if kind == 0:  # wood
        grain = np.sin((yy + 12 * np.sin(xx / rng.uniform(60, 130))) / rng.uniform(2.5, 5.5)) * 18
        texture = np.array([150, 105, 65], np.float32) + grain[..., None] * np.array([1, 0.8, 0.6], np.float32)
    elif kind == 1:  # grey laminate
        texture = np.broadcast_to(np.array([120, 122, 126], np.float32), (h, w, 3)).copy()
    else:  # dark cloth
        weave = (np.sin(xx * 1.5) * np.sin(yy * 1.5)) * 10
        texture = np.array([45, 60, 95], np.float32) + weave[..., None]
    return cv2.resize(np.clip(texture, 0, 255).astype(np.uint8), size, interpolation=cv2.INTER_LINEAR)


def _lighting(size: tuple[int, int], rng: random.Random) -> np.ndarray:
    """Uneven light: a gradient across the frame and a soft hot spot."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    gradient = ((xx / w - 0.5) * math.cos(angle) + (yy / h - 0.5) * math.sin(angle)) * rng.uniform(0.25, 0.45)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    spot = np.exp(-(((xx - cx) / (0.5 * w)) ** 2 + ((yy - cy) / (0.5 * h)) ** 2)) * 0.12
    return (0.92 + gradient + spot).astype(np.float32)[..., None]


def phone_photo(image: Image.Image, rng: random.Random, *, frame: tuple[int, int] | None = None,
                fill: float | None = None, offset: tuple[float, float] = (0.0, 0.0)) -> Image.Image:
    """The document photographed on a table: perspective, slight rotation, shadow, uneven light.

    `fill` is the document's width as a share of the frame; `offset` moves its
    centre by that share of the frame (cut_off uses it).
    """
    portrait = image.height > image.width
    frame = frame or ((1200, 1600) if portrait else (1600, 1200))
    fw, fh = frame
    fill = fill or rng.uniform(0.72, 0.84)
    scale = min(fw * fill / image.width, fh * fill / image.height)
    w, h = image.width * scale, image.height * scale
    cx = fw / 2 + rng.uniform(-0.04, 0.04) * fw + offset[0] * fw
    cy = fh / 2 + rng.uniform(-0.04, 0.04) * fh + offset[1] * fh
    angle = math.radians(rng.uniform(-6, 6))
    corners = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        px, py = sx * w / 2, sy * h / 2
        rx = px * math.cos(angle) - py * math.sin(angle)
        ry = px * math.sin(angle) + py * math.cos(angle)
        corners.append((cx + rx + rng.uniform(-0.03, 0.03) * w, cy + ry + rng.uniform(-0.03, 0.03) * h))
    # Perspective: the far edge a little narrower, as when the phone is tilted.
    squeeze = rng.uniform(0, 0.05) * w
    corners[0] = (corners[0][0] + squeeze, corners[0][1])
    corners[1] = (corners[1][0] - squeeze, corners[1][1])
    src = np.float32([(0, 0), (image.width, 0), (image.width, image.height), (0, image.height)])
    matrix = cv2.getPerspectiveTransform(src, np.float32(corners))
    document = cv2.warpPerspective(np.asarray(image.convert("RGB")), matrix, frame, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.asarray(_rounded_mask(image.size, _corner_radius(image))), matrix, frame,
                               flags=cv2.INTER_LINEAR)
    alpha = mask.astype(np.float32) / 255
    # Table, shadow and light are smooth: drawn small, then enlarged.
    small = (fw // 4, fh // 4)
    shadow = cv2.GaussianBlur(cv2.resize(alpha, small, interpolation=cv2.INTER_AREA), (0, 0), 2.5)
    shadow = np.roll(shadow, (3, 2), axis=(0, 1))
    shade = np.clip(_lighting(small, rng)[..., 0] * (1 - 0.4 * shadow) * 128, 0, 255).astype(np.uint8)
    shade = cv2.resize(shade, frame, interpolation=cv2.INTER_LINEAR)
    scene = cv2.blendLinear(document, _table(frame, rng), alpha, 1 - alpha)
    scene = cv2.multiply(scene, cv2.merge((shade, shade, shade)), scale=1 / 128)
    return _noise(Image.fromarray(cv2.GaussianBlur(scene, (0, 0), 0.7)), rng, 3.0)


def screenshot(image: Image.Image, rng: random.Random) -> Image.Image:
    """A phone's screenshot of the document as its gallery shows it: the picture scaled to the screen's
    width less a few pixels, on black, with the status bar's clock and the gallery's buttons.

    What reaches us is a PNG of the screen, not the photo: black around, print the phone resampled.
    """
    screen_w, screen_h = rng.choice(((1170, 2532), (1080, 2400), (1284, 2778)))
    shot = Image.new("RGB", (screen_w, screen_h), (0, 0, 0))
    margin = rng.randrange(8, 30)
    width = screen_w - 2 * margin
    height = round(image.height * width / image.width)
    shown = image.convert("RGB").resize((width, height), Image.LANCZOS)
    top = (screen_h - height) // 2 + rng.randrange(-80, 80)
    mask = _rounded_mask(shown.size, _corner_radius(shown)) if rng.random() < 0.6 else None
    shot.paste(shown, (margin, top), mask)
    draw = ImageDraw.Draw(shot)
    draw.text((90, 45), f"{rng.randrange(7, 23)}:{rng.randrange(60):02d}", fill=(255, 255, 255), font=font("sans", 46))
    draw.rectangle((screen_w - 130, 55, screen_w - 70, 85), outline=(255, 255, 255), width=3)
    for i in range(4):  # the gallery's buttons under the picture
        x = round((i + 0.5) * screen_w / 4)
        draw.rounded_rectangle((x - 28, screen_h - 230, x + 28, screen_h - 174), 8, outline=(10, 132, 255), width=4)
    return shot


# --- failures --------------------------------------------------------------------


def blurred(image: Image.Image, rng: random.Random) -> Image.Image:
    """A shaken, out-of-focus photo: nothing on it can be read."""
    photo = phone_photo(image, rng)
    if rng.random() < 0.5:
        return photo.filter(ImageFilter.GaussianBlur(rng.uniform(9, 12)))
    length = rng.randrange(45, 70)
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1 / length
    rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    kernel /= kernel.sum()
    smeared = cv2.filter2D(np.asarray(photo, np.float32), -1, kernel)
    return Image.fromarray(np.clip(cv2.GaussianBlur(smeared, (0, 0), 3), 0, 255).astype(np.uint8))


def cut_off(image: Image.Image, rng: random.Random) -> Image.Image:
    """The document half out of the frame."""
    side = rng.choice(((0.42, 0.0), (-0.42, 0.0), (0.0, 0.42), (0.0, -0.42)))
    return phone_photo(image, rng, fill=0.8, offset=side)


def low_res(image: Image.Image, rng: random.Random) -> Image.Image:
    """A thumbnail: the document ~220 px wide, nothing legible."""
    width = rng.randrange(200, 240)
    small = image.resize((width, round(image.height * width / image.width)), Image.BILINEAR)
    return _noise(small, rng, 2.0)


# --- files -----------------------------------------------------------------------


def encode(images: Image.Image | list[Image.Image], fmt: str, rng: random.Random, *,
           dpi: int = 300, quality: int | None = None) -> tuple[bytes, str]:
    """The file bytes and content type: jpeg, png, heic (first image), tiff (multi-page), pdf (image-only)."""
    images = images if isinstance(images, list) else [images]
    buf = io.BytesIO()
    quality = quality or rng.randrange(70, 86)
    first = images[0].convert("RGB")
    if fmt == "jpeg":
        first.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
    elif fmt == "png":
        first.save(buf, "PNG", dpi=(dpi, dpi))
    elif fmt == "heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
        first.save(buf, "HEIF", quality=quality, enc_params={"preset": "ultrafast"})
    elif fmt == "tiff":
        pages = [im.convert("RGB") for im in images]
        pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:], compression="jpeg", quality=quality,
                      dpi=(dpi, dpi))
    elif fmt == "pdf":
        buf.write(image_pdf(images, dpi=dpi, quality=quality))
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return buf.getvalue(), CONTENT_TYPES[fmt][0]


def image_pdf(images: list[Image.Image], *, dpi: int = 300, quality: int = 80) -> bytes:
    """An image-only PDF, one page per image at `dpi` (what a scanner's "scan to PDF" produces)."""
    pages = [image.convert("RGB") for image in images]
    buf = io.BytesIO()
    # Pillow embeds the JPEG as is (DCTDecode); a fixed date keeps the bytes the same every time.
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], resolution=float(dpi), quality=quality,
                  creationDate=_SCAN_TIME, modDate=_SCAN_TIME)
    return buf.getvalue()


def extension(fmt: str) -> str:
    return CONTENT_TYPES[fmt][1]

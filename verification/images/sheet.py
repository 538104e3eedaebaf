"""Finding and straightening a sheet of paper in a picture: a flatbed scan or a phone photo.

A photo's sheet is found by its outline (bright, unsaturated, or edged
against the desk) and warped flat; a scan is the sheet. Then the page is
evened out (a photo's light) and deskewed by its text lines. Quarter turns
are the caller's to choose (`orientations`): only the words can tell which
way up a page is.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

A4_RATIO = 297 / 210


def gray_of(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    return img


def _order(quad: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    s, d = quad.sum(axis=1), np.diff(quad, axis=1).ravel()
    return np.float32([quad[np.argmin(s)], quad[np.argmin(d)], quad[np.argmax(s)], quad[np.argmax(d)]])


WORK_SIDE = 800  # the longest side of the copy a picture's sheet and cards are looked for on


def downscaled(img: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """`img` scaled down (area filter) so that its longest side is at most `side`; the picture itself
    when it is no larger. The last one is kept: the sheet (page_quad) and then the cards
    (cards.find.find_cards) are looked for on the same copy of the same picture (~5 ms a photo)."""
    scale = min(1.0, side / max(img.shape[:2]))
    if scale >= 1.0:
        return img
    last = getattr(_memo, "downscaled", None)
    if last is not None and last[0] is img and last[1] == side and last[2] == fingerprint(img):
        return last[3]
    out = shrink(img, scale)
    out.flags.writeable = False
    _memo.downscaled = (img, side, fingerprint(img), out)
    return out


def shrink(img: np.ndarray, scale: float) -> np.ndarray:
    """`img` scaled down by `scale` (area filter), averaging whole blocks of pixels first.

    OpenCV's area filter is fast for a whole factor (2, 3 …) and slow for any
    other (20 ms for a 200 dpi colour page to 800 px): the block average takes
    the picture to within a factor of 2 of its size, and the area filter the
    rest of the way on a quarter (or less) of the pixels (9 ms). Linear
    interpolation for that last step costs 3 ms, but cards found on such a
    copy come out a pixel off often enough to lose an MRZ's glyph grid. At
    most `factor - 1` pixels of the right and bottom edges are left out.
    """
    h, w = img.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    factor = int(1 / scale + 1e-6)
    if factor >= 2:
        h, w = h - h % factor, w - w % factor
        img = cv2.resize(img[:h, :w], (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    if img.shape[1::-1] != size:
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    return img


def page_quad(img: np.ndarray) -> np.ndarray | None:
    """The corners of a sheet (or a card) photographed on a background, or None (a scan: the picture is the page).

    Three looks, first found wins: the bright region (Otsu), the white region
    (bright and unsaturated: a sheet on a coloured desk), the outline (edges).
    Looked for at 600 px, from the picture's working copy (`downscaled`).
    """
    scale = 600 / max(img.shape[:2])
    work = downscaled(img)
    small = cv2.resize(work, (int(round(img.shape[1] * scale)), int(round(img.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA)
    gray = cv2.GaussianBlur(gray_of(small), (5, 5), 0)

    def whiteness() -> np.ndarray:  # made only when the bright region is not a sheet (a card photo's is)
        hsv = cv2.cvtColor(small[:, :, :3], cv2.COLOR_BGR2HSV)
        return cv2.GaussianBlur(cv2.subtract(hsv[:, :, 2], hsv[:, :, 1]), (5, 5), 0)

    for source in (lambda: gray, *((whiteness,) if small.ndim == 3 else ())):
        mask = cv2.threshold(source(), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((7, 7), np.uint8))  # a striped desk's bright lines
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        quad = _quad_of(contours, mask.size, min_fill=0.93)
        if quad is not None:
            return quad / scale
    edges = cv2.dilate(cv2.Canny(gray, 30, 100), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    quad = _quad_of(contours, edges.size)
    return quad / scale if quad is not None else None


def _quad_of(contours, image_area: int, min_fill: float = 0.0) -> np.ndarray | None:
    """The largest four-cornered region covering 15-95 % of the picture, corners ordered.

    `min_fill`: how much of the four-cornered outline the region must fill; a
    sheet merged with a bright stripe of the desk fills it badly (~0.85).
    """
    best = None
    for contour in contours:
        hull = cv2.convexHull(contour)
        area = cv2.contourArea(hull) / float(image_area)
        if not 0.15 <= area <= 0.95 or (best is not None and area <= best[0]):
            continue
        quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(quad) == 4 and cv2.contourArea(contour) >= min_fill * cv2.contourArea(quad):
            best = (area, quad)
    return _order(best[1].reshape(4, 2).astype(np.float32)) if best else None


def quad_size(quad: np.ndarray) -> tuple[float, float]:
    tl, tr, br, bl = quad
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    return float(width), float(height)


def sheet(img: np.ndarray) -> tuple[np.ndarray, bool]:
    """The sheet's corners in the picture and whether it was photographed (found on a background);
    for a scan, the whole picture."""
    quad = page_quad(img)
    if quad is not None:
        centre = quad.mean(axis=0)
        return centre + (quad - centre) * 0.985, True  # a little inside the sheet's edge: no desk in the page
    h, w = img.shape[:2]
    return np.float32([[0, 0], [w, 0], [w, h], [0, h]]), False


def orientations(quad: np.ndarray) -> tuple[int, int]:
    """Quarter turns worth trying, likeliest first: upright or upside down; on its side, either way."""
    w, h = quad_size(quad)
    return (0, 2) if h >= w else (1, 3)


def turned(quad: np.ndarray, turns: int) -> np.ndarray:
    """The corners as the page's top-left, top-right, bottom-right, bottom-left after `turns` quarter turns."""
    return np.roll(quad, -turns, axis=0)


def warp(gray: np.ndarray, quad: np.ndarray, width: int, rows_share: float = 1.0) -> np.ndarray:
    """The page (or its top `rows_share`) flat and `width` pixels wide; A4 stays A4."""
    w, h = quad_size(quad)
    ratio = h / max(w, 1.0)
    height = int(width * (A4_RATIO if abs(ratio - A4_RATIO) < 0.12 else ratio))  # a photo squashes a sheet a little
    # warpPerspective has no area filter: from more than twice as large, it warps to a whole multiple
    # of the size (where linear interpolation skips few pixels) and averages the blocks down.
    factor = max(1, int(np.ceil(w / (2.0 * width))))
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]]) * factor
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    size = (width, max(1, int(height * rows_share)))
    out = cv2.warpPerspective(gray, matrix, (size[0] * factor, size[1] * factor), flags=cv2.INTER_LINEAR,
                              borderValue=255)
    return out if factor == 1 else cv2.resize(out, size, interpolation=cv2.INTER_AREA)


_memo = threading.local()


def fingerprint(img: np.ndarray) -> tuple:
    """Enough to tell one picture from another at the same address: shape, memory, a sample of pixels."""
    sample = img[:: max(1, img.shape[0] // 40), :: max(1, img.shape[1] // 40)]
    return img.shape, img.dtype.str, img.ctypes.data, hash(sample.tobytes())


def flatten_light(gray: np.ndarray) -> np.ndarray:
    """Paper white and even: the picture divided by its background (the page with the text closed over).

    A photo's page is grey and lit unevenly, and tesseract's global threshold
    then loses whole lines; computed at a quarter size, it costs ~10 ms a page.
    """
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    k = max(5, small.shape[1] // 40) | 1
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    background = cv2.GaussianBlur(background, (0, 0), k / 2)
    background = cv2.resize(background, gray.shape[::-1], interpolation=cv2.INTER_LINEAR)
    out = cv2.divide(gray, np.maximum(background, 1), scale=240)
    return out


def deskew_angle(gray: np.ndarray) -> float:
    """The rotation (degrees) that makes text lines horizontal: the sharpest row profile wins."""
    scale = 500 / gray.shape[1]
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1].astype(np.float32)
    centre = (small.shape[1] / 2, small.shape[0] / 2)

    def sharpness(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rows = cv2.warpAffine(ink, matrix, small.shape[::-1], flags=cv2.INTER_NEAREST).sum(axis=1)
        return float(np.var(rows))

    best = max(np.arange(-4, 4.01, 0.5), key=sharpness)
    return float(max(np.arange(best - 0.4, best + 0.41, 0.1), key=sharpness))


def straighten(img: np.ndarray, width: int, turns: int | None = None,
               quad: np.ndarray | None = None) -> np.ndarray:
    """The page flat, evened out, deskewed and `width` pixels wide (greyscale), turned `turns` quarter turns."""
    gray = gray_of(img)
    quad = sheet(img)[0] if quad is None else quad
    page = flatten_light(warp(gray, turned(quad, orientations(quad)[0] if turns is None else turns), width))
    angle = deskew_angle(page)
    if abs(angle) >= 0.1:
        matrix = cv2.getRotationMatrix2D((page.shape[1] / 2, page.shape[0] / 2), angle, 1.0)
        page = cv2.warpAffine(page, matrix, page.shape[::-1], flags=cv2.INTER_LINEAR, borderValue=255)
    return page

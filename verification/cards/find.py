"""Page images in, cards out: card detection and perspective correction, quality (decoding: images.decode).

`find_cards` looks for card-shaped quadrilaterals (ID-1, 85.6 × 54 mm,
aspect 1.586; a passport data page or paper ID page, 125 × 88 mm, 1.42) on
a downscaled copy of the page, and warps each one to a canonical landscape
image — 1012 × 638 px for ID-1, 1200 × 845 for a page — so the readers can
look at fixed fractions of a card. Several cards on one A4 scan come out
separately; a picture that is nothing but one card is that card. Which way
up a card is (0 or 180 degrees) is settled here from cheap cues when there
are any (the chip on the left) and otherwise by the reader, which looks
for the MRZ band at the bottom and the header text (verification.cards.side).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from verification.images.sheet import WORK_SIDE, downscaled

ID1_ASPECT = 85.60 / 53.98  # ISO/IEC 7810 ID-1
PAGE_ASPECT = 125.0 / 88.0  # ICAO 9303 TD3 data page
BOOKLET_ASPECT = 1.733  # an open paper carta d'identità, two pages side by side
ID1_SIZE = (1012, 638)
PAGE_SIZE = (1200, 845)
BOOKLET_SIZE = (1400, 808)
MIN_SOURCE_WIDTH = 420  # px along the card's long side: below that the small print is gone
BLUR_THRESHOLD = 0.30  # `sharpness`: sharp scans and photos score 0.5-7, blurred ones 0.0-0.25


@dataclass(frozen=True, eq=False)
class Card:
    """One card found on a page, warped to a canonical landscape image (BGR).

    region: (x, y, w, h) in the page; source_width: the card's long side in
    page pixels before warping; cut_off: its outline runs into the page edge;
    page: the picture it was found on (not copied), for a second look around
    an outline found a little short.
    """

    image: np.ndarray
    region: tuple[int, int, int, int]
    source_width: float
    cut_off: bool = False
    kind: str = "id1"  # "id1" | "page" | "booklet"
    page: np.ndarray | None = field(default=None, repr=False)

    def rotated180(self) -> Card:
        return Card(cv2.rotate(self.image, cv2.ROTATE_180), self.region, self.source_width, self.cut_off, self.kind,
                    self.page)

    def surroundings(self, margin: float = 0.1) -> np.ndarray | None:
        """The page around the card's region, `margin` of its size wider on every side (not warped)."""
        if self.page is None:
            return None
        x, y, w, h = self.region
        dx, dy = int(margin * w), int(margin * h)
        return self.page[max(0, y - dy) : y + h + dy, max(0, x - dx) : x + w + dx]


# ---------------------------------------------------------------- card detection


def _order(quad: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    quad = quad.reshape(4, 2).astype(np.float32)
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    quad = quad[np.argsort(angles)]  # clockwise from the top-left quadrant (image y points down)
    start = np.argmin(quad.sum(axis=1))
    return np.roll(quad, -start, axis=0)


def _sides(quad: np.ndarray) -> tuple[float, float]:
    """Mean lengths of the top/bottom and left/right edges."""
    tl, tr, br, bl = quad
    return (
        (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2,
        (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2,
    )


def _fill(mask: np.ndarray, k: int) -> np.ndarray:
    """Close gaps of up to k px, fill every outline, drop what is thinner than k."""
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    filled = np.zeros_like(mask)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(filled, contours, -1, 255, cv2.FILLED)
    return cv2.morphologyEx(filled, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))


def _border(image: np.ndarray) -> np.ndarray:
    b = max(2, min(image.shape[:2]) // 40)
    return np.concatenate([image[:b].reshape(-1, *image.shape[2:]), image[-b:].reshape(-1, *image.shape[2:]),
                           image[:, :b].reshape(-1, *image.shape[2:]), image[:, -b:].reshape(-1, *image.shape[2:])])


def _background_distance(lab: np.ndarray) -> np.ndarray:
    """Colour distance from the background, in units where 14 is "clearly not background".

    The background is learnt from the frame's border: its lightness as a
    plane (a phone photo is lit unevenly across the table), fitted robustly
    so that a card running into the border does not count; its colour as the
    median. The distance is scaled by the background's own spread.
    """
    h, w = lab.shape[:2]
    xs_full = np.arange(w, dtype=np.float32)[None, :] / w
    ys_full = np.arange(h, dtype=np.float32)[:, None] / h
    # Every third border pixel: the fit's medians cost by the pixel, and a border has tens of thousands.
    ys = _border(np.broadcast_to(ys_full, (h, w))).ravel()[::3]
    xs = _border(np.broadcast_to(xs_full, (h, w))).ravel()[::3]
    border = _border(lab).reshape(-1, 3)[::3]
    design = np.stack([np.ones_like(xs), xs, ys], axis=1).astype(np.float64)
    lightness_b = border[:, 0].astype(np.float64)
    # Start from the border pixels nearest the median lightness: a card along one edge is an outlier.
    deviation = np.abs(border[:, 0] - np.median(border[:, 0]))
    inliers = deviation <= np.percentile(deviation, 60)
    for _ in range(3):
        # Least squares over the inliers by its normal equations: a 3 × 3 solve, not an SVD of the border.
        weighted = design * inliers[:, None]
        coef = np.linalg.solve(weighted.T @ design, weighted.T @ lightness_b)
        residual = border[:, 0] - (design @ coef).astype(np.float32)
        mad = float(np.median(np.abs(residual[inliers]))) + 1.0
        inliers = np.abs(residual) < 3 * mad
    chroma = np.median(border[inliers, 1:], axis=0)
    chroma_spread = float(np.median(np.hypot(*(border[inliers, 1:] - chroma).T)))
    spread = max(1.0, mad, chroma_spread)
    lightness = lab[..., 0] - (coef[0] + coef[1] * xs_full + coef[2] * ys_full).astype(np.float32)
    colour = cv2.magnitude(lab[..., 1] - np.float32(chroma[0]), lab[..., 2] - np.float32(chroma[1]))
    return cv2.magnitude(lightness, colour) * np.float32(14.0 / max(14.0, 4.0 * spread))


def _masks(work: np.ndarray) -> list[np.ndarray]:
    """Two views of where the cards are.

    Colour: far from the colour of the frame's border (a card on a table).
    Edges: a light card on a white scanner bed differs from it by a few grey
    levels, so its outline is found with Canny thresholds set just above the
    background's own noise.
    """
    h, w = work.shape[:2]
    k = max(3, min(h, w) // 60)
    # The colour distance is smooth (a card's colour against the table's): worked out at half size, where
    # pyrDown's 5 × 5 Gaussian is the blur, and brought back to size; it costs by the pixel (Lab in floats).
    lab = cv2.cvtColor(cv2.pyrDown(work), cv2.COLOR_BGR2LAB).astype(np.float32)
    distance = cv2.resize(_background_distance(lab), (w, h), interpolation=cv2.INTER_LINEAR)
    distance = np.clip(distance, 0, 255).astype(np.uint8)
    # 14 is "clearly not background"; on a busy table (wood grain) a card can score less, while still
    # standing apart from the table: then Otsu's split between the two is the line.
    otsu, _ = cv2.threshold(distance, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    colour = (distance > min(14.0, max(6.0, otsu))).astype(np.uint8) * 255
    grey = cv2.GaussianBlur(cv2.cvtColor(work, cv2.COLOR_BGR2GRAY), (0, 0), 1.0)
    gradient = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    low = float(np.clip(2.0 * np.percentile(_border(gradient), 95), 4, 60))
    edges = cv2.dilate(cv2.Canny(grey, low, 2 * low), np.ones((3, 3), np.uint8))
    return [_fill(colour, k), _fill(edges, k)]


def _quad(contour: np.ndarray) -> np.ndarray | None:
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for epsilon in (0.02, 0.035, 0.05):
        approx = cv2.approxPolyDP(hull, epsilon * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
    box = cv2.boxPoints(cv2.minAreaRect(contour))
    if cv2.contourArea(contour) > 0.85 * cv2.contourArea(box):
        return box.astype(np.float32)
    return None


def _kind(aspect: float) -> str | None:
    # A portrait photo (35 × 45 mm, 1.29) inside a card must not pass for a page.
    if 1.49 <= aspect < 1.67:
        return "id1"
    if 1.67 <= aspect <= 1.95:
        return "booklet"
    if 1.34 <= aspect < 1.49:
        return "page"
    return None


def _outline_kind(aspect: float) -> str | None:
    """The kind of an outline found on the page: as `_kind`, but a data page (1.42) photographed at an
    angle foreshortens to 1.31-1.34 (a phone held over a passport on a table). Not for the frame itself:
    a 4:3 photo (1.33) is not a page cropped to its edges."""
    return _kind(aspect) or ("page" if 1.31 <= aspect < 1.34 else None)


def _candidates(mask: np.ndarray) -> list[tuple[np.ndarray, bool]]:
    """Card-shaped outlines in a mask, as (ordered quad, touches the frame's edge)."""
    wh, ww = mask.shape
    found = []
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    for contour in sorted(contours, key=cv2.contourArea, reverse=True):
        if cv2.contourArea(contour) < 0.02 * wh * ww:
            break
        x, y, bw, bh = cv2.boundingRect(contour)
        touches = x <= 2 or y <= 2 or x + bw >= ww - 2 or y + bh >= wh - 2
        if bw >= ww - 4 and bh >= wh - 4:
            continue  # the whole frame: see find_cards
        quad = _quad(contour)
        if quad is None:
            if not touches:
                continue
            quad = cv2.boxPoints(cv2.minAreaRect(contour)).astype(np.float32)
        quad = _refine(_order(quad), contour.reshape(-1, 2).astype(np.float32))
        long_side, short_side = sorted(_sides(quad), reverse=True)
        aspect = long_side / max(short_side, 1)
        if _outline_kind(aspect) or (touches and 1.0 <= aspect <= 3.5):
            found.append((quad, touches))
    return found


def _refine(quad: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Corners where lines fitted to the four sides meet.

    The polygon approximation puts a vertex somewhere on a rounded corner
    (ID-1 corners have a 3.18 mm radius), which tilts the warped card by a
    degree or so: enough for tesseract to merge a small label with the value
    under it. The middle 70% of each side is straight.
    """
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        side = b - a
        length = float(np.linalg.norm(side))
        if length < 10:
            return quad
        unit = side / length
        along = (points - a) @ unit
        across = np.abs((points - a) @ np.array([-unit[1], unit[0]]))
        near = points[(along > 0.15 * length) & (along < 0.85 * length) & (across < max(3.0, 0.03 * length))]
        if len(near) < 10:
            return quad
        vx, vy, x0, y0 = cv2.fitLine(near, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    corners = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        matrix = np.array([d1, -d2]).T
        if abs(np.linalg.det(matrix)) < 1e-6:
            return quad
        t = np.linalg.solve(matrix, p2 - p1)
        corners.append(p1 + t[0] * d1)
    refined = np.array(corners, np.float32)
    # A refinement that moves a corner far is a bad fit (a side that is not straight): keep the polygon.
    return refined if np.abs(refined - quad).max() < 0.08 * max(_sides(quad)) else quad


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller of two convex quads."""
    area, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    return area / max(1.0, min(cv2.contourArea(a), cv2.contourArea(b)))


def _better(quad: np.ndarray, touches: bool, other: np.ndarray, other_touches: bool) -> bool:
    """Of two outlines of one card (two masks), the one to keep: the larger, as one mask may see only a
    part; but an outline closed inside the frame over one that runs into its edge when they are nearly
    the same size: a card close to the edge of a screenshot (a black margin of a few pixels) is whole,
    and the colour mask's blur is what carried it to the edge."""
    area, other_area = cv2.contourArea(quad), cv2.contourArea(other)
    if touches != other_touches and min(area, other_area) > 0.9 * max(area, other_area):
        return not touches
    return area > other_area


def find_cards(page: np.ndarray) -> list[Card]:
    """Every card on the page in reading order, warped upright-ish (see module docstring).

    A card whose outline touches the page edge comes back with cut_off=True
    (warped as seen). A picture that is itself card-shaped (landscape) and
    holds nothing card-sized is taken as one card filling the frame; so is
    a picture in which nothing card-like is found at all, when it is blurred
    (the reader must still say "blurred", not "missing").
    """
    return _find(page, look_inside=True)


def _find(page: np.ndarray, look_inside: bool) -> list[Card]:
    h, w = page.shape[:2]
    scale = min(1.0, WORK_SIDE / max(h, w))
    work = downscaled(page, WORK_SIDE)
    frame_kind = _kind(w / h) if w > h else None  # an A4 page is portrait; a cropped card, landscape
    quads: list[tuple[np.ndarray, bool]] = []
    for mask in _masks(work):
        for quad, touches in _candidates(mask):
            if touches and frame_kind:
                continue  # a picture cropped to the card: what runs into its edge is the card's own print
            same = [i for i, (other, _) in enumerate(quads) if _overlap(quad, other) > 0.5]
            if not same:
                quads.append((quad, touches))
            elif _better(quad, touches, *quads[same[0]]):
                quads[same[0]] = (quad, touches)
    cards = []
    for quad, touches in quads:
        touches = touches and _reaches_edge(page, quad / scale)
        long_side, short_side = sorted(_sides(quad), reverse=True)
        card = _warp(page, quad / scale, _outline_kind(long_side / max(short_side, 1)) or "id1", cut_off=touches)
        cards += (_inside(page, card) if look_inside else None) or [card]
    if frame_kind and not any(c.region[2] * c.region[3] > 0.4 * h * w for c in cards):
        cards = []  # a picture cropped to one card: what was found is its photo or its chip
    if not cards and (frame_kind or sharpness(work) < BLUR_THRESHOLD):
        quad = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
        cards.append(_warp(page, quad, frame_kind or "id1", cut_off=False))
    if not cards:
        cards = _cut_off_blob(page, work, scale)
    row = 0.15 * h  # cards whose centres are this close in height are on one row
    return sorted(cards, key=lambda c: ((c.region[1] + c.region[3] / 2) // row, c.region[0]))


def _reaches_edge(page: np.ndarray, quad: np.ndarray) -> bool:
    """Whether an outline that the small working copy saw touch the frame really runs into it.

    At full size, the frame's outermost pixels beside the card are compared with the rest of that
    edge: the same colour as the background there means a strip of background lies between the card
    and the edge (a screenshot's black margin of a few pixels), so the card is whole. An edge with
    no background beside the card to compare with says nothing: the card may run into it.
    """
    h, w = page.shape[:2]
    x0, y0 = np.floor(quad.min(axis=0)).astype(int)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int)
    margin = max(4, round(0.01 * max(h, w)))
    edges = []  # (the edge's pixels along the card, the edge's pixels beyond it)
    if x0 <= margin or x1 >= w - 1 - margin:
        for column in ([0] if x0 <= margin else []) + ([w - 1] if x1 >= w - 1 - margin else []):
            line = page[:, column].astype(np.float32)
            span = slice(max(0, y0 + (y1 - y0) // 5), min(h, y1 - (y1 - y0) // 5))
            edges.append((line[span], np.concatenate([line[: max(0, y0 - margin)], line[y1 + margin:]])))
    if y0 <= margin or y1 >= h - 1 - margin:
        for row in ([0] if y0 <= margin else []) + ([h - 1] if y1 >= h - 1 - margin else []):
            line = page[row].astype(np.float32)
            span = slice(max(0, x0 + (x1 - x0) // 5), min(w, x1 - (x1 - x0) // 5))
            edges.append((line[span], np.concatenate([line[: max(0, x0 - margin)], line[x1 + margin:]])))
    for along, beyond in edges:
        if len(beyond) < 10 or len(along) < 10:
            return True
        if np.abs(np.median(along, axis=0) - np.median(beyond, axis=0)).max() > 20:
            return True
    return not edges


def _inside(page: np.ndarray, card: Card) -> list[Card] | None:
    """The cards inside an outline that spans the frame: a picture shown within the picture (a phone's
    screenshot of a photo, a photo pasted on a page), whose own outline the black or white around it
    made the largest thing in sight. None when nothing card-like lies inside."""
    x, y, cw, ch = card.region
    h, w = page.shape[:2]
    if cw < 0.9 * w and ch < 0.9 * h:
        return None
    inner = [c for c in _find(page[y:y + ch, x:x + cw], look_inside=False)
             if not c.cut_off and 0.15 * cw * ch < c.region[2] * c.region[3] < 0.85 * cw * ch]
    if not inner:
        return None
    return [Card(c.image, (c.region[0] + x, c.region[1] + y, c.region[2], c.region[3]), c.source_width,
                 c.cut_off, c.kind, page) for c in inner]


def _cut_off_blob(page: np.ndarray, work: np.ndarray, scale: float) -> list[Card]:
    """The largest thing that is not background, when it runs into the frame's edge: a card cut off."""
    wh, ww = work.shape[:2]
    contours, _ = cv2.findContours(_masks(work)[0], cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return []
    contour = max(contours, key=cv2.contourArea)
    x, y, bw, bh = cv2.boundingRect(contour)
    touches = x <= 2 or y <= 2 or x + bw >= ww - 2 or y + bh >= wh - 2
    if not touches or cv2.contourArea(contour) < 0.1 * wh * ww:
        return []
    quad = _order(cv2.boxPoints(cv2.minAreaRect(contour)).astype(np.float32))
    return [_warp(page, quad / scale, "id1", cut_off=True)]


def _warp(page: np.ndarray, quad: np.ndarray, kind: str, cut_off: bool) -> Card:
    top, left = _sides(quad)
    if left > top:  # portrait: turn a quarter so that the long side runs along the top
        quad = np.roll(quad, -1, axis=0)
    size = {"id1": ID1_SIZE, "page": PAGE_SIZE, "booklet": BOOKLET_SIZE}[kind]
    target = np.float32([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]])
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    image = cv2.warpPerspective(page, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    x, y, w, h = cv2.boundingRect(quad.astype(np.int32))
    x, y = max(0, x), max(0, y)
    region = (x, y, min(w, page.shape[1] - x), min(h, page.shape[0] - y))
    card = Card(image, region, max(_sides(quad)), cut_off, kind, page)
    return card.rotated180() if upside_down_hint(card.image) else card


# ---------------------------------------------------------------- orientation cues


def upside_down_hint(image: np.ndarray) -> bool:
    """Cheap cue that a card is upside down: a chip's gold plate on the right (ISO/IEC 7816-2 puts it left).

    False when there is no such cue; the reader then decides from the text.
    """
    small = cv2.pyrDown(image)  # a plate is a tenth of the card across: half the size sees it as well
    third = small.shape[1] // 3
    gold = chip_mask(np.concatenate([small[:, :third], small[:, -third:]], axis=1))
    left, right = gold[:, :third].mean(), gold[:, third:].mean()
    return max(left, right) > 0.03 and right > 2 * left


def chip_mask(image: np.ndarray) -> np.ndarray:
    """Gold/yellow pixels (the chip's contact plate), as 0/1."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    return cv2.inRange(hsv, (12, 70, 90), (38, 255, 255)) & 1


# ---------------------------------------------------------------- quality


LAPLACIAN_RANGE = 4 * 255 + 1


def sharpness(image: np.ndarray) -> float:
    """How crisp the sharpest edges are: the 99.5th percentile of |Laplacian| at 640 px wide, over the contrast.

    Text edges dominate that percentile whatever the layout, so a card with
    little print and a busy one compare; dividing by the contrast makes a
    dim photo compare with a bright scan.
    """
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    # Linear, not area: ten times cheaper, and it raises sharp and blurred scores alike (~8%), far from the line.
    grey = cv2.resize(grey, (640, max(1, int(640 * grey.shape[0] / grey.shape[1]))), interpolation=cv2.INTER_LINEAR)
    # Grey levels and the Laplacian's integer values, counted: their percentiles without sorting.
    levels = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    high, low = _percentile(levels, 99) / 255.0, _percentile(levels, 1) / 255.0
    contrast = float(high - low) or 1.0
    laplacian = np.abs(cv2.Laplacian(grey, cv2.CV_16S)).astype(np.uint16)  # 3 x 3 aperture: at most 4 x 255
    edges = cv2.calcHist([laplacian], [0], None, [LAPLACIAN_RANGE], [0, LAPLACIAN_RANGE]).ravel()
    return _percentile(edges, 99.5) / 255.0 / contrast


def _percentile(counts: np.ndarray, q: float) -> float:
    """The q-th percentile (numpy's default, linear between ranks) of values given by their counts
    (counts[v]: how many are v)."""
    cumulative = np.cumsum(counts)
    rank = q / 100.0 * (int(cumulative[-1]) - 1)
    below = int(rank)
    lo, hi = np.searchsorted(cumulative, [below, below + 1], side="right")
    hi = min(hi, len(counts) - 1)
    return float(lo + (rank - below) * (hi - lo))


def assess(card: Card) -> tuple[bool, str | None]:
    """(readable, reason): reason is "cut_off", "too_small" or "blurred"."""
    if card.cut_off:
        return False, "cut_off"
    if card.source_width < MIN_SOURCE_WIDTH:
        return False, "too_small"
    if sharpness(card.image) < BLUR_THRESHOLD:
        return False, "blurred"
    return True, None

"""Cutting line images out of pages."""

from __future__ import annotations

import numpy as np

from htrkit.results import LineRegion, LineResult


def region_from_polygon(
    polygon: np.ndarray, baseline: np.ndarray, width: int, height: int
) -> LineRegion | None:
    """A segmenter's line: its outline clipped to the page, the bounding box of that, and
    its baseline; ``None`` for a sliver under 2 pixels either way. Points are ``[N, 2]``
    arrays of page ``(x, y)``."""
    poly = np.array(polygon, dtype=np.float64)
    poly[:, 0] = poly[:, 0].clip(0, width)
    poly[:, 1] = poly[:, 1].clip(0, height)
    x0, y0 = np.floor(poly.min(axis=0)).astype(int)
    x1, y1 = np.ceil(poly.max(axis=0)).astype(int)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return LineRegion(
        bbox=(int(x0), int(y0), int(x1), int(y1)),
        polygon=[(float(x), float(y)) for x, y in poly],
        baseline=[(float(x), float(y)) for x, y in baseline],
    )


def crop_line(
    image: np.ndarray, region: LineRegion, *, pad: bool = True, straighten: bool = True
) -> np.ndarray:
    """The line's bounding box, with pixels outside its polygon painted white.

    Where the box reaches past the page (a segmenter's margin around writing that touches
    the edge), the crop is padded with white paper, so that the line is read as it would
    be on a larger sheet, and its x positions stay those of the box; ``pad=False`` clips
    the box to the page instead. Padding is at most the in-page part's larger side, so a
    box far outside the page cannot allocate a huge image.

    With ``straighten`` (the default), a line whose baseline rises or bends is
    straightened along it (:func:`straighten_line`): each column moves up or down, none
    sideways, so x positions in the crop stay those of the box.
    """
    h, w = image.shape[:2]
    bx0, by0, bx1, by1 = (int(v) for v in region.bbox)
    x0, y0 = max(bx0, 0), max(by0, 0)
    x1, y1 = min(bx1, w), min(by1, h)
    if x1 <= x0 or y1 <= y0:
        return image[0:0, 0:0]
    crop = image[y0:y1, x0:x1]
    poly = np.asarray(region.polygon, dtype=np.float64)
    if len(poly) >= 3 and not _is_box(poly, (x0, y0, x1, y1)):
        import cv2

        mask = np.zeros(crop.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(poly - (x0, y0)).astype(np.int32)], 255)
        crop = crop.copy()
        crop[mask == 0] = 255
    top = left = 0
    if pad:
        cap = max(x1 - x0, y1 - y0)
        top, left = min(y0 - by0, cap), min(x0 - bx0, cap)
        bottom, right = min(by1 - y1, cap), min(bx1 - x1, cap)
        if top or left or bottom or right:
            extra = [(0, 0)] * (crop.ndim - 2)
            crop = np.pad(crop, [(top, bottom), (left, right), *extra], constant_values=255)
    if straighten and len(region.baseline) >= 2:
        crop = straighten_line(crop, region.baseline, (x0 - left, y0 - top))
    return crop


#: the least rise (pixels, over the line) that a baseline must have to be straightened
MIN_RISE = 2.0
#: straightened, a line must come out at most this share of its crop's height: where the
#: writing climbs, levelling it leaves rows of paper to cut off
SHORTER = 0.95


def straighten_line(
    crop: np.ndarray, baseline: list[tuple[float, float]], origin: tuple[int, int]
) -> np.ndarray:
    """``crop`` (a line cut out of a page at ``origin``, outside its outline white) with
    each column moved up or down so that the page ``baseline`` runs level, at its median
    height, and then the rows that hold only white cut off; kept only where that leaves
    the line at most :data:`SHORTER` of the crop's height (the writing climbed), else
    ``crop`` as it was.

    A line written uphill (MSS-20's drafts rise by up to four line heights across the
    page) is otherwise read from a box mostly of paper, its writing squashed to a few
    pixels at the network's height. Columns only move vertically, so x positions are
    kept (character positions map back to the page as before) and a rotated line comes out
    slanted, as handwriting often is, rather than resampled. A baseline that rises
    across level writing (LECTAUREP's table cells have such, drawn by a segmenter) would
    tilt the line and make it taller: that one is left alone. So is a line given by a bare
    box, whose paper fills the box (only the white outside an outline is cut off).
    """
    import cv2

    h, w = crop.shape[:2]
    pts = sorted((float(x) - origin[0], float(y) - origin[1]) for x, y in baseline)
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    rising = np.concatenate([[True], np.diff(xs) > 0])  # np.interp needs increasing x
    xs, ys = xs[rising], ys[rising]
    if len(xs) < 2 or h == 0 or w == 0:
        return crop
    level = np.interp(np.arange(w, dtype=np.float64), xs, ys)  # held flat past its ends
    shift = level - np.median(level)
    if np.ptp(shift) < MIN_RISE:
        return crop
    out_h = int(np.ceil(h + np.ptp(shift)))
    map_x = np.broadcast_to(np.arange(w, dtype=np.float32), (out_h, w))
    map_y = np.arange(out_h, dtype=np.float32)[:, None] + (shift - shift.max()).astype(np.float32)
    out = cv2.remap(crop, np.ascontiguousarray(map_x), map_y, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))  # fmt: skip
    grey = out if out.ndim == 2 else out.min(axis=2)
    rows = np.flatnonzero(grey.min(axis=1) < 250)
    if not len(rows):
        return crop
    out = out[max(rows[0] - 2, 0) : rows[-1] + 3]
    if out.shape[0] > SHORTER * h:
        # the writing did not climb: a baseline that does not follow it (a table cell's,
        # drawn by a segmenter across level print) would tilt the line, not level it
        return crop
    return out


def clip_to_page(line: LineResult, width: int, height: int) -> LineResult:
    """The line's geometry (box, polygon, baseline, character and word x positions) kept
    within a page of ``width`` x ``height``."""

    def x(v: float) -> float:
        return min(max(v, 0.0), float(width))

    def y(v: float) -> float:
        return min(max(v, 0.0), float(height))

    x0, y0, x1, y1 = line.bbox
    line.bbox = (int(x(x0)), int(y(y0)), int(x(x1)), int(y(y1)))
    line.polygon = [(x(px), y(py)) for px, py in line.polygon]
    line.baseline = [(x(px), y(py)) for px, py in line.baseline]
    for c in line.chars:
        c.x0, c.x1 = x(c.x0), x(c.x1)
    return line


def _is_box(poly: np.ndarray, bbox: tuple[int, int, int, int]) -> bool:
    """Whether the polygon is an axis-aligned rectangle covering the (clipped) box."""
    xs, ys = poly[:, 0], poly[:, 1]
    if len(poly) != 4 or len(set(xs.tolist())) > 2 or len(set(ys.tolist())) > 2:
        return False
    x0, y0, x1, y1 = bbox
    return xs.min() <= x0 and ys.min() <= y0 and xs.max() >= x1 and ys.max() >= y1

"""``projection``: lines of a clean, single-column page from its horizontal ink profile.

1. Ink is found by Otsu's threshold on a lightly blurred, downscaled page (at most
   ``work_width`` pixels wide, so a 6000x8000 scan costs no more than a small one).
   Dark borders and gutters (mostly-ink columns, blobs taller than a fifth of the page)
   are removed.
2. Skew: the rotation within ``max_skew`` that makes the row profile sharpest (the largest
   sum of squared row counts) is taken, and the lines are found on the rotated ink, from
   which ruled lines (long thin horizontal runs, a morphological opening) are removed.
3. Line spacing comes from the profile's autocorrelation; the profile, smoothed over a
   third of it, is cut at its minimum between neighbouring peaks. A profile with no
   rhythm (one line, or a few far apart) is cut at its blank rows.
4. Bands with little ink (accents, a descender that crossed the cut) join their neighbour;
   each line is the band's rows widened by ``margin`` and the columns holding its ink.

Regions are rotated back to page coordinates: polygons are the rotated rectangles, bboxes
enclose them, and the baseline runs along the band's densest-to-sparse edge (the lower
edge of the x-height band). Lines come in reading order, top to bottom. Two columns,
marginalia and tables need a layout-aware segmenter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from htrkit.geometry import region_from_polygon
from htrkit.results import LineRegion
from htrkit.segmenters.options import ProjectionOptions


class ProjectionSegmenter:
    def __init__(self, options: ProjectionOptions | None = None):
        self.options = options or ProjectionOptions()

    def segment(self, image: np.ndarray) -> list[LineRegion]:
        o = self.options
        page = prepare(image, o.work_width, o.max_skew, o.skew_step, o.min_ink)
        if page is None:
            return []
        regions = []
        for top, bottom, base in page.bands:
            cols = np.flatnonzero(page.ink[top:bottom].sum(axis=0) > 0)
            if cols.size == 0:
                continue
            pad = o.margin * (bottom - top)
            x0, x1 = cols[0] - 2, cols[-1] + 3
            y0, y1 = top - pad, bottom + pad
            corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
            baseline = np.array([[x0, base], [x1, base]], np.float64)
            region = page.region(corners, baseline)
            if region is not None:
                regions.append(region)
        return regions


@dataclass
class PreparedPage:
    """A page as ``projection`` and ``astar`` work on it: its ink (0/1) at the working
    scale, deskewed and without ruled lines, the bands of its text lines (top, bottom and
    baseline rows), and the way back to page pixels."""

    ink: np.ndarray
    bands: list[tuple[int, int, int]]
    scale: float  #: working pixels per page pixel
    inverse: np.ndarray  #: 2x3 affine from deskewed working pixels to working pixels
    width: int  #: of the page, in its own pixels
    height: int

    def back(self, points: np.ndarray) -> np.ndarray:
        """Points of the deskewed working image in page pixels."""
        return (points @ self.inverse[:, :2].T + self.inverse[:, 2]) / self.scale

    def region(self, polygon: np.ndarray, baseline: np.ndarray) -> LineRegion | None:
        """The line with this outline and baseline (deskewed working pixels), clipped to
        the page; ``None`` if nothing of it is on the page."""
        return region_from_polygon(self.back(polygon), self.back(baseline), self.width,
                                   self.height)  # fmt: skip


def prepare(
    image: np.ndarray, work_width: int, max_skew: float, skew_step: float, min_ink: float
) -> PreparedPage | None:
    """Steps 1-4 of the module docstring; ``None`` for a page without ink or lines."""
    import cv2

    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    scale = min(1.0, work_width / max(w, 1))
    small = (
        grey
        if scale == 1.0
        else cv2.resize(
            grey, (max(int(w * scale), 1), max(int(h * scale), 1)), interpolation=cv2.INTER_AREA
        )
    )
    ink = ink_mask(small)
    if ink is None:
        return None
    angle = estimate_skew(remove_rules(ink), max_skew, skew_step)
    rotated, matrix = rotate(ink, angle)
    rotated, ruled = remove_rules(rotated, with_rows=True)
    bands = find_bands(rotated, min_ink, ruled)
    if not bands:
        return None
    return PreparedPage(rotated, bands, scale, cv2.invertAffineTransform(matrix), w, h)


def ink_mask(grey: np.ndarray) -> np.ndarray | None:
    """Ink pixels (uint8 0/1) by Otsu's threshold, or ``None`` for a blank page."""
    import cv2

    blurred = cv2.GaussianBlur(grey, (3, 3), 0)
    if int(np.percentile(blurred, 99)) - int(blurred.min()) < 32:
        return None
    threshold, _ = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = (blurred < threshold).astype(np.uint8)
    # a page that is mostly "ink" is a dark border or a photo, not writing on paper
    if ink.mean() > 0.5:
        return None
    # columns and rows that are mostly dark are the scan's borders or the book's gutter
    ink[:, ink.mean(axis=0) > 0.35] = 0
    ink[ink.mean(axis=1) > 0.5, :] = 0
    h, w = ink.shape
    # what is left of a border or a frame: blobs taller than a fifth of the page
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    tall = np.flatnonzero(stats[:, cv2.CC_STAT_HEIGHT] > h / 5)
    tall = tall[tall > 0]
    if tall.size:
        ink[np.isin(labels, tall)] = 0
    # specks of one or two pixels are noise, not writing
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return ink if ink.any() else None


def remove_rules(ink: np.ndarray, with_rows: bool = False):
    """``ink`` without ruled lines: long, thin horizontal runs (on a deskewed page). With
    ``with_rows``, also the rows a rule crossed (a boolean per row), where the profile
    lost the writing that sat on the rule."""
    import cv2

    w = ink.shape[1]
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, max(w // 16, 20)), np.uint8))
    rows = np.zeros(ink.shape[0], bool)
    if rules.any():
        ink = ink.copy()
        wide = cv2.dilate(rules, np.ones((3, 1), np.uint8))
        ink[wide > 0] = 0
        rows = wide.sum(axis=1) > 0.05 * w
    # what a faint rule leaves after thresholding: dashes, flat pieces at most 3 px high
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    hs, ws = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    dashes = np.flatnonzero((hs <= 3) & (ws >= 3 * hs))
    dashes = dashes[dashes > 0]
    if dashes.size:
        ink = ink.copy()
        ink[np.isin(labels, dashes)] = 0
    return (ink, rows) if with_rows else ink


def rotate(ink: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """``ink`` rotated by ``angle`` degrees about its centre (canvas grown to fit)."""
    import cv2

    h, w = ink.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    nw, nh = int(h * sin + w * cos) + 1, int(h * cos + w * sin) + 1
    matrix[0, 2] += nw / 2 - w / 2
    matrix[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(ink, matrix, (nw, nh), flags=cv2.INTER_NEAREST, borderValue=0)
    return out, matrix


def estimate_skew(ink: np.ndarray, max_skew: float, step: float) -> float:
    """The rotation (degrees) giving the sharpest row profile, searched coarse to fine."""
    import cv2

    if max_skew <= 0:
        return 0.0
    h, w = ink.shape
    f = min(1.0, 600 / max(w, 1))
    small = (
        ink
        if f == 1.0
        else cv2.resize(ink, (max(int(w * f), 1), max(int(h * f), 1)), interpolation=cv2.INTER_AREA)
    )

    def sharpness(angle: float) -> float:
        rotated, _ = rotate(small, angle)
        profile = rotated.sum(axis=1, dtype=np.float64)
        return float((profile**2).sum())

    coarse = np.arange(-max_skew, max_skew + 1e-9, max(step * 4, 0.5))
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 2 * step, best + 2 * step + 1e-9, step)
    best = max(fine, key=sharpness)
    return float(best) if abs(best) >= step / 2 else 0.0


def line_period(profile: np.ndarray) -> float | None:
    """The line spacing in rows from the profile's autocorrelation, or ``None``."""
    import cv2

    n = len(profile)
    if n < 8:
        return None
    # high-pass: the slow swell of ink over the page (margins, a dark border, a stamp)
    # would hide the line rhythm
    window = max(int(n // 10) | 1, 3)
    trend = cv2.blur(profile.reshape(-1, 1), (1, window), borderType=cv2.BORDER_REFLECT)
    p = profile - trend.ravel()
    if not p.any():
        return None
    spectrum = np.fft.rfft(p, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    acf /= acf[0]
    # the first clear peak after the central lobe has fallen below zero
    below = np.flatnonzero(acf < 0)
    if below.size == 0 or below[0] >= n // 2:
        return None
    start = int(below[0])
    seg = acf[start : n // 2 + 1]
    peaks = [i for i in range(1, len(seg) - 1) if seg[i - 1] < seg[i] >= seg[i + 1]]
    peaks = [i for i in peaks if seg[i] >= 0.1]
    if not peaks:
        return None
    # the first strong peak: later ones at 2, 3... periods may be higher still
    top = max(seg[i] for i in peaks)
    return float(start + next(i for i in peaks if seg[i] >= 0.6 * top))


def find_bands(
    ink: np.ndarray, min_ink: float, ruled: np.ndarray | None = None
) -> list[tuple[int, int, float]]:
    """``(top, bottom, baseline_row)`` of each line in a deskewed ink mask; ``ruled`` rows
    (where ruled lines were removed) take their profile from the rows around them, so that
    a line written on a rule is not cut along it."""
    import cv2

    profile = ink.sum(axis=1).astype(np.float64)
    if ruled is not None and ruled.any() and not ruled.all():
        keep = np.flatnonzero(~ruled)
        filled = np.interp(np.flatnonzero(ruled), keep, profile[keep])
        profile[ruled] = filled
    rows = np.flatnonzero(profile)
    if rows.size == 0:
        return []
    period = line_period(profile)
    extent = rows[-1] + 1 - rows[0]
    if period is None or period > 0.8 * extent:
        # no rhythm: one line, or a few lines far apart; cut in the blank gaps at least
        # half as high as the writing beside them (not between an i's dot and its line)
        edges = np.flatnonzero(np.diff(np.r_[0, (profile > 0).astype(np.int8), 0]))
        runs = [[int(a), int(b)] for a, b in zip(edges[0::2], edges[1::2])]
        merged = [runs[0]]
        for a, b in runs[1:]:
            prev = merged[-1]
            if a - prev[1] < 0.5 * max(prev[1] - prev[0], b - a):
                prev[1] = b
            else:
                merged.append([a, b])
        cuts = [merged[0][0]] + [(p[1] + q[0]) // 2 for p, q in zip(merged, merged[1:])]
        cuts.append(merged[-1][1])
    else:
        k = max(int(period / 3) | 1, 3)
        smooth = cv2.GaussianBlur(profile.reshape(-1, 1), (1, k), 0).ravel()
        # peaks at least 0.6 periods apart, strongest first
        order = np.argsort(-smooth)
        peaks: list[int] = []
        for r in order:
            if smooth[r] < 0.2 * smooth[order[0]]:
                break
            if all(abs(r - q) >= 0.6 * period for q in peaks):
                peaks.append(int(r))
        peaks.sort()
        cuts = [int(rows[0])]
        for a, b in zip(peaks, peaks[1:]):
            cuts.append(a + int(np.argmin(smooth[a:b])))
        cuts.append(int(rows[-1]) + 1)
    bands = [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
    bands = _merge_weak(bands, profile, min_ink)
    out = []
    for top, bottom in bands:
        part = profile[top:bottom]
        # the band's rows with writing: a few stray pixels above or below do not count
        filled = np.flatnonzero(part > 0.04 * part.max())
        if filled.size == 0:
            continue
        top, bottom = top + int(filled[0]), top + int(filled[-1]) + 1
        part = profile[top:bottom]
        # baseline: the last row of the dense (x-height) band
        dense = np.flatnonzero(part >= 0.5 * part.max())
        out.append((top, bottom, float(top + dense[-1] + 1)))
    return out


def _merge_weak(bands: list[tuple[int, int]], profile: np.ndarray, min_ink: float):
    bands = list(bands)
    while len(bands) > 1:
        ink = np.array([profile[a:b].sum() for a, b in bands])
        weakest = int(np.argmin(ink))
        median = float(np.median(ink))
        if ink[weakest] >= min_ink * median:
            break
        a, b = bands.pop(weakest)
        if ink[weakest] < 0.1 * median:
            continue  # specks, what is left of a rule: not writing
        # join the neighbour it is closest to (by the gap between their ink)
        if weakest == 0:
            j = 0
        elif weakest == len(bands):
            j = weakest - 1
        else:
            above, below = bands[weakest - 1], bands[weakest]
            j = weakest - 1 if a - above[1] <= below[0] - b else weakest
        c, d = bands[j]
        bands[j] = (min(a, c), max(b, d))
    return bands

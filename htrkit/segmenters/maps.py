"""From the learned segmenter's probability maps to lines: ruled lines painted out of the
page tensor, broken baselines joined, and each baseline's pixels made a line region."""

from __future__ import annotations

import numpy as np

from htrkit.geometry import region_from_polygon
from htrkit.results import LineRegion
from htrkit.segmenters.options import LearnedOptions
from htrkit.segmenters.order import reading_order


def without_rules(x: np.ndarray, max_angle: float = 6.0) -> np.ndarray:
    """The page tensor (0 paper, 1 ink) with ruled lines painted out: thin (under 5 px)
    straight runs at least a twelfth of the page wide, within ``max_angle`` degrees of
    horizontal. The network never saw ruled paper in training, and reads each rule as a
    baseline."""
    import cv2

    ink = (x > float(np.median(x)) + 0.1).astype(np.uint8)  # faint rules too
    if not ink.any():
        return x
    length = max(x.shape[1] // 12, 16)
    rules = np.zeros_like(ink)
    for angle in np.arange(-max_angle, max_angle + 0.1, 1.0):
        kernel = np.zeros((length, length), np.uint8)
        dy = np.tan(np.radians(angle)) * (length - 1) / 2
        c = (length - 1) / 2
        cv2.line(kernel, (0, int(round(c - dy))), (length - 1, int(round(c + dy))), 1, 1)
        kernel = kernel[kernel.any(axis=1)]
        rules |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
    if not rules.any():
        return x
    thick = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((5, 1), np.uint8))
    rules &= 1 - cv2.dilate(thick, np.ones((3, 3), np.uint8))
    out = x.copy()
    out[cv2.dilate(rules, np.ones((3, 3), np.uint8)) > 0] = 0.0
    return out


def join_fragments(
    baselines: list[tuple[np.ndarray, np.ndarray]], spacing: float, o: LearnedOptions,
    inside: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    """Pieces of one baseline, broken where the writing thins out, joined into one: two
    pieces join when one ends where the other, continued at its slope, begins (within
    ``join_gap`` line spacings sideways and a quarter of one up or down), or when they
    run side by side along the same columns within a quarter spacing. Closest pairs first.
    With the ``inside`` map, a gap wider than ``gutter`` spacings is crossed only where the
    line region runs on across most of it, from the x-height to the baseline (between
    words it does; across the gutter between two columns it does not).
    """
    pieces = [(c.astype(np.float64), y.astype(np.float64)) for c, y in baselines]
    tol = 0.25 * spacing
    max_gap = o.join_gap * spacing

    def end_y(c: np.ndarray, y: np.ndarray, at: float) -> float:
        """The piece's height continued at its end slope to column ``at``."""
        k = max(min(len(c) // 3, int(2 * spacing)), 1)
        if at >= c[-1]:
            slope = (y[-1] - y[-1 - min(k, len(c) - 1)]) / max(min(k, len(c) - 1), 1)
            return float(y[-1] + np.clip(slope, -0.15, 0.15) * (at - c[-1]))
        slope = (y[min(k, len(c) - 1)] - y[0]) / max(min(k, len(c) - 1), 1)
        return float(y[0] - np.clip(slope, -0.15, 0.15) * (c[0] - at))

    def cost(a: tuple, b: tuple) -> float:
        (ca, ya), (cb, yb) = a, b
        if cb[0] < ca[0]:
            (ca, ya), (cb, yb) = (cb, yb), (ca, ya)
        overlap = ca[-1] - cb[0]
        if overlap <= 0.2 * min(ca[-1] - ca[0], cb[-1] - cb[0]) + 1:  # one after the other
            gap = max(cb[0] - ca[-1], 0.0)
            if gap > max_gap:
                return np.inf
            if inside is not None and gap > o.gutter * spacing:
                xs = np.arange(int(ca[-1]) + 1, int(cb[0]))
                ys = np.interp(xs, [ca[-1], cb[0]], [ya[-1], yb[0]])
                top = np.clip(np.round(ys - 0.6 * spacing).astype(int), 0, inside.shape[0] - 1)
                bot = np.clip(np.round(ys + 0.1 * spacing).astype(int) + 1, 1, inside.shape[0])
                hit = [inside[t:b, x].max(initial=0) > o.threshold for x, t, b in zip(xs, top, bot)]
                if xs.size and float(np.mean(hit)) < 0.5:
                    return np.inf
            dy = abs(end_y(ca, ya, cb[0]) - yb[0]) + abs(end_y(cb, yb, ca[-1]) - ya[-1])
            return 0.5 * dy + 0.1 * gap if 0.5 * dy <= tol else np.inf
        lo, hi = max(ca[0], cb[0]), min(ca[-1], cb[-1])  # side by side
        grid = np.linspace(lo, hi, 8)
        dy = np.abs(np.interp(grid, ca, ya) - np.interp(grid, cb, yb))
        return float(dy.max()) if dy.max() <= tol else np.inf

    while len(pieces) > 1:
        best, pair = np.inf, None
        for i in range(len(pieces)):
            for j in range(i + 1, len(pieces)):
                c = cost(pieces[i], pieces[j])
                if c < best:
                    best, pair = c, (i, j)
        if pair is None:
            break
        i, j = pair
        (ca, ya), (cb, yb) = pieces[i], pieces[j]
        cols = np.arange(min(ca[0], cb[0]), max(ca[-1], cb[-1]) + 1)
        xs, ys = np.r_[ca, cb], np.r_[ya, yb]
        order = np.argsort(xs, kind="stable")
        xs, ys = xs[order], ys[order]
        uniq, first = np.unique(xs, return_index=True)
        means = np.add.reduceat(ys, first) / np.diff(np.r_[first, len(xs)])
        pieces[i] = (cols, np.interp(cols, uniq, means))
        del pieces[j]
    return pieces


def lines_from_maps(
    inside: np.ndarray, base: np.ndarray, scale: float, width: int, height: int,
    o: LearnedOptions,
) -> list[LineRegion]:  # fmt: skip
    import cv2

    bmask = (base > o.threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bmask, connectivity=8)
    min_len = max(o.min_length * inside.shape[1], 4)
    baselines = []
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_WIDTH] < min_len:
            continue
        # its pixels, found within its bounding box (not by comparing the whole page)
        x0, y0 = stats[i, cv2.CC_STAT_LEFT], stats[i, cv2.CC_STAT_TOP]
        w, h = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]
        ys, xs = np.nonzero(labels[y0 : y0 + h, x0 : x0 + w] == i)
        ys, xs = ys + y0, xs + x0
        cols = np.arange(xs.min(), xs.max() + 1)
        sums = np.bincount(xs - xs.min(), weights=ys, minlength=len(cols))
        counts = np.bincount(xs - xs.min(), minlength=len(cols))
        known = counts > 0
        ycol = np.interp(cols, cols[known], sums[known] / counts[known])
        baselines.append((cols, ycol))
    if not baselines:
        return []
    # line height: the typical distance between neighbouring baselines
    mids = np.array([np.mean(b[1]) for b in baselines])
    gaps = np.diff(np.sort(mids))
    gaps = gaps[gaps > 3]
    spacing = float(np.median(gaps)) if gaps.size else 0.25 * inside.shape[0]
    baselines = join_fragments(baselines, spacing, o, inside)
    baselines.sort(key=lambda b: float(np.mean(b[1])))
    # each inside pixel goes to the baseline it sits on (above it, or just below it)
    ys, xs = np.nonzero(inside > o.threshold)
    best = np.full(len(ys), np.inf)
    owner = np.full(len(ys), -1)
    for k, (cols, ycol) in enumerate(baselines):
        lo, hi = cols[0], cols[-1]
        ok = (xs >= lo - 2) & (xs <= hi + 2)
        at = np.interp(xs[ok], cols, ycol)
        d = at - ys[ok]  # > 0: above the baseline
        cost = np.where(d >= 0, d, -2.5 * d)
        cost[(d > 1.1 * spacing) | (d < -0.45 * spacing)] = np.inf
        idx = np.flatnonzero(ok)
        better = cost < best[idx]
        best[idx[better]] = cost[better]
        owner[idx[better]] = k
    regions = []
    kernel = np.ones((3, max(int(spacing * 0.5), 3)), np.uint8)
    for k, (cols, ycol) in enumerate(baselines):
        sel = owner == k
        mask = np.zeros(inside.shape, np.uint8)
        mask[ys[sel], xs[sel]] = 1
        pts = np.stack([cols, np.round(ycol)], 1).astype(np.int32)
        cv2.polylines(mask, [pts], False, 1, 2)
        # joined across the gaps between words (padded: closing at the page's edge would
        # grow the line to the edge)
        pad = kernel.shape[1]
        mask = cv2.morphologyEx(np.pad(mask, pad), cv2.MORPH_CLOSE, kernel)[pad:-pad, pad:-pad]
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            continue
        contour = max(contours, key=cv2.contourArea)
        contour = cv2.approxPolyDP(contour, 1.0, True)[:, 0, :]
        if len(contour) < 3:
            continue
        step = max(len(cols) // 16, 1)
        keep = np.r_[np.arange(0, len(cols), step), len(cols) - 1]
        line = np.stack([cols[keep], ycol[keep]], 1) / scale
        region = region_from_polygon(contour.astype(np.float64) / scale, line, width, height)
        if region is not None:
            regions.append(region)
    order = reading_order([r.bbox for r in regions], min_gap=max(2.0, 0.2 * spacing / scale))
    return [regions[i] for i in order]

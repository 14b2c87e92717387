"""``astar``: lines separated by paths that A* plans between them, around the ink.

Lines are found as ``projection`` finds them (ink profile of the deskewed page, ruled lines
removed). Between each two neighbouring lines an A* search (Surinta et al. 2014) plans a
path from the left edge to the right edge of the page through the gap, where every step
costs more the closer it passes to ink and a step onto ink costs a lot. A path goes around
an ascender or a descender that reaches into the gap, where a straight cut would slice it
in two. Each line's polygon is the area between the path above it and the path below it,
over the columns its ink spans; its baseline is the band's.

The search runs compiled (numba) on the page at ``work_width``: the heuristic, the columns
left to the right edge, is admissible since every step to the right costs at least one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from htrkit.results import LineRegion
from htrkit.segmenters.options import AStarOptions
from htrkit.segmenters.projection import prepare


class AStarSegmenter:
    def __init__(self, options: AStarOptions | None = None):
        self.options = options or AStarOptions()

    def segment(self, image: np.ndarray) -> list[LineRegion]:
        import cv2

        o = self.options
        page = prepare(image, o.work_width, o.max_skew, o.skew_step, o.min_ink)
        if page is None:
            return []
        rotated, bands = page.ink, page.bands
        rh, rw = rotated.shape
        # cost of passing a cell: 1, more near ink (within about a fifth of a line), a lot
        # on ink
        free = (1 - rotated).astype(np.uint8)
        distance = cv2.distanceTransform(free, cv2.DIST_L2, 3)
        heights = [b - t for t, b, _ in bands]
        reach = max(2.0, 0.2 * float(np.median(heights)))
        cost = 1.0 + o.near_ink * np.clip(1.0 - distance / reach, 0.0, 1.0)
        cost[rotated > 0] += o.on_ink
        cost = cost.astype(np.float64)
        seams = []
        for (t0, b0, base0), (t1, b1, _) in zip(bands, bands[1:]):
            lo = int((t0 + base0) / 2)  # the middle of the upper line's x-height band
            hi = max(int((t1 + b1) / 2), lo + 2)
            start = int(b0 + t1) // 2
            start = min(max(start, lo), hi - 1)
            path = _astar(cost[lo:hi], start - lo) + lo
            seams.append(path)
        pad = o.margin
        regions = []
        xs = np.arange(rw)
        for i, (top, bottom, base) in enumerate(bands):
            upper = seams[i - 1] if i > 0 else np.full(rw, max(top - pad * (bottom - top), 0))
            lower = (
                seams[i]
                if i < len(seams)
                else np.full(rw, min(bottom + pad * (bottom - top), rh - 1))
            )
            # the columns where this line has ink between its two paths
            rows = np.arange(rh)[:, None]
            inside = (rows >= upper[None, :]) & (rows < lower[None, :])
            mine = rotated * inside
            cols = np.flatnonzero(mine.sum(axis=0) > 0)
            if cols.size == 0:
                continue
            # no higher or lower than the line's own ink reaches (and a little margin)
            filled = np.flatnonzero(mine.sum(axis=1) > 0)
            room = int(np.ceil(pad * (bottom - top)))
            upper = np.maximum(upper, filled[0] - room)
            lower = np.minimum(lower, filled[-1] + 1 + room)
            x0, x1 = max(int(cols[0]) - 2, 0), min(int(cols[-1]) + 3, rw - 1)
            step = max((x1 - x0) // 40, 1)
            keep = np.unique(np.r_[xs[x0 : x1 + 1 : step], x1])
            top_pts = np.stack([keep, upper[keep]], 1).astype(np.float64)
            bottom_pts = np.stack([keep[::-1], lower[keep[::-1]]], 1).astype(np.float64)
            line = np.array([[x0, base], [x1, base]], np.float64)
            region = page.region(np.vstack([top_pts, bottom_pts]), line)
            if region is not None:
                regions.append(region)
        return regions


@njit(cache=True)
def _astar(cost, start):
    """The cheapest path from row ``start`` of the first column to any row of the last,
    moving right, diagonally right, or up and down; the path's row per column (the lowest
    row where it runs vertically)."""
    h, w = cost.shape
    n = h * w
    g = np.full(n, np.inf)
    came = np.full(n, -1, np.int64)
    done = np.zeros(n, np.bool_)
    # a binary heap of (f, cell)
    heap_f = np.empty(8 * n + 16)
    heap_c = np.empty(8 * n + 16, np.int64)
    size = 0
    s = start * w
    g[s] = cost[start, 0]
    heap_f[0] = g[s] + (w - 1)
    heap_c[0] = s
    size = 1
    goal = -1
    while size > 0:
        cell = heap_c[0]
        # pop
        size -= 1
        if size > 0:
            lf, lc = heap_f[size], heap_c[size]
            i = 0
            while True:
                a = 2 * i + 1
                if a >= size:
                    break
                b = a + 1
                m = b if b < size and heap_f[b] < heap_f[a] else a
                if heap_f[m] < lf:
                    heap_f[i] = heap_f[m]
                    heap_c[i] = heap_c[m]
                    i = m
                else:
                    break
            heap_f[i] = lf
            heap_c[i] = lc
        if done[cell]:
            continue
        done[cell] = True
        y, x = cell // w, cell % w
        if x == w - 1:
            goal = cell
            break
        for dy, dx, f in ((0, 1, 1.0), (-1, 1, 1.41), (1, 1, 1.41), (-1, 0, 1.0), (1, 0, 1.0)):
            ny, nx = y + dy, x + dx
            if ny < 0 or ny >= h:
                continue
            nxt = ny * w + nx
            if done[nxt]:
                continue
            ng = g[cell] + f * cost[ny, nx]
            if ng < g[nxt]:
                g[nxt] = ng
                came[nxt] = cell
                # push
                i = size
                size += 1
                fv = ng + (w - 1 - nx)
                while i > 0:
                    p = (i - 1) // 2
                    if heap_f[p] <= fv:
                        break
                    heap_f[i] = heap_f[p]
                    heap_c[i] = heap_c[p]
                    i = p
                heap_f[i] = fv
                heap_c[i] = nxt
    path = np.full(w, start, np.int64)
    cell = goal
    while cell >= 0:
        y, x = cell // w, cell % w
        path[x] = y  # walking back, the last written is the first reached in that column
        cell = came[cell]
    return path

"""``whole``: the whole image is one text line (optionally trimmed to its ink)."""

from __future__ import annotations

import numpy as np

from htrkit.results import LineRegion
from htrkit.segmenters.options import WholeImageOptions


class WholeImageSegmenter:
    def __init__(self, options: WholeImageOptions | None = None):
        self.options = options or WholeImageOptions()

    def segment(self, image: np.ndarray) -> list[LineRegion]:
        h, w = image.shape[:2]
        x0, y0, x1, y1 = 0, 0, w, h
        if self.options.trim:
            box = ink_bbox(image)
            if box is None:  # a blank image: nothing to read (not a guess at noise)
                return []
            m = self.options.margin + round(self.options.margin_share * (box[3] - box[1]))
            # the margin may reach past the page: the crop is padded with paper there
            x0, y0, x1, y1 = box[0] - m, box[1] - m, box[2] + m, box[3] + m
        mid = (y0 + y1) / 2
        return [LineRegion(bbox=(x0, y0, x1, y1), baseline=[(x0, mid), (x1, mid)])]


def ink_bbox(image: np.ndarray) -> tuple[int, int, int, int] | None:
    """The bounding box of pixels clearly darker than the paper, or ``None`` if blank.

    Paper is the image's median grey; ink is anything darker than it by a third of the
    paper-to-darkest range (and by at least 32 grey levels).
    """
    grey = image if image.ndim == 2 else image.mean(axis=2)
    paper = float(np.median(grey))
    darkest = float(grey.min())
    if paper - darkest < 32:
        return None
    ink = grey < paper - max((paper - darkest) / 3, 32)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1

"""Cutting line images out of pages."""

from __future__ import annotations

import numpy as np

from htrkit.results import LineRegion


def crop_line(image: np.ndarray, region: LineRegion) -> np.ndarray:
    """The line's bounding box, with pixels outside its polygon painted white."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = region.bbox
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(x1), w), min(int(y1), h)
    crop = image[y0:y1, x0:x1]
    if crop.size == 0:
        return crop
    poly = np.asarray(region.polygon, dtype=np.float64)
    if len(poly) >= 3 and not _is_box(poly, (x0, y0, x1, y1)):
        import cv2

        mask = np.zeros(crop.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(poly - (x0, y0)).astype(np.int32)], 255)
        crop = crop.copy()
        crop[mask == 0] = 255
    return crop


def _is_box(poly: np.ndarray, bbox: tuple[int, int, int, int]) -> bool:
    """Whether the polygon is an axis-aligned rectangle covering the (clipped) box."""
    xs, ys = poly[:, 0], poly[:, 1]
    if len(poly) != 4 or len(set(xs.tolist())) > 2 or len(set(ys.tolist())) > 2:
        return False
    x0, y0, x1, y1 = bbox
    return xs.min() <= x0 and ys.min() <= y0 and xs.max() >= x1 and ys.max() >= y1

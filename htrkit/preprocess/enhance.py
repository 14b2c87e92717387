"""Contrast normalisation, deslanting, binarisation and fixed-size resizing.

Every step takes a ``uint8`` grey ``[H, W]`` image (RGB is converted to grey first) and
returns a new ``uint8`` grey image; the input is never modified. Steps that move pixels
sideways define ``inverse_x`` so that character positions can be mapped back.
"""

from __future__ import annotations

import math

import numpy as np

from htrkit.preprocess.basic import grayscale
from htrkit.preprocess.options import (
    BinarizeOptions,
    DeslantOptions,
    NormalizeContrastOptions,
    ResizeFixedOptions,
)


def as_grey(image: np.ndarray) -> np.ndarray:
    """A ``uint8`` ``[H, W]`` view or copy of ``image`` (grey, RGB, RGBA or ``[H, W, 1]``)."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    return grayscale(image)


class NormalizeContrast:
    """Stretch grey values so that paper is about 255 and ink about 0.

    The ``low`` percentile goes to 0 and the ``high`` percentile to 255. When they are
    closer than ``min_range`` (a blank or nearly blank image) the stretch is limited to
    ``255 / min_range``, anchored at the paper, so an all-white image stays white.
    """

    def __init__(self, options: NormalizeContrastOptions):
        self.options = options

    def __call__(self, image: np.ndarray) -> np.ndarray:
        o = self.options
        grey = as_grey(image)
        if grey.size == 0:
            return grey.copy()
        ink, paper = np.percentile(grey, [o.low, o.high])
        spread = max(float(paper - ink), o.min_range)
        out = (grey.astype(np.float32) - (paper - spread)) * (255.0 / spread)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def otsu_threshold(grey: np.ndarray) -> int:
    """Otsu's threshold of a grey image: values above it are paper."""
    import cv2

    threshold, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return int(threshold)


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """Dark pixels by Otsu's threshold; empty for an image of (almost) one tone."""
    lo, hi = int(grey.min()), int(grey.max())
    if hi - lo < 16:
        return np.zeros(grey.shape, bool)
    return grey <= otsu_threshold(grey)


def slant_scores(mask: np.ndarray, shears: np.ndarray) -> np.ndarray:
    """Vinciarelli and Luettin's criterion for each shear ``x' = x + s * (y - yc)``.

    A sheared column whose ink is one unbroken vertical run of ``n`` pixels adds ``n**2``;
    the shear that makes the strokes vertical makes the most such long runs.
    """
    ys, xs = np.nonzero(mask)
    scores = np.zeros(len(shears))
    if len(ys) == 0:
        return scores
    h = mask.shape[0]
    yc = (h - 1) / 2
    dy = ys - yc
    for i, s in enumerate(shears):
        cols = np.rint(xs + s * dy).astype(np.int64)
        cols -= cols.min()
        n = cols.max() + 1
        count = np.bincount(cols, minlength=n)
        top = np.full(n, h, np.int64)
        bottom = np.full(n, -1, np.int64)
        np.minimum.at(top, cols, ys)
        np.maximum.at(bottom, cols, ys)
        unbroken = count == bottom - top + 1
        scores[i] = float(np.sum(count[unbroken].astype(np.float64) ** 2))
    return scores


def shear(grey: np.ndarray, s: float, fill: int = 255) -> np.ndarray:
    """Shear by ``x' = x + s * (y - yc) + pad``, widening by ``2 * pad`` columns of
    ``fill``."""
    import cv2

    h, w = grey.shape
    pad = int(math.ceil(abs(s) * (h - 1) / 2))
    if pad == 0 and s == 0:
        return grey.copy()
    yc = (h - 1) / 2
    matrix = np.array([[1.0, s, pad - s * yc], [0.0, 1.0, 0.0]])
    return cv2.warpAffine(
        grey,
        matrix,
        (w + 2 * pad, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=int(fill),
    )


class Deslant:
    """Estimate the slant of the writing and shear it upright.

    Candidate shears between ``±max_angle`` are scored on the Otsu ink mask with
    :func:`slant_scores`; the best is applied about the line's vertical centre, which
    widens the image by the same number of columns on each side, filled with the paper
    tone (the median grey) so that no white wedges appear on grey paper.
    """

    def __init__(self, options: DeslantOptions):
        self.options = options

    def estimate(self, image: np.ndarray) -> float:
        """The shear factor ``s`` that makes the strokes of ``image`` vertical."""
        o = self.options
        mask = ink_mask(as_grey(image))
        if o.max_angle == 0 or not mask.any():
            return 0.0
        n = int(round(o.max_angle / o.step))
        angles = np.linspace(-n * o.step, n * o.step, 2 * n + 1)
        shears = np.tan(np.radians(angles))
        scores = slant_scores(mask, shears)
        best = scores.max()
        # among ties (e.g. already upright print), prefer the smallest correction
        candidates = np.flatnonzero(scores >= best * (1 - 1e-9))
        return float(shears[candidates[np.argmin(np.abs(angles[candidates]))]])

    def __call__(self, image: np.ndarray) -> np.ndarray:
        grey = as_grey(image)
        s = self.estimate(grey)
        return shear(grey, s, fill=int(np.median(grey))) if s else grey.copy()

    def inverse_x(self, xs: np.ndarray, in_shape: tuple[int, ...], out_shape: tuple[int, ...]):
        # exact on the vertical centre line, which the shear leaves in place
        pad = (out_shape[1] - in_shape[1]) / 2
        return np.clip(np.asarray(xs, dtype=np.float64) - pad, 0, in_shape[1])


class Binarize:
    """Black ink (0) on white paper (255), by Otsu's global threshold or Sauvola's local
    one: ``T = m * (1 + k * (s / 128 - 1))`` over a ``window`` square, which follows uneven
    lighting that a single threshold cannot."""

    def __init__(self, options: BinarizeOptions):
        self.options = options

    def __call__(self, image: np.ndarray) -> np.ndarray:
        grey = as_grey(image)
        if grey.size == 0:
            return grey.copy()
        if self.options.method == "otsu":
            if int(grey.max()) - int(grey.min()) < 16:  # one tone: call it all paper
                return np.full_like(grey, 255)
            return np.where(grey > otsu_threshold(grey), 255, 0).astype(np.uint8)
        return self._sauvola(grey)

    def _sauvola(self, grey: np.ndarray) -> np.ndarray:
        import cv2

        o = self.options
        size = (o.window, o.window)
        g = grey.astype(np.float64)
        mean = cv2.boxFilter(g, -1, size, borderType=cv2.BORDER_REFLECT)
        mean_sq = cv2.boxFilter(g * g, -1, size, borderType=cv2.BORDER_REFLECT)
        std = np.sqrt(np.maximum(mean_sq - mean * mean, 0))
        threshold = mean * (1 + o.k * (std / 128.0 - 1))
        return np.where(g > threshold, 255, 0).astype(np.uint8)


class ResizeFixed:
    """Scale to fit ``width x height`` keeping the aspect ratio, then pad with white to
    exactly that size (vertically centred; left-aligned or centred horizontally), as the
    fixed-box word models expect."""

    def __init__(self, options: ResizeFixedOptions):
        self.options = options

    def _placement(self, in_shape: tuple[int, ...]) -> tuple[float, int, int, int, int]:
        """Scale, scaled width and height, and the left and top offsets."""
        o = self.options
        h, w = max(in_shape[0], 1), max(in_shape[1], 1)
        scale = min(o.height / h, o.width / w)
        new_w = min(max(int(round(w * scale)), 1), o.width)
        new_h = min(max(int(round(h * scale)), 1), o.height)
        left = 0 if o.align == "left" else (o.width - new_w) // 2
        top = (o.height - new_h) // 2
        return scale, new_w, new_h, left, top

    def __call__(self, image: np.ndarray) -> np.ndarray:
        import cv2

        o = self.options
        grey = as_grey(image)
        out = np.full((o.height, o.width), 255, np.uint8)
        if grey.size == 0:
            return out
        _, new_w, new_h, left, top = self._placement(grey.shape)
        shrink = new_w < grey.shape[1]
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        out[top : top + new_h, left : left + new_w] = cv2.resize(
            grey, (new_w, new_h), interpolation=interp
        )
        return out

    def inverse_x(self, xs: np.ndarray, in_shape: tuple[int, ...], out_shape: tuple[int, ...]):
        _, new_w, _, left, _ = self._placement(in_shape)
        xs = (np.asarray(xs, dtype=np.float64) - left) * (in_shape[1] / new_w)
        return np.clip(xs, 0, in_shape[1])

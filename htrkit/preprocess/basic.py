"""Grayscale conversion, height normalisation and padding."""

from __future__ import annotations

import numpy as np

from htrkit.preprocess.options import PadOptions, ResizeHeightOptions


def grayscale(image: np.ndarray) -> np.ndarray:
    """RGB to grey (ITU-R 601 luma); grey images pass through."""
    if image.ndim == 2:
        return image
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)


class Grayscale:
    """The ``grayscale`` preprocessor: :func:`grayscale` as a step (it takes no options)."""

    def __init__(self, options: object = None):
        self.options = options

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return grayscale(image)


class ResizeHeight:
    """Scale to a fixed height, keeping the aspect ratio (width clamped to a range)."""

    def __init__(self, options: ResizeHeightOptions):
        self.options = options

    def __call__(self, image: np.ndarray) -> np.ndarray:
        import cv2

        o = self.options
        h, w = image.shape[:2]
        width = int(round(w * o.height / max(h, 1)))
        width = min(max(width, o.min_width), o.max_width)
        if (h, w) == (o.height, width):
            return image
        shrink = o.height < h
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        return cv2.resize(image, (width, o.height), interpolation=interp)


class Pad:
    """Add white margins left and right, so that strokes at the edges get frames too."""

    def __init__(self, options: PadOptions):
        self.options = options

    def __call__(self, image: np.ndarray) -> np.ndarray:
        o = self.options
        widths = ((0, 0), (o.left, o.right)) + ((0, 0),) * (image.ndim - 2)
        return np.pad(image, widths, constant_values=255)

    def inverse_x(self, xs: np.ndarray, before: tuple[int, ...], after: tuple[int, ...]):
        return np.clip(np.asarray(xs, dtype=np.float64) - self.options.left, 0, before[1])

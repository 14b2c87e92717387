"""Random distortions of training line images, so that a model sees more hands than it has.

:class:`Augmenter` applies each transform with its own probability, in this order:
the crop (tighter or looser, as a segmenter cuts lines), the neighbouring lines' ascenders
and descenders cut into the crop, geometry (affine, elastic), stroke thickness, paper
background, brightness and contrast, blur, noise. Sizes are given for a 32-pixel-high line
and scale with the image height. Images stay ``uint8`` grey and keep their height; only
the crop changes the width. The affine transform shrinks the writing when needed so that
no ink leaves the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from htrkit.options import option


def _p(default: float, what: str):
    return option(default, f"chance of {what}", min=0, max=1)


@dataclass(frozen=True)
class AugmentOptions:
    enabled: bool = option(True, "false returns images unchanged")
    probability: float = _p(1.0, "augmenting an image at all")
    crop_p: float = _p(0.0, "a tighter or looser crop (rows cut off or paper added)")
    crop_tight: float = option(
        0.15, "largest share of the height cut off at top or bottom", min=0, max=0.4
    )
    crop_loose: float = option(
        0.3, "largest paper margin added at top or bottom (share of the height)", min=0, max=1
    )
    neighbours_p: float = _p(
        0.0, "ink of the lines above and below (another training line's descenders and ascenders)"
    )
    neighbours: float = option(
        0.25, "largest height of a neighbour's strip (share of the height)", min=0, max=0.5
    )
    affine_p: float = _p(0.5, "an affine transform")
    rotation: float = option(2.0, "largest rotation in degrees", min=0, max=15)
    shear: float = option(15.0, "largest shear (slant change) in degrees", min=0, max=45)
    scale: float = option(0.1, "largest relative change of size", min=0, max=0.5)
    elastic_p: float = _p(0.3, "an elastic distortion")
    elastic_alpha: float = option(
        1.5, "largest displacement in pixels (per 32 px of height)", min=0
    )
    elastic_grid: float = option(
        8.0, "distortion wavelength in pixels (per 32 px of height)", min=1
    )
    thickness_p: float = _p(0.3, "thicker or thinner strokes")
    thickness: int = option(2, "largest erosion/dilation kernel (per 32 px of height)", min=1)
    background_p: float = _p(0.3, "a paper texture (blotches, ruled lines)")
    background: float = option(
        40.0, "how much darker the paper may get, in grey levels", min=0, max=150
    )
    contrast_p: float = _p(0.5, "a brightness and contrast change")
    brightness: float = option(25.0, "largest brightness shift in grey levels", min=0)
    contrast: float = option(
        0.3, "largest relative change of ink-to-paper contrast", min=0, max=0.7
    )
    blur_p: float = _p(0.2, "a Gaussian blur")
    blur_sigma: float = option(1.0, "largest blur sigma (per 32 px of height)", min=0)
    noise_p: float = _p(0.3, "Gaussian pixel noise")
    noise_std: float = option(10.0, "largest noise deviation in grey levels", min=0)


#: the transforms, in the order they are applied (the crop and the neighbours first)
TRANSFORMS = ("affine", "elastic", "thickness", "background", "contrast", "blur", "noise")


def _magnitude(rng: np.random.Generator, largest: float) -> float:
    """A strength between 30% and 100% of ``largest``, so a chosen transform shows."""
    return float(rng.uniform(0.3, 1.0) * largest)


def _signed(rng: np.random.Generator, largest: float) -> float:
    return _magnitude(rng, largest) * (1 if rng.random() < 0.5 else -1)


def _paper_and_ink(image: np.ndarray) -> tuple[float, np.ndarray]:
    """The paper tone (median) and a mask of the ink (darker than half-way to the minimum)."""
    paper = float(np.median(image))
    darkest = float(image.min())
    if paper - darkest < 16:
        return paper, np.zeros(image.shape, bool)
    return paper, image < (paper + darkest) / 2


class Augmenter:
    """Random transforms with per-transform probabilities (see :class:`AugmentOptions`).

    ``augmenter(image, rng)`` draws everything from ``rng``, so the same generator state
    gives the same output; without ``rng`` the augmenter's own generator (from ``seed``)
    is used. The input is never modified.
    """

    def __init__(self, options: AugmentOptions | None = None, seed: int | None = 0):
        self.options = options or AugmentOptions()
        self.rng = np.random.default_rng(seed)

    def __call__(
        self,
        image: np.ndarray,
        rng: np.random.Generator | None = None,
        neighbour: np.ndarray | None = None,
    ) -> np.ndarray:
        """``neighbour``: another line image of the same height, whose ink may be cut into
        this one's top and bottom (``neighbours_p``)."""
        o = self.options
        rng = self.rng if rng is None else rng
        if image.ndim != 2 or image.dtype != np.uint8:
            raise ValueError(f"expected a uint8 grey [H, W] image, got {image.dtype} {image.shape}")
        if not o.enabled or o.probability <= 0 or min(image.shape) < 2:
            return image.copy()
        if rng.random() >= o.probability:
            return image.copy()
        # draw every coin first, so one transform's randomness does not shift the others'
        chosen = [rng.random() < getattr(o, f"{name}_p") for name in TRANSFORMS]
        # drawn only when asked for, so that with them off a run sees what it saw before
        crop = o.crop_p > 0 and rng.random() < o.crop_p
        near = o.neighbours_p > 0 and neighbour is not None and rng.random() < o.neighbours_p
        out = image.astype(np.float32)
        if crop:
            out = self.crop(out, rng)
        if near and neighbour.shape[0] == out.shape[0]:
            out = self.neighbours(out, neighbour.astype(np.float32), rng)
        for name, on in zip(TRANSFORMS, chosen):
            if on:
                out = getattr(self, name)(out, rng)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)

    # Each transform takes and returns a float32 image in [0, 255].

    def crop(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A tighter or looser crop at top and bottom (scaled back to the height), and
        the side margins trimmed to the ink or widened with paper."""
        import cv2

        o = self.options
        h, w = image.shape
        paper, ink = _paper_and_ink(image)
        top, bottom = (
            -int(rng.uniform(0, o.crop_tight) * h)
            if rng.random() < 0.5
            else int(rng.uniform(0, o.crop_loose) * h)
            for _ in range(2)
        )
        rows = image[max(-top, 0) : h - max(-bottom, 0)]
        rows = np.pad(rows, ((max(top, 0), max(bottom, 0)), (0, 0)), constant_values=paper)
        cols = np.flatnonzero(ink.any(0))
        if len(cols) and rng.random() < 0.5:  # tight to the ink at the sides
            left = int(rng.uniform(0, 1) * cols[0])
            right = int(rng.uniform(0, 1) * (w - 1 - cols[-1]))
            rows = rows[:, left : w - right]
        else:  # more paper at the sides
            extra = (int(rng.uniform(0, 0.5) * h) for _ in range(2))
            rows = np.pad(rows, ((0, 0), tuple(extra)), constant_values=paper)
        new_h, new_w = rows.shape
        width = max(2, int(round(new_w * h / max(new_h, 1))))
        return cv2.resize(rows, (width, h), interpolation=cv2.INTER_AREA)

    def neighbours(
        self, image: np.ndarray, neighbour: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """The bottom of ``neighbour`` (the line above: its descenders) over this line's
        top rows, and/or its top (the line below: ascenders) over the bottom rows."""
        h, w = image.shape
        out = image.copy()
        paper = float(np.median(image))
        n_paper = float(np.median(neighbour))
        sides = (("top",), ("bottom",), ("top", "bottom"))[int(rng.choice(3, p=[0.4, 0.3, 0.3]))]
        for where in sides:
            k = max(1, int(_magnitude(rng, self.options.neighbours) * h))
            strip = neighbour[-k:] if where == "top" else neighbour[:k]
            # the neighbour's ink on this line's paper, shifted sideways and tiled to width
            shift = int(rng.integers(0, max(strip.shape[1], 1)))
            strip = np.roll(strip, shift, axis=1)
            reps = int(np.ceil(w / max(strip.shape[1], 1)))
            strip = np.tile(strip, (1, reps))[:, :w]
            darker = np.clip(n_paper - strip, 0, 255)  # how much ink, 0 on paper
            part = out[:k] if where == "top" else out[h - k :]
            np.minimum(part, paper - darker, out=part)
        return out

    def affine(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Rotate, shear and scale about the centre, shrinking if the ink would leave."""
        import cv2

        o = self.options
        h, w = image.shape
        # on a long line a small rotation moves the ends a lot: cap it at 15% of the height
        max_rotation = min(o.rotation, math.degrees(math.atan(0.15 * h / max(w / 2, 1))))
        angle = math.radians(_signed(rng, max_rotation))
        slant = math.tan(math.radians(_signed(rng, o.shear)))
        scale = 1 + _signed(rng, o.scale)
        cx, cy = (w - 1) / 2, (h - 1) / 2
        cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
        linear = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1, slant], [0, 1]])
        paper, ink = _paper_and_ink(image)
        ys, xs = np.nonzero(ink)
        if len(xs):
            corners = np.array(
                [
                    [xs.min(), ys.min()],
                    [xs.max(), ys.min()],
                    [xs.min(), ys.max()],
                    [xs.max(), ys.max()],
                ],
                dtype=np.float64,
            )
            moved = (corners - [cx, cy]) @ linear.T + [cx, cy]
            span = moved.max(0) - moved.min(0) + 1
            fit = min(1.0, (w - 2) / span[0], (h - 2) / span[1])
            linear = linear * fit
            moved = (corners - [cx, cy]) @ linear.T + [cx, cy]
            shift = np.maximum(0, [1, 1] - moved.min(0)) - np.maximum(
                0, moved.max(0) - [w - 2, h - 2]
            )
        else:
            shift = np.zeros(2)
        offset = np.array([cx, cy]) - linear @ [cx, cy] + shift
        matrix = np.hstack([linear, offset[:, None]])
        return cv2.warpAffine(
            image,
            matrix,
            (w, h),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=paper,
        )

    def elastic(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Smooth random displacements (noise on a coarse grid, upsampled)."""
        import cv2

        o = self.options
        h, w = image.shape
        unit = h / 32
        alpha = _magnitude(rng, o.elastic_alpha) * unit
        cell = max(o.elastic_grid * unit, 1.0)
        gh, gw = int(math.ceil(h / cell)) + 2, int(math.ceil(w / cell)) + 2
        dx, dy = (
            cv2.resize(
                rng.uniform(-1, 1, (gh, gw)).astype(np.float32),
                (w, h),
                interpolation=cv2.INTER_CUBIC,
            )
            * alpha
            for _ in range(2)
        )
        grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        paper = float(np.median(image))
        return cv2.remap(
            image,
            grid_x + dx,
            grid_y + dy,
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=paper,
        )

    def thickness(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Thicker ink (erode: a minimum filter) or thinner ink (dilate)."""
        import cv2

        h = image.shape[0]
        largest = max(2, int(round(self.options.thickness * h / 32)))
        thicker = rng.random() < 0.6
        size = int(rng.integers(2, largest + 1))
        if not thicker:
            size = min(size, max(2, largest // 2))  # thinning too much erases strokes
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        return (cv2.erode if thicker else cv2.dilate)(image, kernel)

    def background(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Darken the paper with low-frequency blotches and, sometimes, ruled lines."""
        import cv2

        h, w = image.shape
        strength = _magnitude(rng, self.options.background)
        cell = max(h / 2, 4.0)
        coarse = rng.uniform(0, 1, (int(h / cell) + 2, int(w / cell) + 2)).astype(np.float32)
        shade = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
        shade = np.clip(shade, 0, 1) * strength
        if rng.random() < 0.4:  # ruled lines, as on exercise-book paper
            spacing = rng.uniform(0.6, 1.2) * h
            phase = rng.uniform(0, spacing)
            width = max(1, int(round(h / 40)))
            for y in np.arange(phase, h, spacing).astype(int):
                shade[y : y + width] += rng.uniform(0.5, 1.0) * strength
        # multiplying keeps ink dark while the paper gets darker
        return image * (1 - shade / 255.0)

    def contrast(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Scale the distance from the paper tone, and shift the brightness."""
        o = self.options
        paper = float(np.median(image))
        factor = 1 + _signed(rng, o.contrast)
        shift = _signed(rng, o.brightness)
        return np.clip(paper + (image - paper) * factor + shift, 0, 255)

    def blur(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        import cv2

        sigma = max(_magnitude(rng, self.options.blur_sigma) * image.shape[0] / 32, 0.3)
        return cv2.GaussianBlur(image, (0, 0), sigma)

    def noise(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        std = _magnitude(rng, self.options.noise_std)
        return image + rng.normal(0, std, image.shape).astype(np.float32)

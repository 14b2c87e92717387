"""Draw one text line in a handwriting font, with the variation of a real hand.

Characters are drawn one at a time, so that letter spacing and the baseline can wander;
with probability ``joined`` a word is drawn whole instead, which keeps the joins of
cursive fonts. The ink is drawn as a coverage mask, slanted, cropped to the ink with a
margin, then composed over a paper tone with texture and noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from htrkit.options import option
from htrkit.synth.fonts import Font


@dataclass(frozen=True)
class RenderOptions:
    size_min: int = option(36, "smallest font size in pixels", min=8, max=512)
    size_max: int = option(64, "largest font size in pixels", min=8, max=512)
    slant: float = option(12.0, "largest slant either way, degrees", min=0, max=45)
    spacing: float = option(0.06, "largest extra letter spacing per line (fraction of size)", min=0)
    spacing_jitter: float = option(0.03, "per-letter spacing noise (fraction of size)", min=0)
    word_spacing: float = option(0.4, "relative variation of word gaps", min=0, max=1)
    word_gap: float = option(0.0, "extra gap between words (fraction of size)", min=0)
    joined: float = option(0.3, "chance a word is drawn whole (keeps cursive joins)", min=0, max=1)
    baseline_jitter: float = option(0.025, "per-letter baseline noise (fraction of size)", min=0)
    baseline_wave: float = option(0.06, "largest baseline drift (fraction of size)", min=0)
    bold: float = option(0.25, "chance of a thicker pen", min=0, max=1)
    ink_max: int = option(90, "lightest ink tone (0 is black)", min=0, max=160)
    paper_min: int = option(200, "darkest paper tone", min=170, max=255)
    texture: float = option(20.0, "largest paper blotchiness in grey levels", min=0)
    noise: float = option(6.0, "largest pixel noise in grey levels", min=0)
    margin: float = option(0.15, "margin around the ink (fraction of size)", min=0, max=4)
    height: int = option(0, "scale lines to this height (0 keeps it)", min=0, max=1024)

    def __post_init__(self) -> None:
        if self.size_min > self.size_max:
            raise ValueError(f"size_min ({self.size_min}) exceeds size_max ({self.size_max})")


def _smooth(rng: np.random.Generator, shape: tuple[int, int], cell: float) -> np.ndarray:
    """Low-frequency noise in about ``[0, 1]``: uniform noise on a coarse grid, upsampled."""
    import cv2

    h, w = shape
    coarse = rng.uniform(0, 1, (int(h / cell) + 2, int(w / cell) + 2)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


class Renderer:
    """``renderer.render(text, font, rng)`` -> a ``uint8`` grey line image."""

    def __init__(self, options: RenderOptions | None = None):
        self.options = options or RenderOptions()

    def render(self, text: str, font: Font, rng: np.random.Generator) -> np.ndarray:
        mask, size, baseline = self._draw(text, font, rng)
        mask = self._slant(mask, rng, baseline)
        mask = self._crop(mask, rng, size)
        image = self._compose(mask, rng, size)
        if self.options.height and image.shape[0] != self.options.height:
            import cv2

            h, w = image.shape
            width = max(1, int(round(w * self.options.height / h)))
            interp = cv2.INTER_AREA if self.options.height < h else cv2.INTER_CUBIC
            image = cv2.resize(image, (width, self.options.height), interpolation=interp)
        return image

    def _draw(
        self, text: str, font: Font, rng: np.random.Generator
    ) -> tuple[np.ndarray, int, float]:
        """The ink coverage (0..255) of ``text`` on a generous canvas, the font size and
        the baseline's row."""
        from PIL import Image, ImageDraw

        o = self.options
        size = int(rng.integers(o.size_min, o.size_max + 1))
        pil = font.pil(size)
        stroke = 1 if rng.random() < o.bold else 0
        spacing = rng.uniform(-0.3, 1.0) * o.spacing * size
        space = pil.getlength(" ") or 0.3 * size
        wave_amp = rng.uniform(0, o.baseline_wave) * size
        wave_len = rng.uniform(6, 20) * size
        wave_phase = rng.uniform(0, 2 * math.pi)

        # lay out first: (x, y-offset, string) for each piece drawn
        pieces: list[tuple[float, float, str]] = []
        x = 0.0
        for w, word in enumerate(text.split(" ")):
            if w:
                x += space * (1 + rng.uniform(-o.word_spacing, o.word_spacing)) + spacing
                x += o.word_gap * size
            chunks = [word] if rng.random() < o.joined else list(word)
            prev = ""
            for chunk in chunks:
                jitter = rng.normal(0, o.baseline_jitter * size) if len(chunk) == 1 else 0.0
                dy = wave_amp * math.sin(2 * math.pi * x / wave_len + wave_phase) + jitter
                pieces.append((x, dy, chunk))
                # the advance with kerning against the previous letter
                advance = pil.getlength(prev + chunk) - (pil.getlength(prev) if prev else 0)
                x += advance
                if len(chunk) == 1:
                    x += spacing + rng.normal(0, o.spacing_jitter * size)
                prev = chunk[-1:] if len(chunk) == 1 else ""

        pad = 2 * size
        width = int(x + 2 * pad)
        height = int(3 * size + 2 * wave_amp)
        baseline = height * 0.62
        canvas = Image.new("L", (width, height), 0)
        draw = ImageDraw.Draw(canvas)
        for px, dy, chunk in pieces:
            draw.text(
                (pad + px, baseline + dy),
                chunk,
                font=pil,
                fill=255,
                anchor="ls",
                stroke_width=stroke,
                stroke_fill=255,
            )
        return np.asarray(canvas), size, baseline

    def _slant(self, mask: np.ndarray, rng: np.random.Generator, baseline: float) -> np.ndarray:
        import cv2

        s = math.tan(math.radians(rng.uniform(-self.options.slant, self.options.slant)))
        if abs(s) < 1e-3:
            return mask
        h, w = mask.shape
        extra = int(math.ceil(abs(s) * h))
        # x' = x + s * (baseline - y) + extra: positive s leans the letters to the right
        matrix = np.array([[1.0, -s, s * baseline + extra], [0.0, 1.0, 0.0]])
        return cv2.warpAffine(mask, matrix, (w + 2 * extra, h), flags=cv2.INTER_LINEAR)

    def _crop(self, mask: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
        """Cut to the ink, plus a random margin on each side."""
        rows = np.flatnonzero(mask.max(axis=1) > 32)
        cols = np.flatnonzero(mask.max(axis=0) > 32)
        if len(rows) == 0:  # nothing drawn (cannot happen for covered text)
            return np.zeros((size, size), np.uint8)
        top, bottom, left, right = (
            int(round(self.options.margin * size * rng.uniform(0.5, 1.5))) for _ in range(4)
        )
        mask = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        return np.pad(mask, ((top, bottom), (left, right)))

    def _compose(self, mask: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
        """Ink over paper: a paper tone with blotches, an ink tone, pixel noise."""
        o = self.options
        shape = mask.shape
        alpha = mask.astype(np.float32) / 255.0
        paper_tone = rng.uniform(o.paper_min, 255)
        blotch = _smooth(rng, shape, size * rng.uniform(0.5, 2.0)) * rng.uniform(0, o.texture)
        paper = paper_tone - blotch
        ink = rng.uniform(0, o.ink_max)
        pressure = 1 - 0.25 * _smooth(rng, shape, size / 2) * rng.random()  # uneven pen
        out = paper * (1 - alpha * pressure) + ink * alpha * pressure
        sigma = rng.uniform(0, o.noise)
        if sigma > 0:
            out += rng.normal(0, sigma, shape).astype(np.float32)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)

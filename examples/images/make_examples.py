"""Render the example images of the README (run from the repository root):

    python examples/images/make_examples.py

``handwritten.png`` and ``digits.png`` are drawn by htrkit's synthetic-handwriting renderer
in a font bundled with htrkit (Kalam, SIL OFL 1.1): handwriting-like, not a scan. The
bundled models saw this font among 54 others in training, so the examples show the
pipeline working, not the models' accuracy: the model cards report that on real,
held-out handwriting.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from htrkit.synth.fonts import BUNDLED_FONTS, load_fonts
from htrkit.synth.renderer import Renderer, RenderOptions

HERE = Path(__file__).resolve().parent
EXAMPLES = {
    "handwritten.png": ("kalam", "Handwriting is easy to read for htrkit", 7),
    "digits.png": ("kalam", "4096", 3),
}


def main() -> None:
    fonts = {f.name.split("-latin")[0]: f for f in load_fonts([BUNDLED_FONTS])}
    renderer = Renderer(RenderOptions(size_min=44, size_max=44, noise=3, texture=8))
    for name, (font, text, seed) in EXAMPLES.items():
        image = renderer.render(text, fonts[font], np.random.default_rng(seed))
        cv2.imwrite(str(HERE / name), image)
        print(f"{HERE / name}: {text!r}, {image.shape[1]}x{image.shape[0]}")


if __name__ == "__main__":
    main()

"""``image``: PNG, JPEG, TIFF, BMP, GIF, WebP, JPEG 2000 and PNM files (first frame)."""

from __future__ import annotations

from pathlib import Path

from htrkit.imageio import read_image
from htrkit.results import Page


class ImageLoader:
    def __init__(self, options: object = None):
        self.options = options

    def load(self, path: Path) -> Page:
        source, image = read_image(path)
        return Page(source=source, image=image)

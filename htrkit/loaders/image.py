"""``image``: PNG, JPEG, TIFF, BMP, GIF, WebP, JPEG 2000 and PNM files; each page of a
multi-page TIFF is an input of its own (``scan.tif#page=2``), other files are read at
their first frame."""

from __future__ import annotations

from pathlib import Path

from htrkit.imageio import page_count, read_image
from htrkit.loaders import page_refs, split_ref
from htrkit.results import Page


class ImageLoader:
    def __init__(self, options: object = None):
        self.options = options

    def sources(self, path: Path) -> list[str]:
        """One input per page of a multi-page TIFF; the file itself otherwise."""
        return page_refs(path, page_count(path))

    def load(self, path: Path) -> Page:
        file, page = split_ref(str(path))
        if page is None:
            source, image = read_image(path)
            return Page(source=source, image=image)
        _, image = read_image(file, frame=page)
        return Page(source=str(path), image=image)

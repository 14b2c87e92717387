"""The file suffixes htrkit reads as images (a leaf module: the loaders plugin and the
dataset readers both need it, and neither may import the other)."""

from __future__ import annotations

IMAGE_SUFFIXES = (
    ".png",
    ".jpg",
    ".jpeg",
    ".tif",
    ".tiff",
    ".bmp",
    ".gif",
    ".webp",
    ".jp2",
    ".pgm",
    ".ppm",
    ".pbm",
    ".pnm",
)

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

#: the Pillow formats decoded, those of :data:`IMAGE_SUFFIXES`: never the others Pillow
#: knows (EPS runs Ghostscript on the file; DDS, BLP and the like are not scans, and some
#: of their decoders fail with errors no other format raises)
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "DIB", "GIF", "WEBP", "JPEG2000", "PPM")

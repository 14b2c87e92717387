"""Built-in input loaders."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.specs import LoaderSpec

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


def _image(options: object):
    from htrkit.loaders.image import ImageLoader

    return ImageLoader(options)


@hookimpl
def htrkit_register_loaders() -> list[LoaderSpec]:
    return [LoaderSpec("image", _image, "image files (first frame)", suffixes=IMAGE_SUFFIXES)]

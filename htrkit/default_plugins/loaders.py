"""Built-in input loaders."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.imageio_suffixes import IMAGE_SUFFIXES
from htrkit.loaders.options import PdfOptions
from htrkit.specs import LoaderSpec

LOADERS = [
    LoaderSpec(
        "image",
        "htrkit.loaders.image:ImageLoader",
        "image files (first frame)",
        suffixes=IMAGE_SUFFIXES,
    ),
    LoaderSpec(
        "pdf",
        "htrkit.loaders.pdf:PdfLoader",
        "PDF pages rendered in grey (pypdfium2; one input per page, scans.pdf#page=N)",
        options=PdfOptions,
        suffixes=(".pdf",),
    ),
    LoaderSpec(
        "layout",
        "htrkit.loaders.layout:LayoutLoader",
        "an ALTO or PAGE file: its image, read along the lines it draws (its own "
        "segmentation); -f alto/page writes the same document back with the text",
        suffixes=(".xml",),
    ),
]


@hookimpl
def htrkit_register_loaders() -> list[LoaderSpec]:
    return LOADERS

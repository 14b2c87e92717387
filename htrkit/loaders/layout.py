"""``layout``: an ALTO (v2-v4) or PAGE-XML (2013, 2019) file as input: its page image and
the lines the file draws, which are read as they are, without segmenting the page again.

This is the round trip of eScriptorium and Transkribus: export the segmentation, read it
with ``htrkit run page.xml -f alto -o out/`` (or ``-f page``), and the same document
comes back with the text filled in (:mod:`htrkit.writers.filled`), its ids, regions,
reading order and everything htrkit does not own unchanged. The image is found as the
dataset readers find it (the file it names, beside the XML or one folder up from a
``page``/``alto`` folder), and must lie there (a ``../`` or absolute name elsewhere is
refused). The XML is parsed with DTDs and entities refused.
"""

from __future__ import annotations

from pathlib import Path

from htrkit.errors import InputError
from htrkit.results import LineRegion, Page


def layout_reader(path: Path):
    """The ``alto`` or ``page`` dataset reader this file is written for, or ``None``."""
    from htrkit.datasets.alto import AltoReader
    from htrkit.datasets.options import PageOptions
    from htrkit.datasets.pagexml import PageXmlReader
    from htrkit.datasets.reading import read_head

    try:
        head = read_head(path)
    except (OSError, InputError):
        return None
    for reader in (AltoReader(PageOptions()), PageXmlReader(PageOptions())):
        if reader.sniff(head):
            return reader
    return None


class LayoutLoader:
    def __init__(self, options: object = None):
        self.options = options

    def load(self, path: Path) -> Page:
        from htrkit.datasets import DatasetError
        from htrkit.datasets.layout import (
            IMAGE_EXTENSIONS,
            LineError,
            find_image,
            parse_xml,
            read_page_image,
        )
        from htrkit.datasets.reading import outside

        if not path.is_file():
            raise InputError(f"{path}: no such file")
        reader = layout_reader(path)
        if reader is None:
            raise InputError(f"{path}: not ALTO or PAGE XML")
        try:
            truth = reader.parse(parse_xml(path), path)
            image_path = find_image(path, truth.image)
            if image_path is None:
                raise InputError(
                    f"{path}: image {truth.image!r} not found (also tried {path.stem}"
                    f"{'/'.join(IMAGE_EXTENSIONS)} beside it)"
                )
            base = path.parent
            roots = [base] + ([base.parent] if base.name.lower() in ("page", "alto") else [])
            if outside(image_path, roots):
                raise InputError(f"{path}: image {truth.image!r} is outside {base}/")
            image = read_page_image(image_path, f"{path}: ")
        except DatasetError as exc:
            raise InputError(str(exc)) from None
        lines = []
        for line in truth.lines:
            if isinstance(line, LineError):
                raise InputError(f"{path}: {line}")
            lines.append(LineRegion(line.bbox, line.polygon, line.baseline, line.id))
        return Page(source=str(path), image=image, lines=lines, regions=truth.regions)

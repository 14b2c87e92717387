"""PAGE-XML (2013 and 2019 schemas, and 2010's ``Point`` elements) ground truth.

Each ``TextLine`` (in any ``TextRegion``, nested ones included, in document order) gives a
sample: its ``Coords`` polygon, its ``Baseline`` and its text, the ``Unicode`` of its
``TextEquiv`` with the lowest ``index`` (or the first one), else its words' text joined by
spaces. The line type is ``type`` in its ``custom`` attribute
(``custom="structure {type:heading;}"``). The page image is ``Page/@imageFilename``,
relative to the XML file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from htrkit.datasets import DatasetError
from htrkit.datasets.layout import (
    LayoutReader,
    LineError,
    PageTruth,
    Point,
    namespace,
    parse_points,
)
from htrkit.datasets.reading import clean_text
from htrkit.results import LineRegion

_NAMESPACE = b"primaresearch.org/PAGE/gts/pagecontent"
_STRUCTURE_TYPE = re.compile(r"structure\s*\{[^}]*?\btype\s*:\s*([^;}]+)")


class PageXmlReader(LayoutReader):
    format = "PAGE"
    root_name = "PcGts"

    def sniff(self, head: bytes) -> bool:
        return _NAMESPACE in head

    def parse(self, root: Any, path: Path) -> PageTruth:
        ns = namespace(root.tag)
        page = root.find(f"{ns}Page")
        if page is None:
            raise DatasetError(f"{path}: no <Page> element")
        lines: list[LineRegion | LineError] = []
        for i, element in enumerate(page.iter(f"{ns}TextLine")):
            try:
                lines.append(_line(element, ns, i))
            except LineError as exc:
                lines.append(exc)
        regions = []
        for region in page.iter(f"{ns}TextRegion"):
            try:
                outline = _points(region.find(f"{ns}Coords"), ns, "TextRegion Coords")
            except LineError:  # a region is context for evaluation: a bad one is left out
                continue
            if len(outline) >= 3:
                regions.append(outline)
        return PageTruth((page.get("imageFilename") or "").strip(), lines, regions)


def _line(element: Any, ns: str, index: int) -> LineRegion:
    line_id = element.get("id") or str(index)
    what = f"TextLine {line_id!r}"
    polygon = _points(element.find(f"{ns}Coords"), ns, f"{what}: Coords")
    if len(polygon) < 3:
        raise LineError(f"{what}: Coords has {len(polygon)} points, a polygon needs 3")
    baseline = _points(element.find(f"{ns}Baseline"), ns, f"{what}: Baseline")
    text = _text_equiv(element, ns)
    if text is None:  # no line-level transcription: the words', if any
        words = [_text_equiv(w, ns) for w in element.findall(f"{ns}Word")]
        text = " ".join(w for w in words if w)
    match = _STRUCTURE_TYPE.search(element.get("custom") or "")
    types = (match.group(1).strip(),) if match else ()
    return LineRegion.from_polygon(polygon, baseline, line_id, clean_text(text), types)


def _points(element: Any, ns: str, what: str) -> list[Point]:
    if element is None:
        return []
    if element.get("points") is not None:
        return parse_points(element.get("points"), what)
    try:  # PAGE 2010: <Point x= y=/> children
        return [(float(p.get("x")), float(p.get("y"))) for p in element.findall(f"{ns}Point")]
    except (TypeError, ValueError):
        raise LineError(f"{what}: a Point has no numeric x and y") from None


def _text_equiv(element: Any, ns: str) -> str | None:
    """The ``Unicode`` of the element's preferred ``TextEquiv``, or None if it has none."""
    equivs = element.findall(f"{ns}TextEquiv")
    if not equivs:
        return None
    indexed = []
    for e in equivs:
        try:
            indexed.append((int(e.get("index")), e))
        except (TypeError, ValueError):
            pass
    chosen = min(indexed, key=lambda pair: pair[0])[1] if indexed else equivs[0]
    return chosen.findtext(f"{ns}Unicode") or ""

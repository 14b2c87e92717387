"""What the layout writers (``page``, ``alto``, ``hocr``) share: one page per document,
coordinates clipped to the page, a line's polygon and baseline (from its box when the
segmenter gave none), its words, and XML output."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import TextIO

from htrkit.errors import ConfigError
from htrkit.results import LineResult, Point, Result

XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: how ALTO marks a line read below the pipeline's ``min_confidence``: ``TAGREFS`` to this
#: ``OtherTag``; and how PAGE does, in the ``TextLine``'s ``custom`` attribute
LOW_CONFIDENCE_TAG = {
    "ID": "LOWCONF",
    "LABEL": "low confidence",
    "DESCRIPTION": "read below htrkit's min_confidence: left out of the text",
}
LOW_CONFIDENCE_CUSTOM = "htrkit {lowConfidence:true;}"


def one_page(results: Sequence[Result], fmt: str) -> Result | None:
    """The one page a per-page writer writes (the caller gives one result per document:
    ``htrkit run`` checks this before reading)."""
    good = [r for r in results if r.ok]
    if len(good) > 1:
        raise ConfigError(
            f"the {fmt} writer writes one document per page; it was given {len(good)} pages"
        )
    return good[0] if good else None


def clip(value: float, top: int) -> int:
    return int(min(max(round(value), 0), max(top - 1, 0)))


def points(points: Sequence[Point], result: Result) -> str:
    return " ".join(f"{clip(x, result.width)},{clip(y, result.height)}" for x, y in points)


def polygon(line: LineResult) -> list[Point]:
    if len(line.polygon) >= 3:
        return list(line.polygon)
    x0, y0, x1, y1 = line.bbox
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def baseline(line: LineResult) -> list[Point]:
    if len(line.baseline) >= 2:
        return list(line.baseline)
    x0, _, x1, y1 = line.bbox
    return [(x0, y1), (x1, y1)]


def conf(value: float) -> str:
    if not math.isfinite(value):
        return "0"
    return f"{min(max(value, 0.0), 1.0):.4f}"


def words(line: LineResult) -> list[tuple[str, float, float, float]]:
    """(text, x0, x1, confidence) per word; the whole line as one word when the decoder
    gave no character positions."""
    found = [(w.text, w.x0, w.x1, w.confidence) for w in line.words]
    if not found and line.text.strip():
        x0, _, x1, _ = line.bbox
        found = [(line.text.strip(), x0, x1, line.confidence)]
    return found


def region_box(result: Result) -> tuple[int, int, int, int]:
    xs, ys = [], []
    for line in result.lines:
        for x, y in polygon(line):
            xs.append(x)
            ys.append(y)
    return (
        clip(min(xs), result.width),
        clip(min(ys), result.height),
        clip(max(xs), result.width),
        clip(max(ys), result.height),
    )


def serialise(root: ET.Element, stream: TextIO, indent: bool = True) -> None:
    """``root`` as an XML document; ``indent=False`` keeps its whitespace as it is (an
    input's own file, filled in)."""
    if indent:
        ET.indent(root, space=" ")
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(root, encoding="unicode"))
    stream.write("\n")


def xml_root(ns: str, tag: str, schema: str, **attrs: str) -> tuple[ET.Element, Callable]:
    """A layout document's root element, ``tag`` in namespace ``ns`` (written as the
    default one) with its ``xsi:schemaLocation``, and a function giving a tag's full name
    in ``ns``."""
    ET.register_namespace("", ns)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(f"{{{ns}}}{tag}", attrs)
    root.set(f"{{{XSI}}}schemaLocation", f"{ns} {schema}")
    return root, lambda name: f"{{{ns}}}{name}"

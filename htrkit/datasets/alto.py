"""ALTO (v2, v3, v4) ground truth: page images with line polygons and transcriptions.

Each ``TextLine`` gives a sample: its ``Shape/Polygon`` (or, failing that, its
``HPOS/VPOS/WIDTH/HEIGHT`` box), its ``BASELINE`` and its text, the ``CONTENT`` of its
``String`` elements with ``SP`` as a space and ``HYP`` as its hyphen. Line types are the
``LABEL``\\ s of the tags its ``TAGREFS`` point to. The page image is
``Description/sourceImageInformation/fileName``, relative to the XML file.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from htrkit.datasets import DatasetError
from htrkit.datasets.layout import (
    LayoutReader,
    LineError,
    PageTruth,
    Point,
    box_polygon,
    local_name,
    namespace,
    parse_points,
)
from htrkit.datasets.reading import clean_text
from htrkit.results import LineRegion

_ROOT = re.compile(rb"<(?:[\w.-]+:)?alto[\s>]")


class AltoReader(LayoutReader):
    format = "ALTO"
    root_name = "alto"

    def sniff(self, head: bytes) -> bool:
        return b"standards/alto" in head or _ROOT.search(head) is not None

    def parse(self, root: Any, path: Path) -> PageTruth:
        ns = namespace(root.tag)
        unit = (root.findtext(f"{ns}Description/{ns}MeasurementUnit") or "pixel").strip()
        if unit != "pixel":
            raise DatasetError(
                f"{path}: MeasurementUnit is {unit!r}; only 'pixel' coordinates are supported"
            )
        info = f"{ns}Description/{ns}sourceImageInformation/{ns}fileName"
        image = (root.findtext(info) or "").strip()
        labels = {}
        for tags in root.iter(f"{ns}Tags"):
            for tag in tags:
                if tag.get("ID"):
                    labels[tag.get("ID")] = tag.get("LABEL") or tag.get("ID")
        lines: list[LineRegion | LineError] = []
        for i, element in enumerate(root.iter(f"{ns}TextLine")):
            try:
                lines.append(_line(element, ns, labels, i))
            except LineError as exc:
                lines.append(exc)
        regions = []
        for block in root.iter(f"{ns}TextBlock"):
            outline = _outline(block, ns)
            if outline:
                regions.append(outline)
        return PageTruth(image, lines, regions)


def _outline(element: Any, ns: str) -> list[Point]:
    """A block's ``Shape/Polygon``, else its box; ``[]`` if neither can be read (a region
    is context for evaluation, so a bad one is left out rather than failing the page)."""
    shape = element.find(f"{ns}Shape/{ns}Polygon")
    try:
        if shape is not None and (shape.get("POINTS") or "").strip():
            polygon = parse_points(shape.get("POINTS"), "TextBlock POINTS")
            if len(polygon) >= 3:
                return polygon
        box = _box(element, "TextBlock")
    except LineError:
        return []
    return box_polygon(*box) if box is not None else []


def _line(element: Any, ns: str, labels: dict[str, str], index: int) -> LineRegion:
    line_id = element.get("ID") or str(index)
    what = f"TextLine {line_id!r}"
    box = _box(element, what)
    polygon: list[Point] = []
    shape = element.find(f"{ns}Shape/{ns}Polygon")
    if shape is not None and (shape.get("POINTS") or "").strip():
        polygon = parse_points(shape.get("POINTS"), f"{what}: POINTS")
    if len(polygon) < 3:
        if box is None:
            raise LineError(f"{what}: no Shape/Polygon and no HPOS/VPOS/WIDTH/HEIGHT")
        polygon = box_polygon(*box)
    types = tuple(labels.get(ref, ref) for ref in (element.get("TAGREFS") or "").split())
    baseline = _baseline(element, polygon, what)
    return LineRegion.from_polygon(polygon, baseline, line_id, _text(element), types)


def _box(element: Any, what: str) -> tuple[float, float, float, float] | None:
    values = [element.get(k) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")]
    if any(v is None for v in values):
        return None
    try:
        x, y, w, h = (float(v) for v in values)
    except ValueError:
        raise LineError(f"{what}: HPOS/VPOS/WIDTH/HEIGHT {values} are not numbers") from None
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise LineError(f"{what}: HPOS/VPOS/WIDTH/HEIGHT {values} are not finite numbers")
    return x, y, w, h


def _baseline(element: Any, polygon: list[Point], what: str) -> list[Point]:
    value = (element.get("BASELINE") or "").strip()
    if not value:
        return []
    if re.fullmatch(r"[-+]?\d+(\.\d*)?", value):  # ALTO v2/v3: only the baseline's height
        xs = [p[0] for p in polygon]
        return [(min(xs), float(value)), (max(xs), float(value))]
    return parse_points(value, f"{what}: BASELINE")


def _text(element: Any) -> str:
    parts: list[str] = []
    previous = ""
    for child in element:
        kind = local_name(child.tag)
        if kind == "String":
            if previous == "String":  # words without an SP between them are still words
                parts.append(" ")
            parts.append(child.get("CONTENT") or "")
        elif kind == "SP":
            parts.append(" ")
        elif kind == "HYP":
            parts.append(child.get("CONTENT") or "")
        else:
            continue
        previous = kind
    return clean_text("".join(parts))

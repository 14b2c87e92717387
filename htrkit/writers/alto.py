"""The ``alto`` writer: ALTO v4 (4.4), one document per page, with a text block holding
the lines in reading order, each line's polygon, baseline and box, and its words
(``String``) with their boxes and confidences.

It validates against the official schema (``tests/test_layout_writers.py``) and is read
back by htrkit's ``alto`` dataset reader. A page read from an ALTO file comes back as that
file, filled in (:mod:`htrkit.writers.filled`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from htrkit._version import __version__
from htrkit.results import Result
from htrkit.writers.common import (
    LOW_CONFIDENCE_TAG,
    baseline,
    clip,
    conf,
    points,
    polygon,
    region_box,
    words,
    xml_root,
)
from htrkit.writers.layoutxml import LayoutXmlWriter

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"


class AltoWriter(LayoutXmlWriter):
    """ALTO v4 (4.4)."""

    fmt = "alto"
    label = "ALTO"

    def build(self, result: Result) -> ET.Element:
        return alto_xml(result)


def alto_xml(result: Result) -> ET.Element:
    schema = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
    root, q = xml_root(ALTO_NS, "alto", schema, SCHEMAVERSION="4.4")
    description = ET.SubElement(root, q("Description"))
    ET.SubElement(description, q("MeasurementUnit")).text = "pixel"
    info = ET.SubElement(description, q("sourceImageInformation"))
    ET.SubElement(info, q("fileName")).text = Path(result.source).name
    step = ET.SubElement(description, q("Processing"), ID="htrkit")
    software = ET.SubElement(step, q("processingSoftware"))
    ET.SubElement(software, q("softwareName")).text = "htrkit"
    ET.SubElement(software, q("softwareVersion")).text = __version__
    if any(line.flags.get("low_confidence") for line in result.lines):
        ET.SubElement(ET.SubElement(root, q("Tags")), q("OtherTag"), LOW_CONFIDENCE_TAG)
    layout = ET.SubElement(root, q("Layout"))
    page = ET.SubElement(
        layout,
        q("Page"),
        ID="page0",
        PHYSICAL_IMG_NR="1",
        WIDTH=str(result.width),
        HEIGHT=str(result.height),
    )
    space = ET.SubElement(
        page,
        q("PrintSpace"),
        HPOS="0",
        VPOS="0",
        WIDTH=str(result.width),
        HEIGHT=str(result.height),
    )
    if not result.lines:
        return root
    x0, y0, x1, y1 = region_box(result)
    block = ET.SubElement(space, q("TextBlock"), ID="r0", **box(x0, y0, x1, y1))
    if result.lang:
        block.set("LANG", result.lang)
    for i, line in enumerate(result.lines):
        lid = f"l{i}"
        bx0, by0, bx1, by1 = (
            clip(line.bbox[0], result.width),
            clip(line.bbox[1], result.height),
            clip(line.bbox[2], result.width),
            clip(line.bbox[3], result.height),
        )
        element = ET.SubElement(
            block,
            q("TextLine"),
            ID=lid,
            BASELINE=points(baseline(line), result),
            **box(bx0, by0, bx1, by1),
            **({"TAGREFS": LOW_CONFIDENCE_TAG["ID"]} if line.flags.get("low_confidence") else {}),
        )
        shape = ET.SubElement(element, q("Shape"))
        ET.SubElement(shape, q("Polygon"), POINTS=points(polygon(line), result))
        found = words(line) or [("", line.bbox[0], line.bbox[2], line.confidence)]
        for j, (text, wx0, wx1, score) in enumerate(found):
            if j:
                ET.SubElement(element, q("SP"))
            ET.SubElement(
                element,
                q("String"),
                ID=f"{lid}w{j}",
                CONTENT=text,
                WC=conf(score),
                **box(clip(wx0, result.width), by0, clip(wx1, result.width), by1),
            )
    return root


def box(x0: int, y0: int, x1: int, y1: int) -> dict[str, str]:
    return {
        "HPOS": str(x0),
        "VPOS": str(y0),
        "WIDTH": str(max(x1 - x0, 0)),
        "HEIGHT": str(max(y1 - y0, 0)),
    }

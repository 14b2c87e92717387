"""The ``page`` writer: PAGE-XML 2019-07-15 (``PcGts``), one document per page, with a
text region holding the lines in reading order, each line's polygon, baseline, text and
confidence, and its words with their boxes and confidences.

It validates against the official schema (``tests/test_layout_writers.py``) and is read
back by htrkit's ``page`` dataset reader, which finds the page image by the file name
written here (the image's base name, as Transkribus and eScriptorium keep their XML beside
the images). A page read from a PAGE file comes back as that file, filled in
(:mod:`htrkit.writers.filled`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from htrkit._version import __version__
from htrkit.languages import NAMES
from htrkit.results import Result
from htrkit.writers.common import (
    LOW_CONFIDENCE_CUSTOM,
    baseline,
    conf,
    points,
    polygon,
    region_box,
    words,
    xml_root,
)
from htrkit.writers.layoutxml import LayoutXmlWriter

PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"


class PageXmlWriter(LayoutXmlWriter):
    """PAGE-XML 2019-07-15 (``PcGts``)."""

    fmt = "page"
    label = "PAGE"

    def build(self, result: Result) -> ET.Element:
        return page_xml(result)


def page_xml(result: Result) -> ET.Element:
    root, q = xml_root(PAGE_NS, "PcGts", f"{PAGE_NS}/pagecontent.xsd")
    meta = ET.SubElement(root, q("Metadata"))
    ET.SubElement(meta, q("Creator")).text = f"htrkit {__version__}"
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    ET.SubElement(meta, q("Created")).text = now
    ET.SubElement(meta, q("LastChange")).text = now
    page = ET.SubElement(
        root,
        q("Page"),
        imageFilename=Path(result.source).name,
        imageWidth=str(result.width),
        imageHeight=str(result.height),
    )
    if not result.lines:
        return root
    order = ET.SubElement(ET.SubElement(page, q("ReadingOrder")), q("OrderedGroup"), id="ro")
    ET.SubElement(order, q("RegionRefIndexed"), index="0", regionRef="r0")
    region = ET.SubElement(page, q("TextRegion"), id="r0", type="paragraph")
    if result.lang in NAMES:
        region.set("primaryLanguage", NAMES[result.lang])
    x0, y0, x1, y1 = region_box(result)
    ET.SubElement(region, q("Coords"), points=f"{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}")
    for i, line in enumerate(result.lines):
        lid = f"l{i}"
        element = ET.SubElement(region, q("TextLine"), id=lid)
        if line.flags.get("low_confidence"):  # below min_confidence: not in the plain text
            element.set("custom", LOW_CONFIDENCE_CUSTOM)
        ET.SubElement(element, q("Coords"), points=points(polygon(line), result))
        ET.SubElement(element, q("Baseline"), points=points(baseline(line), result))
        _, ly0, _, ly1 = line.bbox
        for j, (text, wx0, wx1, score) in enumerate(words(line)):
            word = ET.SubElement(element, q("Word"), id=f"{lid}w{j}")
            box = [(wx0, ly0), (wx1, ly0), (wx1, ly1), (wx0, ly1)]
            ET.SubElement(word, q("Coords"), points=points(box, result))
            equiv = ET.SubElement(word, q("TextEquiv"), conf=conf(score))
            ET.SubElement(equiv, q("Unicode")).text = text
        equiv = ET.SubElement(element, q("TextEquiv"), conf=conf(line.confidence))
        ET.SubElement(equiv, q("Unicode")).text = line.text
    equiv = ET.SubElement(region, q("TextEquiv"))
    ET.SubElement(equiv, q("Unicode")).text = result.text
    return root

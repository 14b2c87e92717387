"""``page`` (PAGE-XML 2019) and ``alto`` (ALTO v4) writers: one document per page, with a
text region holding the lines in reading order, each line's polygon, baseline, text and
confidence, and its words with their boxes and confidences.

Both validate against the official schemas (``tests/test_layout_writers.py``) and are read
back by htrkit's ``page`` and ``alto`` dataset readers, which find the page image by the
file name written here (the image's base name, as Transkribus and eScriptorium keep their
XML beside the images).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from htrkit._version import __version__
from htrkit.errors import ConfigError
from htrkit.languages import NAMES
from htrkit.results import LineResult, Point, Result

PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _one(results: Sequence[Result], fmt: str) -> Result | None:
    """The one page a per-page writer writes (the caller gives one result per document:
    ``htrkit run`` checks this before reading)."""
    good = [r for r in results if r.ok]
    if len(good) > 1:
        raise ConfigError(
            f"the {fmt} writer writes one document per page; it was given {len(good)} pages"
        )
    return good[0] if good else None


def _clip(value: float, top: int) -> int:
    return int(min(max(round(value), 0), max(top - 1, 0)))


def _points(points: Sequence[Point], result: Result) -> str:
    return " ".join(f"{_clip(x, result.width)},{_clip(y, result.height)}" for x, y in points)


def _polygon(line: LineResult) -> list[Point]:
    if len(line.polygon) >= 3:
        return list(line.polygon)
    x0, y0, x1, y1 = line.bbox
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _baseline(line: LineResult) -> list[Point]:
    if len(line.baseline) >= 2:
        return list(line.baseline)
    x0, _, x1, y1 = line.bbox
    return [(x0, y1), (x1, y1)]


def _conf(value: float) -> str:
    if not math.isfinite(value):
        return "0"
    return f"{min(max(value, 0.0), 1.0):.4f}"


def _words(line: LineResult) -> list[tuple[str, float, float, float]]:
    """(text, x0, x1, confidence) per word; the whole line as one word when the decoder
    gave no character positions."""
    words = [(w.text, w.x0, w.x1, w.confidence) for w in line.words]
    if not words and line.text.strip():
        x0, _, x1, _ = line.bbox
        words = [(line.text.strip(), x0, x1, line.confidence)]
    return words


def _region_box(result: Result) -> tuple[int, int, int, int]:
    xs, ys = [], []
    for line in result.lines:
        for x, y in _polygon(line):
            xs.append(x)
            ys.append(y)
    return (
        _clip(min(xs), result.width),
        _clip(min(ys), result.height),
        _clip(max(xs), result.width),
        _clip(max(ys), result.height),
    )


def serialise(root: ET.Element, stream: TextIO) -> None:
    ET.indent(root, space=" ")
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(root, encoding="unicode"))
    stream.write("\n")


class PageXmlWriter:
    """PAGE-XML 2019-07-15 (``PcGts``)."""

    def __init__(self, options: object = None):
        self.options = options

    def write(self, results: Sequence[Result], stream: TextIO) -> None:
        result = _one(results, "page")
        if result is not None:
            filled = filled_original(result, "PAGE")
            if filled is not None:
                _serialise_original(filled, stream)
            else:
                serialise(page_xml(result), stream)


def page_xml(result: Result) -> ET.Element:
    ET.register_namespace("", PAGE_NS)
    ET.register_namespace("xsi", XSI)
    q = lambda tag: f"{{{PAGE_NS}}}{tag}"  # noqa: E731
    root = ET.Element(q("PcGts"))
    root.set(
        f"{{{XSI}}}schemaLocation",
        f"{PAGE_NS} {PAGE_NS}/pagecontent.xsd",
    )
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
    x0, y0, x1, y1 = _region_box(result)
    ET.SubElement(region, q("Coords"), points=f"{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}")
    for i, line in enumerate(result.lines):
        lid = f"l{i}"
        element = ET.SubElement(region, q("TextLine"), id=lid)
        if line.flags.get("low_confidence"):  # below min_confidence: not in the plain text
            element.set("custom", "htrkit {lowConfidence:true;}")
        ET.SubElement(element, q("Coords"), points=_points(_polygon(line), result))
        ET.SubElement(element, q("Baseline"), points=_points(_baseline(line), result))
        _, ly0, _, ly1 = line.bbox
        for j, (text, wx0, wx1, conf) in enumerate(_words(line)):
            word = ET.SubElement(element, q("Word"), id=f"{lid}w{j}")
            box = [(wx0, ly0), (wx1, ly0), (wx1, ly1), (wx0, ly1)]
            ET.SubElement(word, q("Coords"), points=_points(box, result))
            equiv = ET.SubElement(word, q("TextEquiv"), conf=_conf(conf))
            ET.SubElement(equiv, q("Unicode")).text = text
        equiv = ET.SubElement(element, q("TextEquiv"), conf=_conf(line.confidence))
        ET.SubElement(equiv, q("Unicode")).text = line.text
    equiv = ET.SubElement(region, q("TextEquiv"))
    ET.SubElement(equiv, q("Unicode")).text = result.text
    return root


class AltoWriter:
    """ALTO v4 (4.4)."""

    def __init__(self, options: object = None):
        self.options = options

    def write(self, results: Sequence[Result], stream: TextIO) -> None:
        result = _one(results, "alto")
        if result is not None:
            filled = filled_original(result, "ALTO")
            if filled is not None:
                _serialise_original(filled, stream)
            else:
                serialise(alto_xml(result), stream)


def alto_xml(result: Result) -> ET.Element:
    ET.register_namespace("", ALTO_NS)
    ET.register_namespace("xsi", XSI)
    q = lambda tag: f"{{{ALTO_NS}}}{tag}"  # noqa: E731
    root = ET.Element(q("alto"), SCHEMAVERSION="4.4")
    root.set(
        f"{{{XSI}}}schemaLocation",
        f"{ALTO_NS} http://www.loc.gov/standards/alto/v4/alto-4-4.xsd",
    )
    description = ET.SubElement(root, q("Description"))
    ET.SubElement(description, q("MeasurementUnit")).text = "pixel"
    info = ET.SubElement(description, q("sourceImageInformation"))
    ET.SubElement(info, q("fileName")).text = Path(result.source).name
    step = ET.SubElement(description, q("Processing"), ID="htrkit")
    software = ET.SubElement(step, q("processingSoftware"))
    ET.SubElement(software, q("softwareName")).text = "htrkit"
    ET.SubElement(software, q("softwareVersion")).text = __version__
    if any(line.flags.get("low_confidence") for line in result.lines):
        tags = ET.SubElement(root, q("Tags"))
        described = "read below htrkit's min_confidence: left out of the text"
        ET.SubElement(tags, q("OtherTag"), ID="LOWCONF", LABEL="low confidence",
                      DESCRIPTION=described)  # fmt: skip
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
    x0, y0, x1, y1 = _region_box(result)
    block = ET.SubElement(space, q("TextBlock"), ID="r0", **_box(x0, y0, x1, y1))
    if result.lang:
        block.set("LANG", result.lang)
    for i, line in enumerate(result.lines):
        lid = f"l{i}"
        bx0, by0, bx1, by1 = (
            _clip(line.bbox[0], result.width),
            _clip(line.bbox[1], result.height),
            _clip(line.bbox[2], result.width),
            _clip(line.bbox[3], result.height),
        )
        element = ET.SubElement(
            block,
            q("TextLine"),
            ID=lid,
            BASELINE=_points(_baseline(line), result),
            **_box(bx0, by0, bx1, by1),
            **({"TAGREFS": "LOWCONF"} if line.flags.get("low_confidence") else {}),
        )
        shape = ET.SubElement(element, q("Shape"))
        ET.SubElement(shape, q("Polygon"), POINTS=_points(_polygon(line), result))
        words = _words(line) or [("", line.bbox[0], line.bbox[2], line.confidence)]
        for j, (text, wx0, wx1, conf) in enumerate(words):
            if j:
                ET.SubElement(element, q("SP"))
            ET.SubElement(
                element,
                q("String"),
                ID=f"{lid}w{j}",
                CONTENT=text,
                WC=_conf(conf),
                **_box(_clip(wx0, result.width), by0, _clip(wx1, result.width), by1),
            )
    return root


def _box(x0: int, y0: int, x1: int, y1: int) -> dict[str, str]:
    return {
        "HPOS": str(x0),
        "VPOS": str(y0),
        "WIDTH": str(max(x1 - x0, 0)),
        "HEIGHT": str(max(y1 - y0, 0)),
    }


# -- an input's own layout file, with the text filled in ----------------------------------


def filled_original(result: Result, fmt: str) -> ET.Element | None:
    """When ``result`` was read from an ALTO or PAGE file of format ``fmt`` (``htrkit run
    page.xml``), that document with each line's text filled in and nothing else changed:
    ids, regions, reading order, styles, metadata stay as they were. ``None`` otherwise
    (a fresh document is written)."""
    from htrkit.datasets.layout import namespace, parse_xml
    from htrkit.loaders.layout import layout_reader

    source = Path(result.source)
    if source.suffix.lower() != ".xml" or not source.is_file():
        return None
    reader = layout_reader(source)
    if reader is None or reader.format != fmt:
        return None
    root = parse_xml(source)
    ns = namespace(root.tag)
    ET.register_namespace("", ns[1:-1])
    ET.register_namespace("xsi", XSI)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    by_id = {line.id: line for line in result.lines if line.id}
    for element in root.iter(f"{ns}TextLine"):
        line = by_id.get(element.get("ID" if fmt == "ALTO" else "id"))
        if line is None:
            continue
        if fmt == "ALTO":
            _fill_alto_line(element, line, ns)
        else:
            _fill_page_line(element, line, ns)
    if fmt == "PAGE":  # a region's own text is its lines', in their order
        for region in root.iter(f"{ns}TextRegion"):
            texts = [
                by_id[line.get("id")].text
                for line in region.findall(f"{ns}TextLine")
                if line.get("id") in by_id
            ]
            if texts:
                for old in region.findall(f"{ns}TextEquiv"):
                    region.remove(old)
                # TextRegion: ..., TextLine*, TextEquiv*, TextStyle?
                equiv = _insert(region, f"{ns}TextEquiv", (f"{ns}TextStyle",))
                ET.SubElement(equiv, f"{ns}Unicode").text = "\n".join(texts)
    return root


def _fill_alto_line(element: ET.Element, line: LineResult, ns: str) -> None:
    """The line's ``String``/``SP``/``HYP`` children replaced by its words (after its
    ``Shape``, where ALTO puts them)."""
    for child in list(element):
        if child.tag in (f"{ns}String", f"{ns}SP", f"{ns}HYP"):
            element.remove(child)
    y0 = element.get("VPOS", str(line.bbox[1]))
    height = element.get("HEIGHT", str(line.bbox[3] - line.bbox[1]))
    words = _words(line)
    for j, (text, wx0, wx1, conf) in enumerate(words):
        if j:
            ET.SubElement(element, f"{ns}SP")
        ET.SubElement(
            element, f"{ns}String",
            {"ID": f"{element.get('ID', 'l')}_w{j}", "CONTENT": text, "WC": _conf(conf),
             "HPOS": str(max(round(wx0), 0)), "VPOS": y0,
             "WIDTH": str(max(round(wx1 - wx0), 0)), "HEIGHT": height},
        )  # fmt: skip
    if not words:
        ET.SubElement(element, f"{ns}String", CONTENT="")


def _fill_page_line(element: ET.Element, line: LineResult, ns: str) -> None:
    """The line's ``TextEquiv`` (and its ``Word``s, which held the old text) replaced by
    the reading, with its confidence."""
    for child in list(element):
        if child.tag in (f"{ns}TextEquiv", f"{ns}Word"):
            element.remove(child)
    # TextLine: ..., Word*, TextEquiv*, TextStyle?, UserDefined?, Labels*
    later = (f"{ns}TextStyle", f"{ns}UserDefined", f"{ns}Labels")
    equiv = _insert(element, f"{ns}TextEquiv", later)
    equiv.set("conf", _conf(line.confidence))
    ET.SubElement(equiv, f"{ns}Unicode").text = line.text


def _insert(parent: ET.Element, tag: str, before: tuple[str, ...]) -> ET.Element:
    """A new child where PAGE's schema wants it: before the first child tagged one of
    ``before``, else last."""
    new = ET.Element(tag)
    for i, child in enumerate(list(parent)):
        if child.tag in before:
            parent.insert(i, new)
            return new
    parent.append(new)
    return new


def _serialise_original(root: ET.Element, stream: TextIO) -> None:
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(root, encoding="unicode"))
    stream.write("\n")

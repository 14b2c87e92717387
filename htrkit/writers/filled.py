"""An input's own layout file with the text filled in: ``htrkit run page.xml -f alto``
(or ``-f page``) writes back that ALTO or PAGE document with each line's reading, and
nothing else changed: ids, regions, reading order, styles and metadata stay as they were."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from htrkit.results import LineResult, Result
from htrkit.writers.common import (
    LOW_CONFIDENCE_CUSTOM,
    LOW_CONFIDENCE_TAG,
    XSI,
    conf,
    words,
)


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
    unread = 0
    for element in root.iter(f"{ns}TextLine"):
        line = by_id.get(element.get("ID" if fmt == "ALTO" else "id"))
        if line is None:  # a line it could not read (no area, off the page): its old text
            unread += 1  # goes, so that the document holds no reading htrkit did not make
            line = LineResult("", 0.0, (0, 0, 0, 0))
        if fmt == "ALTO":
            _fill_alto_line(element, line, ns)
        else:
            _fill_page_line(element, line, ns)
        if line.flags.get("low_confidence"):
            _flag_low_confidence(root, element, ns, fmt)
    if unread:
        import warnings

        warnings.warn(
            f"{source}: {unread} line(s) could not be read (no area on the page); their old "
            "text is left out, their lines kept empty",
            stacklevel=2,
        )
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
    found = words(line)
    for j, (text, wx0, wx1, score) in enumerate(found):
        if j:
            ET.SubElement(element, f"{ns}SP")
        ET.SubElement(
            element, f"{ns}String",
            {"ID": f"{element.get('ID', 'l')}_w{j}", "CONTENT": text, "WC": conf(score),
             "HPOS": str(max(round(wx0), 0)), "VPOS": y0,
             "WIDTH": str(max(round(wx1 - wx0), 0)), "HEIGHT": height},
        )  # fmt: skip
    if not found:
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
    equiv.set("conf", conf(line.confidence))
    ET.SubElement(equiv, f"{ns}Unicode").text = line.text


def _flag_low_confidence(root: ET.Element, element: ET.Element, ns: str, fmt: str) -> None:
    """Mark a line read below ``min_confidence`` as a fresh document does: ALTO's
    ``TAGREFS`` to an ``OtherTag`` ``LOWCONF`` (added to the document's ``Tags``), PAGE's
    ``custom`` attribute (added to what it holds)."""
    if fmt == "PAGE":
        custom = element.get("custom", "")
        if LOW_CONFIDENCE_CUSTOM not in custom:
            element.set("custom", f"{custom} {LOW_CONFIDENCE_CUSTOM}".strip())
        return
    tag = LOW_CONFIDENCE_TAG["ID"]
    refs = element.get("TAGREFS", "").split()
    if tag not in refs:
        element.set("TAGREFS", " ".join([*refs, tag]))
    tags = root.find(f"{ns}Tags")
    if tags is None:  # alto: Description, Styles?, Tags?, Layout
        tags = ET.Element(f"{ns}Tags")
        layout = root.find(f"{ns}Layout")
        root.insert(list(root).index(layout) if layout is not None else len(root), tags)
    if not any(t.get("ID") == tag for t in tags):
        ET.SubElement(tags, f"{ns}OtherTag", LOW_CONFIDENCE_TAG)


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

"""``hocr``: the hOCR 1.2 format Tesseract users read (XHTML, one document per page).

A page is a ``div.ocr_page`` with its ``bbox`` and image name; each line a
``span.ocr_line`` with its ``bbox``, ``baseline`` (slope and offset from the box's bottom
left, as hOCR defines it) and ``x_wconf``; each word an ``span.ocrx_word`` with its box
and ``x_wconf`` (confidence in percent, 0-100, as Tesseract writes it). Lines keep the
reading order the segmenter gave, in one ``div.ocr_carea`` and ``p.ocr_par``.
Text is escaped by the XML serialiser; nothing of the input is written unescaped.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from htrkit._version import __version__
from htrkit.results import LineResult, Result
from htrkit.writers import common

XHTML = "http://www.w3.org/1999/xhtml"


class HocrWriter:
    """hOCR 1.2."""

    def __init__(self, options: object = None):
        self.options = options

    def write(self, results: Sequence[Result], stream: TextIO) -> None:
        result = common.one_page(results, "hocr")
        if result is None:
            return
        stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        stream.write(
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        )
        ET.register_namespace("", XHTML)
        tree = ET.ElementTree(hocr_html(result))
        ET.indent(tree, space=" ")
        tree.write(stream, encoding="unicode", xml_declaration=False)
        stream.write("\n")


def _wconf(value: float) -> str:
    return "0" if not math.isfinite(value) else str(round(100 * min(max(value, 0.0), 1.0)))


def _bbox(x0: float, y0: float, x1: float, y1: float, result: Result) -> str:
    return (
        f"bbox {common.clip(x0, result.width)} {common.clip(y0, result.height)} "
        f"{common.clip(x1, result.width)} {common.clip(y1, result.height)}"
    )


def _line_baseline(line: LineResult) -> str:
    """hOCR's ``baseline slope offset``: the line through the baseline's ends, its offset
    at the box's left edge measured from the box's bottom (negative: above it)."""
    (ax, ay), (bx, by) = common.baseline(line)[0], common.baseline(line)[-1]
    slope = (by - ay) / (bx - ax) if bx != ax else 0.0
    x0, _, _, y1 = line.bbox
    offset = ay + slope * (x0 - ax) - y1
    return f"baseline {slope:.4f} {round(offset)}"


def hocr_html(result: Result) -> ET.Element:
    q = lambda tag: f"{{{XHTML}}}{tag}"  # noqa: E731
    lang = result.lang or "und"  # ISO 639-1, or "undetermined"
    html = ET.Element(q("html"), {"xml:lang": lang, "lang": lang})
    head = ET.SubElement(html, q("head"))
    ET.SubElement(head, q("title")).text = Path(result.source).name
    ET.SubElement(head, q("meta"), {"http-equiv": "Content-Type",
                                    "content": "text/html;charset=utf-8"})  # fmt: skip
    ET.SubElement(head, q("meta"), name="ocr-system", content=f"htrkit {__version__}")
    ET.SubElement(head, q("meta"), name="ocr-capabilities",
                  content="ocr_page ocr_carea ocr_par ocr_line ocrx_word")  # fmt: skip
    body = ET.SubElement(html, q("body"))
    image = Path(result.source).name.replace('"', "")
    page = ET.SubElement(
        body, q("div"), {"class": "ocr_page", "id": "page_1",
                         "title": f'image "{image}"; bbox 0 0 {result.width} {result.height}; '
                                  "ppageno 0"},
    )  # fmt: skip
    if not result.lines:
        return html
    x0, y0, x1, y1 = common.region_box(result)
    area = ET.SubElement(page, q("div"), {"class": "ocr_carea", "id": "block_1",
                                          "title": _bbox(x0, y0, x1, y1, result)})  # fmt: skip
    par = ET.SubElement(area, q("p"), {"class": "ocr_par", "id": "par_1",
                                       "title": _bbox(x0, y0, x1, y1, result)})  # fmt: skip
    for i, line in enumerate(result.lines, 1):
        lx0, ly0, lx1, ly1 = line.bbox
        title = (f"{_bbox(lx0, ly0, lx1, ly1, result)}; {_line_baseline(line)}; "
                 f"x_wconf {_wconf(line.confidence)}")  # fmt: skip
        span = ET.SubElement(par, q("span"), {"class": "ocr_line", "id": f"line_{i}",
                                              "title": title})  # fmt: skip
        for j, (text, wx0, wx1, conf) in enumerate(common.words(line), 1):
            word = ET.SubElement(
                span, q("span"),
                {"class": "ocrx_word", "id": f"word_{i}_{j}",
                 "title": f"{_bbox(wx0, ly0, wx1, ly1, result)}; x_wconf {_wconf(conf)}"},
            )  # fmt: skip
            word.text = text
            word.tail = " "
    return html

"""Built-in output writers."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.specs import WriterSpec

WRITERS = [
    WriterSpec(
        "txt",
        "htrkit.writers.plain:TextWriter",
        "plain text",
        suffix=".txt",
        aliases=("text",),
    ),
    WriterSpec(
        "json",
        "htrkit.writers.plain:JsonWriter",
        "lines, geometry, characters and confidences",
        suffix=".json",
    ),
    WriterSpec(
        "tsv",
        "htrkit.writers.plain:TsvWriter",
        "source<TAB>text rows, as htrkit eval reads",
        suffix=".tsv",
    ),
    WriterSpec(
        "page",
        "htrkit.writers.page:PageXmlWriter",
        "PAGE-XML 2019: region, lines (polygon, baseline), words, text, confidences",
        suffix=".xml",
        per_input=True,
    ),
    WriterSpec(
        "hocr",
        "htrkit.writers.hocr:HocrWriter",
        "hOCR 1.2 (XHTML): page, lines and words with boxes, baselines and x_wconf",
        suffix=".hocr",
        per_input=True,
    ),
    WriterSpec(
        "alto",
        "htrkit.writers.alto:AltoWriter",
        "ALTO v4: block, lines (polygon, baseline), words, text, confidences",
        suffix=".xml",
        per_input=True,
    ),
]


@hookimpl
def htrkit_register_writers() -> list[WriterSpec]:
    return WRITERS

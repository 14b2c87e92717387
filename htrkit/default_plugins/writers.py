"""Built-in output writers."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.specs import WriterSpec


def _writer(class_name: str, module: str = "plain"):
    def build(options: object):
        import importlib

        return getattr(importlib.import_module(f"htrkit.writers.{module}"), class_name)(options)

    return build


@hookimpl
def htrkit_register_writers() -> list[WriterSpec]:
    return [
        WriterSpec("txt", _writer("TextWriter"), "plain text", suffix=".txt", aliases=("text",)),
        WriterSpec(
            "json",
            _writer("JsonWriter"),
            "lines, geometry, characters and confidences",
            suffix=".json",
        ),
        WriterSpec(
            "tsv", _writer("TsvWriter"), "source<TAB>text rows, as htrkit eval reads", suffix=".tsv"
        ),
        WriterSpec(
            "page",
            _writer("PageXmlWriter", "layout"),
            "PAGE-XML 2019: region, lines (polygon, baseline), words, text, confidences",
            suffix=".xml",
            per_input=True,
        ),
        WriterSpec(
            "alto",
            _writer("AltoWriter", "layout"),
            "ALTO v4: block, lines (polygon, baseline), words, text, confidences",
            suffix=".xml",
            per_input=True,
        ),
    ]

"""Built-in output writers."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.specs import WriterSpec


def _writer(class_name: str):
    def build(options: object):
        from htrkit.writers import plain

        return getattr(plain, class_name)(options)

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
    ]

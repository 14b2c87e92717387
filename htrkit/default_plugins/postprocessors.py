"""Built-in postprocessors."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.postprocess import UnicodeOptions
from htrkit.specs import PostprocessorSpec

POSTPROCESSORS = [
    PostprocessorSpec(
        "unicode",
        "htrkit.postprocess:UnicodeNormalize",
        "Unicode normalisation (NFC by default)",
        options=UnicodeOptions,
        aliases=("nfc",),
    ),
    PostprocessorSpec(
        "collapse-whitespace",
        "htrkit.postprocess:CollapseWhitespace",
        "strip lines, collapse runs of spaces",
    ),
]


@hookimpl
def htrkit_register_postprocessors() -> list[PostprocessorSpec]:
    return POSTPROCESSORS

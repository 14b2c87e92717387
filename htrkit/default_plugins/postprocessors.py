"""Built-in postprocessors."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.postprocess import CapitalsOptions, UnicodeOptions
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
        "capitals",
        "htrkit.postprocess:Capitals",
        "a word read mostly in capitals comes out in capitals (BiLEL -> BILEL)",
        options=CapitalsOptions,
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

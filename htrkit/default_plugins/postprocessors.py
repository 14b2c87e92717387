"""Built-in postprocessors."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.postprocess import CollapseWhitespace, UnicodeNormalize, UnicodeOptions
from htrkit.specs import PostprocessorSpec


@hookimpl
def htrkit_register_postprocessors() -> list[PostprocessorSpec]:
    return [
        PostprocessorSpec(
            "unicode",
            UnicodeNormalize,
            "Unicode normalisation (NFC by default)",
            options=UnicodeOptions,
            aliases=("nfc",),
        ),
        PostprocessorSpec(
            "collapse-whitespace", CollapseWhitespace, "strip lines, collapse runs of spaces"
        ),
    ]

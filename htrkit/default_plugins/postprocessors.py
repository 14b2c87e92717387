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
        "names in block capitals: a form's printed label left out, spaces placed from the "
        "letters' positions, a word read mostly in capitals in capitals "
        "(PRENOM C H A R L eS -> CHARLES)",
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

"""The models bundled with htrkit: ``default`` (Latin-script handwritten lines),
``accurate`` (the same, more accurately and slower) and ``digits`` (digit strings and
short words, for the drawing demo).

Their weights and model cards sit in ``htrkit/models/``; the recipes that trained them are
in ``examples/recipes/``. A bundled file that is missing (a source checkout without the
weights, say) is simply not registered.
"""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.models import FOLDER
from htrkit.specs import ModelSpec

MODELS = FOLDER

BUNDLED = (
    ("default", "default.safetensors", "handwritten lines in English, French and German"),
    ("accurate", "accurate.safetensors", "the same lines, more accurately, about 4x slower"),
    ("digits", "digits.safetensors", "handwritten digit strings and short words (demo)"),
)


def _path(file: str):
    return lambda options: MODELS / file


@hookimpl
def htrkit_register_models() -> list[ModelSpec]:
    return [
        ModelSpec(name, _path(file), f"{what} (card: {MODELS / file[:-12]}.md)")
        for name, file, what in BUNDLED
        if (MODELS / file).is_file()
    ]

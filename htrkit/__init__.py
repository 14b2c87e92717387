"""htrkit: read handwriting. Words, lines and whole pages to text.

Quick start::

    from htrkit import Pipeline
    pipe = Pipeline(model="model.safetensors", decoder="beam")
    print(pipe("line.png").text)

Plugins implement the hooks in :mod:`htrkit.hookspecs`, decorated with :data:`hookimpl`.
Heavy modules (numpy, torch) load on first use of :class:`Pipeline` and friends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from htrkit._version import __version__
from htrkit.hookspecs import hookimpl

if TYPE_CHECKING:
    from htrkit.alphabet import Alphabet
    from htrkit.pipeline import Pipeline
    from htrkit.plugins import create, list_components, registry
    from htrkit.recognizer import Recognizer
    from htrkit.results import (
        CharAlignment,
        CharResult,
        Decoding,
        LineRegion,
        LineResult,
        Page,
        Result,
    )

_LAZY = {
    "Pipeline": "htrkit.pipeline",
    "Recognizer": "htrkit.recognizer",
    "Alphabet": "htrkit.alphabet",
    "Result": "htrkit.results",
    "LineResult": "htrkit.results",
    "CharResult": "htrkit.results",
    "LineRegion": "htrkit.results",
    "Page": "htrkit.results",
    "Decoding": "htrkit.results",
    "CharAlignment": "htrkit.results",
    "registry": "htrkit.plugins",
    "create": "htrkit.plugins",
    "list_components": "htrkit.plugins",
}

__all__ = [
    "__version__",
    "hookimpl",
    "Pipeline",
    "Recognizer",
    "Alphabet",
    "Result",
    "LineResult",
    "CharResult",
    "LineRegion",
    "Page",
    "Decoding",
    "CharAlignment",
    "registry",
    "create",
    "list_components",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'htrkit' has no attribute {name!r}")

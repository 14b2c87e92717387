"""The ``pyctcdecode`` decoder: pyctcdecode's beam search with a KenLM model, for htrkit."""

from __future__ import annotations

from dataclasses import dataclass

import htrkit
from htrkit.options import option
from htrkit.specs import DecoderSpec

__version__ = "0.1.0"


@dataclass(frozen=True)
class PyctcdecodeOptions:
    lm: str = option("default", "KenLM model (ARPA or binary); 'default': htrkit's word model")
    alpha: float = option(0.5, "language model weight", min=0.0)
    beta: float = option(1.0, "bonus per word")
    beam_width: int = option(16, "beams kept per frame", min=1, max=4096)
    beam_prune_logp: float = option(-10.0, "drop beams this far below the best", max=0.0)
    token_min_logp: float = option(-5.0, "skip characters below this log probability", max=0.0)
    unk_score_offset: float = option(-10.0, "score for words unknown to the model")
    hotwords: tuple[str, ...] = option((), "words to favour")
    hotword_weight: float = option(10.0, "hotword bonus", min=0.0)


def _create(options: PyctcdecodeOptions):
    from htrkit_pyctcdecode.decoder import PyctcdecodeDecoder

    return PyctcdecodeDecoder(options)


@htrkit.hookimpl
def htrkit_register_decoders():
    return [
        DecoderSpec(
            "pyctcdecode",
            _create,
            "pyctcdecode's CTC beam search with a KenLM language model",
            options=PyctcdecodeOptions,
        )
    ]

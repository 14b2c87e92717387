"""The ``pyctcdecode`` decoder: pyctcdecode's beam search with a KenLM model, for htrkit."""

from __future__ import annotations

from dataclasses import dataclass, field

import htrkit
from htrkit.specs import DecoderSpec

__version__ = "0.1.0"


@dataclass(frozen=True)
class PyctcdecodeOptions:
    lm: str = field(
        default="default",
        metadata={"help": "KenLM model (ARPA or binary); 'default': htrkit's word model"},
    )
    alpha: float = field(default=0.5, metadata={"help": "language model weight", "min": 0.0})
    beta: float = field(default=1.0, metadata={"help": "bonus per word"})
    beam_width: int = field(default=16, metadata={"help": "beams kept per frame", "min": 1})
    beam_prune_logp: float = field(
        default=-10.0, metadata={"help": "drop beams this far below the best", "max": 0.0}
    )
    token_min_logp: float = field(
        default=-5.0, metadata={"help": "skip characters below this log probability", "max": 0.0}
    )
    unk_score_offset: float = field(
        default=-10.0, metadata={"help": "score for words unknown to the model"}
    )
    hotwords: tuple[str, ...] = field(default=(), metadata={"help": "words to favour"})
    hotword_weight: float = field(default=10.0, metadata={"help": "hotword bonus", "min": 0.0})


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

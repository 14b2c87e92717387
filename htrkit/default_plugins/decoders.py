"""Built-in CTC decoders."""

from __future__ import annotations

from htrkit.decoders.options import BeamOptions, GreedyOptions
from htrkit.hookspecs import hookimpl
from htrkit.specs import DecoderSpec


def _greedy(options: GreedyOptions):
    from htrkit.decoders.greedy import GreedyDecoder

    return GreedyDecoder(options)


def _beam(options: BeamOptions):
    from htrkit.decoders.beam import BeamDecoder

    return BeamDecoder(options)


@hookimpl
def htrkit_register_decoders() -> list[DecoderSpec]:
    return [
        DecoderSpec(
            "greedy",
            _greedy,
            "best path: most probable class per frame",
            options=GreedyOptions,
            aliases=("best-path",),
        ),
        DecoderSpec(
            "beam", _beam, "CTC prefix beam search", options=BeamOptions, aliases=("prefix-beam",)
        ),
    ]

"""Built-in CTC decoders."""

from __future__ import annotations

from htrkit.decoders.options import (
    BeamOptions,
    GreedyOptions,
    KenLMOptions,
    PatternOptions,
    WordBeamOptions,
)
from htrkit.hookspecs import hookimpl
from htrkit.specs import DecoderSpec


def _greedy(options: GreedyOptions):
    from htrkit.decoders.greedy import GreedyDecoder

    return GreedyDecoder(options)


def _beam(options: BeamOptions):
    from htrkit.decoders.beam import BeamDecoder

    return BeamDecoder(options)


def _wordbeam(options: WordBeamOptions):
    from htrkit.decoders.lexicon import WordBeamDecoder

    return WordBeamDecoder(options)


def _kenlm(options: KenLMOptions):
    from htrkit.decoders.ngram import KenLMDecoder

    return KenLMDecoder(options)


def _pattern(options: PatternOptions):
    from htrkit.decoders.pattern import PatternDecoder

    return PatternDecoder(options)


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
        DecoderSpec(
            "wordbeam",
            _wordbeam,
            "word beam search: words from a lexicon, bigram scores (Scheidl et al. 2018)",
            options=WordBeamOptions,
            aliases=("lexicon", "word-beam"),
        ),
        DecoderSpec(
            "kenlm",
            _kenlm,
            "beam search with a KenLM word or character n-gram model",
            options=KenLMOptions,
            aliases=("lm", "ngram"),
        ),
        DecoderSpec(
            "pattern",
            _pattern,
            "the most probable text matching a regular expression (or @date, @phone, ...)",
            options=PatternOptions,
        ),
    ]

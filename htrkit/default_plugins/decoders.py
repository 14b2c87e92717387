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

DECODERS = [
    DecoderSpec(
        "greedy",
        "htrkit.decoders.greedy:GreedyDecoder",
        "best path: most probable class per frame",
        options=GreedyOptions,
        aliases=("best-path",),
    ),
    DecoderSpec(
        "beam",
        "htrkit.decoders.beam:BeamDecoder",
        "CTC prefix beam search",
        options=BeamOptions,
        aliases=("prefix-beam",),
    ),
    DecoderSpec(
        "wordbeam",
        "htrkit.decoders.lexicon:WordBeamDecoder",
        "word beam search: words from a lexicon, bigram scores (Scheidl et al. 2018)",
        options=WordBeamOptions,
        aliases=("lexicon", "word-beam"),
    ),
    DecoderSpec(
        "kenlm",
        "htrkit.decoders.ngram:KenLMDecoder",
        "beam search with a KenLM word or character n-gram model",
        options=KenLMOptions,
        aliases=("lm", "ngram"),
    ),
    DecoderSpec(
        "pattern",
        "htrkit.decoders.pattern:PatternDecoder",
        "the most probable text matching a regular expression (or @date, @phone, ...)",
        options=PatternOptions,
    ),
]


@hookimpl
def htrkit_register_decoders() -> list[DecoderSpec]:
    return DECODERS

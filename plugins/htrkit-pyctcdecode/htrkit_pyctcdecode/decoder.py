"""pyctcdecode behind htrkit's decoder interface."""

from __future__ import annotations

from typing import Any

import numpy as np

from htrkit.alphabet import Alphabet
from htrkit.decoders.ngram import arpa_unigrams, load_kenlm
from htrkit.decoders.search import decoding_of
from htrkit.errors import InputError
from htrkit.results import Decoding


class PyctcdecodeDecoder:
    def __init__(self, options: Any):
        self.options = options
        # load (and check) the model now, so that a bad file is an error before decoding
        self.model, self.path = load_kenlm(options.lm, "word LM")
        self._decoders: dict[tuple[str, ...], Any] = {}

    def _decoder(self, alphabet: Alphabet) -> Any:
        key = tuple(alphabet.chars)
        if key not in self._decoders:
            from pyctcdecode.alphabet import Alphabet as Labels
            from pyctcdecode.decoder import BeamSearchDecoderCTC
            from pyctcdecode.language_model import LanguageModel

            o = self.options
            if " " not in alphabet.chars:
                raise InputError("pyctcdecode needs a model whose alphabet has a space")
            lm = LanguageModel(
                self.model,  # the model htrkit loaded, not a second copy
                unigrams=arpa_unigrams(self.path) or None,
                alpha=o.alpha,
                beta=o.beta,
                unk_score_offset=o.unk_score_offset,
            )
            labels = Labels.build_alphabet([""] + list(alphabet.chars))
            self._decoders[key] = BeamSearchDecoderCTC(labels, lm)
        return self._decoders[key]

    def decode(self, log_probs: np.ndarray, alphabet: Alphabet) -> Decoding:
        lp = np.asarray(log_probs, dtype=np.float32)
        if lp.shape[0] == 0:
            return Decoding("", 0.0, [])
        o = self.options
        beams = self._decoder(alphabet).decode_beams(
            lp,
            beam_width=o.beam_width,
            beam_prune_logp=o.beam_prune_logp,
            token_min_logp=o.token_min_logp,
            hotwords=list(o.hotwords) or None,
            hotword_weight=o.hotword_weight,
        )
        text = beams[0][0] if beams else ""
        labels = tuple(alphabet.encode(text))
        return decoding_of(lp, alphabet, labels)

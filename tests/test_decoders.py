"""Decoder contract tests (every registered decoder) and tests of the built-in ones."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import labelling_probability

from htrkit import Alphabet
from htrkit.decoders.alignment import forced_alignment
from htrkit.plugins import PluginManager, registry

ALPHABET = Alphabet("abcdefghijklmnopqrstuvwxyz ")


def peaked(frames: str, alphabet: Alphabet = ALPHABET, p: float = 0.9) -> np.ndarray:
    """Log-probabilities with one class at probability ``p`` per frame; ``-`` is blank."""
    lp = np.full((len(frames), alphabet.num_classes), np.log((1 - p) / (alphabet.num_classes - 1)))
    for t, ch in enumerate(frames):
        lp[t, 0 if ch == "-" else alphabet.index(ch)] = np.log(p)
    return lp


# The contract covers every installed decoder, third-party ones included. Decoders that
# need a resource get one that knows the contract's words; the others their defaults.
DECODERS = PluginManager().registry("decoder")
CONTRACT_TEXT = [
    "hello world",
    "the quick brown fox jumps over the lazy dog",
    "ab",
    "hello",
]


@pytest.fixture(scope="session")
def contract_options(tmp_path_factory):
    from htrkit.lm.kneser_ney import char_tokens, estimate, word_tokens, write_arpa

    where = tmp_path_factory.mktemp("contract")
    corpus = where / "corpus.txt"
    corpus.write_text("\n".join(CONTRACT_TEXT * 3) + "\n")
    words = write_arpa(estimate([word_tokens(t) for t in CONTRACT_TEXT], 3), where / "w.arpa")
    chars = write_arpa(estimate([char_tokens(t) for t in CONTRACT_TEXT], 4), where / "c.arpa")
    return {
        "wordbeam": {"lexicon": str(corpus)},
        "kenlm": {"lm": str(words)},
        "kenlm-char": {"lm": str(chars)},
        "pattern": {"pattern": "[a-z ]*"},
    }


@pytest.fixture(params=[*DECODERS.names(), "kenlm-char"])
def make(request, contract_options):
    name = request.param
    options = contract_options.get(name)
    return lambda: DECODERS.create(name.removesuffix("-char"), options)


class TestDecoderContract:
    def test_decodes_known_matrix(self, make):
        lp = peaked("hh-e-ll-ll-oo  -ww-o-r-ll-d--")
        result = make().decode(lp, ALPHABET)
        assert result.text == "hello world"

    def test_alignment_spells_text_in_order(self, make):
        lp = peaked("--hh-e-ll-ll-oo--")
        result = make().decode(lp, ALPHABET)
        assert "".join(c.char for c in result.chars) == result.text == "hello"
        spans = [(c.start, c.end) for c in result.chars]
        assert spans == [(2, 4), (5, 6), (7, 9), (10, 12), (13, 15)]
        assert all(0.0 <= c.prob <= 1.0 for c in result.chars)
        assert 0.0 < result.confidence <= 1.0

    def test_long_line(self, make):
        text = "the quick brown fox jumps over the lazy dog " * 3
        frames = "-".join(c + c for c in text) + "-"
        result = make().decode(peaked(frames), ALPHABET)
        assert result.text == text
        assert [c.start for c in result.chars] == [3 * i for i in range(len(text))]

    def test_blank_and_empty_input(self, make):
        decoder = make()
        assert decoder.decode(peaked("-----"), ALPHABET).text == ""
        assert decoder.decode(np.zeros((0, ALPHABET.num_classes)), ALPHABET).text == ""

    def test_float32_input(self, make):
        lp = peaked("-a-b-").astype(np.float32)
        assert make().decode(lp, ALPHABET).text == "ab"

    def test_confident_input_gives_higher_confidence(self, make):
        decoder = make()
        sure = decoder.decode(peaked("-a-b-", p=0.99), ALPHABET).confidence
        unsure = decoder.decode(peaked("-a-b-", p=0.5), ALPHABET).confidence
        assert sure > unsure


def test_greedy_peak_probabilities():
    lp = peaked("-aa-b", p=0.7)
    lp[2] = np.log(np.r_[0.05, 0.9, np.full(ALPHABET.num_classes - 2, 0.05 / 26)])
    result = registry("decoder").create("greedy").decode(lp, ALPHABET)
    assert result.text == "ab"
    assert result.chars[0].prob == pytest.approx(0.9)
    assert result.chars[1].prob == pytest.approx(0.7)
    assert result.confidence == pytest.approx(np.exp(lp.max(axis=1).mean()))


def test_beam_beats_greedy_where_paths_add_up():
    # Best path is blank-blank (0.36) but "a" has 0.4*0.4 + 0.4*0.6 + 0.6*0.4 = 0.64.
    alphabet = Alphabet("a")
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert registry("decoder").create("greedy").decode(lp, alphabet).text == ""
    assert registry("decoder").create("beam").decode(lp, alphabet).text == "a"


@pytest.mark.parametrize("seed", range(6))
def test_beam_finds_most_probable_labelling(seed):
    rng = np.random.default_rng(seed)
    T, C = 5, 3
    probs = rng.dirichlet(np.ones(C) * 0.7, size=T)
    lp = np.log(probs)
    scores = {}
    for path in itertools.product(range(C), repeat=T):
        collapsed = tuple(c for i, c in enumerate(path) if c != 0 and (i == 0 or path[i - 1] != c))
        scores.setdefault(collapsed, labelling_probability(lp, collapsed))
    best = max(scores, key=scores.get)
    decoder = registry("decoder").create("beam", {"beam_width": 64, "char_prune": 0.0})
    found = decoder.search(lp)
    assert scores[tuple(found)] == pytest.approx(scores[best])


def test_beam_width_one_still_decodes():
    lp = peaked("-c-a-t-")
    assert registry("decoder").create("beam", {"beam_width": 1}).decode(lp, ALPHABET).text == "cat"


def test_forced_alignment_spans_and_score():
    lp = peaked("-aa--b-", Alphabet("ab"))
    spans, score = forced_alignment(lp, [1, 2])
    assert spans == [(1, 3), (5, 6)]
    assert score == pytest.approx(np.log(0.9) * 7)


def test_forced_alignment_needs_blank_between_repeats():
    lp = peaked("aa", Alphabet("a"))
    assert forced_alignment(lp, [1, 1]) is None  # "aa" needs a blank in between
    assert forced_alignment(peaked("a-a", Alphabet("a")), [1, 1])[0] == [(0, 1), (2, 3)]

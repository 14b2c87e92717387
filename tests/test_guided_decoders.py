"""The guided decoders on hand-checked cases: word beam search over a lexicon, KenLM beam
search (word and character models, hotwords), pattern-constrained decoding, and the
search engine they share."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from conftest import labelling_probability

from htrkit import Alphabet
from htrkit.decoders.lexicon import Lexicon, WordBeamScorer
from htrkit.decoders.search import prefix_search
from htrkit.errors import HtrkitError
from htrkit.lm.kneser_ney import char_tokens, estimate, word_tokens, write_arpa
from htrkit.plugins import registry

LETTERS = Alphabet("abcdefghijklmnopqrstuvwxyz ,.")
MIXED = Alphabet("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz /.-")


def frames(spec: list[dict[str, float] | str], alphabet: Alphabet) -> np.ndarray:
    """Log probabilities from a list of frames: ``"-"`` a sure blank, ``"x"`` a sure
    character, or ``{"x": 0.55, "y": 0.4}`` (the rest spread over the other classes)."""
    rows = []
    for f in spec:
        dist = {f: 0.98} if isinstance(f, str) else f
        row = np.full(alphabet.num_classes, 1e-9)
        for ch, p in dist.items():
            row[0 if ch == "-" else alphabet.index(ch)] = p
        rest = 1.0 - sum(dist.values())
        others = row == 1e-9
        row[others] = max(rest, 1e-9) / others.sum()
        rows.append(np.log(row / row.sum()))
    return np.array(rows)


def spell(text: str, alphabet: Alphabet, **unsure: dict[str, float]) -> np.ndarray:
    """``text`` one character per frame with blanks between; character ``i`` of the text
    is replaced by the distribution ``unsure["c<i>"]`` when given."""
    spec: list = ["-"]
    for i, ch in enumerate(text):
        spec += [unsure.get(f"c{i}", ch), "-"]
    return frames(spec, alphabet)


def greedy(lp: np.ndarray, alphabet: Alphabet) -> str:
    return registry("decoder").create("greedy").decode(lp, alphabet).text


# -- word beam search -----------------------------------------------------------------


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("hello world\nthe old world\nhello there\nhold the line\nthe world is old\n")
    return path


@pytest.mark.parametrize("mode", ["words", "ngrams", "ngrams+forecast"])
def test_lexicon_word_beats_a_non_word_with_a_higher_raw_score(corpus, mode):
    # "hallo" is what the pixels say, by a little; only "hello" is a word
    lp = spell("hallo world", LETTERS, c1={"a": 0.52, "e": 0.46})
    assert greedy(lp, LETTERS) == "hallo world"
    decoder = registry("decoder").create("wordbeam", {"lexicon": str(corpus), "mode": mode})
    result = decoder.decode(lp, LETTERS)
    assert result.text == "hello world" and not result.flags


def test_lexicon_allows_punctuation_and_digits_between_words(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("hello\nworld\n")
    digits = Alphabet("abcdefghijklmnopqrstuvwxyz ,.0123456789")
    lp = spell("hallo, world 42.", digits, c1={"a": 0.52, "e": 0.46})
    result = registry("decoder").create("wordbeam", {"lexicon": str(words)}).decode(lp, digits)
    assert result.text == "hello, world 42."


def test_the_only_word_wins_over_two_likelier_non_words(corpus):
    lp = spell("the xorld", LETTERS, c4={"x": 0.4, "h": 0.3, "w": 0.29})
    for mode in ("words", "ngrams"):
        decoder = registry("decoder").create("wordbeam", {"lexicon": str(corpus), "mode": mode})
        assert decoder.decode(lp, LETTERS).text == "the world"  # "xorld", "horld": no words


def test_ngram_scores_prefer_the_frequent_follower(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat\n" * 9 + "the car\n" + "a car\n" * 3)
    lp = spell("the cax", LETTERS, c6={"x": 0.5, "t": 0.25, "r": 0.24})
    flat = registry("decoder").create("wordbeam", {"lexicon": str(corpus), "mode": "words"})
    scored = registry("decoder").create("wordbeam", {"lexicon": str(corpus), "mode": "ngrams"})
    assert flat.decode(lp, LETTERS).text == "the cat"  # the optical model, by a hair
    lp = spell("the cax", LETTERS, c6={"x": 0.5, "r": 0.26, "t": 0.23})
    assert flat.decode(lp, LETTERS).text == "the car"
    assert scored.decode(lp, LETTERS).text == "the cat"  # "cat" follows "the" 9 times in 10


def test_lexicon_counts_and_probability_mass(corpus, tmp_path):
    lex = Lexicon.from_file(corpus)
    assert lex.words == sorted({"hello", "world", "the", "old", "there", "hold", "line", "is"})
    assert lex.range_of("h") == (0, 2)  # hello, hold
    assert lex.range_of("the") == (5, 7)  # the, there
    assert lex.range_of("the", 5, 7) == (5, 7) and lex.range_of("ther", 5, 7) == (6, 7)
    assert lex.range_of("x") == (8, 8)  # after "world": no word
    for prev in (-1, lex.index["the"], lex.index["hello"]):
        assert lex.mass(prev, 0, len(lex)) == pytest.approx(1.0)
        assert sum(lex.mass(prev, i, i + 1) for i in range(len(lex))) == pytest.approx(1.0)
    # bigram share: "the" is followed by old, line... "world" twice out of 3 follows
    the = lex.index["the"]
    seen = lex.mass(the, lex.index["world"], lex.index["world"] + 1)
    unseen = lex.mass(the, lex.index["hold"], lex.index["hold"] + 1)
    assert seen > unseen
    listed = tmp_path / "freq.txt"
    listed.write_text("the 100\nworld 5\nÉcole 3\n")
    lex = Lexicon.from_file(listed)
    assert lex.words == ["the", "world", "école"]
    assert lex.mass(-1, 0, 1) > lex.mass(-1, 1, 2) > lex.mass(-1, 2, 3)
    cased = Lexicon.from_file(listed, ignore_case=False)
    assert "École" in cased.words


def test_forecast_scores_add_up_to_the_word_score(corpus):
    lex = Lexicon.from_file(corpus)
    plain = WordBeamScorer(lex, "ngrams")
    ahead = WordBeamScorer(lex, "ngrams+forecast")
    for scorer in (plain, ahead):
        state, total = scorer.initial(), 0.0
        for ch in "the world":
            state, gain = scorer.extend(state, ch)
            total += gain
        total += scorer.finish(state)
        expected = math.log(lex.mass(-1, lex.index["the"], lex.index["the"] + 1)) + math.log(
            lex.mass(lex.index["the"], lex.index["world"], lex.index["world"] + 1)
        )
        assert total == pytest.approx(expected)
    assert plain.extend(plain.initial(), "z") is None
    state = plain.initial()
    for ch in "hel":
        state, _ = plain.extend(state, ch)
    assert plain.finish(state) is None  # "hel" is not a word
    assert plain.extend(state, " ") is None


def test_lexicon_without_a_path_falls_back_and_flags(tmp_path):
    words = tmp_path / "w.txt"
    words.write_text("hello\n")
    lp = spell("xyz", LETTERS)
    result = registry("decoder").create("wordbeam", {"lexicon": str(words)}).decode(lp, LETTERS)
    assert result.text == "xyz" and result.flags == {"lexicon": "fallback"}


def test_lexicon_errors(tmp_path):
    with pytest.raises(HtrkitError, match="lexicon 'nope.txt': no such file"):
        registry("decoder").create("wordbeam", {"lexicon": "nope.txt"})
    empty = tmp_path / "empty.txt"
    empty.write_text("123 456\n")
    with pytest.raises(HtrkitError, match="empty.txt: the lexicon has no words"):
        registry("decoder").create("wordbeam", {"lexicon": str(empty)})


# -- KenLM ------------------------------------------------------------------------------

SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "the brown fox is quick",
    "a lazy dog sleeps",
    "the fox and the dog",
] * 3


@pytest.fixture(scope="module")
def word_lm(tmp_path_factory):
    where = tmp_path_factory.mktemp("lm")
    return str(write_arpa(estimate([word_tokens(s) for s in SENTENCES], 3), where / "w.arpa"))


@pytest.fixture(scope="module")
def char_lm(tmp_path_factory):
    where = tmp_path_factory.mktemp("lm")
    return str(write_arpa(estimate([char_tokens(s) for s in SENTENCES], 5), where / "c.arpa"))


@pytest.mark.parametrize("engine", ["compiled", "python"])
@pytest.mark.parametrize("which", ["word", "char"])
def test_language_model_fixes_a_word(which, engine, word_lm, char_lm):
    lp = spell("the brown fux", LETTERS, c11={"u": 0.55, "o": 0.4})
    assert greedy(lp, LETTERS) == "the brown fux"
    lm = word_lm if which == "word" else char_lm
    decoder = registry("decoder").create(
        "kenlm", {"lm": lm, "alpha": 0.8, "beta": 0.5, "engine": engine}
    )
    assert decoder.level == which
    assert decoder.decode(lp, LETTERS).text == "the brown fox"
    weightless = registry("decoder").create("kenlm", {"lm": lm, "alpha": 0.0, "beta": 0.0})
    assert weightless.decode(lp, LETTERS).text == "the brown fux"


@pytest.mark.parametrize("engine", ["compiled", "python"])
def test_hotwords_win_a_close_call(word_lm, engine):
    lp = spell("the brown cax", LETTERS, c12={"x": 0.5, "t": 0.45})
    plain = registry("decoder").create("kenlm", {"lm": word_lm, "alpha": 0.3, "engine": engine})
    assert plain.decode(lp, LETTERS).text == "the brown cax"
    hot = registry("decoder").create(
        "kenlm",
        {"lm": word_lm, "alpha": 0.3, "hotwords": "cat,hound", "hotword_weight": 5,
         "engine": engine},
    )  # fmt: skip
    assert hot.decode(lp, LETTERS).text == "the brown cat"


def test_beta_trades_words_for_characters(word_lm):
    # "thefox" (one unknown word) or "the fox": the word bonus decides
    lp = spell("the fox", LETTERS, c3={" ": 0.45, "-": 0.5})
    many = registry("decoder").create("kenlm", {"lm": word_lm, "alpha": 0.5, "beta": 3.0})
    assert many.decode(lp, LETTERS).text == "the fox"


def test_kenlm_errors(tmp_path):
    bad = tmp_path / "bad.arpa"
    bad.write_text("not a model\n")
    with pytest.raises(HtrkitError, match="bad.arpa: not a KenLM model"):
        registry("decoder").create("kenlm", {"lm": str(bad)})
    with pytest.raises(HtrkitError, match="word LM 'missing.arpa': no such file"):
        registry("decoder").create("kenlm", {"lm": "missing.arpa"})


# -- patterns -------------------------------------------------------------------------


def test_pattern_turns_an_ambiguous_o_into_a_zero_and_back():
    year = spell("2O24", MIXED, c1={"O": 0.6, "0": 0.35})
    assert greedy(year, MIXED) == "2O24"
    date = registry("decoder").create("pattern", {"pattern": "@year"})
    assert date.decode(year, MIXED).text == "2024"
    name = spell("J0HN", MIXED, c1={"0": 0.6, "O": 0.35})
    caps = registry("decoder").create("pattern", {"pattern": "@capitals"})
    assert caps.decode(name, MIXED).text == "JOHN"


def test_pattern_settles_l_1_and_s_5():
    o0, l1, s5 = {"O": 0.5, "0": 0.45}, {"l": 0.5, "1": 0.45}, {"S": 0.5, "5": 0.45}
    lp = spell("l2/O5/2OlS", MIXED, c0=l1, c3=o0, c7=o0, c8=l1, c9=s5)
    result = registry("decoder").create("pattern", {"pattern": "@date"}).decode(lp, MIXED)
    assert result.text == "12/05/2015" and not result.flags
    custom = registry("decoder").create("pattern", {"pattern": r"[A-Z]{2}/\d{3}"})
    lp = spell("AB/l2O", MIXED, c3={"l": 0.7, "1": 0.2}, c5={"O": 0.7, "0": 0.2})
    assert custom.decode(lp, MIXED).text == "AB/120"


def test_pattern_without_a_match_falls_back_and_flags():
    lp = spell("hello", MIXED)
    result = registry("decoder").create("pattern", {"pattern": r"\d+"}).decode(lp, MIXED)
    assert result.text == "hello" and result.flags == {"pattern": "fallback"}


def test_pattern_ignore_case():
    lp = spell("AB", MIXED)
    strict = registry("decoder").create("pattern", {"pattern": "ab"})
    loose = registry("decoder").create("pattern", {"pattern": "ab", "ignore_case": True})
    assert strict.decode(lp, MIXED).flags == {"pattern": "fallback"}
    result = loose.decode(lp, MIXED)
    assert result.text == "AB" and not result.flags


def test_pattern_errors():
    with pytest.raises(HtrkitError, match="unknown pattern preset '@dat'"):
        registry("decoder").create("pattern", {"pattern": "@dat"})
    with pytest.raises(HtrkitError, match="'pattern' is required"):
        registry("decoder").create("pattern")
    with pytest.raises(HtrkitError, match="not a usable regular expression"):
        registry("decoder").create("pattern", {"pattern": "(ab"})


def test_pattern_compilation_is_bounded():
    import interegular

    from htrkit.decoders.pattern import PRESETS, compile_pattern

    # 19 characters whose automaton has 2^15 states: interegular alone takes minutes. The
    # count of states bounds the work on its own (no clock: max_seconds is infinite) ...
    with pytest.raises(HtrkitError, match="too complex: its automaton has over 5,000 states"):
        compile_pattern("(a|b)*a(a|b){14}", max_seconds=float("inf"))
    # ... and the decoder refuses the pattern by one bound or the other
    with pytest.raises(HtrkitError, match="too complex: its automaton (has over 5,000|took)"):
        registry("decoder").create("pattern", {"pattern": "(a|b)*a(a|b){14}"})
    with pytest.raises(HtrkitError, match=r"too complex: its automaton took over 0.01 s"):
        compile_pattern("(a|b)*a(a|b){11}", max_states=10**6, max_seconds=0.01)
    # within the bounds, the automaton is interegular's own
    for pattern in [*PRESETS.values(), "(a|b)*a(a|b){6}", r"[A-Z][a-z]+( [A-Z][a-z]+)*"]:
        ours, theirs = compile_pattern(pattern), interegular.parse_pattern(pattern).to_fsm()
        assert len(ours.states) == len(theirs.states), pattern
        for text in ("12/03/2024", "1905", "John Smith", "aabab", "JEAN-LUC", "+33 1 23 45 67"):
            assert ours.accepts(text) == theirs.accepts(text), (pattern, text)


def test_cli_refuses_a_pattern_too_complex_in_one_line(tmp_path, line_png):
    from conftest import run_cli

    out = run_cli("run", line_png, "--decoder", "pattern", "-O", "pattern=(a|b)*a(a|b){14}",
                  timeout=120)  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert "too complex" in out.stderr and len(out.stderr.strip().splitlines()) == 1


# -- the engine ---------------------------------------------------------------------------


class Free:
    """No constraint, no score: the engine must then be plain prefix beam search."""

    def initial(self):
        return None

    def extend(self, state, char):
        return None, 0.0

    def finish(self, state):
        return 0.0


@pytest.mark.parametrize("seed", range(5))
def test_engine_without_a_scorer_finds_the_most_probable_labelling(seed):
    rng = np.random.default_rng(seed)
    lp = np.log(rng.dirichlet(np.ones(3) * 0.7, size=5))
    alphabet = Alphabet("ab")
    found = prefix_search(lp, alphabet, Free(), beam_width=64, char_prune=0.0)
    labels, score, optical = found[0]
    assert score == pytest.approx(optical)
    assert math.exp(optical) == pytest.approx(labelling_probability(lp, labels))
    best = max(
        (labelling_probability(lp, ls), ls)
        for n in range(6)
        for ls in itertools.product((1, 2), repeat=n)
    )
    assert math.exp(optical) == pytest.approx(best[0])


def test_engine_matches_the_beam_decoder_on_a_real_size_matrix():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(80, LETTERS.num_classes)) * 3
    logits[:, 0] += 2
    lp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    beam = registry("decoder").create("beam", {"beam_width": 8, "char_prune": 0.0})
    found = prefix_search(lp, LETTERS, Free(), beam_width=8, char_prune=0.0)
    assert found[0][0] == tuple(beam.search(lp))


def test_word_confidences_and_positions(corpus):
    from htrkit.results import CharResult, LineResult

    chars = [CharResult(c, 10.0 * i, 10.0 * i + 8, p, i) for i, (c, p) in enumerate(
        zip("ab cd", [0.9, 0.4, 1.0, 0.5, 0.5]))]  # fmt: skip
    line = LineResult("ab cd", 0.5, (0, 0, 50, 10), chars=chars)
    words = line.words
    assert [w.text for w in words] == ["ab", "cd"]
    assert words[0].x0 == 0 and words[0].x1 == 18 and words[1].x0 == 30 and words[1].x1 == 48
    assert words[0].confidence == pytest.approx(0.6)
    assert words[1].confidence == pytest.approx(0.5)


@pytest.mark.parametrize(
    "name, options",
    [("wordbeam", {}), ("kenlm", {}), ("kenlm", {"level": "char", "alpha": 1.0, "beta": 0.5})],
)
def test_bundled_lexicon_and_language_models_fix_a_word(name, options):
    from htrkit.decoders.resources import BUNDLED

    assert all(path.is_file() for path in BUNDLED.values())
    lp = spell("the hause", LETTERS, c5={"a": 0.55, "o": 0.4})
    assert greedy(lp, LETTERS) == "the hause"
    assert registry("decoder").create(name, options).decode(lp, LETTERS).text == "the house"


def test_a_bad_pattern_says_why_and_a_long_one_is_not_echoed_whole():
    from htrkit.errors import OptionsError

    with pytest.raises(
        OptionsError,
        match=r"'\(ab' is not a usable regular expression: "
        r"missing \), unterminated subpattern at position 0",
    ):
        registry("decoder").create("pattern", {"pattern": "(ab"})
    long = "a" * 10_000 + "("
    with pytest.raises(OptionsError) as caught:
        registry("decoder").create("pattern", {"pattern": long})
    message = str(caught.value)
    assert len(message) < 400 and "(10,001 characters)" in message and "position 10000" in message

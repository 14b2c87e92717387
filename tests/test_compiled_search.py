"""The compiled KenLM beam search: its n-gram tables agree with KenLM, and it reads what the
Python search reads, for word and character models, hotwords, lower-casing and pruning."""

from __future__ import annotations

import random
import shutil
import subprocess

import numpy as np
import pytest

from htrkit import Alphabet
from htrkit.decoders.ngram import KenLMDecoder
from htrkit.decoders.options import KenLMOptions
from htrkit.errors import HtrkitError
from htrkit.lm.kneser_ney import char_tokens, estimate, word_tokens, write_arpa
from htrkit.lm.tables import is_arpa, read_arpa

kenlm = pytest.importorskip("kenlm")

TEXT = """the old man and the sea
a man walks into the old house by the sea
she sells sea shells by the sea shore
the house on the hill is old and grey
we walked home along the shore at night
the night was cold and the sea was grey
old houses stand by the harbour wall
he sold his house and bought a boat
the boat sailed out of the harbour at dawn
a cold wind blew over the hill
""".splitlines()
ALPHABET = Alphabet("abcdefghijklmnopqrstuvwxyz .,'T")


@pytest.fixture(scope="module")
def lms(tmp_path_factory):
    where = tmp_path_factory.mktemp("lms")
    words = write_arpa(estimate([word_tokens(s) for s in TEXT], 3), where / "w.arpa")
    chars = write_arpa(estimate([char_tokens(s) for s in TEXT], 5), where / "c.arpa")
    return {"word": words, "char": chars}


def kenlm_logprob(model, context: list[str], token: str) -> float:
    state = kenlm.State()
    if context and context[0] == "<s>":
        model.BeginSentenceWrite(state)
        context = context[1:]
    else:
        model.NullContextWrite(state)
    for t in context:
        out = kenlm.State()
        model.BaseScore(state, t, out)
        state = out
    return model.BaseScore(state, token, kenlm.State())


@pytest.mark.parametrize("level", ["word", "char"])
def test_tables_score_what_kenlm_scores(lms, level):
    path = lms[level]
    tables = read_arpa(path)
    model = kenlm.Model(str(path))
    tokens = [t for t in tables.ids if t != "<unk>"] + ["unseen"]
    rng = random.Random(0)
    checked = 0
    for _ in range(2000):
        context = ["<s>"] + [rng.choice(tokens) for _ in range(rng.randint(0, 5))]
        # half the queries follow the corpus, so that long n-grams are hit, not only
        # backed off from
        if level == "word" and rng.random() < 0.5:
            sentence = rng.choice(TEXT).split()
            cut = rng.randint(0, len(sentence) - 1)
            context, token = ["<s>", *sentence[:cut]], sentence[cut]
        else:
            token = rng.choice(tokens)
        context = context[-(tables.order - 1) :]
        assert tables.logprob(token, context) == pytest.approx(
            kenlm_logprob(model, context, token), abs=1e-5
        ), (context, token)
        checked += 1
    assert checked == 2000


def noisy_lines(alphabet: Alphabet, count: int, seed: int) -> list[np.ndarray]:
    """Log probabilities that spell corpus lines with confusions, dropped characters and
    noise, so that the searches have real choices to make."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        text = TEXT[i % len(TEXT)]
        if i % 3 == 0:
            text = text.capitalize().replace("t", "T", 1)
        ids = [alphabet.index(c) for c in text if c in alphabet.chars]
        logits = rng.normal(0.0, 1.0, (3 * len(ids) + 2, alphabet.num_classes))
        logits[:, 0] += 4.0
        for j, k in enumerate(ids):
            logits[3 * j + 1, k] += 7.0 + rng.normal(0, 2)
            logits[3 * j + 1, rng.integers(1, alphabet.num_classes)] += 6.0
        lp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
        out.append(lp.astype(np.float32 if i % 2 else np.float64))
    return out


CASES = {
    "word": dict(alpha=0.8, beta=0.5),
    "word, hotwords": dict(alpha=0.8, hotwords=("harbour", "boats", "grey"), hotword_weight=4.0),
    "word, lower-cased": dict(alpha=0.6, lowercase=True, beam_prune=6.0),
    "word, narrow, every character": dict(beam_width=3, char_prune=0.0, unk_offset=-5.0),
    "char": dict(alpha=1.0, beta=0.3, level="char"),
    "char, lower-cased, pruned": dict(alpha=0.7, level="char", lowercase=True, beam_prune=5.0),
    # every class a candidate in every frame, few beams: the floor, the early stop and the
    # LM asked only when a rank needs it do the most here
    "char, narrow, every character": dict(alpha=1.0, level="char", beam_width=4, char_prune=0.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_compiled_search_reads_what_the_python_search_reads(lms, case):
    options = CASES[case]
    lm = lms["char" if options.get("level") == "char" else "word"]
    lines = noisy_lines(ALPHABET, 40, seed=len(case))
    fast = KenLMDecoder(KenLMOptions(lm=str(lm), engine="compiled", **options))
    slow = KenLMDecoder(KenLMOptions(lm=str(lm), engine="python", **options))
    assert fast._engine(ALPHABET) is not None
    assert slow._engine(ALPHABET) is None
    readings = [fast.decode(lp, ALPHABET) for lp in lines]
    expected = [slow.decode(lp, ALPHABET) for lp in lines]
    assert [r.text for r in readings] == [e.text for e in expected]
    assert [r.chars for r in readings] == [e.chars for e in expected]
    # the lines are hard enough that the language model changes some readings
    greedy = KenLMDecoder(KenLMOptions(lm=str(lm), alpha=0.0, beta=0.0, beam_width=1))
    assert sum(r.text != greedy.decode(lp, ALPHABET).text for r, lp in zip(readings, lines)) > 3


def test_the_bundled_language_models_read_alike_in_both_engines():
    alphabet = Alphabet("abcdefghijklmnopqrstuvwxyzéèàç .,'-ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    lines = noisy_lines(alphabet, 12, seed=3)
    for options in (dict(), dict(level="char", lm="default-chars")):
        lm = options.pop("lm", "default")
        if lm == "default-chars":
            from htrkit.decoders.resources import BUNDLED

            lm = str(BUNDLED["character LM"])
        fast = KenLMDecoder(KenLMOptions(lm=lm, **options))
        slow = KenLMDecoder(KenLMOptions(lm=lm, engine="python", **options))
        assert fast._engine(alphabet) is not None
        assert [fast.decode(lp, alphabet).text for lp in lines] == [
            slow.decode(lp, alphabet).text for lp in lines
        ]


def test_lower_casing_that_is_not_one_to_one_uses_the_python_search(lms):
    decoder = KenLMDecoder(KenLMOptions(lm=str(lms["word"]), lowercase=True))
    dotted = Alphabet([*ALPHABET.chars, "İ"])
    assert decoder._engine(dotted) is None  # "İ".lower() is two characters
    assert decoder._engine(ALPHABET) is not None
    lp = noisy_lines(dotted, 1, seed=0)[0]
    assert decoder.decode(lp, dotted).text


def test_empty_and_one_frame_lines(lms):
    decoder = KenLMDecoder(KenLMOptions(lm=str(lms["word"])))
    empty = np.zeros((0, ALPHABET.num_classes), np.float32)
    assert decoder.decode(empty, ALPHABET).text == ""
    one = np.full((1, ALPHABET.num_classes), -20.0, np.float32)
    one[0, ALPHABET.index("a")] = 0.0
    assert decoder.decode(one, ALPHABET).text == "a"


def test_a_binary_model_needs_the_python_engine(lms, tmp_path):
    if not shutil.which("build_binary"):
        pytest.skip("KenLM's build_binary is not installed")
    binary = tmp_path / "w.bin"
    subprocess.run(["build_binary", str(lms["word"]), str(binary)], check=True,
                   capture_output=True)  # fmt: skip
    assert not is_arpa(binary)
    assert KenLMDecoder(KenLMOptions(lm=str(binary)))._engine(ALPHABET) is None
    with pytest.raises(HtrkitError, match="engine=compiled reads ARPA files"):
        KenLMDecoder(KenLMOptions(lm=str(binary), engine="compiled"))


def test_is_arpa(lms, tmp_path):
    assert is_arpa(lms["word"])
    other = tmp_path / "x.arpa"
    other.write_bytes(b"\x00\x01binary")
    assert not is_arpa(other)
    assert not is_arpa(tmp_path / "missing.arpa")


def _chain(tables, tokens: list[str], closed: bool) -> list[tuple[float, float]]:
    """Each token's log10 probability after ``<s>`` and the tokens before it, queried from
    the state the last query left (as the compiled search does: score_known) and in full
    (score_key)."""
    from htrkit.lm.tables import score_key, score_known

    arrays = tables.arrays()
    h = tables.order - 1
    hist = [tables.bos]
    known, back = 1, np.nan
    out = []
    for token in tokens:
        key = np.array([*hist, tables.id(token)], np.int32)
        value, found, found_back = score_known(key, len(key), known, back, *arrays)
        out.append((value, score_key(key, len(key), *arrays)))
        hist = [*hist, tables.id(token)][-h:]
        if closed:
            known = min(found, len(hist))
            back = found_back if found == known else np.nan
        else:
            known, back = len(hist), np.nan
    return out


@pytest.mark.parametrize("level", ["word", "char"])
def test_a_query_from_the_last_querys_state_scores_what_a_full_query_does(lms, level):
    tables = read_arpa(lms[level])
    assert tables.prefix_closed  # as htrkit's builder (and KenLM's lmplz) write them
    rng = random.Random(1)
    vocabulary = [t for t in tables.ids if t not in ("<unk>", "<s>")] + ["unseen"]
    for i in range(300):
        # along the corpus (long n-grams found) or at random (backing off far)
        if i % 2:
            line = rng.choice(TEXT)
            tokens = [*(word_tokens(line) if level == "word" else char_tokens(line))][1:]
        else:
            tokens = [rng.choice(vocabulary) for _ in range(rng.randint(1, 12))]
        for value, full in _chain(tables, tokens, closed=True):
            assert value == full


def test_a_model_whose_contexts_are_not_all_listed_is_queried_in_full(lms, tmp_path):
    # an ARPA file with a 3-gram whose context 2-gram is missing (not as lmplz writes
    # them): a state that bounds the next query would then skip that 3-gram
    text = lms["char"].read_text(encoding="utf-8")
    head, rest = text.split("\\2-grams:\n", 1)
    bigrams, after = rest.split("\n\n", 1)
    rows = bigrams.splitlines()
    trigrams = after.split("\\3-grams:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    context = " ".join(trigrams[0].split("\t")[1].split(" ")[:2])
    kept = [r for r in rows if r.split("\t")[1] != context]
    assert len(kept) == len(rows) - 1
    head = head.replace(f"ngram 2={len(rows)}", f"ngram 2={len(kept)}")
    broken = tmp_path / "broken.arpa"
    broken.write_text(head + "\\2-grams:\n" + "\n".join(kept) + "\n\n" + after, encoding="utf-8")
    tables = read_arpa(broken)
    assert not tables.prefix_closed
    tokens = context.split(" ") + [trigrams[0].split("\t")[1].split(" ")[2]]
    chained = _chain(tables, tokens, closed=False)
    assert all(value == full for value, full in chained)
    # the state-bounded query would have missed the 3-gram: the check matters
    assert _chain(tables, tokens, closed=True)[-1][0] != chained[-1][1]
    # and the compiled search reads this file as it reads its full queries
    search = KenLMDecoder(KenLMOptions(lm=str(broken), engine="compiled", level="char"))
    engine = search._engine(ALPHABET)
    assert engine is not None and not engine.closed

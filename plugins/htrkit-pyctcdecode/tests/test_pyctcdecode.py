"""The pyctcdecode plugin through htrkit's registry: it is found, decodes, and its language
model fixes a word as htrkit's own kenlm decoder does."""

from __future__ import annotations

import numpy as np
import pytest

from htrkit import Alphabet
from htrkit.errors import HtrkitError
from htrkit.lm.kneser_ney import estimate, word_tokens, write_arpa
from htrkit.plugins import registry

ALPHABET = Alphabet("abcdefghijklmnopqrstuvwxyz ")
SENTENCES = ["the quick brown fox jumps over the lazy dog", "the brown fox is quick",
             "a lazy dog sleeps", "the fox and the dog", "hello world"] * 3  # fmt: skip


def spell(text: str, **unsure: dict[str, float]) -> np.ndarray:
    """One frame per character, blanks between; ``c<i>`` makes character i unsure."""
    rows = [{"-": 0.98}]
    for i, ch in enumerate(text):
        rows += [unsure.get(f"c{i}", {ch: 0.98}), {"-": 0.98}]
    out = []
    for dist in rows:
        row = np.full(ALPHABET.num_classes, (1 - sum(dist.values())) / ALPHABET.num_classes)
        for ch, p in dist.items():
            row[0 if ch == "-" else ALPHABET.index(ch)] = p
        out.append(np.log(row / row.sum()))
    return np.array(out, dtype=np.float32)


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    path = tmp_path_factory.mktemp("lm") / "words.arpa"
    return str(write_arpa(estimate([word_tokens(s) for s in SENTENCES], 3), path))


def test_registered_from_its_entry_point():
    assert "pyctcdecode" in registry("decoder").names()


def test_decodes_and_aligns(lm):
    decoder = registry("decoder").create("pyctcdecode", {"lm": lm})
    result = decoder.decode(spell("hello world"), ALPHABET)
    assert result.text == "hello world"
    assert "".join(c.char for c in result.chars) == "hello world"
    assert [c.start for c in result.chars] == [1 + 2 * i for i in range(11)]
    assert decoder.decode(np.zeros((0, ALPHABET.num_classes)), ALPHABET).text == ""


def test_language_model_fixes_a_word_like_htrkits_own(lm):
    lp = spell("the brown fux", c11={"u": 0.55, "o": 0.4})
    options = {"lm": lm, "alpha": 0.8, "beta": 0.5}
    assert registry("decoder").create("pyctcdecode", options).decode(lp, ALPHABET).text == (
        "the brown fox"
    )
    assert registry("decoder").create("kenlm", options).decode(lp, ALPHABET).text == (
        "the brown fox"
    )
    plain = registry("decoder").create("pyctcdecode", {"lm": lm, "alpha": 0.0, "beta": 0.0})
    assert plain.decode(lp, ALPHABET).text == "the brown fux"


def test_bad_model_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.arpa"
    bad.write_text("nonsense\n")
    with pytest.raises(HtrkitError, match="bad.arpa: not a KenLM model"):
        registry("decoder").create("pyctcdecode", {"lm": str(bad)})

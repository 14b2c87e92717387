"""``htrkit lm build``: modified Kneser-Ney estimation checked by hand, by normalisation,
and against KenLM reading the ARPA files it writes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli

from htrkit.lm.kneser_ney import EOS, SPACE, UNK, char_tokens, estimate, write_arpa

CORPUS = [["a", "b"], ["a", "b"], ["b"]]


def test_hand_computed_bigram_model():
    # Padded: <s> a b </s> (twice), <s> b </s>. Continuation counts of unigrams: a 1
    # (after <s>), b 2 (after a and <s>), </s> 1. Too few counts for estimated discounts,
    # so D = 0.5, 1.0, 1.5. Vocabulary: a, b, </s>, <unk> (4).
    # Unigrams: total 4, gamma = (0.5 * 2 + 1.0 * 1) / 4 = 0.5
    #   p(a) = 0.5/4 + 0.5/4 = 0.25, p(b) = 1/4 + 0.125 = 0.375, p(</s>) = 0.25,
    #   p(<unk>) = 0.125
    # Bigrams after <s>: a 2, b 1; gamma = (0.5 + 1.0) / 3 = 0.5
    #   p(a|<s>) = 1/3 + 0.5 * 0.25, p(b|<s>) = 0.5/3 + 0.5 * 0.375
    # after a: b 2; gamma = 0.5: p(b|a) = 1/2 + 0.5 * 0.375 = 0.6875
    # after b: </s> 3; gamma = 1.5/3 = 0.5: p(</s>|b) = 1.5/3 + 0.5 * 0.25 = 0.625
    m = estimate(CORPUS, 2)
    p = lambda w, *h: 10 ** m.logprob(w, h)  # noqa: E731
    assert m.discounts == [(0.5, 1.0, 1.5)] * 2
    assert p("a") == pytest.approx(0.25)
    assert p("b") == pytest.approx(0.375)
    assert p(EOS) == pytest.approx(0.25)
    assert p(UNK) == pytest.approx(0.125)
    assert p("zzz") == pytest.approx(0.125)  # unknown words are <unk>
    assert p("a", "<s>") == pytest.approx(1 / 3 + 0.125)
    assert p("b", "<s>") == pytest.approx(0.5 / 3 + 0.1875)
    assert p("b", "a") == pytest.approx(0.6875)
    assert p(EOS, "b") == pytest.approx(0.625)
    assert p("a", "a") == pytest.approx(0.5 * 0.25)  # unseen: back off with gamma(a)


def test_estimated_discounts_follow_the_counts_of_counts():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    zipf = 1 / np.arange(1, 61)
    corpus = [
        list(rng.choice(words, int(rng.integers(3, 12)), p=zipf / zipf.sum())) for _ in range(400)
    ]
    m = estimate(corpus, 3)
    d1, d2, d3 = m.discounts[2]
    assert 0 < d1 < d2 < d3 < 3 and (d1, d2, d3) != (0.5, 1.0, 1.5)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_probabilities_sum_to_one_in_every_context(order):
    rng = np.random.default_rng(order)
    corpus = [list(rng.choice(list("abcde"), int(rng.integers(1, 9)))) for _ in range(200)]
    m = estimate(corpus, order)
    vocab = [w for w in m.vocabulary() if w != "<s>"]
    contexts = [(), ("<s>",), ("a",), ("<s>", "a"), ("b", "c"), ("e", "e", "e"), ("x", "a")]
    for h in contexts:
        total = sum(10 ** m.logprob(w, h) for w in vocab)
        assert total == pytest.approx(1.0, abs=1e-9), h


def test_kenlm_reads_the_arpa_file_and_agrees(tmp_path):
    kenlm = pytest.importorskip("kenlm")
    rng = np.random.default_rng(1)
    corpus = [list(rng.choice(list("abcdefg"), int(rng.integers(1, 9)))) for _ in range(300)]
    m = estimate(corpus, 3)
    arpa = write_arpa(m, tmp_path / "lm.arpa")
    lm = kenlm.Model(str(arpa))
    assert lm.order == 3
    for sentence in (["a", "b", "c"], ["g"], ["q", "a"], ["a"] * 6):
        ours = 0.0
        history = ["<s>"]
        for w in [*sentence, EOS]:
            ours += m.logprob(w, history)
            history.append(w)
        assert lm.score(" ".join(sentence), bos=True, eos=True) == pytest.approx(ours, abs=1e-4)


def test_char_tokens():
    assert char_tokens(" a  b ") == ["a", SPACE, "b"]


def test_lm_build_command(tmp_path):
    corpus = tmp_path / "text.txt"
    corpus.write_text("le chat dort\nle chien dort\nun chat\n", encoding="utf-8")
    out = run_cli("lm", "build", corpus, "--order", "3", "-o", tmp_path / "w.arpa")
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "w.arpa").read_text(encoding="utf-8")
    assert "ngram 1=" in text and "\\3-grams:" in text and "chat dort" in text
    out = run_cli("lm", "build", corpus, "--order", "5", "--char", "-o", tmp_path / "c.arpa")
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "c.arpa").read_text(encoding="utf-8")
    assert "\\5-grams:" in text and f"c h a t {SPACE}" in text
    kenlm = pytest.importorskip("kenlm")
    lm = kenlm.Model(str(tmp_path / "c.arpa"))
    assert lm.score(f"c h a t {SPACE} d o r t") > lm.score(f"t a h c {SPACE} d r o t")


def test_lm_build_errors(tmp_path):
    out = run_cli("lm", "build", tmp_path / "none.txt", "-o", tmp_path / "x.arpa")
    assert out.returncode != 0 and "none.txt: no such corpus file" in out.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    out = run_cli("lm", "build", empty, "-o", tmp_path / "x.arpa")
    assert out.returncode != 0 and "empty.txt: the corpus has no text" in out.stderr
    out = run_cli("lm", "build", empty, "--order", "0", "-o", tmp_path / "x.arpa")
    assert out.returncode == 2


@pytest.mark.parametrize(
    "content, says",
    [
        (b"\\data\\\nngram 1=2\n\n\\1-grams:\nabc\t<s>\t0\n-1\t</s>\n\n\\end\\\n",
         "malformed ARPA file (could not convert string to float: 'abc')"),
        (b"\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\tzz\n-1\t</s>\n\n\\end\\\n",
         "malformed ARPA file (could not convert string to float: 'zz')"),
        (b"\xff\xfe\\data\\\n" + bytes(range(256)) * 4, "not a KenLM model (ARPA or binary)"),
        (b"\\data\\\nngram 1=1\n\n\\1-grams:\n-1\t<s>\n\n\\end\\\n", "has no </s> unigram"),
        # damaged files the compiled engine once read as if whole (readings of garbage)
        (b"\\data\\\nngram 1=3\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n\n\\end\\\n",
         "the header declares 3 1-grams but the file has 2"),
        (b"\\data\\\nngram 1=2\nngram 2=9\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n",
         "declares n-gram counts for orders [1, 2], the file has sections 1 to 1 (truncated?)"),
        (b"\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n", "does not end in \\end\\"),
        (b"\\data\\\nngram 1=2\n\n\\1-grams:\ninf\t<s>\n-1\t</s>\n\n\\end\\\n", "not a finite"),
        (b"\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\tnan\n-1\t</s>\n\n\\end\\\n",
         "not a finite"),
        (b"\\data\\\nngram 1=2\n\n\\1-grams:\n0.5\t<s>\n-1\t</s>\n\n\\end\\\n", "above 1"),
    ],
)  # fmt: skip
def test_malformed_arpa_files_name_the_file_in_one_line(tmp_path, content, says):
    from conftest import ROOT, run_cli

    lm = tmp_path / "bad.arpa"
    lm.write_bytes(content)
    line = ROOT / "examples" / "images" / "handwritten.png"
    done = run_cli("run", line, "-d", "kenlm", "-O", f"lm={lm}", "-O", "level=char")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(lm) in lines[0] and says in lines[0], lines


def test_lm_build_reads_text_not_its_byte_order_mark_or_the_models_markers(tmp_path):
    corpus = tmp_path / "bom.txt"
    corpus.write_bytes("\ufeffhello world <s> there\nhello </s> there <unk>\n".encode())
    out = run_cli("lm", "build", corpus, "--order", "2", "-o", tmp_path / "w.arpa")
    assert out.returncode == 0, out.stderr
    arpa = (tmp_path / "w.arpa").read_text(encoding="utf-8")
    assert "\ufeff" not in arpa
    grams = [line.split("\t")[1] for line in arpa.splitlines() if line.count("\t") >= 1]
    assert "hello world" in grams and "world there" in grams  # <s> was dropped, not a word
    assert not [g for g in grams if " <s>" in g or "</s> " in g or "<unk>" in g.split()[1:]]


def test_an_lm_option_that_names_a_folder_or_nothing_is_bad_usage(tmp_path):
    from conftest import ROOT

    line = ROOT / "examples" / "images" / "handwritten.png"
    for value, says in ((str(tmp_path), "is a folder; name the file"), ("", "no character LM")):
        done = run_cli("run", line, "-O", f"lm={value}")
        assert done.returncode == 2 and says in done.stderr, done.stderr

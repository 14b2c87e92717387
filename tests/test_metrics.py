"""Metrics checked against plain reference implementations, and the evaluation helpers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest

from htrkit.errors import InputError
from htrkit.metrics import Metric, ratio
from htrkit.metrics.evaluation import align_ids, read_tsv, score
from htrkit.plugins import PluginManager, registry

# -- reference implementations ---------------------------------------------------------


def levenshtein(a: Sequence, b: Sequence) -> int:
    """Textbook dynamic-programming edit distance (unit costs)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def jaro(s: str, t: str) -> float:
    if not s and not t:
        return 1.0
    if not s or not t:
        return 0.0
    window = max(max(len(s), len(t)) // 2 - 1, 0)
    s_hit = [False] * len(s)
    t_hit = [False] * len(t)
    matches = 0
    for i, ch in enumerate(s):
        for j in range(max(0, i - window), min(len(t), i + window + 1)):
            if not t_hit[j] and t[j] == ch:
                s_hit[i] = t_hit[j] = True
                matches += 1
                break
    if not matches:
        return 0.0
    s_matched = [c for c, hit in zip(s, s_hit) if hit]
    t_matched = [c for c, hit in zip(t, t_hit) if hit]
    transpositions = sum(a != b for a, b in zip(s_matched, t_matched)) / 2
    return (matches / len(s) + matches / len(t) + (matches - transpositions) / matches) / 3


def jaro_winkler(s: str, t: str, prefix_scale: float = 0.1, max_prefix: int = 4) -> float:
    """Winkler's boost for a common prefix, applied when the Jaro similarity exceeds 0.7."""
    sim = jaro(s, t)
    if sim <= 0.7:
        return sim
    prefix = 0
    for a, b in zip(s[:max_prefix], t[:max_prefix]):
        if a != b:
            break
        prefix += 1
    return sim + prefix * prefix_scale * (1 - sim)


def ref_ratio(num: float, den: float, exact: bool, higher_is_better: bool) -> float:
    """The documented rule: num/den; with nothing to count, the best score if everything was
    read exactly, else the worst."""
    if den:
        return num / den
    return float(exact == higher_is_better)


def words(text: str) -> list[str]:
    return text.split()


# name -> (prediction, reference) -> (numerator, denominator)
Stats = Callable[[str, str], tuple[float, float]]
REFERENCE: dict[str, Stats] = {
    "cer": lambda p, r: (levenshtein(p, r), len(r)),
    "cer-caseless": lambda p, r: (levenshtein(p.casefold(), r.casefold()), len(r.casefold())),
    "cer-spaceless": lambda p, r: (
        levenshtein("".join(p.split()), "".join(r.split())),
        len("".join(r.split())),
    ),  # fmt: skip
    "wer": lambda p, r: (levenshtein(words(p), words(r)), len(words(r))),
    "levenshtein": lambda p, r: (levenshtein(p, r), 1),
    "ned": lambda p, r: (levenshtein(p, r), max(len(p), len(r))),
    "jaro-winkler": lambda p, r: (jaro_winkler(p, r), 1),
    "char-accuracy": lambda p, r: (max(len(r) - levenshtein(p, r), 0), len(r)),
    "word-accuracy": lambda p, r: (
        max(len(words(r)) - levenshtein(words(p), words(r)), 0),
        len(words(r)),
    ),
    "exact-match": lambda p, r: (float(p == r), 1),
}

HIGHER_IS_BETTER = {"jaro-winkler", "char-accuracy", "word-accuracy", "exact-match"}

# (prediction, reference)
PAIRS = [
    ("", ""),
    ("abc", ""),
    ("", "abc"),
    ("kitten", "sitting"),
    ("sitting", "kitten"),
    ("identical line", "identical line"),
    ("MARHTA", "MARTHA"),
    ("DUANE", "DWAYNE"),
    ("DICKSONX", "DIXON"),
    ("abqrstuvwxyz", "abcdefghijkl"),  # common prefix but Jaro below 0.7: no boost
    ("xyz", "abc"),
    ("strasse", "straße"),
    ("Straße", "straße"),
    ("cafe", "café"),
    ("cafe\u0301", "café"),  # decomposed accent: two code points against one
    ("naïve résumé", "naive resume"),
    ("the quick brown fox", "the quick brown fox jumps"),
    ("the quikc brown", "the quick brown"),
    ("a  b\tc\n", "a b c"),  # any whitespace separates words
    ("one two three four five", "five"),  # more word edits than reference words
    ("completely different words here", "x"),  # more char edits than reference chars
    ("   ", "word"),
    ("日本語のテキスト", "日本語テキスト"),
]

METRIC_NAMES = PluginManager(entry_points=False).registry("metric").names()


def metric(name: str) -> Metric:
    return registry("metric").create(name)


# -- the reference implementations are right --------------------------------------------


def test_reference_levenshtein():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == levenshtein("abc", "") == 3
    assert levenshtein("flaw", "lawn") == 2
    assert levenshtein("straße", "strasse") == 2
    assert levenshtein(["a", "b"], ["a", "c", "b"]) == 1


@pytest.mark.parametrize(
    ("s", "t", "expected"),
    [
        ("MARTHA", "MARHTA", 0.9611),
        ("DWAYNE", "DUANE", 0.84),
        ("DIXON", "DICKSONX", 0.8133),
        ("JELLYFISH", "SMELLYFISH", 0.8963),
        ("abc", "abc", 1.0),
        ("abc", "xyz", 0.0),
    ],
)
def test_reference_jaro_winkler(s, t, expected):
    assert jaro_winkler(s, t) == pytest.approx(expected, abs=1e-4)
    assert jaro_winkler(t, s) == pytest.approx(expected, abs=1e-4)


# -- every registered metric against the reference --------------------------------------


def test_metric_names_are_the_builtins():
    assert registry("metric").names() == METRIC_NAMES
    assert set(METRIC_NAMES) >= {"cer", "wer", "levenshtein", "ned", "jaro-winkler"}


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_metric_matches_reference(name):
    assert name in REFERENCE, f"metric {name!r} has no reference implementation in this test"
    m = metric(name)
    reference = REFERENCE[name]
    assert isinstance(m, Metric)
    assert m.higher_is_better == (name in HIGHER_IS_BETTER)
    for prediction, ref in PAIRS:
        num, den = m.statistics(prediction, ref)
        want_num, want_den = reference(prediction, ref)
        assert (num, den) == (pytest.approx(want_num), want_den), (prediction, ref)
        exact = prediction == ref
        want = ref_ratio(want_num, want_den, exact, m.higher_is_better)
        assert m.sample(prediction, ref) == pytest.approx(want)
    predictions = [p for p, _ in PAIRS]
    references = [r for _, r in PAIRS]
    stats = [reference(p, r) for p, r in PAIRS]
    exact = all(p == r for p, r in PAIRS)
    expected = ref_ratio(
        sum(n for n, _ in stats), sum(d for _, d in stats), exact, m.higher_is_better
    )
    assert m.corpus(predictions, references) == pytest.approx(expected)


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_metric_corpus_edge_cases(name):
    m = metric(name)
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        m.corpus(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="0 predictions but 1 references"):
        m.corpus([], ["a"])
    assert m.corpus([], []) == (1.0 if m.higher_is_better else 0.0)  # nothing is wrong
    # a corpus of one pair scores like that pair
    assert m.corpus(["kitten"], ["sitting"]) == pytest.approx(m.sample("kitten", "sitting"))


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_identical_strings_score_perfectly(name):
    m = metric(name)
    best = 1.0 if m.higher_is_better else 0.0
    for text in ("a", "kitten", "Straße café", "two words"):
        assert m.sample(text, text) == best
    assert m.corpus(["a", "bc d"], ["a", "bc d"]) == best


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_scores_are_finite_and_in_range(name):
    m = metric(name)
    for prediction, ref in PAIRS:
        value = m.sample(prediction, ref)
        assert math.isfinite(value) and value >= 0.0
        if name != "levenshtein" and name not in ("cer", "cer-caseless", "cer-spaceless", "wer"):
            assert value <= 1.0, (name, prediction, ref, value)


# -- hand-computed values --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "prediction", "reference", "expected"),
    [
        ("cer", "kitten", "sitting", 3 / 7),
        ("cer", "sitting", "kitten", 3 / 6),
        ("cer", "", "abc", 1.0),
        ("cer", "abc", "", 1.0),  # edits on an empty reference: worst score
        ("cer", "", "", 0.0),
        ("cer", "abcdef", "ab", 2.0),  # CER can exceed 1
        ("cer", "strasse", "straße", 2 / 6),
        ("cer", "cafe\u0301", "café", 2 / 4),
        ("cer-caseless", "JOHN SMITH", "John Smith", 0.0),
        ("cer-caseless", "Jon smith", "John Smith", 1 / 10),
        ("cer-caseless", "STRASSE", "Straße", 0.0),  # ß folds to ss
        ("cer-spaceless", "J O H N  S M I T H", "JOHN SMITH", 0.0),
        ("cer-spaceless", "Newyork", "New York", 1 / 7),
        ("cer-caseless", "A", "a", 0.0),
        ("cer-spaceless", " ", "", 0.0),
        ("wer", "the quikc brown", "the quick brown", 1 / 3),
        ("wer", "a  b\tc\n", "a b c", 0.0),
        ("wer", "one two three four five", "five", 4.0),
        ("levenshtein", "kitten", "sitting", 3.0),
        ("edit-distance", "flaw", "lawn", 2.0),
        ("ned", "kitten", "sitting", 3 / 7),
        ("ned", "abcdef", "ab", 4 / 6),
        ("ned", "", "", 0.0),
        ("jaro-winkler", "MARHTA", "MARTHA", 0.9611),
        ("jaro-winkler", "DUANE", "DWAYNE", 0.84),
        ("jw", "DICKSONX", "DIXON", 0.8133),
        ("jaro-winkler", "", "", 1.0),
        ("jaro-winkler", "", "abc", 0.0),
        ("char-accuracy", "kitten", "sitting", 4 / 7),
        ("char-accuracy", "completely different", "x", 0.0),  # floored at 0
        ("word-accuracy", "the quikc brown", "the quick brown", 2 / 3),
        ("word-accuracy", "one two three four five", "five", 0.0),
        ("exact-match", "Straße", "Straße", 1.0),
        ("exact-match", "Strasse", "Straße", 0.0),
        ("sequence-accuracy", "a ", "a", 0.0),
    ],
)
def test_hand_computed(name, prediction, reference, expected):
    assert metric(name).sample(prediction, reference) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("name", ["char-accuracy", "word-accuracy", "cer", "wer", "ned"])
def test_empty_references(name):
    m = metric(name)
    best, worst = (1.0, 0.0) if m.higher_is_better else (0.0, 1.0)
    assert m.sample("", "") == best
    assert m.sample("x", "") == worst
    assert m.corpus(["", ""], ["", ""]) == best
    assert m.corpus(["", "x"], ["", ""]) == worst
    # an empty line among others adds nothing to the totals
    assert m.corpus(["", "ab"], ["", "ab"]) == best


def test_aliases_build_the_same_metric():
    for alias, name in [
        ("edit-distance", "levenshtein"),
        ("normalized-edit-distance", "ned"),
        ("jw", "jaro-winkler"),
        ("sequence-accuracy", "exact-match"),
    ]:
        assert type(metric(alias)) is type(metric(name))


# -- corpus scores: total edits over total length ---------------------------------------


def test_corpus_cer_is_total_edits_over_total_length():
    predictions = ["b", "abcdefghij"]
    references = ["a", "abcdefghij"]
    cer = metric("cer")
    samples = [cer.sample(p, r) for p, r in zip(predictions, references)]
    assert samples == [1.0, 0.0]
    assert cer.corpus(predictions, references) == pytest.approx(1 / 11)
    assert cer.corpus(predictions, references) != pytest.approx(sum(samples) / 2)


def test_corpus_wer_is_total_edits_over_total_words():
    predictions = ["x", "a b c d e f g h i"]
    references = ["y", "a b c d e f g h j"]
    assert metric("wer").corpus(predictions, references) == pytest.approx(2 / 10)


def test_corpus_empty_reference_lines_add_edits_but_no_length():
    assert metric("cer").corpus(["abc", "xy"], ["", "xz"]) == pytest.approx(4 / 2)
    assert metric("cer").corpus(["", ""], ["", ""]) == 0.0
    assert metric("cer").corpus(["a", ""], ["", ""]) == 1.0


def test_corpus_levenshtein_is_mean_edits_per_sample():
    assert metric("levenshtein").corpus(["kitten", "a"], ["sitting", "a"]) == 1.5


def test_corpus_exact_match_is_share_of_samples():
    preds = ["a", "b", "c", "d"]
    refs = ["a", "b", "x", "y"]
    assert metric("exact-match").corpus(preds, refs) == 0.5


# -- ratio and the base class ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [
        (0, 0, 0.0),
        (0.0, 0.0, 0.0),
        (3, 0, 1.0),
        (0.5, 0, 1.0),
        (1, 4, 0.25),
        (0, 5, 0.0),
        (6, 3, 2.0),
    ],
)
def test_ratio(num, den, expected):
    assert ratio(num, den) == expected
    assert isinstance(ratio(num, den), float)


def test_metric_base_needs_statistics():
    with pytest.raises(TypeError, match="abstract"):
        Metric()

    class Length(Metric):
        def statistics(self, prediction, reference):
            return len(prediction), len(reference)

    assert Length().sample("ab", "abcd") == 0.5
    assert Length().corpus(["ab", "c"], ["abcd", "ef"]) == 0.5
    assert Length.higher_is_better is False


# -- reading prediction and reference files ---------------------------------------------


def test_read_tsv(tmp_path):
    path = tmp_path / "gt.tsv"
    path.write_text(
        "# a comment\n"
        "\n"
        "line1\thello world\n"
        "   \n"
        "dir/line2.png\tStraße\twith a tab\n"
        "line3\t\n"
        "line4\t  spaced  \n",
        encoding="utf-8",
    )
    assert read_tsv(path) == {
        "line1": "hello world",
        "dir/line2.png": "Straße\twith a tab",
        "line3": "",
        "line4": "  spaced  ",
    }


def test_read_tsv_bom_and_crlf(tmp_path):
    path = tmp_path / "bom.tsv"
    path.write_bytes("\ufeffa\tfirst\r\nb\tsecond\r\n".encode())
    assert read_tsv(str(path)) == {"a": "first", "b": "second"}


def test_read_tsv_empty_file(tmp_path):
    path = tmp_path / "empty.tsv"
    path.write_text("", encoding="utf-8")
    assert read_tsv(path) == {}


def test_read_tsv_missing_file(tmp_path):
    path = tmp_path / "nope.tsv"
    with pytest.raises(InputError, match="nope.tsv: no such file"):
        read_tsv(path)


def test_read_tsv_directory(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_tsv(tmp_path)


def test_read_tsv_no_tab(tmp_path):
    path = tmp_path / "gt.tsv"
    path.write_text("# header\na\tok\nb has no tab\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_tsv(path)
    assert str(info.value) == f"{path}:3: expected id<TAB>text, found no tab"


def test_read_tsv_skips_a_header(tmp_path):
    path = tmp_path / "gt.tsv"
    path.write_text("id\ttext\na\tone\nid\ttwo\n", encoding="utf-8")  # only the first is one
    assert read_tsv(path) == {"a": "one", "id": "two"}


def test_read_tsv_duplicate_id(tmp_path):
    path = tmp_path / "gt.tsv"
    path.write_text("a\tone\nb\ttwo\n\na\tthree\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_tsv(path)
    assert str(info.value) == f"{path}:4: id 'a' appears twice"


def test_read_tsv_not_utf8(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("a\tStraße\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1\.tsv: not UTF-8 text"):
        read_tsv(path)


# -- pairing ids -----------------------------------------------------------------------


def test_align_exact_ids():
    refs = {"a": "A", "b": "B"}
    preds = {"b": "b!", "a": "a!"}
    pairs, missing, extra = align_ids(refs, preds)
    assert pairs == [("a", "A", "a!"), ("b", "B", "b!")]  # in reference order
    assert missing == [] and extra == []


def test_align_by_stem():
    refs = {"lines/x.png": "X", "y": "Y"}
    preds = {"x": "x!", "out/y.jpg": "y!"}
    pairs, missing, extra = align_ids(refs, preds)
    assert pairs == [("lines/x.png", "X", "x!"), ("y", "Y", "y!")]
    assert missing == [] and extra == []


def test_align_exact_match_wins_over_stem():
    refs = {"x": "X"}
    preds = {"x": "exact", "other/x.png": "by stem"}
    pairs, missing, extra = align_ids(refs, preds)
    assert pairs == [("x", "X", "exact")]
    assert extra == ["other/x.png"]


def test_align_ambiguous_stems_do_not_match():
    # two predictions share the stem "x": neither is guessed
    pairs, missing, extra = align_ids({"x": "X"}, {"a/x.png": "1", "b/x.png": "2"})
    assert pairs == [("x", "X", "")]
    assert missing == ["x"]
    assert extra == ["a/x.png", "b/x.png"]
    # two references share the stem "x": neither takes the prediction
    pairs, missing, extra = align_ids({"a/x.png": "1", "b/x.tif": "2"}, {"x": "p"})
    assert missing == ["a/x.png", "b/x.tif"]
    assert extra == ["x"]


def test_align_missing_and_extra():
    refs = {"a": "A", "b": "B", "c": "C"}
    preds = {"a": "a", "d": "d", "e.png": "e"}
    pairs, missing, extra = align_ids(refs, preds)
    assert pairs == [("a", "A", "a"), ("b", "B", ""), ("c", "C", "")]
    assert missing == ["b", "c"]
    assert extra == ["d", "e.png"]


def test_align_empty():
    assert align_ids({}, {}) == ([], [], [])
    assert align_ids({}, {"a": "x"}) == ([], [], ["a"])


def test_score_pairs_with_missing_predictions_counted_as_empty():
    pairs, missing, _ = align_ids({"a": "abcd", "b": "xy"}, {"a": "abce"})
    assert missing == ["b"]
    scores = score(pairs, {"cer": metric("cer"), "exact": metric("exact-match")})
    assert scores == {"cer": pytest.approx(3 / 6), "exact": 0.0}


def test_read_and_score_files(tmp_path):
    (tmp_path / "gt.tsv").write_text("l1.png\tkitten\nl2.png\tab\n", encoding="utf-8")
    (tmp_path / "pred.tsv").write_text("l1\tsitting\nl2\tab\n", encoding="utf-8")
    pairs, missing, extra = align_ids(
        read_tsv(tmp_path / "gt.tsv"), read_tsv(tmp_path / "pred.tsv")
    )
    assert missing == extra == []
    assert score(pairs, {"cer": metric("cer")}) == {"cer": pytest.approx(3 / 8)}

"""How a training epoch is drawn: source weights, train-only sources, width buckets, and
the synthetic and digit dataset readers that feed the bundled models' recipes."""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np
import pytest

from htrkit.datasets import DatasetError, read_dataset
from htrkit.errors import OptionsError
from htrkit.training.config import load_config
from htrkit.training.loop import Trainer


def write_pairs(root, n, width_range=(40, 400), seed=0):
    """``n`` blank-ish line images of random widths, one group folder per 5 lines."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        folder = root / f"g{i // 5:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        image = np.full((32, int(rng.integers(*width_range))), 255, np.uint8)
        image[10:20, 4:-4:7] = 0
        cv2.imwrite(str(folder / f"l{i:04d}.png"), image)
        (folder / f"l{i:04d}.gt.txt").write_text("ab")
    return root


def trainer(tmp_path, sources, *extra):
    items = ", ".join(
        "{"
        + ", ".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in s.items())
        + "}"
        for s in sources
    )
    cfg = load_config(
        None,
        [
            f"data.train=[{items}]".replace("'", '"'),
            f'train.output="{tmp_path / "run"}"',
            "data.val_fraction=0.2",
            "train.batch_size=4",
            *extra,
        ],
    )
    t = Trainer(cfg, log=lambda m: None)
    t.load_data()
    return t


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    return write_pairs(root / "a", 100, seed=1), write_pairs(root / "b", 60, seed=2)


def test_weights_repeat_and_sample_sources(tmp_path, two_sources):
    a, b = two_sources
    t = trainer(
        tmp_path,
        [
            {"path": str(a), "format": "gt-pairs", "weight": 2.0},
            {"path": str(b), "format": "gt-pairs", "weight": 0.5},
        ],
        "train.bucket=false",
    )
    n = len(t.train_idx)
    source = np.array([t.store[i].source for i in t.train_idx])
    n_a, n_b = int((source == 0).sum()), int((source == 1).sum())
    counts = Counter()
    for epoch in range(20):
        items = [i for batch in t._epoch_batches(epoch) for i in batch]
        counts.update(source[i % n] for i in items)
        # a repeat is another item (i + k n): augmented with its own random stream
        a_items = [i for i in items if source[i % n] == 0]
        assert len(set(a_items)) == len(a_items)
    assert counts[0] / 20 == pytest.approx(2 * n_a, rel=0.06)
    assert counts[1] / 20 == pytest.approx(0.5 * n_b, rel=0.15)


def test_train_only_sources_never_validate(tmp_path, two_sources):
    a, b = two_sources
    t = trainer(
        tmp_path,
        [
            {"path": str(a), "format": "gt-pairs"},
            {"path": str(b), "format": "gt-pairs", "split": "train"},
        ],
    )
    assert {t.store[i].source for i in t.val_idx} == {0}
    assert sum(t.store[i].source == 1 for i in t.train_idx) == 60


def test_val_only_sources_and_per_source_shares(tmp_path, two_sources):
    a, b = two_sources
    t = trainer(
        tmp_path,
        [
            {"path": str(a), "format": "gt-pairs", "val_fraction": 0.0},
            {"path": str(b), "format": "gt-pairs", "split": "val"},
        ],
    )
    # a share of 0 never validates; a "val" source never trains
    assert {t.store[i].source for i in t.val_idx} == {1}
    assert {t.store[i].source for i in t.train_idx} == {0}
    assert sum(t.store[i].source == 1 for i in t.val_idx) == 60
    # a source's own share overrides [data] val_fraction (0.2 here), by group as ever
    shares = {}
    for share in (0.2, 0.6):
        t = trainer(tmp_path, [{"path": str(a), "format": "gt-pairs", "val_fraction": share}])
        groups = {t.store[i].group for i in t.val_idx}
        assert not groups & {t.store[i].group for i in t.train_idx}
        shares[share] = len(t.val_idx) / (len(t.val_idx) + len(t.train_idx))
    assert shares[0.2] < shares[0.6]
    assert 0.4 < shares[0.6] < 0.8


def test_buckets_batch_similar_widths_in_random_order(tmp_path, two_sources):
    a, _ = two_sources

    def spread(bucket: bool) -> tuple[float, list[float]]:
        t = trainer(tmp_path, [{"path": str(a), "format": "gt-pairs"}], f"train.bucket={bucket}")
        widths = t.train_widths
        batches = t._epoch_batches(0)
        assert sorted(i for b in batches for i in b) == sorted(
            i
            for b in trainer(tmp_path, [{"path": str(a), "format": "gt-pairs"}])._epoch_batches(0)
            for i in b
        )
        ranges = [float(np.ptp(widths[b])) for b in batches]
        return float(np.mean(ranges)), [float(np.mean(widths[b])) for b in batches]

    plain, _ = spread(False)
    bucketed, means = spread(True)
    assert bucketed < plain / 3
    # batches are not served narrowest first
    assert means != sorted(means) and means != sorted(means, reverse=True)


def test_cache_records_source_and_width(tmp_path, two_sources):
    a, b = two_sources
    t = trainer(
        tmp_path,
        [{"path": str(a), "format": "gt-pairs"}, {"path": str(b), "format": "gt-pairs"}],
        f'data.cache="{tmp_path / "c.lmdb"}"',
    )
    heads = [t.store.head(i) for i in range(len(t.store))]
    full = [t.store[i] for i in range(len(t.store))]
    assert [h.source for h in heads] == [r.source for r in full]
    assert [h.image.shape[1] for h in heads] == [r.image.shape[1] for r in full]
    assert Counter(h.source for h in heads) == {0: 100, 1: 60}


# -- the synth and digits readers ------------------------------------------------------


def test_synth_reader_renders_the_corpus_deterministically(tmp_path):
    corpus = tmp_path / "text.txt"
    corpus.write_text(
        "the quick brown fox jumps over the lazy dog\nnaïve café ünïcode words here\n"
    )
    options = {
        "n": 12,
        "seed": 3,
        "min_words": 1,
        "max_words": 3,
        "charset": "abcdefghijklmnopqrstuvwxyz ",
    }
    first = list(read_dataset(corpus, "synth", options))
    again = list(read_dataset(corpus, "synth", options))
    assert len(first) == 12 and len({s.group for s in first}) == 12
    assert [s.text for s in first] == [s.text for s in again]
    assert all(np.array_equal(x.image, y.image) for x, y in zip(first, again))
    assert all(set(s.text) <= set(options["charset"]) for s in first)
    assert all(s.image.ndim == 2 and s.image.shape[1] > s.image.shape[0] // 2 for s in first)
    other = list(read_dataset(corpus, "synth", {**options, "seed": 4}))
    assert [s.text for s in other] != [s.text for s in first]


def test_synth_reader_errors(tmp_path):
    with pytest.raises(DatasetError, match="nope.txt: no such corpus file"):
        list(read_dataset(tmp_path / "nope.txt", "synth"))
    corpus = tmp_path / "c.txt"
    corpus.write_text("ééé ààà\n")
    with pytest.raises(DatasetError, match="few corpus texts fit the charset"):
        list(read_dataset(corpus, "synth", {"n": 2, "charset": "xyz"}))
    with pytest.raises(OptionsError, match="min_words .3. exceeds max_words .2."):
        list(read_dataset(corpus, "synth", {"min_words": 3, "max_words": 2}))
    with pytest.raises(DatasetError, match="no such font file or folder"):
        list(read_dataset(corpus, "synth", {"fonts": ["missing-fonts"]}))


def mnist_like(path, n=40):
    rng = np.random.default_rng(0)
    images = np.zeros((n, 28, 28), np.uint8)  # light digits on black, as MNIST
    labels = rng.integers(0, 10, n)
    for k, label in enumerate(labels):
        cv2.putText(images[k], str(label), (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 255, 2)
    np.savez(path, images=images, labels=labels)
    return images, labels


def test_digits_reader_single_and_composed(tmp_path):
    path = tmp_path / "d.npz"
    images, labels = mnist_like(path)
    single = list(read_dataset(path, None, {"blocks": 4}))  # detected by the suffix
    assert [s.text for s in single] == [str(x) for x in labels]
    assert single[0].image[0, 0] == 255 and single[0].image.min() == 0  # dark ink on paper
    assert {s.group for s in single} == {"block0", "block1", "block2", "block3"}
    composed = list(read_dataset(path, "mnist", {"strings": 30, "blocks": 4, "max_digits": 4}))
    assert len(composed) == 30
    for s in composed:
        assert 1 <= len(s.text) <= 4 and s.text.isdigit()
        block = int(s.group[5:])
        # every digit comes from the string's block
        assert all(d in {str(labels[k]) for k in range(block, 40, 4)} for d in s.text)
    widths = {len(s.text): s.image.shape[1] for s in composed}
    assert widths[max(widths)] > widths[min(widths)]


def test_digits_reader_errors(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros((2, 28, 28)))
    with pytest.raises(DatasetError, match="needs arrays 'images' and 'labels', has x"):
        list(read_dataset(bad, "digits"))
    np.savez(bad, images=np.zeros((2, 28, 28), np.uint8), labels=np.array([3, 12]))
    with pytest.raises(DatasetError, match="labels must be the digits 0-9"):
        list(read_dataset(bad, "digits"))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="junk.npz: not a readable .npz file"):
        list(read_dataset(junk, "digits"))

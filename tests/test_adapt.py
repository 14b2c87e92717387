"""Adapting a model to a collection: a fine-tune never ends worse than its start, and
``htrkit adapt`` holds out pages and says the CER before and after."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli, train_config, write_word_dataset
from safetensors.torch import load_file

pytestmark = pytest.mark.slow


def test_a_fine_tune_never_ends_worse_than_its_start(tmp_path):
    """The starting model is validated first and stays "best" unless training beats it:
    here a learning rate that wrecks the weights."""
    from htrkit.models import FOLDER
    from htrkit.training.loop import Trainer

    small = write_word_dataset(tmp_path / "small", 160, seed=7)
    start = FOLDER / "default.safetensors"  # reads these printed words fairly well
    logs: list[str] = []
    wreck = train_config(
        tmp_path, small, "wreck", 'model.init="default"', "train.epochs=1", "train.lr=20.0",
        "train.warmup_steps=0", "train.grad_clip=0", "train.augment=false",
    )  # fmt: skip
    summary = Trainer(wreck, log=logs.append).fit()
    history = json.loads((tmp_path / "wreck" / "history.json").read_text())
    assert history[0]["epoch"] == 0 and history[-1]["val_cer"] > history[0]["val_cer"]
    assert summary["best_cer"] == history[0]["val_cer"]
    assert any("the starting model" in m for m in logs)
    a, b = load_file(start), load_file(tmp_path / "wreck" / "best.safetensors")
    for key in a:
        assert np.array_equal(a[key].numpy(), b[key].numpy()), key


def test_htrkit_adapt_holds_out_pages_and_says_before_and_after(tmp_path):
    """One command: pages in, a model out that names its base, data, held-out pages and
    CER before and after, never worse than its start; bad requests are one line."""
    from htrkit.modelfile import read_config

    words = write_word_dataset(tmp_path / "words", 60, seed=9)  # 3 folders of 20
    out = tmp_path / "mine.safetensors"
    mine = tmp_path / ".mine-adapt"  # a user's folder of the name the run once took
    mine.mkdir()
    (mine / "keep.txt").write_text("KEEP")
    done = run_cli("adapt", words, "-o", out, "--max-minutes", "0.3", "--threads", "1",
                   "--val-pages", "1", timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("CER on the 1 held-out page(s): ") and f"wrote {out}" in last
    meta = read_config(out).metadata
    facts = meta["adaptation"]
    assert meta["adapted_from"] == "default" and meta["name"] == "mine"
    assert facts["held_out_lines"] == 20 and facts["training_lines"] == 40
    assert len(facts["held_out_pages"]) == 1
    assert facts["cer_after"] <= facts["cer_before"]
    assert facts["decoded_cer_after"] <= facts["decoded_cer_before"]  # with its own LM too
    assert "with the model's own decoding" in last
    assert (mine / "keep.txt").read_text() == "KEEP"  # the run's own folder is gone, not it
    assert sorted(p.name for p in tmp_path.iterdir()) == [".mine-adapt", "mine.safetensors",
                                                          "words"]  # fmt: skip
    again = run_cli("adapt", words, "-o", out)
    assert again.returncode == 2 and "exists; give --overwrite" in again.stderr
    for extra, says in ((["--val-pages", "3"], "give between 1 and 2 of the 3 pages"),):
        bad = run_cli("adapt", words, "-o", tmp_path / "x.safetensors", *extra)
        assert bad.returncode == 2 and says in bad.stderr, bad.stderr
    one = run_cli("adapt", words / "group000" / "w00000.png", "-o", tmp_path / "y.safetensors")
    assert one.returncode != 0 and len(one.stderr.strip().splitlines()) == 1
    # pages it cannot read: the error says which and why (they used to vanish silently)
    broken = tmp_path / "broken"
    broken.mkdir()
    for k in range(3):
        (broken / f"b{k}.png").write_bytes(b"not a png")
        (broken / f"b{k}.gt.txt").write_text("word", encoding="utf-8")
    bad = run_cli("adapt", broken, "-o", tmp_path / "z.safetensors")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "0 lines on 0 page(s)" in bad.stderr and "3 bad item(s) skipped" in bad.stderr
    assert "b0.png: not an image" in bad.stderr

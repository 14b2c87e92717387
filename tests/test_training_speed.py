"""benchmarks/training_speed.py, run for real on a small recipe: it drives the trainer's
own steps, so a change to the trainer that breaks it fails here, not on a lent GPU."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli, write_word_dataset

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "training_speed.py"


def _script(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)  # fmt: skip


def test_training_speed_exports_a_sample_measures_and_trains(tmp_path):
    data = write_word_dataset(tmp_path / "data", 100, seed=3)
    toml = tmp_path / "train.toml"
    toml.write_text(
        f'[[data.train]]\npath = "{data}"\n'
        f'[data]\ncache = "lines.lmdb"\nval_fraction = 0.2\n'
        f'[train]\noutput = "out"\nbatch_size = 8\nthreads = 1\ndevice = "cpu"\n'
    )
    cached = run_cli("data", "cache", toml)
    assert cached.returncode == 0, cached.stderr

    sample = tmp_path / "sample"
    out = _script("export", toml, "--train", 30, "--val", 10, "-o", sample, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    train_rows = (sample / "train.tsv").read_text(encoding="utf-8").splitlines()
    val_rows = (sample / "val.tsv").read_text(encoding="utf-8").splitlines()
    assert train_rows[0] == "image\ttext\tgroup" and len(train_rows) == 31
    assert len(val_rows) == 11
    # the validation sample comes from the recipe's validation groups only
    groups = lambda rows: {r.split("\t")[2] for r in rows[1:]}  # noqa: E731
    assert groups(val_rows) and not groups(train_rows) & groups(val_rows)
    assert all((sample / r.split("\t")[0]).is_file() for r in train_rows[1:] + val_rows[1:])

    measured = tmp_path / "measure.json"
    out = _script("measure", toml, "--lines", sample, "--precisions", "fp32", "bf16",
                  "--batch-sizes", 8, "--warmup", 1, "--steps", 3, "--threads", 1,
                  "--scratch", tmp_path / "scratch", "--json", measured, cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = json.loads(measured.read_text())["rows"]
    assert [(r["precision"], r["batch_size"], r["device"]) for r in rows] == [
        ("fp32", 8, "cpu"),
        ("bf16", 8, "cpu"),
    ]
    for r in rows:
        assert r["steps"] == 3 and r["lines_per_s"] > 0
        assert all(math.isfinite(x) and x > 0 for x in r["loss_first_last"])

    trained = tmp_path / "train.json"
    out = _script("train", toml, "--lines", sample, "--minutes", 0.1, "--threads", 1,
                  "--scratch", tmp_path / "scratch", "--json", trained, cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    row = json.loads(trained.read_text())
    assert row["train_lines"] == 30 and row["val_lines"] == 10
    assert row["steps"] > 0 and 0 <= row["val_cer_end"] <= 2

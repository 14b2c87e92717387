"""Adapting a trained model to a collection in one call (``htrkit adapt``): a few
transcribed pages in, a model file out that is never worse on the held-out pages than the
model it started from.

- **Data:** any dataset the readers know (ALTO or PAGE folders, TSV/CSV tables, gt-pairs,
  ...), each path detected or read as ``fmt``.
- **Held out:** whole pages (groups), ``val_pages`` of them (default: a fifth, at least
  one), chosen by the same stable hash as every htrkit split, so a rerun holds out the
  same pages.
- **Schedule:** scaled to the number of lines: about 1,000 steps of 8 lines in all (3 to
  30 epochs), a warm-up of a twentieth of them, a cosine decay, within ``max_minutes``.
- **Never worse:** the starting model is validated first and stays the result unless
  training beats it (``[train] score_start``).
- **The model file** names its base, its data, the held-out pages, the CER before and
  after, and a description of its own.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from htrkit.errors import ConfigError

Log = Callable[[str], None]
STEPS = 1000
BATCH = 8


def _position(group: str) -> float:
    digest = hashlib.sha256(f"0:{group}".encode()).digest()  # split_of's hash, seed 0
    return int.from_bytes(digest[:8], "big") / 2**64


def held_out_fraction(groups: Sequence[str], count: int) -> float:
    """The ``val_fraction`` (with split seed 0) that holds out exactly ``count`` of
    ``groups``: a point between the ``count``-th and the next group's hash positions."""
    positions = sorted(_position(g) for g in set(groups))
    if not 1 <= count < len(positions):
        raise ConfigError(
            f"--val-pages {count}: give between 1 and {len(positions) - 1} of the "
            f"{len(positions)} pages (one at least must be left to train on)"
        )
    return (positions[count - 1] + positions[count]) / 2


def adapt(
    paths: Sequence[Path],
    output: Path,
    *,
    base: str = "default",
    fmt: str | None = None,
    max_minutes: float = 10.0,
    val_pages: int | None = None,
    threads: int = 0,
    overwrite: bool = False,
    log: Log = print,
    progress: bool = False,
) -> dict[str, Any]:
    """Fine-tune ``base`` on the pages under ``paths`` and write the result to ``output``;
    returns a summary (CER before and after, lines, pages, minutes)."""
    from htrkit.atomic import check_target
    from htrkit.datasets import DatasetReport, read_dataset
    from htrkit.modelfile import save_model
    from htrkit.recognizer import Recognizer
    from htrkit.training.config import from_dict
    from htrkit.training.loop import Trainer
    from htrkit.training.model import init_path

    check_target(output, ".safetensors", overwrite)
    samples: list[Any] = []
    report = DatasetReport()
    for path in paths:
        if not path.exists():
            raise ConfigError(f"{path}: no such file or directory")
        samples += read_dataset(path, fmt, skip_bad=True, report=report)
    groups = [s.group for s in samples]
    lines, pages = len(groups), len(set(groups))
    skipped = sum(report.skipped.values())
    if skipped:
        reason, count = report.skipped.most_common(1)[0]
        log(f"skipped {skipped} bad item(s), {count} as {reason}: {report.examples[reason]}")
    if pages < 2:
        raise ConfigError(
            f"{', '.join(map(str, paths))}: {lines} lines on {pages} page(s); adapting needs "
            "two pages at least (one is held out to measure it)"
            + (f"; {skipped} bad item(s) skipped: {report.examples[reason]}" if skipped else "")
        )
    held = val_pages if val_pages is not None else max(1, round(pages / 5))
    fraction = held_out_fraction(groups, held)
    # the held-out pages' lines, kept for the last check (read once, not again); the
    # trainer reads its own through its cache
    held_out = [s for s in samples if _position(s.group) < fraction]
    del samples
    train_lines = sum(_position(g) >= fraction for g in groups)
    per_epoch = max(1, math.ceil(train_lines / BATCH))
    epochs = min(30, max(3, math.ceil(STEPS / per_epoch)))
    warmup = max(5, epochs * per_epoch // 20)
    # a folder of its own for the run, removed after: never one the user has
    output.parent.mkdir(parents=True, exist_ok=True)
    run = Path(tempfile.mkdtemp(prefix=f".{output.stem}-adapt-", dir=output.parent))
    try:
        config = from_dict(
            {
                "model": {"init": base},
                "data": {
                    "train": [
                        {"path": str(p.resolve()), "format": fmt, "skip_bad": True} for p in paths
                    ],  # fmt: skip
                    "val_fraction": fraction,
                    "split_seed": 0,
                },
                "train": {
                    "output": str(run.resolve()),
                    "epochs": epochs,
                    "batch_size": BATCH,
                    "lr": 2e-4,
                    "warmup_steps": warmup,
                    "schedule": "cosine",
                    "patience": 0,
                    "max_minutes": max_minutes,
                    "threads": threads,
                    "augment_options": {"neighbours_p": 0.3, "crop_p": 0.4, "rotation": 3.0},
                },
            }
        )
        log(
            f"adapting {base} on {train_lines} lines of {pages - held} pages; "
            f"{lines - train_lines} lines of {held} page(s) held out; {epochs} epochs of "
            f"{per_epoch} steps, at most {max_minutes:g} min"
        )
        trainer = Trainer(config, log=log, progress=progress)
        summary = trainer.fit()
        history = trainer.history
        before = history[0]["val_cer"] if history and history[0]["epoch"] == 0 else float("nan")
        after = summary["best_cer"]
        best = Recognizer.load(run / "best.safetensors")
        held_pages = sorted({g for g in groups if _position(g) < fraction})
        # the greedy CER chose the best; the reading a user gets is the model's own decoding
        # (its language model): never worse by that either, or the start is kept
        start = init_path(config)
        decoded_before = _decoded_cer(start, held_out)
        decoded_after = _decoded_cer(run / "best.safetensors", held_out)
        kept_start = decoded_after > decoded_before
        if kept_start:
            log(
                f"with its own decoding the adapted model reads the held-out pages worse "
                f"({100 * decoded_after:.2f}% against {100 * decoded_before:.2f}%): the "
                f"start is kept"
            )
            best = Recognizer.load(start)
            after, decoded_after = before, decoded_before
        name = output.stem
        metadata = {
            **best.config.metadata,
            "name": name,
            "description": f"{base} adapted to {', '.join(p.name for p in paths)} by htrkit adapt "
            f"({train_lines} lines of {pages - held} pages)",
            "adapted_from": base,
            "adaptation": {
                "data": [str(p) for p in paths],
                "training_lines": train_lines,
                "held_out_lines": lines - train_lines,
                "held_out_pages": held_pages,
                "cer_before": round(before, 5),
                "cer_after": round(after, 5),
                "decoded_cer_before": round(decoded_before, 5),
                "decoded_cer_after": round(decoded_after, 5),
                "kept_start": kept_start,
                "minutes": summary["minutes"],
            },
        }
        save_model(output, best.module, replace(best.config, metadata=metadata))
        return {
            "cer_before": before,
            "cer_after": after,
            "decoded_cer_before": decoded_before,
            "decoded_cer_after": decoded_after,
            "kept_start": kept_start,
            "lines": lines,
            "pages": pages,
            "held_out_pages": held,
            "minutes": summary["minutes"],
            "output": str(output),
        }
    finally:
        shutil.rmtree(run, ignore_errors=True)


def _decoded_cer(model: Path, samples: list[Any]) -> float:
    """The CER of ``model`` on ``samples`` read as ``htrkit eval`` reads them: each page's
    lines together, with the model's own decoding (its LM, the language chosen per page)."""
    from htrkit.metrics.evaluation import predict
    from htrkit.metrics.text import CharacterErrorRate
    from htrkit.pipeline import Pipeline

    read = list(predict(Pipeline(model=model, backend="torch"), samples))
    return CharacterErrorRate().corpus([text for _, text in read], [s.text for s, _ in read])

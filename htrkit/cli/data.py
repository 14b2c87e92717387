"""``htrkit data``: look at training data before training on it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Optional

import typer

data_app = typer.Typer(
    help="Inspect datasets (and prepare them for training).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


@data_app.command("summary")
def summary(
    path: Path = typer.Argument(..., help="Dataset: a file or folder (see docs/datasets.md)."),
    fmt: Optional[str] = typer.Option(
        None, "--format", "-f", help="Dataset reader name [default: detected from the path]."
    ),
    option: list[str] = typer.Option(
        [], "--option", "-O", help="Reader option key=value (repeatable)."
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Count and skip bad rows instead of stopping at the first."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    val_fraction: Optional[float] = typer.Option(
        None, "--val-fraction", min=0.0, max=1.0, help="Also count the train/val split."
    ),
    seed: int = typer.Option(0, "--seed", help="Split seed (with --val-fraction)."),
) -> None:
    """Read a dataset and print what is in it: samples, groups, skipped and dropped rows,
    alphabet, text lengths, image widths and, with --val-fraction, the split by group."""
    from htrkit.datasets import DatasetReport, read_dataset, split_of
    from htrkit.options import parse_key_values

    name = detect_format(path, fmt)
    options = parse_key_values(option)
    report = DatasetReport()
    per_group: Counter[str] = Counter()
    for sample in read_dataset(path, name, options, skip_bad=skip_bad, report=report):
        per_group[sample.group] += 1
    out: dict[str, Any] = {"path": str(path), "format": name, **report.summary()}
    out["skipped_examples"] = dict(report.examples)
    if val_fraction is not None:
        split: dict[str, dict[str, int]] = {
            part: {"samples": 0, "groups": 0} for part in ("train", "val")
        }
        for group, count in per_group.items():
            part = split[split_of(group, val_fraction, seed)]
            part["samples"] += count
            part["groups"] += 1
        out["split"] = {"val_fraction": val_fraction, "seed": seed, **split}
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        _print(out)


def detect_format(path: Path, name: str | None) -> str:
    """The canonical reader name: ``name`` checked, or the first reader detecting ``path``
    (asked with default options, so that options meant for one reader do not trip
    another's validation)."""
    from htrkit.datasets import DatasetError
    from htrkit.plugins import registry

    readers = registry("dataset")
    if name is not None:
        return readers.get(name).name
    if not path.exists():
        raise DatasetError(f"{path}: no such file or directory")
    for spec in readers:
        if spec.create().detect(path):
            return spec.name
    raise DatasetError(
        f"{path}: cannot tell the dataset format; name it with --format "
        f"(one of: {', '.join(readers.names())})"
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n:,}" for reason, n in sorted(counts.items())) or "none"


def _print(out: dict[str, Any]) -> None:
    length, width = out["text_length"], out["image_width"]
    lines = [
        f"dataset:     {out['path']} ({out['format']})",
        f"samples:     {out['samples']:,} in {out['groups']:,} groups",
        f"dropped:     {_counts(out['dropped'])}",
        f"skipped:     {_counts(out['skipped'])}",
        *(f"  {reason}, e.g.: {msg}" for reason, msg in out["skipped_examples"].items()),
        f"alphabet:    {out['alphabet_size']} symbols: {out['alphabet']}",
        f"text length: min {length['min']}, mean {length['mean']}, max {length['max']}",
        f"image width: min {width['min']}, mean {width['mean']}, max {width['max']} px",
    ]
    if "split" in out:
        s = out["split"]
        lines.append(
            f"split:       train {s['train']['samples']:,} samples in "
            f"{s['train']['groups']:,} groups, val {s['val']['samples']:,} in "
            f"{s['val']['groups']:,} (val fraction {s['val_fraction']}, seed {s['seed']})"
        )
    for line in lines:
        typer.echo(line)


# `htrkit data synth` and `htrkit data cache` live in their own modules.
from htrkit.cli import cache, synth  # noqa: E402

synth.register(data_app)
cache.register(data_app)

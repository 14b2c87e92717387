"""``htrkit tune-decoder``: search a decoder's weights on a validation set and write the best
into a pipeline configuration."""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer

from htrkit.errors import ConfigError

#: what is searched when no --grid is given
DEFAULT_GRIDS: dict[str, dict[str, list[Any]]] = {
    "kenlm": {"alpha": [0.25, 0.5, 0.75, 1.0], "beta": [0.0, 1.0, 2.0, 3.0]},
    "pyctcdecode": {"alpha": [0.25, 0.5, 0.75, 1.0], "beta": [0.0, 1.0, 2.0, 3.0]},
    "wordbeam": {"lm_weight": [0.0, 0.25, 0.5, 1.0], "mode": ["ngrams", "ngrams+forecast"]},
    "beam": {"beam_width": [4, 8, 16, 32]},
}


def register(app: typer.Typer) -> None:
    app.command("tune-decoder")(tune_decoder)


def tune_decoder(
    dataset: Path = typer.Argument(..., help="Validation data: any dataset htrkit reads."),
    model: str = typer.Option("default", "--model", "-m", help="Model file or name."),
    decoder: str = typer.Option("kenlm", "--decoder", "-d", help="Decoder to tune."),
    option: list[str] = typer.Option(
        [], "--option", "-O", help="Fixed decoder option key=value (repeatable)."
    ),
    grid: list[str] = typer.Option(
        [],
        "--grid",
        "-g",
        help="Values to try, key=v1,v2,... (repeatable) [default: per decoder, e.g. alpha "
        "and beta for kenlm].",
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Pipeline TOML to write (Pipeline.from_config, --config)."
    ),
    metric: str = typer.Option("cer", "--metric", help="What to minimise: cer or wer."),
    lines: int = typer.Option(0, "--lines", help="Use the first N lines (0: all).", min=0),
    dataset_format: Optional[str] = typer.Option(None, "--dataset-format"),
    dataset_option: list[str] = typer.Option([], "--dataset-option"),
    split: str = typer.Option("all", "--split", help="all, train or val (split by group)."),
    val_fraction: float = typer.Option(0.1, "--val-fraction"),
    split_seed: int = typer.Option(0, "--split-seed"),
    as_json: bool = typer.Option(False, "--json", help="Print every trial as JSON."),
) -> None:
    """Try every combination of the --grid values on a dataset's lines (the model reads
    them once) and write the decoder options with the lowest CER (or WER), with the model
    and decoder, to a pipeline configuration."""
    from htrkit.metrics.text import CharacterErrorRate, WordErrorRate
    from htrkit.options import parse_key_values
    from htrkit.plugins import registry

    if metric not in ("cer", "wer"):
        raise ConfigError(f"--metric must be cer or wer, got {metric!r}")
    spec = registry("decoder").get(decoder)
    fixed = parse_key_values(option)
    space = _grid(grid, DEFAULT_GRIDS.get(spec.name, {}))
    if not space:
        raise ConfigError(f"nothing to tune for decoder {spec.name!r}: give --grid key=v1,v2")
    trials = [dict(zip(space, values)) for values in itertools.product(*space.values())]
    for trial in trials:  # every option is checked before the model runs
        spec.validate({**fixed, **trial})

    recognizer, lps, refs = _log_probs(
        dataset, model, dataset_format, dataset_option, split, val_fraction, split_seed, lines
    )
    alphabet = recognizer.alphabet
    cer, wer = CharacterErrorRate(), WordErrorRate()

    def run(name: str, options: dict[str, Any]) -> dict[str, Any]:
        d = registry("decoder").create(name, options)
        start = time.perf_counter()
        preds = [d.decode(lp, alphabet).text for lp in lps]
        seconds = time.perf_counter() - start
        return {
            "options": options,
            "cer": cer.corpus(preds, refs),
            "wer": wer.corpus(preds, refs),
            "lines_per_s": len(lps) / max(seconds, 1e-9),
        }

    base = run("greedy", {})
    _say(f"{len(lps)} lines; greedy: CER {100 * base['cer']:.2f}%, WER {100 * base['wer']:.2f}%")
    results = []
    for i, trial in enumerate(trials, 1):
        r = run(spec.name, {**fixed, **trial})
        results.append(r)
        shown = " ".join(f"{k}={v}" for k, v in trial.items())
        _say(
            f"[{i}/{len(trials)}] {shown}: CER {100 * r['cer']:.2f}%, WER {100 * r['wer']:.2f}%"
            f" ({r['lines_per_s']:.0f} lines/s)"
        )
    best = min(results, key=lambda r: (r[metric], r["cer"], r["wer"]))
    options = spec.validate(best["options"])
    _write_config(output, model, spec.name, options, dataset, len(lps), base, best)
    if as_json:
        typer.echo(json.dumps({"greedy": base, "trials": results, "best": best}, indent=1))
    else:
        typer.echo(
            f"best: {' '.join(f'{k}={v}' for k, v in best['options'].items() if k in space)}"
            f": CER {100 * best['cer']:.2f}%, WER {100 * best['wer']:.2f}% (greedy "
            f"{100 * base['cer']:.2f}%, {100 * base['wer']:.2f}%); written to {output}"
        )


def _grid(items: list[str], default: dict[str, list[Any]]) -> dict[str, list[str]]:
    if not items:
        return {k: [str(v) for v in vs] for k, vs in default.items()}
    space: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        found = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not found:
            raise ConfigError(f"--grid {item!r} is not of the form key=v1,v2,...")
        space[key.strip().replace("-", "_")] = found
    return space


def _log_probs(path, model, fmt, dataset_option, split, val_fraction, seed, limit):
    """The model's log-probabilities for the dataset's lines, and their texts."""
    from htrkit.datasets import read_dataset, split_of
    from htrkit.options import parse_key_values
    from htrkit.pipeline import load_recognizer

    if split not in ("all", "train", "val"):
        raise ConfigError(f"--split must be all, train or val, got {split!r}")
    recognizer = load_recognizer(model)
    images, refs = [], []
    for sample in read_dataset(path, fmt, parse_key_values(dataset_option)):
        if split != "all" and split_of(sample.group, val_fraction, seed) != split:
            continue
        images.append(sample.image)
        refs.append(sample.text)
        if limit and len(refs) >= limit:
            break
    if not refs:
        raise ConfigError(f"{path}: no lines to tune on (split {split!r})")
    return recognizer, [r.log_probs for r in recognizer.read(images)], refs


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def _write_config(path: Path, model, decoder, options, dataset, n, base, best) -> None:
    from dataclasses import asdict

    lines = [
        f"# written by htrkit tune-decoder on {dataset} ({n} lines):",
        f"# CER {100 * best['cer']:.2f}%, WER {100 * best['wer']:.2f}% "
        f"(greedy: CER {100 * base['cer']:.2f}%, WER {100 * base['wer']:.2f}%)",
        f"model = {_toml(str(Path(model).resolve()) if Path(model).exists() else model)}",
        f"decoder = {_toml(decoder)}",
        "",
        "[decoder_options]",
    ]
    for key, value in asdict(options).items():
        if isinstance(value, str) and value and Path(value).is_file():
            value = str(Path(value).resolve())  # a file named relative to here
        lines.append(f"{key} = {_toml(value)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

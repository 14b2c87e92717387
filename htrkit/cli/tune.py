"""``htrkit tune-decoder``: search a decoder's weights on a validation set and write the best
into a pipeline configuration. The search is :func:`htrkit.decoders.tuning.grid_search`;
this parses and prints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from htrkit.cli.common import (
    DATASET_FORMAT,
    DATASET_OPTION,
    SPLIT,
    SPLIT_SEED,
    VAL_FRACTION,
)
from htrkit.errors import ConfigError


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
    lang: str = typer.Option(
        "mixed",
        "--lang",
        help="The language whose bundled LM and lexicon are tuned: en, fr, de or mixed "
        "(the configuration written reads with it).",
    ),
    lines: int = typer.Option(0, "--lines", help="Use the first N lines (0: all).", min=0),
    dataset_format: Optional[str] = DATASET_FORMAT,
    dataset_option: list[str] = DATASET_OPTION,
    split: str = SPLIT,
    val_fraction: float = VAL_FRACTION,
    split_seed: int = SPLIT_SEED,
    as_json: bool = typer.Option(False, "--json", help="Print every trial as JSON."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
) -> None:
    """Try every combination of the --grid values on a dataset's lines (the model reads
    them once) and write the decoder options with the lowest CER (or WER), with the model
    and decoder, to a pipeline configuration."""
    from dataclasses import asdict

    from htrkit.atomic import check_output
    from htrkit.configfile import write_config

    check_output(output, overwrite, "--output")
    from htrkit.decoders.tuning import DEFAULT_GRIDS, grid_search, trials_of
    from htrkit.options import parse_key_values
    from htrkit.plugins import registry

    if metric not in ("cer", "wer"):
        raise ConfigError(f"--metric must be cer or wer, got {metric!r}")
    from htrkit import languages

    if languages.check(lang) == "auto":
        raise ConfigError(
            "--lang auto chooses a language per page; tune the weights of one: en, fr, de or mixed"
        )
    spec = registry("decoder").get(decoder)
    space = _grid(grid, DEFAULT_GRIDS.get(spec.name, {}))
    fixed = parse_key_values(option)
    if lang != "mixed":  # the bundled resources the options name, in that language
        fixed.update(languages.for_language(spec.validate(fixed), lang))
    trials = trials_of(spec.name, space, fixed)  # checked before reading
    _check_resources(spec, trials)
    recognizer, lps, refs = _log_probs(
        dataset, model, dataset_format, dataset_option, split, val_fraction, split_seed, lines
    )

    def say(i: int, trial) -> None:
        if i == 0:
            _say(f"{len(lps)} lines; greedy: CER {100 * trial.cer:.2f}%, "
                 f"WER {100 * trial.wer:.2f}%")  # fmt: skip
            return
        shown = " ".join(f"{k}={v}" for k, v in trial.options.items() if k in space)
        _say(
            f"[{i}/{len(trials)}] {shown}: CER {100 * trial.cer:.2f}%, "
            f"WER {100 * trial.wer:.2f}% ({trial.lines_per_s:.0f} lines/s)"
        )

    tuning = grid_search(lps, refs, recognizer.alphabet, spec.name, trials, metric=metric,
                         on_trial=say)  # fmt: skip
    base, best = tuning.greedy, tuning.best
    options = spec.validate(best.options)
    write_config(
        output,
        {
            "model": model,
            "decoder": spec.name,
            "decoder_options": asdict(options),
            "lang": lang,
        },
        comment=[
            f"written by htrkit tune-decoder on {dataset} ({len(lps)} lines):",
            f"CER {100 * best.cer:.2f}%, WER {100 * best.wer:.2f}% "
            f"(greedy: CER {100 * base.cer:.2f}%, WER {100 * base.wer:.2f}%)",
        ],
    )
    if as_json:
        out = {"greedy": asdict(base), "trials": [asdict(t) for t in tuning.trials],
               "best": asdict(best)}  # fmt: skip
        typer.echo(json.dumps(out, indent=1))
    else:
        typer.echo(
            f"best: {' '.join(f'{k}={v}' for k, v in best.options.items() if k in space)}"
            f": CER {100 * best.cer:.2f}%, WER {100 * best.wer:.2f}% (greedy "
            f"{100 * base.cer:.2f}%, {100 * base.wer:.2f}%); written to {output}"
        )


def _check_resources(spec: Any, trials: list[dict[str, Any]]) -> None:
    """Each LM and lexicon the trials name is loaded once, before any line is read: a file
    that is not there is bad usage, said at once."""
    from htrkit.languages import RESOURCE_OPTIONS

    seen: set[tuple[str, ...]] = set()
    for trial in trials:
        key = tuple(str(trial.get(name)) for name in RESOURCE_OPTIONS)
        if key not in seen:
            seen.add(key)
            spec.create(trial)


def _grid(items: list[str], default: dict[str, list[Any]]) -> dict[str, list[str]]:
    if not items:
        return {k: [str(v) for v in vs] for k, vs in default.items()}
    space: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        found = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not found:
            raise ConfigError(f"--grid {item!r} is not of the form key=v1,v2,...")
        name = key.strip().replace("-", "_")
        if name in space:
            raise ConfigError(f"--grid {key.strip()} is given twice: give its values in one, "
                              f"{key.strip()}=v1,v2,...")  # fmt: skip
        space[name] = found
    return space


def _log_probs(path, model, fmt, dataset_option, split, val_fraction, seed, limit):
    """The model's log-probabilities for the dataset's lines, and their texts."""
    from htrkit.datasets import in_split, read_dataset
    from htrkit.loading import load_recognizer
    from htrkit.options import parse_key_values

    samples = in_split(read_dataset(path, fmt, parse_key_values(dataset_option)), split,
                       val_fraction, seed)  # fmt: skip
    recognizer = load_recognizer(model)
    images, refs = [], []
    for sample in samples:
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

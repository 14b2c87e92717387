"""``htrkit eval``: score predictions against ground truth, or a model on a dataset."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from htrkit.cli.common import (
    DATASET_FORMAT,
    DATASET_OPTION,
    SPLIT,
    SPLIT_SEED,
    VAL_FRACTION,
    options_by_name,
)
from htrkit.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate)


def evaluate(
    reference: Path = typer.Argument(
        ..., help="Ground truth: a TSV (id<TAB>text), or with --model any dataset htrkit reads."
    ),
    predictions: Optional[Path] = typer.Argument(
        None, help="Predictions TSV (htrkit run --format tsv writes it); not with --model."
    ),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help="Recognise the dataset's lines with this model."
    ),
    dataset_format: Optional[str] = DATASET_FORMAT,
    dataset_option: list[str] = DATASET_OPTION,
    split: str = SPLIT,
    val_fraction: float = VAL_FRACTION,
    split_seed: int = SPLIT_SEED,
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Skip and count bad dataset rows."),
    decoder: str = typer.Option(
        "auto", "--decoder", "-d", help="Decoder name [default: auto, the model's own]."
    ),
    option: list[str] = typer.Option([], "--option", "-O", help="Decoder option key=value."),
    lang: str = typer.Option(
        "auto",
        "--lang",
        help="Language of the language model and lexicon: en, fr, de, mixed, or auto: per "
        "page (the lines of one group), the one that explains its reading best.",
    ),
    batch_size: int = typer.Option(32, "--batch-size", help="Lines per forward pass.", min=1),
    metric: list[str] = typer.Option(
        [], "--metric", "-M", help="Metric name (repeatable) [default: every metric]."
    ),
    metric_option: list[str] = typer.Option(
        [],
        "--metric-option",
        help="Metric option NAME.key=value (repeatable): NAME one of the metrics scored.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    worst: int = typer.Option(5, "--worst", help="List this many worst samples by CER.", min=0),
    grid: Optional[Path] = typer.Option(
        None, "--grid", help="With --model: write a PNG of the worst lines, truth and reading."
    ),
    save_predictions: Optional[Path] = typer.Option(
        None, "--save-predictions", help="With --model: write the predictions as a TSV."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files."),
) -> None:
    """Score predicted text against reference text, or a model on a dataset.

    With two TSVs, samples are matched by id (or by file stem when ids differ in folder or
    extension); a reference without a prediction counts as an empty prediction. With
    --model, the dataset's lines are recognised and scored. Corpus scores are total edits
    over total reference length.
    """
    from htrkit.atomic import check_output, write_text
    from htrkit.metrics.evaluation import align_ids, read_tsv, score
    from htrkit.plugins import registry

    for path, name in ((grid, "--grid"), (save_predictions, "--save-predictions")):
        if path is not None:
            check_output(path, overwrite, name)

    metrics = registry("metric")
    names = [metrics.get(m).name for m in metric] or metrics.names()
    metric_options = options_by_name(
        metric_option, names, "--metric-option", "metrics scored", one_implied=False
    )
    for name, options in metric_options.items():  # bad usage, before anything is read
        metrics.get(name).validate(options)
    images: dict[str, object] = {}
    missing: list[str] = []
    languages: dict[str, int] = {}
    if model is not None:
        if predictions is not None:
            raise ConfigError("give either a predictions TSV or --model, not both")
        pairs, images, languages = _predict(
            reference,
            model,
            dataset_format,
            dataset_option,
            split,
            val_fraction,
            split_seed,
            skip_bad,
            decoder,
            option,
            lang,
            batch_size,
            keep_images=grid is not None,
        )
        if save_predictions:
            save_predictions.parent.mkdir(parents=True, exist_ok=True)
            rows = "".join(f"{i}\t{' '.join(p.split())}\n" for i, _, p in pairs)
            write_text(save_predictions, rows)
    else:
        if predictions is None:
            raise ConfigError("give a predictions TSV, or --model to recognise the dataset")
        pairs, missing, extra = align_ids(read_tsv(reference), read_tsv(predictions))
        if missing:
            sys.stderr.write(
                f"htrkit: warning: {len(missing)} of {len(pairs)} references have no "
                f"prediction (scored as empty), e.g. {missing[0]!r}\n"
            )
        if extra:
            sys.stderr.write(
                f"htrkit: warning: {len(extra)} predictions have no reference and are "
                f"ignored, e.g. {extra[0]!r}\n"
            )
    if not pairs:
        raise ConfigError(f"{reference}: no samples to score")
    scores = score(pairs, {n: metrics.create(n, metric_options.get(n)) for n in names})
    ranked = _worst(pairs, max(worst, 16 if grid else 0))
    if grid is not None:
        _write_grid(grid, [r for r in ranked if r[0] in images][:16], images)
    ranked = ranked[:worst]
    if as_json:
        out = {
            "samples": len(pairs),
            "missing": len(missing),
            "scores": scores,
            **({"languages": dict(languages)} if model is not None and languages else {}),
            "worst": [
                {"id": i, "reference": r, "prediction": p, "cer": c} for i, r, p, c in ranked
            ],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=1))
        return
    _print_table(scores, {n: metrics.get(n).description for n in names}, len(pairs), ranked)


def _predict(
    path,
    model,
    fmt,
    dataset_option,
    split,
    val_fraction,
    seed,
    skip_bad,
    decoder,
    option,
    lang,
    batch_size,
    keep_images,
):
    from collections import Counter

    from htrkit.datasets import DatasetReport, in_split, read_dataset
    from htrkit.metrics.evaluation import predict
    from htrkit.options import parse_key_values
    from htrkit.pipeline import Pipeline

    report = DatasetReport()
    samples = read_dataset(
        path, fmt, parse_key_values(dataset_option), skip_bad=skip_bad, report=report
    )
    chosen = in_split(samples, split, val_fraction, seed)  # checks split before the model loads
    pipe = Pipeline(
        model=model,
        decoder=decoder,
        decoder_options=parse_key_values(option),
        lang=lang,
        batch_size=batch_size,
    )
    pairs, images, languages = [], {}, Counter()
    for sample, text in predict(pipe, chosen, languages=languages):
        pairs.append((sample.id, sample.text, text))
        if keep_images:
            images[sample.id] = sample.image
    if report.skipped:
        sys.stderr.write(f"htrkit: warning: skipped {dict(report.skipped)}\n")
    return pairs, images, languages


def _worst(pairs: list[tuple[str, str, str]], n: int) -> list[tuple[str, str, str, float]]:
    from htrkit.metrics.text import CharacterErrorRate

    cer = CharacterErrorRate()
    rows = [(i, r, p, cer.sample(p, r)) for i, r, p in pairs]
    rows.sort(key=lambda row: -row[3])
    return [row for row in rows[:n] if row[3] > 0]


def _write_grid(path: Path, rows, images) -> None:
    """A PNG: each worst line image with its ground truth and the model's reading."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(len(rows), 1)
    fig, axes = plt.subplots(n, 1, figsize=(10, 1.3 * n), dpi=100, squeeze=False)
    for ax, (sample_id, ref, pred, cer) in zip(axes[:, 0], rows):
        ax.imshow(images[sample_id], cmap="gray", vmin=0, vmax=255, aspect="auto")
        ax.set_title(
            f"truth: {ref}\nread:  {pred}   (CER {100 * cer:.0f}%)",
            loc="left",
            fontsize=8,
            family="monospace",
        )
        ax.axis("off")
    if not rows:
        axes[0, 0].text(0.5, 0.5, "no errors", ha="center")
        axes[0, 0].axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    from htrkit.atomic import replacing

    with replacing(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _print_table(scores, descriptions, samples, worst) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{samples} samples", title_justify="left")
    table.add_column("metric")
    table.add_column("score", justify="right")
    table.add_column("description")
    for name, value in scores.items():
        table.add_row(name, f"{value:.4f}", descriptions[name])
    console = Console(soft_wrap=False)
    console.print(table)
    if worst:
        bad = Table(title="worst samples by CER", title_justify="left")
        for col in ("id", "cer", "reference", "prediction"):
            bad.add_column(col)
        for i, r, p, c in worst:
            bad.add_row(i, f"{c:.3f}", r, p)
        console.print(bad)

"""``htrkit eval``: score predictions against ground truth."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate)


def evaluate(
    reference: Path = typer.Argument(..., help="Ground truth TSV: id<TAB>text per line."),
    predictions: Path = typer.Argument(
        ..., help="Predictions TSV: id<TAB>text per line (htrkit run --format tsv writes it)."
    ),
    metric: list[str] = typer.Option(
        [], "--metric", "-M", help="Metric name (repeatable) [default: every metric]."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    worst: int = typer.Option(5, "--worst", help="List this many worst samples by CER.", min=0),
) -> None:
    """Score predicted text against reference text.

    Corpus scores are total edits over total reference length. Samples are matched by id;
    when ids differ only by folder or extension, file stems are matched. A reference
    without a prediction counts as an empty prediction.
    """
    from htrkit.metrics.evaluation import align_ids, read_tsv, score
    from htrkit.plugins import registry

    refs = read_tsv(reference)
    preds = read_tsv(predictions)
    pairs, missing, extra = align_ids(refs, preds)
    if missing:
        sys.stderr.write(
            f"htrkit: warning: {len(missing)} of {len(refs)} references have no prediction "
            f"(scored as empty), e.g. {missing[0]!r}\n"
        )
    if extra:
        sys.stderr.write(
            f"htrkit: warning: {len(extra)} predictions have no reference and are ignored, "
            f"e.g. {extra[0]!r}\n"
        )
    metrics = registry("metric")
    names = [metrics.get(m).name for m in metric] or metrics.names()
    scores = score(pairs, {n: metrics.create(n) for n in names})
    ranked = _worst(pairs, worst)
    if as_json:
        out = {
            "samples": len(pairs),
            "missing": len(missing),
            "scores": scores,
            "worst": [
                {"id": i, "reference": r, "prediction": p, "cer": c} for i, r, p, c in ranked
            ],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=1))
        return
    _print_table(scores, {n: metrics.get(n).description for n in names}, len(pairs), ranked)


def _worst(pairs: list[tuple[str, str, str]], n: int) -> list[tuple[str, str, str, float]]:
    from htrkit.metrics.text import CharacterErrorRate

    cer = CharacterErrorRate()
    rows = [(i, r, p, cer.sample(p, r)) for i, r, p in pairs]
    rows.sort(key=lambda row: -row[3])
    return [row for row in rows[:n] if row[3] > 0]


def _print_table(scores, descriptions, samples, worst) -> None:  # noqa: ANN001
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

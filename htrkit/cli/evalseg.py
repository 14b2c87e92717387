"""``htrkit eval-seg``: a line segmenter against page ground truth (any dataset reader with
``pages``), and, with a model, the page text read end to end against the text read from the
true lines. The scoring is :func:`htrkit.metrics.segmentation.evaluate`; this parses and
prints."""

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
)
from htrkit.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command("eval-seg")(eval_seg)


def eval_seg(
    dataset: Path = typer.Argument(
        ..., help="Page ground truth (ALTO, PAGE or a plugin's): a file or a folder."
    ),
    segmenter: str = typer.Option("auto", "--segmenter", "-s", help="Line segmenter name."),
    segmenter_option: list[str] = typer.Option(
        [], "--segmenter-option", help="Segmenter option key=value (repeatable)."
    ),
    dataset_format: Optional[str] = DATASET_FORMAT,
    dataset_option: list[str] = DATASET_OPTION,
    split: str = SPLIT,
    val_fraction: float = VAL_FRACTION,
    split_seed: int = SPLIT_SEED,
    iou: float = typer.Option(0.5, "--iou", help="IoU at which a line counts as found."),
    within_regions: bool = typer.Option(
        True,
        "--within-regions/--whole-page",
        help="Leave out found lines mostly outside the true text regions (pages annotated "
        "in part), or count every line.",
    ),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help="Also read each page: end-to-end CER vs true-line CER."
    ),
    decoder: str = typer.Option(
        "auto", "--decoder", "-d", help="Decoder name (with --model) [default: the model's own]."
    ),
    option: list[str] = typer.Option([], "--option", "-O", help="Decoder option key=value."),
    limit: int = typer.Option(0, "--pages", help="Evaluate the first N pages (0: all).", min=0),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    progress: Optional[bool] = typer.Option(
        None, "--progress/--no-progress", help="Show a progress bar [default: on a terminal]."
    ),
) -> None:
    """Score a line segmenter on pages with ground-truth lines.

    Lines: precision, recall and F1 of one-to-one matches at IoU >= --iou. Baselines: the
    share of each true baseline lying within a tolerance (a fifth of the median line
    height) of a predicted one, and the reverse. Where the truth has text regions, a found
    line lying mostly outside all of them is left out (--whole-page counts it). Seconds
    per page time the segmenter alone.
    With --model, each page is also read end to end (segmenter, model, decoder) and its
    text, lines joined in reading order (those inside the true regions, unless
    --whole-page), scored against the true lines' text; the same
    model reading the true lines gives the CER to compare with.
    """
    from htrkit.cli.common import progress_bar
    from htrkit.components import PageReader
    from htrkit.datasets import DatasetReport, find_reader, in_split
    from htrkit.metrics.segmentation import evaluate
    from htrkit.options import parse_key_values
    from htrkit.plugins import registry

    if not 0 < iou <= 1:  # nan too
        raise ConfigError(f"--iou must be over 0 and at most 1, got {iou}")
    reader = find_reader(dataset, dataset_format, parse_key_values(dataset_option))
    if not isinstance(reader, PageReader):
        raise ConfigError(
            f"{dataset}: eval-seg needs page ground truth (a dataset reader with pages(), "
            f"such as alto or page), not {type(reader).__name__}"
        )
    segment = registry("segmenter").create(segmenter, parse_key_values(segmenter_option))
    pipe = None
    if model is not None:
        from htrkit.pipeline import Pipeline

        pipe = Pipeline(
            model,
            decoder=decoder,
            decoder_options=parse_key_values(option),
            segmenter="whole",  # never used: every page comes with its lines
        )
    report = DatasetReport()
    pages = list(in_split(reader.pages(dataset, report, skip_bad=True), split, val_fraction,
                          split_seed))  # fmt: skip
    if report.skipped:  # a refused page is said, never dropped in silence
        for reason, count in report.skipped.items():
            first = report.examples.get(reason, "")
            sys.stderr.write(f"htrkit: warning: skipped {count} ({reason}), e.g. {first}\n")
    if limit:
        pages = pages[:limit]
    if not pages:
        skipped = f" ({sum(report.skipped.values())} page(s) refused)" if report.skipped else ""
        raise ConfigError(f"{dataset}: no pages in split {split!r}{skipped}")
    show = sys.stderr.isatty() if progress is None else progress
    with progress_bar(len(pages), "pages", enabled=show) as advance:
        found = evaluate(pages, segment, iou_threshold=iou, within_regions=within_regions,
                         pipeline=pipe, advance=advance)  # fmt: skip
    total, rows = found.total, found.pages
    if as_json:
        json.dump({"total": total, "pages": rows}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    out = sys.stdout
    out.write(
        f"{total['pages']} pages, {total['gt_lines']} true lines, "
        f"{total['predicted_lines']} found ({segmenter}, {total['seconds_per_page']:.2f} s/page)"
        + (
            f", {total['ignored_lines']} more outside the true regions left out"
            if total["ignored_lines"]
            else ""
        )  # fmt: skip
        + "\n"
        f"lines (IoU >= {iou:g}):  precision {total['line_precision']:.3f}  "
        f"recall {total['line_recall']:.3f}  F1 {total['line_f1']:.3f}\n"
        f"baselines:         precision {total['baseline_precision']:.3f}  "
        f"recall {total['baseline_recall']:.3f}  F1 {total['baseline_f1']:.3f}\n"
    )
    if pipe is not None:
        out.write(
            f"page CER {100 * total['page_cer']:.2f}% end to end, "
            f"{100 * total['true_line_cer']:.2f}% on the true lines\n"
        )
    worst = sorted(rows, key=lambda r: r["line_f1"])[:5]
    if worst and worst[0]["line_f1"] < 1.0:
        out.write("worst pages by line F1:\n")
        for r in worst:
            out.write(f"  {r['line_f1']:.3f}  {r['page']}  ({r['gt_lines']} true, "
                      f"{r['predicted_lines']} found)\n")  # fmt: skip

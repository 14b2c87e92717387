"""``htrkit eval-seg``: a line segmenter against ALTO or PAGE ground truth, and, with a
model, the page text read end to end against the text read from the true lines."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from htrkit.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command("eval-seg")(eval_seg)


def eval_seg(
    dataset: Path = typer.Argument(..., help="ALTO or PAGE ground truth: a file or a folder."),
    segmenter: str = typer.Option("auto", "--segmenter", "-s", help="Line segmenter name."),
    segmenter_option: list[str] = typer.Option(
        [], "--segmenter-option", help="Segmenter option key=value (repeatable)."
    ),
    dataset_format: Optional[str] = typer.Option(
        None, "--dataset-format", help="alto or page [default: detected]."
    ),
    dataset_option: list[str] = typer.Option(
        [], "--dataset-option", help="Dataset reader option key=value (repeatable)."
    ),
    split: str = typer.Option("all", "--split", help="all, train or val (split by group)."),
    val_fraction: float = typer.Option(0.1, "--val-fraction", help="Share of groups in val."),
    split_seed: int = typer.Option(0, "--split-seed", help="Seed of the group split."),
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
    from htrkit.datasets import DatasetReport, find_reader, split_of
    from htrkit.datasets.layout import LayoutReader
    from htrkit.metrics import segmentation as seg
    from htrkit.metrics.text import CharacterErrorRate
    from htrkit.options import parse_key_values
    from htrkit.plugins import registry
    from htrkit.results import LineRegion, Page

    if split not in ("all", "train", "val"):
        raise ConfigError(f"--split must be all, train or val, got {split!r}")
    reader = find_reader(dataset, dataset_format, parse_key_values(dataset_option))
    if not isinstance(reader, LayoutReader):
        raise ConfigError(
            f"{dataset}: eval-seg needs page ground truth (ALTO or PAGE XML), "
            f"not {type(reader).__name__}"
        )
    seg_options = parse_key_values(segmenter_option)
    segment = registry("segmenter").create(segmenter, seg_options)
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
    pages = [
        p
        for p in reader.pages(dataset, report, skip_bad=True)
        if split == "all" or split_of(p.group, val_fraction, split_seed) == split
    ]
    if limit:
        pages = pages[:limit]
    if not pages:
        raise ConfigError(f"{dataset}: no pages in split {split!r}")
    show = sys.stderr.isatty() if progress is None else progress
    scores, seconds, rows = [], 0.0, []
    cer = CharacterErrorRate()
    end_to_end, true_lines = [], []
    with progress_bar(len(pages), "pages", enabled=show) as advance:
        for page in pages:
            h, w = page.image.shape[:2]
            start = time.perf_counter()
            found = segment.segment(page.image)
            took = time.perf_counter() - start
            seconds += took
            regions = page.regions if within_regions else None
            gt_polygons = [ln.polygon for ln in page.lines]
            keep = seg.counted([r.polygon for r in found], regions, gt_polygons, w, h)
            scored = [r for r, k in zip(found, keep) if k]
            score = seg.score_page(
                gt_polygons,
                [ln.baseline for ln in page.lines],
                [r.polygon for r in scored],
                [r.baseline for r in scored],
                w,
                h,
                iou,
            )
            score.ignored = len(found) - len(scored)
            scores.append(score)
            row = {"page": page.key, "seconds": took, **seg.summarise([score])}
            if pipe is not None:
                truth = " ".join(" ".join(ln.text for ln in page.lines).split())
                # the lines just scored, read as the pipeline reads them (not segmented again)
                read = pipe(Page(str(page.xml), page.image, scored)) if scored else None
                given = [LineRegion(_bbox(ln.polygon), ln.polygon, ln.baseline, ln.id)
                         for ln in page.lines]  # fmt: skip
                on_truth = pipe(Page(str(page.xml), page.image, given)) if given else None
                for result, out in ((read, end_to_end), (on_truth, true_lines)):
                    text = result.text if result is not None else ""
                    out.append((" ".join(text.split()), truth))
                row["page_cer"] = cer.corpus(*zip(end_to_end[-1]))
                row["true_line_cer"] = cer.corpus(*zip(true_lines[-1]))
            rows.append(row)
            advance(1)
    total = seg.summarise(scores)
    total["seconds_per_page"] = seconds / len(pages)
    if pipe is not None:
        total["page_cer"] = cer.corpus(*zip(*end_to_end))
        total["true_line_cer"] = cer.corpus(*zip(*true_lines))
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


def _bbox(polygon: list[tuple[float, float]]) -> tuple[int, int, int, int]:
    xs = [p[0] for p in polygon]
    ys = [p[1] for p in polygon]
    return int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1

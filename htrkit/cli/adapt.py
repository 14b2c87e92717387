"""``htrkit adapt``: fine-tune a model on a few transcribed pages, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("adapt")(adapt)


def adapt(
    pages: list[Path] = typer.Argument(
        ..., help="Transcribed pages: ALTO or PAGE folders, TSV/CSV tables, gt-pairs, ..."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="The model file to write."),
    base: str = typer.Option("default", "--from", help="The model to start from."),
    fmt: Optional[str] = typer.Option(
        None, "--format", help="Dataset format [default: detected per path]."
    ),
    max_minutes: float = typer.Option(10.0, "--max-minutes", help="Time budget.", min=0.1),
    val_pages: Optional[int] = typer.Option(
        None,
        "--val-pages",
        help="Pages held out to measure [default: a fifth, at least 1].",
        min=1,
    ),
    threads: int = typer.Option(0, "--threads", help="Torch threads (0: all cores).", min=0),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing model file."),
    progress: Optional[bool] = typer.Option(
        None, "--progress/--no-progress", help="Progress bars [default: on a terminal]."
    ),
) -> None:
    """Adapt a model to your pages: whole pages are held out, the CER on them is shown
    before and after, and the result is never worse than the model it started from."""
    import sys

    from htrkit.training.adapt import adapt as run

    show = sys.stderr.isatty() if progress is None else progress
    summary = run(
        pages, output, base=base, fmt=fmt, max_minutes=max_minutes, val_pages=val_pages,
        threads=threads, overwrite=overwrite, log=typer.echo, progress=show,
    )  # fmt: skip
    before, after = 100 * summary["cer_before"], 100 * summary["cer_after"]
    own = 100 * summary["decoded_cer_before"], 100 * summary["decoded_cer_after"]
    typer.echo(
        f"CER on the {summary['held_out_pages']} held-out page(s): {before:.2f}% before, "
        f"{after:.2f}% after (greedy; with the model's own decoding {own[0]:.2f}% and "
        f"{own[1]:.2f}%) ({summary['minutes']} min); wrote {output}"
    )

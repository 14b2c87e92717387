"""``htrkit train``: train or fine-tune a recogniser from a TOML configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("train")(train)


def train(
    config: Optional[Path] = typer.Argument(None, help="Training TOML file (docs/training.md)."),
    set_: list[str] = typer.Option(
        [], "--set", "-s", help="Override a setting: section.key=value (repeatable)."
    ),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output folder."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in the output folder."),
    max_minutes: Optional[float] = typer.Option(
        None, "--max-minutes", help="Stop after this many minutes (checkpoints are kept)."
    ),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Number of epochs."),
    nproc: int = typer.Option(
        1, "--nproc", help="Processes for distributed (DDP) training.", min=1
    ),
    progress: Optional[bool] = typer.Option(
        None, "--progress/--no-progress", help="Progress bars [default: on a terminal]."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Start over in an output folder that holds an earlier run."
    ),
) -> None:
    """Train a CTC line recogniser; writes best.safetensors, last.safetensors,
    train-state.safetensors and history.png into the output folder."""
    import sys

    from htrkit.training.config import load_config

    overrides = list(set_)
    if output is not None:
        overrides.append(f"train.output={json.dumps(str(output.resolve()))}")
    if max_minutes is not None:
        overrides.append(f"train.max_minutes={max_minutes}")
    if epochs is not None:
        overrides.append(f"train.epochs={epochs}")
    cfg = load_config(config, overrides)
    _check_output(cfg.resolve(cfg.train.output), resume, overwrite)
    show = sys.stderr.isatty() if progress is None else progress
    if nproc > 1 or _torchrun():
        from htrkit.training.distributed import train_distributed

        summary = train_distributed(cfg, nproc, resume)
    else:
        from htrkit.training.loop import Trainer

        summary = Trainer(cfg, resume=resume, progress=show, log=typer.echo).fit()
    typer.echo(
        f"stopped: {summary['stopped']} after {summary['epochs']} epochs "
        f"({summary['minutes']} min); best validation CER {100 * summary['best_cer']:.2f}%; "
        f"model: {Path(summary['output']) / 'best.safetensors'}"
    )


#: what a run writes in its output folder
RUN_FILES = ("best.safetensors", "last.safetensors", "train-state.safetensors", "history.json")


def _check_output(out: Path, resume: bool, overwrite: bool) -> None:
    """Before any data is read: --resume needs a run to continue, and a new run never
    replaces an earlier one's files without --overwrite."""
    from htrkit.errors import ConfigError

    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: is a file; the output (train.output, -o) is a folder")
    if resume:
        if not (out / "train-state.safetensors").is_file():
            raise ConfigError(
                f"{out}: no training state to resume from (train-state.safetensors); "
                "start without --resume"
            )
        return
    earlier = [name for name in RUN_FILES if (out / name).exists()]
    if earlier and not overwrite:
        raise ConfigError(
            f"{out}: holds an earlier run ({earlier[0]}); give --resume to continue it, "
            "--overwrite to start over, or another output folder (-o)"
        )


def _torchrun() -> bool:
    from htrkit.training.distributed import under_torchrun

    return under_torchrun()

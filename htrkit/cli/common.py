"""Helpers shared by the CLI commands."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import typer

# The dataset and split options of eval, eval-seg and tune-decoder, spelled once (the
# split itself is checked once too, by htrkit.datasets.in_split).
DATASET_FORMAT = typer.Option(None, "--dataset-format", help="Dataset reader [default: detected].")
DATASET_OPTION = typer.Option(
    [], "--dataset-option", help="Dataset reader option key=value (repeatable)."
)
SPLIT = typer.Option("all", "--split", help="all, train or val (split by group).")
VAL_FRACTION = typer.Option(
    0.1, "--val-fraction", min=0.0, max=1.0, help="Share of groups in val (0 to 1)."
)
SPLIT_SEED = typer.Option(0, "--split-seed", help="Seed of the group split.")


def options_by_name(
    pairs: list[str], names: list[str], option: str, among: str, *, one_implied: bool = True
) -> dict[str, dict[str, Any]]:
    """``NAME.key=value`` option pairs (``-P``, ``--postprocess-option``,
    ``--metric-option``) by the name they are for, one of ``names`` (``among`` says what
    those are in errors); a plain ``key=value`` is for the one name when there is only one
    and ``one_implied``."""
    from htrkit.errors import ConfigError
    from htrkit.options import parse_key_values

    found: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        head, sep, value = pair.partition("=")
        target, dot, key = head.rpartition(".")
        ((key, value),) = parse_key_values([f"{key}{sep}{value}" if sep else pair]).items()
        if not dot:
            if len(names) != 1 or not one_implied:
                raise ConfigError(
                    f"{option} {key}={value}: with several {among}, say which: "
                    f"{option} NAME.{key}={value} (NAME one of {', '.join(names)})"
                )
            target = names[0]
        if target not in names:
            raise ConfigError(
                f"{option} {target}.{key}={value}: {target!r} is not one of the {among} "
                f"({', '.join(names)})"
            )
        found.setdefault(target, {})[key] = value
    return found


@contextlib.contextmanager
def progress_bar(
    total: int, what: str, *, enabled: bool, unit: str = ""
) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr; yields ``advance(n)``. A no-op when not enabled. With
    ``unit`` (``"pages"``) it shows the rate, ``12.3 pages/s``, before the ETA."""
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f} {unit}/s" if speed else f"- {unit}/s")

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *((Rate(),) if unit else ()),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)

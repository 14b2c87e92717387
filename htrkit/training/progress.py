"""Progress bars for the training loop (rich, on stderr)."""

from __future__ import annotations


class NoBar:
    """Stands in for the bar when progress is off."""

    def update(self, **values: float) -> None:
        pass

    def close(self) -> None:
        pass


class EpochBar:
    """A rich bar over one epoch's batches with the running loss and the last CER."""

    def __init__(self, total: int, what: str, cer: float):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("loss {task.fields[loss]:.3f}  val CER {task.fields[cer]:.2%}"),
            console=Console(stderr=True),
            transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task(what, total=total, loss=float("nan"), cer=cer)

    def update(self, **values: float) -> None:
        self.progress.update(self.task, advance=1, **values)

    def close(self) -> None:
        self.progress.stop()

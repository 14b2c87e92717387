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
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class Figures(ProgressColumn):
            """The running loss and the last validation CER; '-' until there is one."""

            def render(self, task) -> Text:
                loss, cer = task.fields["loss"], task.fields["cer"]
                shown_loss = "-" if loss != loss else f"{loss:.3f}"  # NaN: none yet
                shown_cer = "-" if cer != cer else f"{cer:.2%}"
                return Text(f"loss {shown_loss}  val CER {shown_cer}")

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            Figures(),
            console=Console(stderr=True),
            transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task(what, total=total, loss=float("nan"), cer=cer)

    def update(self, **values: float) -> None:
        self.progress.update(self.task, advance=1, **values)

    def close(self) -> None:
        self.progress.stop()

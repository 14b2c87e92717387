"""The training history: JSON rows per evaluation, and a PNG plot of loss and CER."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_history(folder: Path, rows: list[dict[str, Any]]) -> None:
    from htrkit.atomic import write_text

    write_text(folder / "history.json", json.dumps(rows, indent=1))
    if rows:
        plot(rows, folder / "history.png")


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in rows]
    fig, loss_ax = plt.subplots(figsize=(7, 4), dpi=100)
    loss_ax.plot(
        epochs, [r["train_loss"] for r in rows], color="tab:blue", marker="o", label="training loss"
    )
    if any(r.get("val_loss") is not None for r in rows):
        loss_ax.plot(
            epochs,
            [r.get("val_loss") for r in rows],
            color="tab:cyan",
            marker=".",
            label="validation loss",
        )
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("CTC loss")
    loss_ax.set_yscale("log")
    cer_ax = loss_ax.twinx()
    cer_ax.plot(
        epochs,
        [100 * r["val_cer"] for r in rows],
        color="tab:red",
        marker="s",
        label="validation CER",
    )
    cer_ax.set_ylabel("CER (%)")
    lines = loss_ax.get_legend_handles_labels()
    more = cer_ax.get_legend_handles_labels()
    loss_ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right")
    best = min(rows, key=lambda r: r["val_cer"])
    loss_ax.set_title(f"best validation CER {100 * best['val_cer']:.2f}% (epoch {best['epoch']})")
    fig.tight_layout()
    from htrkit.atomic import replacing

    with replacing(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)

"""Training throughput on real lines, on this machine's CPU or on a GPU: lines/s of the
trainer's own steps (data loading, augmentation, forward, CTC loss, backward, AdamW).

A GPU machine may not have the training data beside it, so the lines travel as a compact
sample of a recipe's lines, written once where the data and its line cache are:

    python benchmarks/training_speed.py export examples/recipes/accurate-line.toml \\
        --train 3000 --val 300 -o runs/speed-lines

(PNG files of the preprocessed lines and ``train.tsv`` / ``val.tsv`` beside them, drawn
from the recipe's own training and validation splits.) Then, where the training runs:

    python benchmarks/training_speed.py measure examples/recipes/accurate-line.toml \\
        --lines runs/speed-lines --device cuda --precisions bf16 fp16 fp32 \\
        --batch-sizes 16 64 128 --workers 0 8 --steps 100 \\
        --json benchmarks/results/training-speed-h200.json

Each configuration warms up for ``--warmup`` steps that are not counted (cuDNN picks its
kernels then), then times ``--steps`` steps, the GPU synchronised at both ends. The model
starts from ``model.init`` as the recipe has it unless ``--init`` names another (a bundled
model's name or a file). A short real training on the same sample, validated on its
validation lines before and after:

    python benchmarks/training_speed.py train examples/recipes/accurate-line.toml \
        --lines runs/speed-lines --init accurate --device cuda --precisions bf16 \
        --batch-sizes 64 --workers 8 --minutes 3 --json ...
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def data_overrides(lines: Path) -> list[str]:
    """Overrides that make a recipe train on an exported sample (no cache: it is small)."""
    lines = lines.resolve()
    sources = ", ".join(
        f'{{ path = "{lines / f"{split}.tsv"}", format = "table", split = "{split}", '
        f'options = {{ group_column = "group" }} }}'
        for split in ("train", "val")
    )
    return [f"data.train=[{sources}]", 'data.cache=""']


def export(args: argparse.Namespace) -> None:
    import cv2

    from htrkit.training.cache import load_lines
    from htrkit.training.config import load_config
    from htrkit.training.model import preprocess_steps

    config = load_config(args.recipe, args.override)
    if not config.data.cache:
        sys.exit(f"{args.recipe}: export reads a recipe's line cache; it names none")
    lines = load_lines(config, preprocess_steps(config), build=False, log=print)
    out = args.out
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    for split, indices, n in (("train", lines.train, args.train), ("val", lines.val, args.val)):
        chosen = sorted(rng.sample(list(indices), min(n, len(indices))))
        rows = ["image\ttext\tgroup"]
        for i in chosen:
            record = lines.store[i]
            if any(c in record.text for c in "\t\r\n") or not record.text.strip():
                continue
            name = f"images/{split}-{i:07d}.png"
            cv2.imwrite(str(out / name), record.image)
            group = f"{record.source}:{record.group}".replace("\t", " ")
            rows.append(f"{name}\t{record.text}\t{group}")
        (out / f"{split}.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        print(f"{out / f'{split}.tsv'}: {len(rows) - 1} {split} lines")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{out}: {size / 2**20:.1f} MiB")


def _config(args, precision: str, batch: int, workers: int, extra: list[str] = ()):
    from htrkit.training.config import load_config

    overrides = [
        *args.override,
        *data_overrides(args.lines),
        f'train.device="{args.device}"',
        f'train.precision="{precision}"',
        f"train.batch_size={batch}",
        f"train.num_workers={workers}",
        f"train.threads={args.threads}",
        f'train.output="{(args.scratch / "run").resolve()}"',
        *extra,
    ]
    if args.init:
        overrides.append(f'model.init="{args.init}"')
    return load_config(args.recipe, overrides)


def measure_one(args, precision: str, batch: int, workers: int) -> dict:
    import torch

    from htrkit.training.loop import Trainer

    trainer = Trainer(_config(args, precision, batch, workers), log=lambda m: None)
    run = trainer._start()
    cuda = run.device.type == "cuda"

    def batches():
        epoch = 0
        while True:
            order = trainer._epoch_batches(epoch)
            yield from zip(order, trainer._batches(run.train_set, order, run.device))
            epoch += 1

    stream = batches()
    for _ in range(args.warmup):
        trainer._train_step(run, next(stream)[1])
    if cuda:
        torch.cuda.synchronize()
    lines, losses, start = 0, [], time.perf_counter()
    for _ in range(args.steps):
        indices, batch_data = next(stream)
        losses.append(trainer._train_step(run, batch_data))
        lines += len(indices)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    row = {
        "device": str(run.device),
        "precision": precision,
        "batch_size": batch,
        "workers": workers,
        "steps": args.steps,
        "lines_per_s": round(lines / seconds, 1),
        "ms_per_step": round(1000 * seconds / args.steps, 1),
        "loss_first_last": [round(losses[0], 3), round(losses[-1], 3)],
    }
    if cuda:
        row["peak_memory_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
        torch.cuda.reset_peak_memory_stats()
    del stream
    return row


def train(args: argparse.Namespace) -> None:
    """A real training of ``--minutes`` (the trainer's fit: validation at the start and at
    the end), its lines/s and validation CER."""
    import torch

    from htrkit.training.loop import Trainer

    args.scratch.mkdir(parents=True, exist_ok=True)
    precision, batch, workers = args.precisions[0], args.batch_sizes[0], args.workers[0]
    budget = [f"train.max_minutes={args.minutes}", "train.patience=0", "train.epochs=1000"]
    config = _config(args, precision, batch, workers, budget)
    trainer = Trainer(config, log=print)
    start = time.perf_counter()
    summary = trainer.fit()
    seconds = time.perf_counter() - start
    history = trainer.history
    row = {
        "device": str(trainer.device),
        "device_name": torch.cuda.get_device_name() if args.device == "cuda" else "",
        "precision": precision,
        "batch_size": batch,
        "workers": workers,
        "steps": summary["steps"],
        "minutes_budget": args.minutes,
        "seconds_total": round(seconds, 1),
        "lines_trained": summary["steps"] * batch,
        # the whole run's rate: data loading, model set-up and every validation included
        "lines_per_s_overall": round(summary["steps"] * batch / seconds, 1),
        "val_cer_start": round(history[0]["val_cer"], 4),
        "val_cer_end": round(history[-1]["val_cer"], 4),
        "val_lines": len(trainer.val_idx),
        "train_lines": len(trainer.train_idx),
        "stopped": summary["stopped"],
    }
    print(json.dumps(row, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"command": " ".join(sys.argv), **row}, indent=1) + "\n")


def measure(args: argparse.Namespace) -> None:
    import torch

    args.scratch.mkdir(parents=True, exist_ok=True)
    name = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor()
    print(f"torch {torch.__version__}, {args.device} ({name or platform.machine()}); lines/s")
    rows = []
    for precision in args.precisions:
        for batch in args.batch_sizes:
            for workers in args.workers:
                row = measure_one(args, precision, batch, workers)
                rows.append(row)
                print(
                    f"{precision:>5} batch {batch:>4} workers {workers:>2}: "
                    f"{row['lines_per_s']:>8,.1f} lines/s, {row['ms_per_step']} ms/step, "
                    f"loss {row['loss_first_last'][0]} -> {row['loss_first_last'][1]}",
                    flush=True,
                )
    if args.json:
        result = {
            "command": " ".join(sys.argv),
            "torch": torch.__version__,
            "device_name": name,
            "recipe": str(args.recipe),
            "init": args.init or "the recipe's",
            "rows": rows,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="write a sample of a recipe's lines (PNG + TSV)")
    ex.add_argument("recipe", type=Path)
    ex.add_argument("-o", "--out", type=Path, required=True)
    ex.add_argument("--train", type=int, default=3000)
    ex.add_argument("--val", type=int, default=300)
    ex.add_argument("--seed", type=int, default=0)
    ex.add_argument("-s", "--override", action="append", default=[])
    me = sub.add_parser("measure", help="time the trainer's steps on an exported sample")
    tr = sub.add_parser("train", help="a short real training on an exported sample")
    tr.add_argument("--minutes", type=float, default=3.0)
    for command in (me, tr):
        _common(command)
    args = parser.parse_args()
    {"export": export, "measure": measure, "train": train}[args.command](args)


def _common(me: argparse.ArgumentParser) -> None:
    me.add_argument("recipe", type=Path)
    me.add_argument("--lines", type=Path, required=True)
    me.add_argument("--init", default="", help="a bundled model's name or a model file")
    me.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    me.add_argument("--precisions", nargs="+", default=["fp32"])
    me.add_argument("--batch-sizes", nargs="+", type=int, default=[16])
    me.add_argument("--workers", nargs="+", type=int, default=[0])
    me.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    me.add_argument("--warmup", type=int, default=10)
    me.add_argument("--steps", type=int, default=50)
    me.add_argument("--scratch", type=Path, default=ROOT / "runs" / "training-speed")
    me.add_argument("--json", type=Path)
    me.add_argument("-s", "--override", action="append", default=[])


if __name__ == "__main__":
    main()

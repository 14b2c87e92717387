"""Training and inference throughput of every registered backbone on this machine's CPU.

    python benchmarks/backbones.py [--batch 16] [--seconds 3] [--classes 80]

Each configuration is a batch of random "lines" 32 px high and 360-440 px wide, right-padded
to 440 (the widths are passed to the backbone, as in training), plus 32x128 word images for
``crnn-small``. A training step is forward + CTC loss + backward + AdamW step; inference is
a forward pass under ``torch.inference_mode``. Each is timed in fp32 and under
``torch.autocast("cpu", dtype=torch.bfloat16)``, after warm-up steps that are not counted,
for at least ``--seconds``. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import torch

from htrkit.modelfile import ModelConfig, save_model
from htrkit.plugins import registry

WARMUP = 2


def timed(step: Callable[[], None], seconds: float) -> float:
    """Calls of ``step`` per second, after ``WARMUP`` uncounted calls."""
    for _ in range(WARMUP):
        step()
    n, start = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - start < seconds:
        step()
        n += 1
    return n / (time.perf_counter() - start)


def precision(bf16: bool):
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else nullcontext()


def batch(size: int, height: int, low: int, high: int, classes: int, module: torch.nn.Module):
    g = torch.Generator().manual_seed(0)
    widths = torch.randint(low, high + 1, (size,), generator=g)
    widths[0] = high
    x = torch.zeros(size, 1, height, high)
    for i, w in enumerate(widths.tolist()):
        x[i, :, :, :w] = (torch.rand(1, height, w, generator=g) > 0.8).float()
    frames = module.output_lengths(widths)
    # about one character per 3 frames, as for handwriting at 32 px
    target_lengths = (frames // 3).clamp(min=1)
    targets = torch.randint(1, classes, (size, int(target_lengths.max())), generator=g)
    return x, widths, frames, targets, target_lengths


def measure(name: str, height: int, low: int, high: int, args) -> dict[str, float | str]:
    torch.manual_seed(0)
    spec = registry("backbone").get(name)
    has_height = "height" in {f.name for f in dataclasses.fields(spec.options)}
    module = spec.create({"height": height} if has_height else {}, args.classes)
    x, widths, frames, targets, target_lengths = batch(
        args.batch, height, low, high, args.classes, module
    )
    optimiser = torch.optim.AdamW(module.parameters(), lr=1e-4)

    def train(bf16: bool) -> Callable[[], None]:
        def step() -> None:
            with precision(bf16):
                logits = module(x, widths)
            lp = logits.float().log_softmax(-1).transpose(0, 1)
            loss = torch.nn.functional.ctc_loss(
                lp, targets, frames, target_lengths, zero_infinity=True
            )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()

        return step

    def infer(bf16: bool) -> Callable[[], None]:
        def step() -> None:
            with torch.inference_mode(), precision(bf16):
                module(x, widths)

        return step

    row: dict[str, float | str] = {
        "backbone": name,
        "input": f"{height}x{low}-{high}" if low != high else f"{height}x{high}",
        "params": sum(p.numel() for p in module.parameters()) / 1e6,
    }
    with tempfile.TemporaryDirectory() as tmp:
        config = ModelConfig(name, [chr(0x21 + i) for i in range(args.classes - 1)], height)
        path = save_model(Path(tmp) / "m.safetensors", module, config)
        row["MB"] = os.path.getsize(path) / 1e6
    module.train()
    for bf16 in (False, True):
        row[f"train {'bf16' if bf16 else 'fp32'}"] = args.batch * timed(train(bf16), args.seconds)
    module.eval()
    for bf16 in (False, True):
        row[f"infer {'bf16' if bf16 else 'fp32'}"] = args.batch * timed(infer(bf16), args.seconds)
    return row


def busy_seconds() -> float | None:
    """CPU seconds all processes have used (Linux), to tell how much others took."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--classes", type=int, default=80, help="alphabet size + 1 (blank)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}, batch {args.batch}, "
        f"{args.classes} classes; lines/s"
    )
    start, busy, own = time.perf_counter(), busy_seconds(), time.process_time()
    configs = [(name, 32, 360, 440) for name in registry("backbone").names()]
    configs.insert(configs.index(("crnn-small", 32, 360, 440)) + 1, ("crnn-small", 32, 128, 128))
    columns = ["train fp32", "train bf16", "infer fp32", "infer bf16"]
    print("| backbone | input (HxW) | params (M) | file (MB) | " + " | ".join(columns) + " |")
    print("|---|---|---:|---:|" + "---:|" * len(columns))
    for config in configs:
        row = measure(*config, args)
        rates = " | ".join(f"{row[c]:,.1f}" for c in columns)
        print(
            f"| {row['backbone']} | {row['input']} | {row['params']:.2f} | {row['MB']:.1f} "
            f"| {rates} |",
            flush=True,
        )
    if busy is not None:  # other processes skew the figures: say how much they ran
        others = busy_seconds() - busy - (time.process_time() - own)
        share = others / ((time.perf_counter() - start) * (os.cpu_count() or 1))
        print(f"\nother processes used {max(share, 0):.0%} of the CPUs during the run")


if __name__ == "__main__":
    main()

"""Decoder throughput on CTC outputs of realistic shape.

    python benchmarks/decoders.py [--lines 2000] [--frames 200] [--classes 100]

The log-probabilities are synthetic but shaped like a line model's output: mostly blank
frames with peaked characters and some confusion. Issue #5 replaces them with logits of a
trained model over validation lines.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from htrkit import Alphabet
from htrkit.plugins import registry


def fake_log_probs(rng: np.random.Generator, frames: int, classes: int) -> np.ndarray:
    logits = rng.normal(0, 1, (frames, classes))
    logits[:, 0] += 4.0  # blanks dominate
    peaks = rng.random(frames) < 0.35
    logits[peaks, rng.integers(1, classes, peaks.sum())] += 7.0
    logits -= logits.max(axis=1, keepdims=True)
    return (logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--classes", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    alphabet = Alphabet([chr(0x21 + i) for i in range(args.classes - 1)])
    lines = [fake_log_probs(rng, args.frames, args.classes) for _ in range(args.lines)]
    print(f"{args.lines} lines x {args.frames} frames x {args.classes} classes")
    print(f"{'decoder':<28}{'lines/s':>10}")
    configs = [("greedy", {}), ("beam", {"beam_width": 10}), ("beam", {"beam_width": 25})]
    for name, options in configs:
        decoder = registry("decoder").create(name, options)
        n = len(lines) if name == "greedy" else min(len(lines), 300)
        start = time.perf_counter()
        for lp in lines[:n]:
            decoder.decode(lp, alphabet)
        rate = n / (time.perf_counter() - start)
        label = name + "".join(f" {k}={v}" for k, v in options.items())
        print(f"{label:<28}{rate:>10.0f}")


if __name__ == "__main__":
    main()

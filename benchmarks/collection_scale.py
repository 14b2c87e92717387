"""Reading at collection scale: lines/s and CER of each backend, pages/s of folder jobs.

    python benchmarks/collection_scale.py [--lines 500] [--pages 50] [--threads 2] [--tesseract]
        [--no-ray] [--json benchmarks/results/collections.json]

Lines: the same ``--lines`` validation lines of the default model's recipe, full text
lines as the issue asks (an equal share of each line-level set, as
``benchmarks/decoding_cost.py`` takes them; ``--with-words`` adds the DHSD words, as the
runs before 2026-12-07 did), are read by ``Pipeline.batch``
(the model's default decoding, batch size 32, one warm-up batch, model loading
excluded: ``default_model.htrkit_speed``) with

- torch fp32 and torch bf16 (``torch.autocast``; ``torch.set_num_threads(--threads)``),
- onnxruntime fp32 (the bundled ``default.onnx``) and int8 (``htrkit model export --int8``,
  dynamic quantisation, exported into a temporary folder), runs of a few lines made
  ``--threads`` at a time (``OnnxRecognizer.log_probs_batches``),
- Tesseract (``--psm 7``, LSTM, ``-l eng+fra+deu``, one process per line, ``--threads`` at
  once) as the reference, when ``--tesseract`` and it is installed.

Pages: ``--pages`` page images of the validation splits (Copiste, Poilus, then the others)
are copied into a folder and read with ``htrkit run PAGES/ -o OUT/`` as a user would, with
``--jobs 1``, ``--jobs 2`` and ``--engine ray --jobs 2``: wall time of the whole command
(start-up and model loading included), and a check that the folders hold the same
bytes. ``--jobs 1`` also runs held to one core (``sched_setaffinity``): ``--jobs 2`` over
that is how far the work spreads over processes, where ``--jobs 2`` over ``--jobs 1`` on
both cores also holds what one job already does on two threads.

Run it on a quiet machine: every figure is a wall-clock time (each reader's lines/s the
fastest of three passes, the pages/s of one run each).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from default_model import htrkit_speed, speed_lines, tesseract_speed  # noqa: E402


def read_lines(reader, lines, threads: int, bf16: bool = False, repeat: int = 3) -> dict:
    """``htrkit_speed`` (the default model benchmark's timing, the fastest of ``repeat``
    passes) with this reader; ``bf16`` runs a torch reader under bf16 autocast."""
    if bf16:
        original = reader.log_probs
        reader.log_probs = lambda images, bf16=False: original(images, bf16=True)
    return htrkit_speed(reader, lines, threads, repeat)


def backends(n: int, threads: int, tesseract: bool, words: bool = False) -> dict:
    import torch

    from htrkit.models import FOLDER
    from htrkit.onnxmodel import OnnxRecognizer, export
    from htrkit.recognizer import Recognizer

    torch.set_num_threads(threads)
    from default_model import NAMES

    lines = speed_lines(n, None if words else [s for s in NAMES.values() if s != "DHSD"])
    out = {}
    torch_model = FOLDER / "default.safetensors"
    out["torch fp32"] = read_lines(Recognizer.load(torch_model), lines, threads)
    out["torch bf16"] = read_lines(Recognizer.load(torch_model), lines, threads, bf16=True)
    out["onnxruntime fp32"] = read_lines(
        OnnxRecognizer.load(FOLDER / "default.onnx", threads=threads), lines, threads
    )
    with tempfile.TemporaryDirectory() as tmp:
        int8 = export(Recognizer.load(FOLDER / "default.safetensors"), Path(tmp) / "i8.onnx",
                      int8=True)  # fmt: skip
        out["onnxruntime int8"] = read_lines(
            OnnxRecognizer.load(int8, threads=threads), lines, threads
        )
    if tesseract:
        found = tesseract_speed(lines, threads)
        if found:
            out["Tesseract"] = found
    return out


def validation_pages(n: int) -> list:
    """``n`` page images (arrays) of the validation splits, the first generation's sets
    first."""
    from default_model import RECIPE, validation_sets

    from htrkit.datasets import DatasetReport, find_reader, split_of

    found: list = []
    for _name, path, fmt, _options, fraction, seed, split in validation_sets(RECIPE):
        if fmt != "alto":
            continue
        reader = find_reader(Path(path), fmt)
        for page in reader.pages(Path(path), DatasetReport(), skip_bad=True):
            if split == "all" or split_of(page.group, fraction, seed) == "val":
                found.append(page.image)
            if len(found) >= n:
                return found
    return found


def pages(n: int, ray: bool) -> dict:
    import cv2

    out = {}
    chosen = validation_pages(n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pages"
        folder.mkdir()
        for i, image in enumerate(chosen):
            cv2.imwrite(str(folder / f"{i:03d}.png"), image)
        runs = [("--jobs 1", ["--jobs", "1"]), ("--jobs 2", ["--jobs", "2"]),
                ("--jobs 1, one core", ["--jobs", "1"])]  # fmt: skip
        if ray:
            runs.append(("--engine ray --jobs 2", ["--engine", "ray", "--jobs", "2"]))
        texts = {}
        for name, extra in runs:
            target = Path(tmp) / "".join(c for c in name if c.isalnum())
            cmd = [sys.executable, "-m", "htrkit", "run", str(folder), "-o", f"{target}/", *extra]
            start = time.perf_counter()
            pin = None
            if name.endswith("one core"):
                core = min(os.sched_getaffinity(0))
                pin = lambda core=core: os.sched_setaffinity(0, {core})  # noqa: E731
            done = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=pin)
            seconds = time.perf_counter() - start
            if done.returncode:
                raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr[-2000:]}")
            texts[name] = {p.name: p.read_bytes() for p in target.glob("*.txt")}
            out[name] = {"pages": len(chosen), "seconds": round(seconds, 2),
                         "pages_per_s": len(chosen) / seconds}  # fmt: skip
        first = next(iter(texts.values()))
        out["identical_outputs"] = all(t == first for t in texts.values())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tesseract", action="store_true")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--with-words", action="store_true", help="also the DHSD words")
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = {
        "machine": f"{platform.processor() or platform.machine()}, {args.threads} threads",
        "line_sets": "all, DHSD words included" if args.with_words else "all but the DHSD words",
        "lines": backends(args.lines, args.threads, args.tesseract, args.with_words),
    }
    if not args.no_pages:
        results["pages"] = pages(args.pages, not args.no_ray)
    base = results["lines"]["torch fp32"]["lines_per_s"]
    tess = results["lines"].get("Tesseract", {}).get("lines_per_s")
    n = results["lines"]["torch fp32"]["lines"]
    print(f"| reader ({n} validation lines) | lines/s | x torch fp32 | x Tesseract | CER |")
    print("|---|---|---|---|---|")
    for name, r in results["lines"].items():
        vs_tess = f"{r['lines_per_s'] / tess:.1f}" if tess else "-"
        print(f"| {name} | {r['lines_per_s']:.1f} | {r['lines_per_s'] / base:.2f} | {vs_tess} | "
              f"{100 * r['cer']:.2f}% |")  # fmt: skip
    if "pages" in results:
        p = results["pages"]
        one = p["--jobs 1"]["pages_per_s"]
        core = p["--jobs 1, one core"]["pages_per_s"]
        print(f"\n| htrkit run PAGES/ -o OUT/ ({args.pages} pages) | pages/s | x --jobs 1 | "
              "x --jobs 1 on one core |")  # fmt: skip
        print("|---|---|---|---|")
        for name, r in p.items():
            if isinstance(r, dict):
                print(f"| {name} | {r['pages_per_s']:.2f} | {r['pages_per_s'] / one:.2f} | "
                      f"{r['pages_per_s'] / core:.2f} |")  # fmt: skip
        print(f"\nsame outputs from every engine: {p['identical_outputs']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()

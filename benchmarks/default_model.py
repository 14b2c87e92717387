"""The bundled default model on its validation splits: accuracy per decoder, speed, and
Tesseract on the same lines as a reference.

    python benchmarks/default_model.py [--model default] [--decoders greedy beam kenlm:level=char]
        [--speed-lines 300] [--tesseract] [--json benchmarks/results/default-model.json]

Accuracy comes from ``htrkit eval`` itself (one run per dataset and decoder, commands
printed), so the model card's figures are the ones anyone reproduces with those commands.
The splits are the recipe's (``examples/recipes/default-line.toml``): Copiste by copied
text, Poilus by page, DHSD by writer, and each further source by page or document with
its own share (``val_fraction``), or its repository's test folder (``split = "val"``).
``--sets Copiste Poilus`` limits the run to some of them.

Speed: the same ``--speed-lines`` validation lines (an equal share from each dataset,
the first ones of each split) are recognised as one batch job (``Pipeline.batch``, the
model's default decoding, batch size 32) with ``--threads`` threads (torch's, or the onnx
backend's and the decoding pool's);
lines/s is lines over wall time, model loading excluded, after one warm-up batch.
Tesseract (``--psm 7``, one line per call, LSTM engine, ``-l eng+fra+deu`` when
installed) reads the same line images, run one at a time with ``OMP_THREAD_LIMIT=1`` and
``--threads`` processes in parallel, which is how a batch of lines is best fed to its
command-line tool.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "examples" / "recipes" / "default-line.toml"
#: a short name (one word, for the card's table) per dataset folder
NAMES = {
    "copiste-pages": "Copiste",
    "poilus-pages": "Poilus",
    "dhsd-words": "DHSD",
    "lectaurep-dufour-1": "LectaurepDufour",
    "lectaurep-random-set-1": "LectaurepRandom1",
    "lectaurep-random-set-2": "LectaurepRandom2",
    "cph_paris_tissage_1858": "TimeUs1858",
    "cph_paris_tissage_1878": "TimeUs1878",
    "CREMMA-MSS-18": "MSS18",
    "CREMMA-MSS-19": "MSS19",
    "CREMMA-MSS-20": "MSS20",
    "peraire-ground-truth": "Peraire",
}


def validation_sets(recipe: Path, only: list[str] | None = None):
    """(name, path, format, options, val fraction, seed, split) for each validated source
    of the recipe; ``split`` is "val" (a share of its groups) or "all" (a test folder)."""
    from htrkit.training.config import load_config

    config = load_config(recipe)
    for source, fraction in zip(config.data.train, config.data.shares()):
        if source.split == "train":
            continue
        path = config.resolve(source.path).resolve()
        name = next((n for key, n in NAMES.items() if key in str(path)), path.name)
        if only and name not in only:
            continue
        options = [f"{k}={v}" for k, v in source.options.items()]
        split = "all" if source.split == "val" else "val"
        if source.skip_bad:
            options.append("--skip-bad")
        yield name, path, source.format, options, fraction, config.data.split_seed, split


def eval_command(model, path, fmt, options, fraction, seed, split, decoder) -> list[str]:
    """The ``htrkit eval`` command line, run from the repository root. ``decoder`` is a
    name, optionally with options: ``kenlm:level=char,alpha=0.6``."""
    name, _, given = decoder.partition(":")
    cmd = ["htrkit", "eval", os.path.relpath(path, ROOT), "--model", model, "--split", split]
    if split == "val":
        cmd += ["--val-fraction", str(fraction), "--split-seed", str(seed)]
    cmd += ["--decoder", name]
    for option in filter(None, given.split(",")):
        cmd += ["-O", option]
    if fmt:
        cmd += ["--dataset-format", fmt]
    for option in options:
        cmd += [option] if option == "--skip-bad" else ["--dataset-option", option]
    return cmd


def shown(cmd: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(c) for c in cmd)


def accuracy(
    model: str, decoders: list[str], only: list[str] | None, straighten: bool = True
) -> list[dict]:
    rows = []
    for name, path, fmt, options, fraction, seed, split in validation_sets(RECIPE, only):
        if not straighten and fmt in ("alto", "page"):
            options = [*options, "straighten=false"]  # lines cut from their boxes as they are
        for decoder in decoders:
            cmd = eval_command(model, path, fmt, options, fraction, seed, split, decoder)
            start = time.perf_counter()
            out = subprocess.run(
                [*cmd, "--json", "--worst", "0"],
                capture_output=True,
                text=True,
                check=False,
                cwd=ROOT,
            )
            if out.returncode and "no samples to score" in out.stderr:
                print(f"{name}: no validation lines (all its groups train)", flush=True)
                break
            if out.returncode:
                sys.exit(f"{shown(cmd)} failed: {out.stderr.strip()}")
            result = json.loads(out.stdout)
            s = result["scores"]
            rows.append(
                {
                    "dataset": name,
                    "decoder": decoder,
                    "lines": result["samples"],
                    "cer": s["cer"],
                    "cer_nocase": s["cer-caseless"],
                    "cer_nospace": s["cer-spaceless"],
                    "wer": s["wer"],
                    "exact_match": s["exact-match"],
                    "seconds": round(time.perf_counter() - start, 1),
                    "command": shown(cmd),
                }
            )
            print(
                f"{name:16s} {decoder:16s} lines {result['samples']:5d}  CER {100 * s['cer']:6.2f}%"
                f" (no case {100 * s['cer-caseless']:6.2f}%,"
                f" no spaces {100 * s['cer-spaceless']:6.2f}%)"
                f"  WER {100 * s['wer']:6.2f}%  exact {100 * s['exact-match']:6.2f}%",
                flush=True,
            )
    return rows


def speed_lines(n: int, only: list[str] | None):
    """``n`` validation samples, an equal share per dataset."""
    from htrkit.datasets import read_dataset, split_of

    sets = list(validation_sets(RECIPE, only))
    per = -(-n // len(sets))
    lines = []
    for name, path, fmt, options, fraction, seed, split in sets:
        opts = dict(o.split("=", 1) for o in options if o != "--skip-bad")
        taken = 0
        for sample in read_dataset(path, fmt, opts, skip_bad=True):
            if split == "all" or split_of(sample.group, fraction, seed) == "val":
                lines.append((name, sample))
                taken += 1
                if taken == per:
                    break
    return lines[:n]


def htrkit_speed(model: Any, lines, threads: int, repeat: int = 1) -> dict:
    """Lines/s of ``Pipeline.batch`` (``model``: a name, a file or a loaded reader) over
    ``lines`` after a warm-up batch: the fastest of
    ``repeat`` timed passes (wall clocks only err on the slow side)."""
    import torch

    from htrkit import Pipeline
    from htrkit.metrics.text import CharacterErrorRate
    from htrkit.results import LineRegion, Page

    torch.set_num_threads(threads)
    pipe = Pipeline(model=model, batch_size=32, threads=threads)
    pages = [
        Page(s.id, s.image, [LineRegion((0, 0, s.image.shape[1], s.image.shape[0]))])
        for _, s in lines
    ]
    pipe.batch(pages[:32])  # warm-up
    seconds = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        results = pipe.batch(pages)
        seconds = min(seconds, time.perf_counter() - start)
    cer = CharacterErrorRate().corpus([r.text for r in results], [s.text for _, s in lines])
    return {
        "lines": len(lines),
        "seconds": round(seconds, 2),
        "lines_per_s": len(lines) / seconds,
        "cer": cer,
        "backend": pipe.recognizer.backend,
    }


def tesseract_speed(lines, threads: int) -> dict | None:
    import cv2

    from htrkit.metrics.text import CharacterErrorRate

    exe = shutil.which("tesseract")
    if exe is None:
        print("tesseract not found: apt-get install tesseract-ocr (skipped)", file=sys.stderr)
        return None
    langs = subprocess.run([exe, "--list-langs"], capture_output=True, text=True).stdout.split()
    lang = "+".join(x for x in ("eng", "fra", "deu") if x in langs) or "eng"
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split()[1]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (_, s) in enumerate(lines):
            p = Path(tmp) / f"{i:05d}.png"
            cv2.imwrite(str(p), s.image)
            paths.append(p)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

        def read(p: Path) -> str:
            cmd = [exe, str(p), "stdout", "--psm", "7", "--oem", "1", "-l", lang]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            return " ".join(out.stdout.split())

        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            texts = list(pool.map(read, paths))
        seconds = time.perf_counter() - start
    cer = CharacterErrorRate().corpus(texts, [s.text for _, s in lines])
    return {
        "lines": len(lines),
        "seconds": round(seconds, 2),
        "lines_per_s": len(lines) / seconds,
        "cer": cer,
        "version": version,
        "languages": lang,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument(
        "--decoders",
        nargs="+",
        default=["greedy", "beam", "kenlm:level=char"],
        help="decoders, each NAME or NAME:key=value,key=value",
    )
    parser.add_argument("--sets", nargs="+", help="only these validation sets (card names)")
    parser.add_argument("--speed-lines", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-accuracy", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--tesseract", action="store_true", help="also time Tesseract")
    parser.add_argument(
        "--no-straighten",
        action="store_true",
        help="cut page lines from their boxes without straightening them along their "
        "baselines (the page readers' straighten=false), as htrkit did before 2026-12-04",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--update-card",
        type=Path,
        help="rewrite the figures between <!-- name --> and <!-- /name --> markers of this "
        "model card (table, commands, speed)",
    )
    args = parser.parse_args()
    import torch

    results: dict = {
        "model": args.model,
        "machine": f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": args.threads,
    }
    if not args.no_accuracy:
        results["accuracy"] = accuracy(
            args.model, args.decoders, args.sets, straighten=not args.no_straighten
        )
    if not args.no_speed:
        speed(results, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    if args.update_card:
        update_card(args.update_card, results)


def speed(results: dict, args: argparse.Namespace) -> None:
    lines = speed_lines(args.speed_lines, args.sets)
    results["speed"] = {"htrkit": htrkit_speed(args.model, lines, args.threads)}
    h = results["speed"]["htrkit"]
    print(
        f"htrkit    {h['lines_per_s']:7.1f} lines/s ({h['lines']} lines, CER {100 * h['cer']:.2f}%)"
    )
    if args.tesseract:
        t = tesseract_speed(lines, args.threads)
        if t is not None:
            results["speed"]["tesseract"] = t
            print(
                f"tesseract {t['lines_per_s']:7.1f} lines/s ({t['lines']} lines, CER "
                f"{100 * t['cer']:.2f}%, {t['version']}, -l {t['languages']})"
            )
            print(f"htrkit / tesseract: {h['lines_per_s'] / t['lines_per_s']:.1f}x")


def update_card(path: Path, results: dict) -> None:
    blocks = {}
    if "accuracy" in results:
        rows = results["accuracy"]
        blocks["table"] = (
            "| set | decoder | lines | CER % | WER % | exact match % | CER, no case % "
            "| CER, no spaces % |\n"
        )
        blocks["table"] += "|---|---|---|---|---|---|---|---|\n" + "\n".join(
            f"| {r['dataset']} | {r['decoder']} | {r['lines']} | {100 * r['cer']:.2f} | "
            f"{100 * r['wer']:.2f} | {100 * r['exact_match']:.2f} | "
            f"{100 * r['cer_nocase']:.2f} | {100 * r['cer_nospace']:.2f} |"
            for r in rows
        )
        greedy = [r for r in rows if r["decoder"] == "greedy"]
        blocks["commands"] = (
            "```\n" + "\n".join(f"# {r['dataset']}\n{r['command']}" for r in greedy) + "\n```"
        )
    if "speed" not in results:
        replace_blocks(path, blocks)
        return
    speed = results["speed"]
    h, t = speed["htrkit"], speed.get("tesseract")
    text = (
        f"Batch recognition of {h['lines']} validation lines (an equal share of each set) "
        f"with the model's default decoding, batch size 32, on {h.get('backend', 'torch')} "
        f"with {results['threads']} threads on {results['machine']}: "
        f"**{h['lines_per_s']:.1f} lines/s** (CER {100 * h['cer']:.2f}% on these lines)."
    )
    if t:
        text += (
            f" Tesseract {t['version']} (`--psm 7 --oem 1 -l {t['languages']}`, one process "
            f"per line, {results['threads']} at a time) on the same lines in the same run: "
            f"{t['lines_per_s']:.1f} lines/s (CER {100 * t['cer']:.2f}%): htrkit is "
            f"**{h['lines_per_s'] / t['lines_per_s']:.1f}x** faster."
        )
    blocks["speed"] = text
    replace_blocks(path, blocks)


def replace_blocks(path: Path, blocks: dict[str, str]) -> None:
    """Rewrite what stands between ``<!-- name -->`` and ``<!-- /name -->`` in a Markdown
    file, for each name of ``blocks``."""
    import re

    card = path.read_text(encoding="utf-8")
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- {name} -->\n).*?(<!-- /{name} -->)", re.S)
        if not pattern.search(card):
            sys.exit(f"{path}: no <!-- {name} --> ... <!-- /{name} --> block")
        card = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), card)
    path.write_text(card, encoding="utf-8")
    print(f"updated {path}")


if __name__ == "__main__":
    main()

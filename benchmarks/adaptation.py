"""What adapting the default model to one collection gives: fine-tune on 20 pages of a
collection it never saw, then read that collection's other pages, before and after.

    python benchmarks/adaptation.py [--collection DIR] [--pages 20] [--minutes 15]
        [--threads 1] [--model default]
        [--json benchmarks/results/adaptation.json] [--update-card htrkit/models/default.md]

The collection (default ``../data/lectaurep-repertoires/data/lectaurep-riant-4``) is one
notary's register of the LECTAUREP repositories (fetched by
``examples/recipes/fetch_data.py``), which the default recipe leaves out of training. Its
pages are sorted by name: the first ``--pages`` are the user's transcribed pages, the rest
are the test. Fine-tuning runs ``htrkit train examples/recipes/adapt.toml`` on the
transcribed pages (a fifth of them held out by the recipe to pick the checkpoint, as a
user would), for ``--minutes`` of wall time with ``--threads`` torch threads (15 minutes
on one thread is 15 CPU minutes; the run's history.json gives its CPU minutes). Both
models read the test pages with ``htrkit eval`` (greedy), whose commands are printed.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTION = ROOT.parent / "data" / "lectaurep-repertoires" / "data" / "lectaurep-riant-4"
ADAPT = ROOT / "examples" / "recipes" / "adapt.toml"


def split_pages(collection: Path, pages: int, out: Path) -> tuple[Path, Path, int, int]:
    """Links to the first ``pages`` ALTO files (and their images) in ``out/train``, the
    others in ``out/test``."""
    files = sorted(p for p in collection.glob("*.xml") if p.name != "METS.xml")
    if len(files) <= pages:
        sys.exit(f"{collection}: {len(files)} pages, need more than {pages}")
    parts = {"train": files[:pages], "test": files[pages:]}
    for name, chosen in parts.items():
        folder = out / name
        folder.mkdir(parents=True)
        for xml in chosen:
            for f in collection.glob(xml.stem + ".*"):
                (folder / f.name).symlink_to(f.resolve())
    return out / "train", out / "test", len(parts["train"]), len(parts["test"])


def evaluate(model: str, pages: Path) -> dict:
    cmd = ["htrkit", "eval", str(pages), "--model", model, "--split", "all"]
    cmd += ["--dataset-format", "alto", "--skip-bad", "--decoder", "greedy"]
    out = subprocess.run([*cmd, "--json", "--worst", "0"], capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{shlex.join(cmd)} failed: {out.stderr.strip()}")
    result = json.loads(out.stdout)
    s = result["scores"]
    return {
        "lines": result["samples"],
        "cer": s["cer"],
        "wer": s["wer"],
        "exact_match": s["exact-match"],
        "command": shlex.join(cmd),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collection", type=Path, default=COLLECTION)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", default="default")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--update-card", type=Path)
    args = parser.parse_args()
    if not args.collection.is_dir():
        sys.exit(f"{args.collection}: not here; run examples/recipes/fetch_data.py first")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train, test, n_train, n_test = split_pages(args.collection, args.pages, tmp / "pages")
        print(f"{args.collection.name}: {n_train} pages to adapt on, {n_test} to test on")
        before = evaluate(args.model, test)
        print(f"before: CER {100 * before['cer']:.2f}%, WER {100 * before['wer']:.2f}% "
              f"({before['lines']} lines)\n  {before['command']}")  # fmt: skip
        run = tmp / "adapt"
        source = f'data.train=[{{path="{train}", format="alto", skip_bad=true}}]'
        cmd = ["htrkit", "train", str(ADAPT), "-s", source, "-s", f'model.init="{args.model}"']
        cmd += ["-s", f'train.output="{run}"', "-s", f"train.threads={args.threads}"]
        cmd += ["--max-minutes", str(args.minutes), "--no-progress"]
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"{shlex.join(cmd)} failed: {out.stderr.strip()[-2000:]}")
        seconds = time.perf_counter() - start
        history = json.loads((run / "history.json").read_text())
        after = evaluate(str(run / "best.safetensors"), test)
        print(f"after:  CER {100 * after['cer']:.2f}%, WER {100 * after['wer']:.2f}%")
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("data:")]
    results = {
        "collection": args.collection.name,
        "adapt_pages": n_train,
        "test_pages": n_test,
        "training_data": lines[0] if lines else "",
        "minutes": round(seconds / 60, 1),
        "cpu_minutes": history[-1].get("cpu_minutes"),
        "threads": args.threads,
        "evaluations": len(history),
        "before": before,
        "after": after,
        "train_command": shlex.join(cmd).replace(str(tmp), "TMP"),
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    if args.update_card:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from default_model import replace_blocks

        b, a = before, after
        text = (
            f"Fine-tuned with `examples/recipes/adapt.toml` on the first {n_train} pages of "
            f"`{results['collection']}` (a notarial register the default model never saw; "
            f"{results['training_data'].removeprefix('data: ')}) for "
            f"{results['minutes']} minutes on {args.threads} thread(s) "
            f"({results['cpu_minutes']} CPU minutes), then read on its other {n_test} pages "
            f"({b['lines']} lines, greedy): CER **{100 * b['cer']:.2f}% before, "
            f"{100 * a['cer']:.2f}% after**; WER {100 * b['wer']:.2f}% / "
            f"{100 * a['wer']:.2f}%; exact lines {100 * b['exact_match']:.2f}% / "
            f"{100 * a['exact_match']:.2f}% (`python benchmarks/adaptation.py`)."
        )
        replace_blocks(args.update_card, {"adaptation": text})


if __name__ == "__main__":
    main()

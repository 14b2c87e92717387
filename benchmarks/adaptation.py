"""What ``htrkit adapt`` gives: adapt the default model to a few pages of a collection it
never saw, then read that collection's other pages, before and after.

    python benchmarks/adaptation.py [--case lectaurep|poilus ...] [--minutes 10]
        [--threads 1] [--model default]
        [--json benchmarks/results/adaptation.json] [--update-card htrkit/models/default.md]

Two cases, as the archivists' issue asks:

- ``lectaurep``: one notary's register, ``lectaurep-riant-4`` (fetched by
  ``examples/recipes/fetch_data.py``), which the default recipe leaves out of training.
  Its pages sorted by name: the first 20 are the user's transcribed pages, the other 10
  the test.
- ``poilus``: 5 pages of the Testaments de Poilus (``../shared/data/poilus-pages``) from
  the default recipe's validation split (never trained on): the first five by name with
  ten lines or more are the user's, the split's other pages the test.

Each case runs the command a user runs, ``htrkit adapt PAGES -o MODEL --max-minutes M
--threads T`` (which holds out a fifth of the pages, at least one, shows the CER on them
before and after, and never returns a model worse than its start), then reads the test
pages with ``htrkit eval`` with both models, greedily and with the model's own decoding
(the bundled character LM). Every command is printed and written to the JSON.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LECTAUREP = ROOT.parent / "data" / "lectaurep-repertoires" / "data" / "lectaurep-riant-4"
POILUS = ROOT.parent / "shared" / "data" / "poilus-pages"
# the default recipe's split of the Poilus pages (examples/recipes/default-line.toml)
POILUS_VAL_FRACTION, POILUS_SPLIT_SEED = 0.1, 240


def pages_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.xml") if p.name != "METS.xml")


def lectaurep_case() -> tuple[str, list[Path], list[Path]]:
    if not LECTAUREP.is_dir():
        sys.exit(f"{LECTAUREP}: not here; run examples/recipes/fetch_data.py first")
    files = pages_of(LECTAUREP)
    title = "lectaurep-riant-4 (a notarial register the default model never saw)"
    return title, files[:20], files[20:]


def poilus_case() -> tuple[str, list[Path], list[Path]]:
    from htrkit.datasets import DatasetReport, read_dataset, split_of

    if not POILUS.is_dir():
        sys.exit(f"{POILUS}: not here (../shared/data)")
    lines: dict[str, int] = {}
    for sample in read_dataset(POILUS, "alto", skip_bad=True, report=DatasetReport()):
        lines[sample.group] = lines.get(sample.group, 0) + 1
    val = sorted(g for g in lines if split_of(g, POILUS_VAL_FRACTION, POILUS_SPLIT_SEED) == "val")
    adapt = [g for g in val if lines[g] >= 10][:5]
    test = [g for g in val if g not in adapt]
    return (
        "Testaments de Poilus, 5 pages of the default model's validation split",
        [POILUS / f"{g}.xml" for g in adapt],
        [POILUS / f"{g}.xml" for g in test],
    )


CASES = {"lectaurep": lectaurep_case, "poilus": poilus_case}


def link(files: list[Path], folder: Path) -> Path:
    """``folder`` with copies of each ALTO file and the images beside it (copies: htrkit
    reads no image outside the folder it is given, a link's target included)."""
    folder.mkdir(parents=True)
    for xml in files:
        for f in xml.parent.glob(xml.stem + ".*"):
            shutil.copyfile(f, folder / f.name)
    return folder


def run(cmd: list[str], *, stderr: bool = False) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{shlex.join(cmd)} failed: {out.stderr.strip()[-2000:]}")
    return out.stdout + (out.stderr if stderr else "")


def evaluate(model: str, pages: Path, decoder: str) -> dict:
    cmd = ["htrkit", "eval", str(pages), "--model", model, "--split", "all"]
    cmd += ["--dataset-format", "alto", "--skip-bad", "--decoder", decoder]
    out = subprocess.run([*cmd, "--json", "--worst", "0"], capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{shlex.join(cmd)} failed: {out.stderr.strip()[-2000:]}")
    result = json.loads(out.stdout)
    s = result["scores"]
    return {"lines": result["samples"], "cer": s["cer"], "wer": s["wer"],
            "exact_match": s["exact-match"], "command": shlex.join(cmd)}  # fmt: skip


def bench(name: str, args: argparse.Namespace, tmp: Path) -> dict:
    title, adapt_files, test_files = CASES[name]()
    train = link(adapt_files, tmp / name / "pages")
    test = link(test_files, tmp / name / "test")
    print(f"{name}: {len(adapt_files)} pages to adapt on, {len(test_files)} to test on", flush=True)
    model = tmp / name / "adapted.safetensors"
    cmd = ["htrkit", "adapt", str(train), "-o", str(model), "--from", args.model]
    cmd += ["--max-minutes", str(args.minutes), "--threads", str(args.threads), "--no-progress"]
    start = time.perf_counter()
    output = run(cmd, stderr=True)
    seconds = time.perf_counter() - start
    said = [ln for ln in output.splitlines() if ln.startswith(("adapting", "CER on the"))]
    print("  " + "\n  ".join(said), flush=True)
    facts = json.loads(run(["htrkit", "model", "info", str(model), "--json"]))
    facts = facts["metadata"]["adaptation"]
    result = {
        "case": name,
        "collection": title,
        "adapt_pages": [p.stem for p in adapt_files],
        "test_pages": len(test_files),
        "adapt_command": shlex.join(cmd).replace(str(tmp), "TMP"),
        "adapt_said": said,
        "minutes": round(seconds / 60, 1),
        "threads": args.threads,
        "held_out": {
            k: facts[k]
            for k in (
                "held_out_pages",
                "held_out_lines",
                "cer_before",
                "cer_after",
                "training_lines",
            )
        },  # fmt: skip
        "test": {},
    }
    for decoder in ("greedy", "auto"):
        before = evaluate(args.model, test, decoder)
        after = evaluate(str(model), test, decoder)
        for r in (before, after):
            r["command"] = r["command"].replace(str(tmp), "TMP")
        result["test"][decoder] = {"before": before, "after": after}
        print(f"  test ({before['lines']} lines, {decoder}): CER {100 * before['cer']:.2f}% "
              f"before, {100 * after['cer']:.2f}% after", flush=True)  # fmt: skip
    return result


def card_text(results: list[dict]) -> str:
    rows = [
        "| collection | adapted on | held out by `adapt`: CER before / after | test pages "
        "(lines) | test CER, greedy: before / after | test CER, default decoding: "
        "before / after |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        h, g, a = r["held_out"], r["test"]["greedy"], r["test"]["auto"]
        pages = len(r["adapt_pages"]) - len(h["held_out_pages"])
        rows.append(
            f"| {r['collection']} | {h['training_lines']} lines of {pages} "
            f"pages, {r['minutes']} min on {r['threads']} thread(s) | "
            f"{100 * h['cer_before']:.2f}% / {100 * h['cer_after']:.2f}% "
            f"({h['held_out_lines']} lines of {len(h['held_out_pages'])} page(s)) | "
            f"{r['test_pages']} ({g['before']['lines']}) | "
            f"{100 * g['before']['cer']:.2f}% / **{100 * g['after']['cer']:.2f}%** | "
            f"{100 * a['before']['cer']:.2f}% / **{100 * a['after']['cer']:.2f}%** |"
        )  # fmt: skip
    return "\n".join(rows) + (
        "\n\n(`python benchmarks/adaptation.py`; each row's `htrkit adapt` command is in "
        "`benchmarks/results/adaptation.json`.)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", default="default")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--update-card", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench(name, args, Path(tmp)) for name in args.case or ["lectaurep", "poilus"]]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    if args.update_card:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from default_model import replace_blocks

        replace_blocks(args.update_card, {"adaptation": card_text(results)})


if __name__ == "__main__":
    main()

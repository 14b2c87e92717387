"""Line segmenters on the page-disjoint validation splits of Copiste and Testaments de
Poilus (the pages the default model's recipe holds out, and the learned segmenter's
training leaves unseen), with ``htrkit eval-seg``.

    python benchmarks/segmentation.py [--segmenters projection astar learned] [--model default]
        [--markdown docs/pages.md] [--json benchmarks/results/segmentation.json]

Per segmenter and set: line precision / recall / F1 at IoU 0.5 within the annotated text
regions (``htrkit eval-seg``'s default) and on the whole page (``--whole-page``, a second
run without the model), baseline F1, seconds per page (segmentation alone, 2 CPU cores),
and with the model the page CER read end to end against the CER on the true lines.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from default_model import replace_blocks  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
SETS = {
    "Copiste": [SHARED / "copiste-pages", "--dataset-option", "group_by=document",
                "--dataset-option", r"document_pattern=^(?:imp_|oldbatch_)?wikitexte_\d+"],
    "Poilus": [SHARED / "poilus-pages"],
}  # fmt: skip
SPLIT = ["--split", "val", "--val-fraction", "0.1", "--split-seed", "240"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--segmenters", nargs="+", default=["projection", "astar", "learned"])
    ap.add_argument("--model", default="default", help="'' for segmentation only")
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    for name in args.segmenters:
        for label, dataset in SETS.items():
            cmd = [sys.executable, "-m", "htrkit", "eval-seg", *map(str, dataset), *SPLIT,
                   "--segmenter", name, "--json", "--no-progress"]  # fmt: skip
            if args.model:
                cmd += ["--model", args.model]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            total = json.loads(out.stdout)["total"]
            whole = (cmd[: cmd.index("--model")] if args.model else cmd) + ["--whole-page"]
            out = subprocess.run(whole, capture_output=True, text=True, check=True)
            strict = json.loads(out.stdout)["total"]
            total["whole_page_line_f1"] = strict["line_f1"]
            total["whole_page_line_precision"] = strict["line_precision"]
            rows.append({"segmenter": name, "set": label, **total})
            print(name, label, {k: round(v, 3) for k, v in total.items()}, flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": platform.machine(), "rows": rows}, indent=1))
    if args.markdown:
        replace_blocks(args.markdown, {"segmentation": table(rows)})


def table(rows: list[dict]) -> str:
    out = [
        "| segmenter | set | pages | line P / R / F1 | whole page: P / F1 | baseline F1 "
        "| s/page | page CER % | true-line CER % |",
        "|---|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        cer = (
            f"{100 * r['page_cer']:.1f} | {100 * r['true_line_cer']:.1f}"
            if "page_cer" in r
            else "- | -"
        )
        out.append(
            f"| {r['segmenter']} | {r['set']} | {r['pages']} | {r['line_precision']:.3f} / "
            f"{r['line_recall']:.3f} / **{r['line_f1']:.3f}** | "
            f"{r['whole_page_line_precision']:.3f} / {r['whole_page_line_f1']:.3f} | "
            f"{r['baseline_f1']:.3f} | "
            f"{r['seconds_per_page']:.2f} | {cer} |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    main()

"""Which backbone to use: validation CER per CPU-hour of training.

    python benchmarks/architectures.py --dataset dhsd --minutes 10 [--height 32]
    python benchmarks/architectures.py --dataset copiste --minutes 60 --height 48

Trains every registered backbone (or the ones named with --backbones) from scratch on the
same data, each for the same wall-clock budget on this machine, validating every 100
steps, and prints the validation CER each reached and when. The samples are preprocessed
once into an LMDB cache shared by all runs.

- ``dhsd``: German handwritten words (``../shared/data/dhsd-words``), validation writers
  held out. Cheap enough to compare backbones in minutes on 2 CPU cores.
- ``copiste``: French handwritten lines (``../shared/data/copiste-pages``), split by copied
  text. Each backbone needs about an hour on 2 cores to leave the CTC plateau.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPISTE = ROOT.parent / "shared" / "data" / "copiste-pages"
DHSD = ROOT.parent / "shared" / "data" / "dhsd-words" / "labels.tsv"
COPISTE_OPTIONS = {
    "exclude_pattern": r"(?i)wiki\s*texte",
    "group_by": "document",
    "document_pattern": r"^(?:imp_|oldbatch_)?wikitexte_\d+",
}


def main() -> None:
    from htrkit.plugins import registry
    from htrkit.training.config import from_dict
    from htrkit.training.loop import Trainer

    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", choices=["dhsd", "copiste"], default="dhsd")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--height", type=int, default=48)
    parser.add_argument("--backbones", default="")
    parser.add_argument("--work", default=str(ROOT / "runs" / "architectures"))
    args = parser.parse_args()
    names = args.backbones.split(",") if args.backbones else registry("backbone").names()
    work = Path(args.work)
    if args.dataset == "dhsd":
        source = {"path": str(DHSD), "format": "table", "options": {"group_column": "writer"}}
    else:
        source = {"path": str(COPISTE), "format": "alto", "options": COPISTE_OPTIONS}
    rows = []
    for name in names:
        config = from_dict(
            {
                "model": {
                    "backbone": name,
                    "input_height": args.height,
                    "backbone_options": {"height": args.height},
                },
                "data": {
                    "train": [source],
                    "val_fraction": 0.15,
                    "cache": str(work / f"{args.dataset}-{args.height}.lmdb"),
                },
                "train": {
                    "output": str(work / f"{args.dataset}-{name}"),
                    "epochs": 1000,
                    "max_minutes": args.minutes,
                    "patience": 0,
                    "batch_size": 16,
                    "lr": 1e-3,
                    "threads": 2,
                    "eval_every_steps": 100,
                },
            }
        )
        start = time.monotonic()
        summary = Trainer(config, log=print).fit()
        history = json.loads((work / f"{args.dataset}-{name}" / "history.json").read_text())
        at = {m: _cer_at(history, 60 * m) for m in (2, 5, args.minutes)}
        steps = summary["steps"]
        rows.append(
            {
                "backbone": name,
                "minutes": round((time.monotonic() - start) / 60, 1),
                "epochs": history[-1]["epoch"] if history else 0,
                "lines/s": round(steps * 16 / (60 * summary["minutes"]), 1),
                **{f"CER@{m:g}min": v for m, v in at.items()},
                "best val CER": round(100 * summary["best_cer"], 2),
            }
        )
        print(rows[-1], flush=True)
    print(f"\n{args.dataset}, height {args.height}, {args.minutes} min per backbone, 2 threads\n")
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(str(v) for v in row.values()) + " |")


def _cer_at(history: list[dict], seconds: float) -> float | None:
    """The best validation CER (%) reached within ``seconds`` of training."""
    seen = [r["val_cer"] for r in history if r["seconds"] <= seconds + 1]
    return round(100 * min(seen), 2) if seen else None


if __name__ == "__main__":
    main()

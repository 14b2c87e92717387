"""Which backbone to use for lines: validation CER per CPU-hour of training.

    python benchmarks/architectures.py --minutes 8 [--height 48] [--backbones a,b,c]

Trains every registered backbone (or the ones named) from scratch on the same Copiste
lines (``../shared/data/copiste-pages``, split by copied text), each for the same wall-clock
budget on this machine, and prints the validation CER each reached. The lines are
preprocessed once into an LMDB cache shared by all runs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPISTE = ROOT.parent / "shared" / "data" / "copiste-pages"
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
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--height", type=int, default=48)
    parser.add_argument("--backbones", default="")
    parser.add_argument("--work", default=str(ROOT / "runs" / "architectures"))
    args = parser.parse_args()
    names = args.backbones.split(",") if args.backbones else registry("backbone").names()
    work = Path(args.work)
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
                    "train": [{"path": str(COPISTE), "format": "alto", "options": COPISTE_OPTIONS}],
                    "val_fraction": 0.1,
                    "cache": str(work / f"copiste-{args.height}.lmdb"),
                },
                "train": {
                    "output": str(work / name),
                    "epochs": 1000,
                    "max_minutes": args.minutes,
                    "patience": 0,
                    "batch_size": 16,
                    "lr": 1e-3,
                    "threads": 2,
                    "eval_every_steps": 150,
                },
            }
        )
        start = time.monotonic()
        summary = Trainer(config, log=print).fit()
        history = json.loads((work / name / "history.json").read_text())
        steps = summary["steps"]
        rows.append(
            {
                "backbone": name,
                "minutes": round((time.monotonic() - start) / 60, 1),
                "epochs": len(history),
                "lines/s": round(steps * 16 / (60 * summary["minutes"]), 1),
                "best val CER": round(100 * summary["best_cer"], 2),
            }
        )
        print(rows[-1], flush=True)
    print(f"\nCopiste lines, height {args.height}, {args.minutes} min per backbone, 2 threads\n")
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(str(v) for v in row.values()) + " |")


if __name__ == "__main__":
    main()

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

At the scale of the default model, the candidates are trained by the default recipe with
overrides (commands in docs/backbones.md), and this script only reads their histories:

    python benchmarks/architectures.py --curves runs/default-v2 runs/cmp-crnn-small-32 ...
        [--names ...] [--marks 15 30 45 60] [--plot docs/images/backbones-cer-cpu.png]
        [--markdown docs/backbones.md]

prints, and with ``--markdown`` writes between ``<!-- curves -->`` markers, the best
validation CER each run had reached by each mark of CPU minutes (``cpu_minutes`` in
``history.json``: the training process's CPU time, all threads, summed over resumed runs).

    python benchmarks/architectures.py --per-set runs/default-v2/best.safetensors ...
        --caches runs/default-line-48.lmdb ... [--markdown docs/backbones.md]

reads the recipe's validation lines of each source from a line cache written with the
model's own preprocessing (one cache per model, in order) and prints the greedy CER per
set (between ``<!-- per-set -->`` markers with ``--markdown``). The cache holds the
preprocessed images that ``htrkit eval`` would compute, so the figures are its figures;
``benchmarks/default_model.py`` runs ``htrkit eval`` itself for the model card.
"""

from __future__ import annotations

import argparse
import json
import sys
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


def curves(runs: list[Path], names: list[str], marks: list[float], plot, markdown) -> None:
    """The validation CER against CPU minutes of finished or running training runs."""
    rows = []
    series = []
    for run, name in zip(runs, names):
        history = json.loads((run / "history.json").read_text())
        points = [(h["cpu_minutes"], 100 * h["val_cer"]) for h in history if "cpu_minutes" in h]
        if not points:
            raise SystemExit(f"{run}: history.json has no cpu_minutes (an older run)")
        series.append((name, points))
        row = {"candidate": name, "evaluations": len(points)}
        for m in marks:
            seen = [c for t, c in points if t <= m + 0.5]
            row[f"{m:g} CPU-min"] = f"{min(seen):.2f}" if seen else "-"
        row["CPU-min in all"] = f"{points[-1][0]:.0f}"
        row["best val CER"] = f"{min(c for _, c in points):.2f}"
        row["lines seen"] = f"{history[-1]['step'] * 16:,}"
        rows.append(row)
    table = "| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]) + "\n"
    table += "\n".join("| " + " | ".join(str(v) for v in r.values()) + " |" for r in rows)
    print(table)
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
        for name, points in series:
            ax.plot(*zip(*points), marker="o", ms=3, label=name)
        ax.set_xlabel("CPU minutes of training (all threads)")
        ax.set_ylabel("validation CER % (greedy, all sets)")
        ax.set_ylim(0, min(100, max(c for _, p in series for _, c in p) + 5))
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        Path(plot).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(plot)
        print(f"wrote {plot}")
    if markdown:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from default_model import replace_blocks

        replace_blocks(Path(markdown), {"curves": table})


def per_set(models: list[str], caches: list[Path], markdown) -> None:
    """Greedy CER per validation set of the default recipe, read from line caches."""
    import numpy as np

    from htrkit.decoders.greedy import GreedyDecoder
    from htrkit.metrics.text import CharacterErrorRate
    from htrkit.recognizer import Recognizer
    from htrkit.training.cache import LmdbStore, split_records
    from htrkit.training.config import load_config

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from default_model import NAMES, RECIPE

    config = load_config(RECIPE)
    names = [
        next((n for key, n in NAMES.items() if key in s.path), Path(s.path).name)
        for s in config.data.train
    ]
    shares = config.data.shares()
    table: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    for model, cache in zip(models, caches):
        store = LmdbStore(cache)
        heads = [store.head(i) for i in range(store.meta.get("n_train", len(store)))]
        _, val = split_records(heads, shares, config.data.split_seed)
        recognizer = Recognizer.load(model)
        decoder, cer = GreedyDecoder(), CharacterErrorRate()
        by_set: dict[str, tuple[list[str], list[str]]] = {}
        order = sorted(val, key=lambda i: heads[i].image.shape[1])
        for start in range(0, len(order), 32):
            chunk = order[start : start + 32]
            records = [store[i] for i in chunk]
            for r, lp in zip(records, recognizer.log_probs([r.image for r in records])):
                preds, refs = by_set.setdefault(names[r.source], ([], []))
                preds.append(decoder.decode(lp, recognizer.alphabet).text)
                refs.append(r.text)
        label = Path(model).parent.name if Path(model).name == "best.safetensors" else model
        table[label] = {k: 100 * cer.corpus(*v) for k, v in by_set.items()}
        table[label]["all"] = 100 * cer.corpus(
            [p for v in by_set.values() for p in v[0]], [r for v in by_set.values() for r in v[1]]
        )
        counts.update({k: len(v[1]) for k, v in by_set.items()})
        counts["all"] = int(np.sum([len(v[1]) for v in by_set.values()]))
        print(label, {k: round(v, 2) for k, v in table[label].items()}, flush=True)
    sets = [n for n in dict.fromkeys(names) if n in counts] + ["all"]
    text = "| model | " + " | ".join(f"{n} ({counts[n]:,})" for n in sets) + " |\n"
    text += "|---|" + "---:|" * len(sets) + "\n"
    text += "\n".join(
        f"| {label} | " + " | ".join(f"{row[n]:.2f}" for n in sets) + " |"
        for label, row in table.items()
    )
    print(text)
    if markdown:
        from default_model import replace_blocks

        replace_blocks(Path(markdown), {"per-set": text})


def main() -> None:
    from htrkit.plugins import registry
    from htrkit.training.config import from_dict
    from htrkit.training.loop import Trainer

    parser = argparse.ArgumentParser()
    parser.add_argument("--curves", nargs="+", type=Path, help="read these runs' histories")
    parser.add_argument("--names", nargs="+", help="one per --curves run")
    parser.add_argument("--marks", nargs="+", type=float, default=[15, 30, 45, 60])
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--per-set", nargs="+", help="model files to score per validation set")
    parser.add_argument("--caches", nargs="+", type=Path, help="one line cache per --per-set")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--dataset", choices=["dhsd", "copiste"], default="dhsd")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--height", type=int, default=48)
    parser.add_argument("--backbones", default="")
    parser.add_argument("--work", default=str(ROOT / "runs" / "architectures"))
    args = parser.parse_args()
    if args.per_set:
        return per_set(args.per_set, args.caches, args.markdown)
    if args.curves:
        names = args.names or [p.name for p in args.curves]
        return curves(args.curves, names, args.marks, args.plot, args.markdown)
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

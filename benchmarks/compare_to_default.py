"""A model's validation figures against the bundled ``default``'s card, per set and in the
mean over the lines (the figure that decides whether a model ships, issue #24).

    python benchmarks/compare_to_default.py benchmarks/results/accurate-model-accuracy.json

The JSON is what ``benchmarks/default_model.py --json`` writes for the other model; the
default's figures are read from the validation table of ``htrkit/models/default.md``.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def card_rows(card: Path) -> dict[tuple[str, str], tuple[int, float]]:
    """(set, decoder) -> (lines, CER %) from a card's validation table."""
    text = card.read_text(encoding="utf-8")
    found = re.findall(r"^\| (\w+) \| ([\w:=]+) \| (\d+) \| ([\d.]+) \|", text, re.M)
    return {(name, dec): (int(lines), float(cer)) for name, dec, lines, cer in found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="benchmarks/default_model.py --json output")
    parser.add_argument("--card", type=Path, default=ROOT / "htrkit" / "models" / "default.md")
    args = parser.parse_args()
    rows = json.loads(args.results.read_text(encoding="utf-8"))["accuracy"]
    theirs = card_rows(args.card)
    for decoder in dict.fromkeys(r["decoder"] for r in rows):
        ours = [r for r in rows if r["decoder"] == decoder and (r["dataset"], decoder) in theirs]
        lines = sum(r["lines"] for r in ours)
        mine = sum(r["lines"] * 100 * r["cer"] for r in ours) / lines
        base = sum(r["lines"] * theirs[r["dataset"], decoder][1] for r in ours) / lines
        print(f"{decoder}: {mine:.2f}% against {base:.2f}% over {lines} lines "
              f"({base - mine:+.2f} points)")  # fmt: skip
        for r in ours:
            theirs_cer = theirs[r["dataset"], decoder][1]
            print(f"  {r['dataset']:18s} {100 * r['cer']:6.2f}  {theirs_cer:6.2f}")


if __name__ == "__main__":
    main()

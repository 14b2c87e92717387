"""Lines that are not text (stamps, signatures, scribbles): what a confidence threshold
removes, and what real text it loses, on whole validation pages read end to end.

    python benchmarks/min_confidence.py [--sets Copiste Poilus] [--thresholds 0.5 0.6 ...]
        [--json benchmarks/results/min-confidence.json]

Each validation page of the recipe's page sets (Copiste, Poilus: ALTO with line polygons)
is read as ``htrkit run page.jpg`` reads it (the default segmenter, model and decoding).
A found line is **text** when it matches a true line one to one at IoU >= 0.5, and
**not text** when it overlaps no true line at all (IoU < 0.05 with every one) and lies
outside the page's annotated text regions (stamps, printed headers, signatures and
marginalia that nobody transcribed); the rest (partial overlaps) is left out of both
counts. For each threshold: the share of not-text lines removed, and the share of the
text lines' true characters lost with the text lines removed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from default_model import RECIPE, validation_sets  # noqa: E402


def collect(sets: list[str]) -> list[dict]:
    from htrkit import Pipeline
    from htrkit.datasets import DatasetReport, find_reader, split_of
    from htrkit.metrics import segmentation as seg
    from htrkit.results import Page

    pipe = Pipeline()
    rows = []
    for name, path, fmt, _options, fraction, seed, split in validation_sets(RECIPE, sets):
        reader = find_reader(Path(path), fmt)
        for page in reader.pages(Path(path), DatasetReport(), skip_bad=True):
            if split != "all" and split_of(page.group, fraction, seed) != "val":
                continue
            h, w = page.image.shape[:2]
            result = pipe(Page(page.id or page.source, page.image))
            truth = [ln.polygon for ln in page.lines]
            found = [ln.polygon for ln in result.lines]
            iou = seg.iou_matrix(truth, found, w, h)
            pairs = dict((p, g) for g, p in seg.match(iou, 0.5))
            regions = seg.annotated(page.regions, truth, w, h)
            inside = seg.inside_regions(found, regions, w, h) if regions else [True] * len(found)
            for j, line in enumerate(result.lines):
                if j in pairs:
                    kind, chars = "text", len(page.lines[pairs[j]].text)
                elif (iou.shape[0] == 0 or iou[:, j].max() < 0.05) and not inside[j]:
                    kind, chars = "not text", 0
                else:
                    continue
                rows.append({"set": name, "page": page.id, "kind": kind, "chars": chars,
                             "confidence": line.confidence, "read": line.text})  # fmt: skip
    return rows


def table(rows: list[dict], thresholds: list[float]) -> list[dict]:
    text = [r for r in rows if r["kind"] == "text"]
    junk = [r for r in rows if r["kind"] == "not text"]
    total = sum(r["chars"] for r in text) or 1
    out = []
    for t in thresholds:
        out.append({
            "threshold": t,
            "not_text_removed": sum(r["confidence"] < t for r in junk) / max(len(junk), 1),
            "text_chars_lost": sum(r["chars"] for r in text if r["confidence"] < t) / total,
            "text_lines_lost": sum(r["confidence"] < t for r in text) / max(len(text), 1),
        })  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=["Copiste", "Poilus"])
    parser.add_argument("--thresholds", nargs="+", type=float,
                        default=[0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9])  # fmt: skip
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = collect(args.sets)
    text = sum(r["kind"] == "text" for r in rows)
    junk = [r for r in rows if r["kind"] == "not text"]
    print(f"{text} text lines, {len(junk)} not-text lines on the validation pages of "
          f"{', '.join(args.sets)}; not text read as e.g. "
          + ", ".join(repr(r["read"]) for r in junk[:5]))  # fmt: skip
    print("| min confidence | not-text lines removed | text lines lost | text characters lost |")
    print("|---|---|---|---|")
    results = table(rows, args.thresholds)
    for r in results:
        removed, lines = 100 * r["not_text_removed"], 100 * r["text_lines_lost"]
        print(f"| {r['threshold']:.2f} | {removed:.1f}% | {lines:.1f}% | "
              f"{100 * r['text_chars_lost']:.1f}% |")  # fmt: skip
    if args.json:
        counts = {"text_lines": text, "not_text_lines": len(junk), "sets": args.sets}
        args.json.write_text(json.dumps({**counts, "table": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()

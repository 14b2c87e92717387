"""What the ``capitals`` postprocessor does on every validation set of the default model:
CER before and after, per set, on the recipe's validation lines read from the line cache
(greedy, as ``benchmarks/architectures.py --per-set`` reads them).

    python benchmarks/capitals.py [--model default] [--cache runs/default-line-48.lmdb]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--cache", type=Path, default=ROOT / "runs" / "default-line-48.lmdb")
    parser.add_argument(
        "--synthetic",
        type=int,
        default=500,
        help="block-capital lines rendered with a seed training never used",
    )
    args = parser.parse_args()

    from default_model import NAMES, RECIPE

    from htrkit import Pipeline
    from htrkit.metrics.text import CharacterErrorRate
    from htrkit.postprocess import Capitals
    from htrkit.results import CharResult, LineResult
    from htrkit.training.cache import LmdbStore, split_records
    from htrkit.training.config import load_config

    config = load_config(RECIPE)
    names = [next((n for k, n in NAMES.items() if k in s.path), Path(s.path).name)
             for s in config.data.train]  # fmt: skip
    store = LmdbStore(args.cache)
    heads = [store.head(i) for i in range(store.meta.get("n_train", len(store)))]
    _, val = split_records(heads, config.data.shares(), config.data.split_seed)
    pipe = Pipeline(model=args.model, decoder="greedy")
    reader, capitals = pipe.recognizer, Capitals()
    by_set: dict[str, list[tuple[str, str, str]]] = {}
    order = sorted(val, key=lambda i: heads[i].image.shape[1])
    for start in range(0, len(order), 32):
        records = [store[i] for i in order[start : start + 32]]
        for r, lp in zip(records, reader.log_probs([r.image for r in records])):
            text = pipe.decoder.decode(lp, reader.alphabet).text
            line = LineResult(text, 1.0, (0, 0, 1, 1), chars=[CharResult(c, 0, 1, 1.0, 0)
                                                               for c in text])  # fmt: skip
            after = capitals(line).text
            by_set.setdefault(names[r.source], []).append((text, after, r.text))
    if args.synthetic:  # names and places in block capitals, letter-spaced or boxed
        from htrkit.datasets import read_dataset

        corpus = ROOT.parent / "shared" / "data" / "text" / "enwiki_206_articles.txt"
        fonts = str(ROOT.parent / "shared" / "data" / "fonts")
        options = {"n": args.synthetic, "fonts": [fonts], "seed": 99, "kind": "capitals"}
        samples = list(read_dataset(corpus, "synth", options))
        for s in samples:
            result = pipe(s.image)
            text = result.text
            line = result.lines[0] if result.lines else LineResult("", 1.0, (0, 0, 1, 1))
            by_set.setdefault("synthetic capitals (seed 99)", []).append(
                (text, capitals(line).text if result.lines else "", s.text)
            )
    cer = CharacterErrorRate()
    print("| set | lines | lines changed | CER before % | CER after % |")
    print("|---|---:|---:|---:|---:|")
    real = [x for k, v in by_set.items() if not k.startswith("synthetic") for x in v]
    rows = list(by_set.items()) + [("all real sets", real)]
    for name, items in rows:
        before = 100 * cer.corpus([b for b, _, _ in items], [t for _, _, t in items])
        after = 100 * cer.corpus([a for _, a, _ in items], [t for _, _, t in items])
        changed = sum(b != a for b, a, _ in items)
        print(f"| {name} | {len(items)} | {changed} | {before:.2f} | {after:.2f} |")


if __name__ == "__main__":
    main()

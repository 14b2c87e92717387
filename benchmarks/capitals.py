"""What the ``capitals`` postprocessor does, on every validation set of the default model
and on synthetic block capitals in fonts no model trained on. Before, it wrote a word read
mostly in capitals in capitals (``BiLEL`` -> ``BILEL``); now it also places the spaces of a
run of capitals written apart from the letters' frame positions (``C H A R L ES`` ->
``CHARLES``, ``LANDEDUNION`` -> ``LANDED UNION``) and leaves out a form's printed field label
read before a name (``PRENOM BILEL`` -> ``BILEL``).

    python benchmarks/capitals.py [--model default] [--cache runs/default-line-48.lmdb]
        [--synthetic 100] [--markdown benchmarks/results/capitals.md]

Each line is read once with the model's default decoding and no postprocessing
(``Pipeline(postprocessors=[])``, one line image a page, so each has its characters'
positions); the columns apply to that reading: nothing, the postprocessor as it was
(``word_gap=0, field_labels=false``: the case alone) and as it is now (the default).

Real sets: the recipe's validation lines, read from the line cache that training wrote.
Synthetic: ``--synthetic`` names and places (one to three corpus words of English Wikipedia
in capitals, ``htrkit.synth.kinds.capitals_text``) per style, drawn in the five fonts of
``benchmarks/fonts`` in turn: letter-spaced by 0.8, 1.6 and 2.5 times the font size
(words 1.5 times as far apart), and one letter to a box 1.2, 1.8 and 2.6 times the font
size wide (a space is an empty box); seed 5. And, seed 11, the same names with a printed
field label to their left (``LABELS`` below, in print 0.25-0.45 of the line's height, as
``htrkit.synth.kinds.add_label_and_rule`` draws them): written plainly, letter-spaced by
1.6 and boxed 1.8.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

STYLES = {
    "letter-spaced 0.8": ("spaced", 0.8, 5),
    "letter-spaced 1.6": ("spaced", 1.6, 5),
    "letter-spaced 2.5": ("spaced", 2.5, 5),
    "boxed 1.2": ("boxed", 1.2, 5),
    "boxed 1.8": ("boxed", 1.8, 5),
    "boxed 2.6": ("boxed", 2.6, 5),
    "labelled, plain": ("plain", 0.0, 11),
    "labelled, letter-spaced 1.6": ("spaced", 1.6, 11),
    "labelled, boxed 1.8": ("boxed", 1.8, 11),
}
#: the printed labels of name fields drawn before the names (seed 11)
LABELS = ("NOM", "PRENOM", "PRÉNOM", "NAME", "SURNAME", "VORNAME", "NACHNAME", "VILLE",
          "CITY", "FIRST NAME", "NOM :", "Prénom :", "Name:")  # fmt: skip


def synthetic(n: int) -> dict[str, list[tuple[str, np.ndarray]]]:
    """``n`` (text, image) pairs of block capitals per style."""
    from htrkit.synth import kinds
    from htrkit.synth.corpus import TextSource
    from htrkit.synth.fonts import load_fonts
    from htrkit.synth.renderer import Renderer, RenderOptions

    fonts = load_fonts([ROOT / "benchmarks" / "fonts"])
    corpus = ROOT.parent / "shared" / "data" / "text" / "enwiki_206_articles.txt"
    source = TextSource.from_files([corpus])
    out = {}
    for style, (kind, factor, seed) in STYLES.items():
        rng = np.random.default_rng(seed)
        items: list[tuple[str, np.ndarray]] = []
        k = 0
        while len(items) < n:
            text, font = kinds.capitals_text(source, rng), fonts[k % len(fonts)]
            k += 1
            if not font.covers(text):
                continue
            if kind == "plain":
                image = Renderer(RenderOptions(joined=0.0)).render(text, font, rng)
            elif kind == "spaced":
                options = RenderOptions(spacing=factor, joined=0.0, word_gap=factor * 1.5)
                image = Renderer(options).render(text, font, rng)
            else:
                boxes = kinds.boxed_capitals(text, font, rng, (factor, factor))
                image = kinds.compose(boxes, rng, 40)
            if style.startswith("labelled"):
                label = LABELS[int(rng.integers(len(LABELS)))]
                image = kinds.add_label_and_rule(image, rng, label, rule=False)
            items.append((text, image))
        out[style] = items
    return out


def real_sets(cache: Path) -> dict[str, list[tuple[str, np.ndarray]]]:
    """The recipe's validation lines from the line cache, per set."""
    from default_model import NAMES, RECIPE

    from htrkit.training.cache import LmdbStore, split_records
    from htrkit.training.config import load_config

    config = load_config(RECIPE)
    names = [next((n for k, n in NAMES.items() if k in s.path), Path(s.path).name)
             for s in config.data.train]  # fmt: skip
    store = LmdbStore(cache)
    heads = [store.head(i) for i in range(store.meta.get("n_train", len(store)))]
    _, val = split_records(heads, config.data.shares(), config.data.split_seed)
    out: dict[str, list[tuple[str, np.ndarray]]] = {}
    for i in val:
        record = store[i]
        out.setdefault(names[record.source], []).append((record.text, record.image))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--cache", type=Path, default=ROOT / "runs" / "default-line-48.lmdb")
    parser.add_argument("--synthetic", type=int, default=100, help="lines per style")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()

    from htrkit import Pipeline
    from htrkit.metrics.text import CharacterErrorRate
    from htrkit.postprocess import Capitals, CapitalsOptions
    from htrkit.results import LineRegion, Page

    sets = real_sets(args.cache) if args.cache.exists() else {}
    if not sets:
        print(f"{args.cache}: no line cache; real sets left out", file=sys.stderr)
    sets.update({f"synthetic, {k}": v for k, v in synthetic(args.synthetic).items()})
    pipe = Pipeline(model=args.model, postprocessors=[], batch_size=32)
    steps = {
        "as read": lambda line: line,
        "before": Capitals(CapitalsOptions(word_gap=0, field_labels=False)),
        "now": Capitals(),
    }
    cer = CharacterErrorRate()
    rows = ["| set | lines | lines changed | CER: as read / before / now % | "
            "exact: as read / before / now % | one-word names split: as read / now |",
            "|---|---:|---:|---|---|---|"]  # fmt: skip
    real: dict[str, list] = {name: [] for name in steps}
    truths: list[str] = []
    for name, items in sets.items():
        pages = [Page(f"{name}-{k}", image, [LineRegion((0, 0, image.shape[1], image.shape[0]))])
                 for k, (_, image) in enumerate(items)]  # fmt: skip
        results = pipe.batch(pages)
        lines = [r.lines[0] if r.lines else None for r in results]
        texts = {
            step: [fix(line).text if line is not None else "" for line in lines]
            for step, fix in steps.items()
        }
        refs = [t for t, _ in items]
        scores = [100 * cer.corpus(texts[s], refs) for s in steps]
        exact = [100 * np.mean([a == b for a, b in zip(texts[s], refs)]) for s in steps]
        changed = sum(a != b for a, b in zip(texts["before"], texts["now"]))
        one = [k for k, t in enumerate(refs) if " " not in t]
        split = [sum(" " in texts[s][k] for k in one) for s in ("as read", "now")]
        shown_split = f"{split[0]} / {split[1]} of {len(one)}" if name.startswith("synth") else ""
        rows.append(f"| {name} | {len(items)} | {changed} | "
                    f"{' / '.join(f'{x:.2f}' for x in scores)} | "
                    f"{' / '.join(f'{x:.1f}' for x in exact)} | {shown_split} |")  # fmt: skip
        print(rows[-1], flush=True)
        if not name.startswith("synth"):
            for s in steps:
                real[s] += texts[s]
            truths += refs
    if truths:
        scores = [100 * cer.corpus(real[s], truths) for s in steps]
        exact = [100 * np.mean([a == b for a, b in zip(real[s], truths)]) for s in steps]
        changed = sum(a != b for a, b in zip(real["before"], real["now"]))
        rows.append(f"| all real sets | {len(truths)} | {changed} | "
                    f"{' / '.join(f'{x:.2f}' for x in scores)} | "
                    f"{' / '.join(f'{x:.1f}' for x in exact)} | |")  # fmt: skip
        print(rows[-1])
    if args.markdown:
        args.markdown.write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

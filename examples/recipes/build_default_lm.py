"""Build the default lexicon and language models that ship with htrkit (the decoders'
``default``): ``htrkit/models/default-lexicon.txt``, ``default-words.arpa.gz`` and
``default-chars.arpa.gz`` (KenLM reads gzipped ARPA files).

    python examples/recipes/build_default_lm.py [--shared ../shared/data] [--out htrkit/models]

The corpus is English Wikipedia (``text/enwiki_206_articles.txt``, cut into sentences)
plus the transcriptions of the default model's *training* lines: every real source of the
recipe, split exactly as the recipe splits it (its own ``val_fraction``; test folders
left out), read from the recipe's line cache, so that no validation line is in it (the
decoders' figures on the validation splits would otherwise be flattered).

- the lexicon: every word (a run of letters) of the corpus with its count, most frequent
  first, as ``word count`` lines; words seen once in Wikipedia are left out (mostly names
  and typos), every word of the transcriptions is kept;
- the word model: ``--word-order``-grams (modified Kneser-Ney, ``htrkit lm build``);
- the character model: ``--char-order``-grams over characters.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "examples" / "recipes" / "default-line.toml"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
WORD = re.compile(r"[^\W\d_]+")


def training_texts(recipe: Path) -> list[str]:
    """The transcriptions of the recipe's training split (its validated sources only: not
    the synthetic lines), read from the recipe's line cache (written if missing)."""
    from htrkit.training.config import load_config
    from htrkit.training.loop import Trainer

    # the cache's preprocessing is the recipe's own: standard steps at its input height
    config = load_config(recipe, ['model.init=""'])
    trainer = Trainer(config, log=lambda message: print(message, file=sys.stderr))
    trainer.load_data()
    real = {k for k, source in enumerate(config.data.train) if source.split == "auto"}
    heads = (trainer.store.head(i) for i in trainer.train_idx)
    return [h.text for h in heads if h.source in real]


def wikipedia_sentences(path: Path) -> list[str]:
    sentences = []
    for article in path.read_text(encoding="utf-8").splitlines():
        sentences += [s.strip() for s in SENTENCE_END.split(article) if s.strip()]
    return sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "htrkit" / "models")
    parser.add_argument("--word-order", type=int, default=3)
    parser.add_argument("--char-order", type=int, default=5)
    args = parser.parse_args()

    wiki = wikipedia_sentences(args.shared / "text" / "enwiki_206_articles.txt")
    lines = training_texts(RECIPE)
    print(f"corpus: {len(wiki):,} Wikipedia sentences, {len(lines):,} training lines")

    build(wiki, lines, args.out, "default", args.word_order, args.char_order)


def word_counts(external: list[str], own: list[str]) -> Counter[str]:
    """Every word of ``own`` (transcriptions), and the words of ``external`` running text
    seen twice or more (once is mostly names and typos)."""
    counts: Counter[str] = Counter()
    for sentence in external:
        counts.update(WORD.findall(sentence))
    kept = Counter({w: n for w, n in counts.items() if n >= 2})
    for line in own:
        kept.update(WORD.findall(line))
    return kept


def build(
    external: list[str],
    own: list[str],
    out: Path,
    prefix: str,
    word_order: int,
    char_order: int,
    extra_words: list[str] = (),
) -> None:
    """``out/PREFIX-lexicon.txt`` (``word count`` lines, most frequent first; each of
    ``extra_words`` not yet in it with count 1), ``PREFIX-words.arpa.gz`` and
    ``PREFIX-chars.arpa.gz`` (modified Kneser-Ney, ``htrkit lm build --builtin``) from the
    running text ``external`` and the transcriptions ``own``."""
    kept = word_counts(external, own)
    for word in extra_words:
        if WORD.fullmatch(word) and word not in kept:
            kept[word] = 1
    out.mkdir(parents=True, exist_ok=True)
    lexicon = out / f"{prefix}-lexicon.txt"
    ranked = sorted(kept.items(), key=lambda kv: (-kv[1], kv[0]))
    lexicon.write_text("".join(f"{w} {n}\n" for w, n in ranked), encoding="utf-8")
    print(f"{lexicon}: {len(kept):,} words")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(external + own) + "\n", encoding="utf-8")
        for name, extra in (
            (f"{prefix}-words.arpa.gz", ["--order", str(word_order)]),
            (f"{prefix}-chars.arpa.gz", ["--order", str(char_order), "--char"]),
        ):
            arpa = Path(tmp) / "lm.arpa"
            cmd = [sys.executable, "-m", "htrkit", "lm", "build", str(corpus), "-o", str(arpa),
                   "--builtin", *extra]  # fmt: skip
            subprocess.run(cmd, check=True)
            # gzip's header holds no time or name here, so equal input gives equal bytes
            with open(arpa, "rb") as src, open(out / name, "wb") as raw:
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as dst:
                    shutil.copyfileobj(src, dst)
            print(f"{out / name}: {(out / name).stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

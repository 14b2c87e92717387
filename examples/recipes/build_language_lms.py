"""Build the per-language lexicons and language models that ship with htrkit
(``--lang en|fr|de``; ``mixed`` is the default ones of ``build_default_lm.py``):
``htrkit/models/lm/{en,fr,de}-chars.arpa.gz``, ``-words.arpa.gz`` and ``-lexicon.txt``.

    pip install wordfreq      # its frequency lists add to the lexicons (CC BY-SA 4.0)
    python examples/recipes/fetch_data.py          # the default recipe's data and cache
    python examples/recipes/build_language_lms.py [--ud ../.mirror] [--out htrkit/models/lm]

Running text, all openly licensed (credited in docs/languages.md):

- ``en``: English Wikipedia (``../shared/data/text/enwiki_206_articles.txt``, CC BY-SA);
- ``fr``: the transcriptions of the default recipe's *training* lines of its French
  sources (every real source but DHSD; CC BY 4.0), and the sentences of the Universal
  Dependencies French GSD treebank (CC BY-SA 4.0, dev and test files);
- ``de``: the DHSD training words (CC BY 4.0), and the sentences of the UD German GSD
  treebank (CC BY-SA 4.0, dev and test files).

No validation text is in any of them: the transcriptions come from the recipe's training
split, and a treebank sentence that shares six words in a row with any validation line
of the recipe is left out (the Copiste validation texts are copies of Wikipedia articles,
as some GSD sentences are).

The UD treebanks are Git repositories (``UniversalDependencies/UD_French-GSD`` and
``UD_German-GSD``); ``--ud`` is a folder holding their clones or mirrors (the files are
read with ``git show`` when the folder is a bare repository).

Each language gets a character 5-gram (``htrkit lm build --char``), a word 3-gram, and a
lexicon: every word of its running text (words seen once in the external text left out)
and the 30,000 most frequent words of wordfreq's list for the language.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_default_lm import build, wikipedia_sentences  # noqa: E402  (the same steps)

RECIPE = ROOT / "examples" / "recipes" / "default-line.toml"
TREEBANKS = {"fr": "UD_French-GSD", "de": "UD_German-GSD"}
SHARED = 6  # words in a row that a treebank sentence may not share with a validation line


def recipe_texts(recipe: Path) -> tuple[dict[str, list[str]], list[str]]:
    """The training transcriptions of the recipe's real sources, by language (``de`` for
    DHSD, ``fr`` for the others), and every validation transcription."""
    from htrkit.training.config import load_config
    from htrkit.training.loop import Trainer

    config = load_config(recipe, ['model.init=""'])
    trainer = Trainer(config, log=lambda message: print(message, file=sys.stderr))
    trainer.load_data()
    real = {k for k, source in enumerate(config.data.train) if source.format != "synth"}
    german = {k for k, source in enumerate(config.data.train) if "dhsd" in str(source.path)}
    train: dict[str, list[str]] = {"fr": [], "de": []}
    for i in trainer.train_idx:
        head = trainer.store.head(i)
        if head.source in real:
            train["de" if head.source in german else "fr"].append(head.text)
    val = [trainer.store.head(i).text for i in trainer.val_idx]
    return train, val


def treebank_sentences(folder: Path, lang: str) -> list[str]:
    """The ``# text =`` lines of a UD treebank's dev and test files (a clone, or a bare
    mirror read with ``git show``)."""
    sentences = []
    for name in ("dev", "test"):
        file = f"{lang}_gsd-ud-{name}.conllu"
        if (folder / file).is_file():
            text = (folder / file).read_text(encoding="utf-8")
        else:
            git = ["git", "--git-dir", str(folder), "show", f"HEAD:{file}"]
            text = subprocess.run(git, capture_output=True, text=True, check=True).stdout
        sentences += [ln[len("# text = ") :].strip() for ln in text.splitlines()
                      if ln.startswith("# text = ")]  # fmt: skip
    return sentences


def shingles(text: str) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return {tuple(words[i : i + SHARED]) for i in range(len(words) - SHARED + 1)}


def find_treebank(ud: Path, name: str) -> Path:
    for candidate in (ud / name, ud / f"UniversalDependencies+{name}" / "repo"):
        if candidate.exists():
            return candidate
    sys.exit(f"{ud}: no {name} here (clone github.com/UniversalDependencies/{name} into it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--ud", type=Path, default=ROOT.parent / ".mirror")
    parser.add_argument("--out", type=Path, default=ROOT / "htrkit" / "models" / "lm")
    parser.add_argument("--lang", action="append", choices=["en", "fr", "de"])
    parser.add_argument("--word-order", type=int, default=3)
    parser.add_argument("--char-order", type=int, default=5)
    parser.add_argument("--wordfreq", type=int, default=30000)
    args = parser.parse_args()
    import wordfreq

    langs = args.lang or ["en", "fr", "de"]
    train, val = recipe_texts(RECIPE) if set(langs) & {"fr", "de"} else ({}, [])
    seen = set().union(*(shingles(t) for t in val)) if val else set()
    args.out.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        if lang == "en":
            external = wikipedia_sentences(args.shared / "text" / "enwiki_206_articles.txt")
            own: list[str] = []
        else:
            found = treebank_sentences(find_treebank(args.ud, TREEBANKS[lang]), lang)
            external = [s for s in found if not shingles(s) & seen]
            print(f"{lang}: {len(found) - len(external)} of {len(found)} treebank sentences "
                  "left out (shared with a validation line)")  # fmt: skip
            own = train[lang]
        print(f"{lang}: {len(external):,} sentences of running text, {len(own):,} training lines")
        extra = wordfreq.top_n_list(lang, args.wordfreq, wordlist="large")
        build(external, own, args.out, lang, args.word_order, args.char_order, extra)


if __name__ == "__main__":
    main()

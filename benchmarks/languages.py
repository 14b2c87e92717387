"""The per-language language models on every validation set: the default decoding (the
character LM) with ``--lang mixed`` (the one LM built from all the text, as before),
``--lang auto`` (per page, the language whose character model explains the greedy
reading best) and, for synthetic English, ``--lang en``; with the languages ``auto`` chose.

    python benchmarks/languages.py [--model default] [--sets Copiste DHSD ... | --english-only]
        [--english 200] [--json benchmarks/results/languages.json] [--update-doc docs/languages.md]

Real sets: ``htrkit eval`` on the default recipe's validation splits (the commands of
``benchmarks/default_model.py``, with ``--lang``); a page is a group of the split (a
Copiste text, a Poilus page, a DHSD writer...), read as one page.

English has no real lines here, so ``--english`` lines of the Universal Dependencies
English EWT treebank's dev set (CC BY-SA 4.0; text the English LM never saw) are rendered
in the five fonts of ``benchmarks/fonts`` (no training recipe uses them; see its README),
in turn, ten lines to a page, and read the same way.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from default_model import RECIPE, eval_command, replace_blocks, shown, validation_sets  # noqa: E402

EWT = ROOT.parent / ".mirror" / "UniversalDependencies+UD_English-EWT" / "repo"
#: handwriting fonts that no training recipe draws with (benchmarks/fonts/README.md)
HELD_OUT_FONTS = ROOT / "benchmarks" / "fonts"
ENGLISH = "synthetic English (fonts not trained on)"


def run_eval(cmd: list[str]) -> dict | None:
    """``htrkit eval``'s JSON, or ``None`` for a split without lines."""
    out = subprocess.run([*cmd, "--json", "--worst", "0"], capture_output=True, text=True,
                         cwd=ROOT)  # fmt: skip
    if out.returncode and "no samples to score" in out.stderr:
        return None
    if out.returncode:
        sys.exit(f"{shown(cmd)} failed: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout)


def english_lines(n: int, folder: Path) -> Path:
    """``n`` EWT dev sentences (4-12 words) rendered in the held-out fonts: a table."""
    import cv2
    import numpy as np

    from htrkit.synth.fonts import load_fonts
    from htrkit.synth.renderer import Renderer, RenderOptions

    if (EWT / "en_ewt-ud-dev.conllu").is_file():
        text = (EWT / "en_ewt-ud-dev.conllu").read_text(encoding="utf-8")
    else:
        git = ["git", "--git-dir", str(EWT), "show", "HEAD:en_ewt-ud-dev.conllu"]
        text = subprocess.run(git, capture_output=True, text=True, check=True).stdout
    sentences = [ln[len("# text = ") :].strip() for ln in text.splitlines()
                 if ln.startswith("# text = ")]  # fmt: skip
    fonts = load_fonts([HELD_OUT_FONTS])
    renderer = Renderer(RenderOptions())
    rows, k = ["image\ttext\tpage"], 0
    for sentence in sentences:
        words = sentence.split()
        font = fonts[k % len(fonts)]
        if not 4 <= len(words) <= 12 or not font.covers(sentence):
            continue
        image = renderer.render(sentence, font, np.random.default_rng(k))
        cv2.imwrite(str(folder / f"en{k:04d}.png"), image)
        rows.append(f"en{k:04d}.png\t{sentence}\tp{k // 10:03d}")
        k += 1
        if k == n:
            break
    (folder / "labels.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder / "labels.tsv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default", help="a bundled model's name or a file")
    parser.add_argument("--sets", nargs="*")
    parser.add_argument("--english-only", action="store_true", help="no real sets")
    parser.add_argument("--english", type=int, default=200)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--update-doc", type=Path)
    parser.add_argument(
        "--keep", action="store_true", help="keep the sets already in --json (a rerun goes on)"
    )
    args = parser.parse_args()

    rows = json.loads(args.json.read_text()) if args.keep and args.json.is_file() else []
    done = {r["set"] for r in rows}
    sets = [] if args.english_only else validation_sets(RECIPE, args.sets)
    for name, path, fmt, options, fraction, seed, split in sets:
        if name in done:
            continue
        base = eval_command(args.model, path, fmt, options, fraction, seed, split, "auto")
        row = {"set": name, "command": shown(base)}
        for lang in ("mixed", "auto"):
            result = run_eval([*base, "--lang", lang])
            if result is None:
                print(f"{name}: no validation lines", flush=True)
                break
            row[lang] = round(100 * result["scores"]["cer"], 2)
            row["lines"] = result["samples"]
            if lang == "auto":
                row["chosen"] = result.get("languages", {})
        else:
            print(f"{name}: mixed {row['mixed']}%, auto {row['auto']}% {row['chosen']}",
                  flush=True)  # fmt: skip
            rows.append(row)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    if args.english and ENGLISH not in done:
        with tempfile.TemporaryDirectory() as tmp:
            table = english_lines(args.english, Path(tmp))
            base = ["htrkit", "eval", str(table), "--model", args.model, "--split", "all"]
            base += ["--dataset-format", "table", "--dataset-option", "group_column=page"]
            row = {"set": ENGLISH, "command": shown(base)}
            for lang in ("mixed", "auto", "en"):
                result = run_eval([*base, "--lang", lang])
                row[lang] = round(100 * result["scores"]["cer"], 2)
                row["lines"] = result["samples"]
                if lang == "auto":
                    row["chosen"] = result.get("languages", {})
            print(f"English: mixed {row['mixed']}%, auto {row['auto']}% {row['chosen']}, "
                  f"en {row['en']}%", flush=True)  # fmt: skip
            rows.append(row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    if args.update_doc:
        table = ["| set | lines | CER, `--lang mixed` % | CER, `--lang auto` % | pages `auto` "
                 "read in each language |", "|---|---|---|---|---|"]  # fmt: skip
        for r in rows:
            chosen = ", ".join(f"{k} {v}" for k, v in sorted(r["chosen"].items()))
            table.append(f"| {r['set']} | {r['lines']} | {r['mixed']:.2f} | "
                         f"**{r['auto']:.2f}** | {chosen} |")  # fmt: skip
        replace_blocks(args.update_doc, {"languages": "\n".join(table)})


if __name__ == "__main__":
    main()

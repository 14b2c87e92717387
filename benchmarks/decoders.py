"""Decoders on a trained model's outputs: accuracy and speed over the validation lines.

    python benchmarks/decoders.py [--model default] [--lines 0] [--beam-width 16]
        [--pyctcdecode PYTHON] [--json benchmarks/results/decoders.json]

The model reads every validation line of the default model's recipe once (Copiste by
copied text, Poilus by page, DHSD by writer; ``--lines N`` takes the first N); its
log-probabilities are cached in ``runs/benchmark-logits-<model>.npz``. Each decoder then
decodes all of them in one process, one line at a time; lines/s is lines over decoding
wall time (the model's time is not counted). CER and WER are corpus rates.

With ``--pyctcdecode PYTHON`` (a Python with pyctcdecode and kenlm installed, such as the
one ``plugins/htrkit-pyctcdecode`` is tested with: pyctcdecode pins numpy<2, so it cannot
share htrkit's environment), pyctcdecode decodes the same log-probabilities with the same
KenLM model, alpha, beta and beam width, in a subprocess timed the same way.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from default_model import RECIPE, replace_blocks, validation_sets  # noqa: E402

WORKER = ROOT / "benchmarks" / "pyctcdecode_worker.py"


def logits(model: str, limit: int):
    """Log-probabilities, references and dataset names of the validation lines, and the
    model's alphabet (cached per model file)."""
    import hashlib

    from htrkit.loading import load_recognizer

    recognizer = load_recognizer(model)
    digest = hashlib.sha256(Path(recognizer.source).read_bytes()).hexdigest()[:12]
    cache = ROOT / "runs" / f"benchmark-logits-{digest}.npz"
    if not cache.is_file():
        from htrkit.datasets import read_dataset, split_of

        images, refs, names = [], [], []
        for name, path, fmt, options, fraction, seed, split in validation_sets(RECIPE):
            opts = dict(o.split("=", 1) for o in options if o != "--skip-bad")
            for sample in read_dataset(path, fmt, opts, skip_bad=True):
                if split == "all" or split_of(sample.group, fraction, seed) == "val":
                    images.append(sample.image)
                    refs.append(sample.text)
                    names.append(name)
        lps = [r.log_probs.astype(np.float32) for r in recognizer.read(images)]
        cache.parent.mkdir(exist_ok=True)
        np.savez_compressed(
            cache,
            **{f"lp{i}": lp for i, lp in enumerate(lps)},
            meta=json.dumps({"refs": refs, "names": names}),
        )
    data = np.load(cache)
    meta = json.loads(str(data["meta"]))
    n = len(meta["refs"]) if limit <= 0 else min(limit, len(meta["refs"]))
    lps = [data[f"lp{i}"] for i in range(n)]
    return lps, meta["refs"][:n], meta["names"][:n], list(recognizer.alphabet.chars), cache


def scores(preds: list[str], refs: list[str], names: list[str]) -> dict[str, dict[str, float]]:
    from htrkit.metrics.text import CharacterErrorRate, WordErrorRate

    out = {}
    for name in [*dict.fromkeys(names), "all"]:
        keep = [i for i, n in enumerate(names) if name in (n, "all")]
        p, r = [preds[i] for i in keep], [refs[i] for i in keep]
        out[name] = {
            "cer": CharacterErrorRate().corpus(p, r),
            "wer": WordErrorRate().corpus(p, r),
        }
    return out


def main() -> None:
    from htrkit import Alphabet
    from htrkit.plugins import registry

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--lines", type=int, default=0, help="first N lines (0: all)")
    parser.add_argument("--beam-width", type=int, default=16)
    parser.add_argument("--lm", default="default", help="word KenLM model for kenlm/pyctcdecode")
    parser.add_argument("--char-lm", default="default")
    parser.add_argument("--lexicon", default="default")
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--pyctcdecode", help="a Python that has pyctcdecode")
    parser.add_argument("--only", nargs="*", help="decoder labels to run")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--markdown", type=Path, help="rewrite the <!-- decoders --> table of this file"
    )
    args = parser.parse_args()

    lps, refs, names, chars, cache = logits(args.model, args.lines)
    alphabet = Alphabet(chars)
    frames = sum(lp.shape[0] for lp in lps)
    print(f"{len(lps)} lines ({frames / len(lps):.0f} frames on average), {len(chars)} chars")
    w = args.beam_width
    lm = {"alpha": args.alpha, "beta": args.beta, "beam_width": w}
    configs = [
        ("greedy", "greedy", {}),
        (f"beam w={w}", "beam", {"beam_width": w}),
        ("wordbeam words", "wordbeam", {"lexicon": args.lexicon, "mode": "words", "beam_width": w}),
        ("wordbeam ngrams", "wordbeam", {"lexicon": args.lexicon, "beam_width": w}),
        ("wordbeam forecast", "wordbeam",
         {"lexicon": args.lexicon, "mode": "ngrams+forecast", "beam_width": w}),
        ("kenlm words", "kenlm", {"lm": args.lm, **lm}),
        ("kenlm chars", "kenlm", {"lm": args.char_lm, "level": "char", **lm, "beta": 0.0}),
        ("kenlm words, python engine", "kenlm", {"lm": args.lm, **lm, "engine": "python"}),
        ("kenlm chars, python engine", "kenlm",
         {"lm": args.char_lm, "level": "char", **lm, "beta": 0.0, "engine": "python"}),
    ]  # fmt: skip
    rows = []
    for label, name, options in configs:
        if args.only and label not in args.only:
            continue
        decoder = registry("decoder").create(name, options)
        # warm up: compiled code loaded, per-alphabet tables built (pyctcdecode's too)
        decoder.decode(lps[0], alphabet)
        start = time.perf_counter()
        preds = [decoder.decode(lp, alphabet).text for lp in lps]
        seconds = time.perf_counter() - start
        rows.append(_row(label, options, preds, refs, names, seconds))
    if args.pyctcdecode:
        from htrkit.decoders.resources import resolve

        lm_path = resolve(args.lm, "word LM")
        request = {
            "cache": str(cache),
            "lines": len(lps),
            "labels": ["", *chars],
            "lm": str(lm_path),
            "alpha": args.alpha,
            "beta": args.beta,
            "beam_width": w,
        }
        out = subprocess.run(
            [args.pyctcdecode, str(WORKER)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            check=True,
        )
        found = json.loads(out.stdout)
        rows.append(_row("pyctcdecode", request, found["texts"], refs, names, found["seconds"]))
    if args.markdown:
        replace_blocks(args.markdown, {"decoders": table(rows, len(lps), w)})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "model": args.model,
                    "lines": len(lps),
                    "machine": platform.machine(),
                    "rows": rows,
                },
                indent=1,
            )  # fmt: skip
        )


def table(rows: list[dict], lines: int, width: int) -> str:
    sets = list(rows[0]["scores"])
    head = "| decoder | lines/s | " + " | ".join(f"{n} CER / WER %" for n in sets) + " |"
    out = [head, "|---|---:|" + "---:|" * len(sets)]
    for r in rows:
        cells = " | ".join(
            f"{100 * r['scores'][n]['cer']:.2f} / {100 * r['scores'][n]['wer']:.2f}" for n in sets
        )
        out.append(f"| {r['decoder']} | {r['lines_per_s']:.1f} | {cells} |")
    note = (
        f"\n{lines} validation lines, beam width {width} for every beam decoder; "
        f"{platform.machine()}, {platform.python_version()}, one process."
    )
    return "\n".join(out) + "\n" + note


def _row(label, options, preds, refs, names, seconds) -> dict:
    s = scores(preds, refs, names)
    row = {
        "decoder": label,
        "options": {k: v for k, v in options.items() if k not in ("cache", "labels")},
        "lines_per_s": len(preds) / seconds,
        "scores": s,
    }
    per = "  ".join(f"{n} {100 * v['cer']:5.2f}/{100 * v['wer']:5.2f}" for n, v in s.items())
    print(f"{label:<20} {row['lines_per_s']:9.1f} lines/s   CER/WER % {per}", flush=True)
    return row


if __name__ == "__main__":
    main()

"""``htrkit lm build``: an n-gram language model from a text corpus, for the decoders."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import typer

from htrkit.errors import ConfigError, InputError

lm_app = typer.Typer(help="Build language models for decoding.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(lm_app, name="lm")


@lm_app.command("build")
def build(
    corpus: list[Path] = typer.Argument(
        ..., help="UTF-8 text files, one sentence or line per line."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="lm.arpa, or lm.bin (needs build_binary)."
    ),
    order: int = typer.Option(4, "--order", "-n", min=1, max=12, help="n-gram order."),
    char: bool = typer.Option(
        False, "--char", help="Character-level model: characters are tokens, spaces '<sp>'."
    ),
    builtin: bool = typer.Option(
        False, "--builtin", help="Use htrkit's estimator even when KenLM's lmplz is on PATH."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
) -> None:
    """Estimate a modified Kneser-Ney n-gram model and write it as ARPA (or KenLM binary).

    With KenLM's lmplz on PATH it does the estimation; otherwise htrkit's own estimator
    (the same method, pure Python, for corpora of a few million tokens). kenlm.Model and
    pyctcdecode load the result.
    """
    from htrkit.atomic import check_output, replacing
    from htrkit.lm.kneser_ney import char_tokens, estimate, word_tokens, write_arpa

    check_output(output, overwrite, "--output")
    for path in corpus:
        if path.is_dir():
            raise InputError(f"{path}: a folder; give the corpus's text files")
    suffix = output.suffix.lower()
    if suffix not in (".arpa", ".bin", ".binary", ".klm"):
        raise ConfigError(f"{output}: write .arpa, or .bin for KenLM's binary format")
    binary = suffix != ".arpa"
    build_binary = shutil.which("build_binary")
    if binary and build_binary is None:
        raise ConfigError(
            f"{output}: a binary model needs KenLM's build_binary on PATH; write .arpa "
            "instead (kenlm.Model reads it)"
        )
    tokenize = char_tokens if char else word_tokens
    sentences = list(_sentences(corpus, tokenize))
    if not sentences:
        raise InputError(f"{', '.join(map(str, corpus))}: the corpus has no text")
    output.parent.mkdir(parents=True, exist_ok=True)
    lmplz = None if builtin else shutil.which("lmplz")
    with tempfile.TemporaryDirectory() as work, replacing(output) as target:
        arpa = target if not binary else Path(work) / "lm.arpa"
        if lmplz:
            text = "\n".join(" ".join(s) for s in sentences) + "\n"
            _run([lmplz, "-o", str(order), "--discount_fallback", "--arpa", str(arpa)], text)
            how = "KenLM lmplz"
        else:
            write_arpa(estimate(sentences, order), arpa)
            how = "htrkit's modified Kneser-Ney"
        if binary:
            _run([build_binary, str(arpa), str(target)])
    tokens = sum(len(s) for s in sentences)
    typer.echo(
        f"{output}: {order}-gram {'character' if char else 'word'} model of "
        f"{len(sentences):,} lines and {tokens:,} tokens ({how})"
    )


#: the tokens an ARPA file gives a meaning of its own (sentence start and end, unknown)
_MARKERS = frozenset(("<s>", "</s>", "<unk>"))


def _sentences(paths: list[Path], tokenize):
    for path in paths:
        try:
            with open(path, encoding="utf-8-sig") as fh:  # a byte-order mark is no text
                for line in fh:
                    # the model's own markers are not words of the text
                    tokens = [t for t in tokenize(line) if t not in _MARKERS]
                    if tokens:
                        yield tokens
        except FileNotFoundError:
            raise InputError(f"{path}: no such corpus file") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text ({exc.reason})") from None


def _run(cmd: list[str], stdin: str | None = None) -> None:
    out = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if out.returncode:
        last = (out.stderr.strip().splitlines() or ["no message"])[-1]
        raise InputError(f"{Path(cmd[0]).name} failed: {last}")

"""``htrkit data synth``: render text lines with handwriting fonts, for training."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import typer

#: a file name with no folder in it: a run's --prefix, the ids its manifest lists
_PLAIN_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"


def register(data_app: typer.Typer) -> None:
    """Add the ``synth`` command to the ``htrkit data`` group."""
    data_app.command("synth")(synth)


def synth(
    n: int = typer.Option(..., "--n", "-n", min=1, metavar="N", help="Lines to write."),
    output: Path = typer.Option(
        ..., "--output", "-o", metavar="DIR", help="Folder for the pairs (created)."
    ),
    fonts: list[Path] = typer.Option(
        [],
        "--fonts",
        metavar="PATH",
        help="Font file or folder of .ttf/.otf/.woff2 files (repeatable) "
        "[default: the fonts bundled with htrkit].",
    ),
    corpus: list[Path] = typer.Option(
        [],
        "--corpus",
        metavar="FILE",
        help="UTF-8 text: running text (one article or paragraph per line) or a word list "
        "(one word per line). Repeatable.",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed writes the same data."),
    min_words: int = typer.Option(1, "--min-words", min=1, help="Fewest words per line."),
    max_words: int = typer.Option(6, "--max-words", min=1, help="Most words per line."),
    height: int = typer.Option(
        0, "--height", min=0, help="Scale every line to this height in pixels (0: keep)."
    ),
    prefix: str = typer.Option("synth", "--prefix", help="File names are PREFIX_000123."),
    option: list[str] = typer.Option(
        [],
        "--option",
        "-O",
        metavar="KEY=VALUE",
        help="Renderer option key=value (repeatable), e.g. -O slant=20; see docs/synthetic.md.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the files of an earlier run in DIR."
    ),
) -> None:
    """Render synthetic handwriting: DIR/<id>.png + DIR/<id>.gt.txt pairs and manifest.tsv.

    Each line is a random span of --min-words..--max-words words from the corpus, drawn
    with a random font and random size, slant, spacing, baseline, ink and paper. A text that
    the chosen font cannot draw is drawn with another font; one that no font can draw is
    skipped and counted.
    """
    from htrkit.atomic import check_parents
    from htrkit.cli.common import progress_bar
    from htrkit.errors import ConfigError
    from htrkit.options import parse_key_values, validate_options
    from htrkit.synth.corpus import TextSource
    from htrkit.synth.dataset import generate
    from htrkit.synth.fonts import load_fonts
    from htrkit.synth.renderer import Renderer, RenderOptions

    if not corpus:
        raise ConfigError(
            "give a text to render with --corpus FILE (running text, one article per line, "
            "or a word list)"
        )
    if min_words > max_words:
        raise ConfigError(f"--min-words {min_words} is more than --max-words {max_words}")
    if not re.fullmatch(_PLAIN_NAME, prefix):
        raise ConfigError(
            f"--prefix {prefix!r}: a name for the files (letters, digits, . _ -), with no "
            "folder in it: they are written in --output"
        )
    if output.exists() and not output.is_dir():
        raise ConfigError(f"--output {output}: a file, not a folder")
    check_parents(output, "--output")
    earlier = [p for p in (output / "manifest.tsv", *output.glob(f"{prefix}_*")) if p.exists()]
    if earlier and not overwrite:
        raise ConfigError(
            f"{output}: holds an earlier run's files (first: {earlier[0].name}); give "
            "--overwrite to replace them, or another folder"
        )
    values = parse_key_values(option)
    if height:
        values["height"] = height
    options = validate_options(RenderOptions, values, what="synth renderer")
    source = TextSource.from_files(corpus)
    font_list = load_fonts(fonts)
    for path in (*earlier, *_listed(output / "manifest.tsv")):  # --overwrite: the earlier
        # run goes whole (its manifest names its pairs, whatever their prefix)
        if path.is_file() and (path.name == "manifest.tsv" or path.suffix in (".png", ".txt")):
            path.unlink()
    with progress_bar(n, "rendering", enabled=sys.stderr.isatty()) as advance:
        report = generate(
            output,
            n,
            source,
            font_list,
            Renderer(options),
            seed=seed,
            min_words=min_words,
            max_words=max_words,
            prefix=prefix,
            progress=advance,
        )
    summary = report.summary()
    if as_json:
        typer.echo(json.dumps({"output": str(output), **summary}, indent=1, ensure_ascii=False))
        return
    rate = summary["lines_per_second"]
    typer.echo(
        f"wrote {report.written} lines to {output} in {report.seconds:.1f} s ({rate} lines/s)"
    )
    width = max(len(name) for name in summary["per_font"]) if summary["per_font"] else 4
    for name, count in summary["per_font"].items():
        note = "  (capitals only)" if name in report.caps_only else ""
        typer.echo(f"  {name:<{width}}  {count:>{len(str(n))}}{note}")
    typer.echo(f"redrawn with another font (coverage): {report.refonted}")
    typer.echo(f"skipped for coverage (no font has every character): {report.skipped}")
    if report.missing_chars:
        chars = ", ".join(f"{c!r} {k}" for c, k in report.missing_chars.most_common(10))
        typer.echo(f"  missing characters: {chars}")


def _listed(manifest: Path) -> list[Path]:
    """The pairs an earlier run's manifest names: plain file names inside its folder only."""
    if not manifest.is_file():
        return []
    found = []
    with open(manifest, encoding="utf-8", errors="replace") as rows:
        next(rows, None)  # the header
        for row in rows:
            name = row.split("\t", 1)[0].strip()
            if re.fullmatch(_PLAIN_NAME, name):
                found += [manifest.parent / f"{name}.png", manifest.parent / f"{name}.gt.txt"]
    return found

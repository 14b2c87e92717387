"""``htrkit plugin new NAME``: write a plugin package that installs and passes its tests.

The package has a ``pyproject.toml`` with the ``htrkit`` entry point, one component of
the chosen kind (its options declared with :func:`htrkit.options.option`, its record with
an import-string factory) and tests that load it through a strict plugin manager, as
``docs/plugins.md`` describes. htrkit's own test suite writes, installs and tests each kind.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer

from htrkit.errors import ConfigError

KINDS = ("decoder", "preprocessor", "postprocessor", "metric", "writer")
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "htrkit-{name}"
version = "0.1.0"
description = "{description} (an htrkit plugin)"
requires-python = ">=3.10"
dependencies = ["htrkit"]

[project.entry-points.htrkit]
{name} = "{module}"

[tool.setuptools]
packages = ["{module}"]

[tool.ruff]
line-length = 100
"""

README = """\
# htrkit-{name}

An htrkit plugin: the {kind} `{name}` ({description}).

```bash
pip install -e .
HTRKIT_STRICT_PLUGINS=1 python -m pytest    # its tests
htrkit plugins --all                        # lists it, with its options
{usage}
```

See htrkit's `docs/plugins.md` for the hooks and each kind's contract.
"""

INIT = '''\
"""htrkit-{name}: the {kind} `{name}`, registered with htrkit."""

from __future__ import annotations

import htrkit
from htrkit.specs import {spec}

from {module}.component import {cls}Options
'''

COMPONENT = '''\
"""The {kind} `{name}`: {description}."""

from __future__ import annotations

{imports}
'''

HOOK = """

@htrkit.hookimpl
def htrkit_register_{kind}s():
    return [
        {spec}(
            name="{name}",
            factory="{module}.component:{cls}",
            description="{description}",
            options={cls}Options,
        )
    ]
"""

TEST_HEADER = """\
{imports}
from htrkit.errors import OptionsError
from htrkit.plugins import PluginManager


@pytest.fixture(scope="module")
def registry():
    # strict: an import error in the plugin fails the tests instead of becoming a warning
    return PluginManager(strict=True).registry("{kind}")


def test_it_is_registered(registry):
    assert "{name}" in registry


def test_unknown_option_is_refused(registry):
    with pytest.raises(OptionsError, match="unknown option"):
        registry.create("{name}", {{"no_such_option": 1}})
"""

# per kind: (record type, class name, description, options and component, test, usage)
TEMPLATES = {
    "decoder": (
        "DecoderSpec",
        "Decoder",
        "best path, dropping unsure characters",
        (
            "from dataclasses import dataclass\n\nimport htrkit\nfrom htrkit.options import option",
            "import htrkit\nimport numpy as np\nimport pytest",
        ),
        '''

@dataclass(frozen=True)
class DecoderOptions:
    min_prob: float = option(0.0, "leave out characters less probable", min=0.0, max=1.0)


class Decoder:
    """Best-path CTC decoding (class 0 is the blank, class i + 1 is alphabet.chars[i])."""

    def __init__(self, options: DecoderOptions):
        self.options = options

    def decode(self, log_probs, alphabet):
        import numpy as np

        best = log_probs.argmax(axis=1)
        chars, previous = [], 0
        for t, cls in enumerate(best):
            prob = float(np.exp(log_probs[t, cls]))
            if cls != 0 and cls != previous and prob >= self.options.min_prob:
                chars.append(htrkit.CharAlignment(alphabet.chars[cls - 1], t, t + 1, prob))
            previous = cls
        confidence = float(np.exp(log_probs.max(axis=1).mean())) if len(best) else 0.0
        return htrkit.Decoding("".join(c.char for c in chars), confidence, chars)
''',
        """

def test_reads_the_best_path(registry):
    alphabet = htrkit.Alphabet("ab")
    probs = [[0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.1, 0.1, 0.8]]
    decoding = registry.create("{name}").decode(np.log(np.array(probs)), alphabet)
    assert decoding.text == "ab"
    assert [(c.start, c.end) for c in decoding.chars] == [(0, 1), (2, 3)]
    unsure = registry.create("{name}", {{"min_prob": "0.9"}})
    assert unsure.decode(np.log(np.array(probs)), alphabet).text == ""
""",
        "htrkit run line.png --decoder {name} -O min_prob=0.3",
    ),
    "preprocessor": (
        "PreprocessorSpec",
        "Preprocessor",
        "light-on-dark lines turned into dark ink on paper",
        (
            "from dataclasses import dataclass\n\nfrom htrkit.options import option",
            "import numpy as np\nimport pytest",
        ),
        '''

@dataclass(frozen=True)
class PreprocessorOptions:
    threshold: int = option(128, "a line whose mean grey is below this is inverted", min=0, max=255)


class Preprocessor:
    """Decides per image: a light-on-dark line is inverted, any other passes through.
    apply() returns the image with its own x map (here the identity: nothing moves)."""

    def __init__(self, options: PreprocessorOptions):
        self.options = options

    def __call__(self, image):
        return self.apply(image)[0]

    def apply(self, image):
        if image.mean() < self.options.threshold:
            return 255 - image, _same
        return image, _same


def _same(xs):
    import numpy as np

    return np.asarray(xs, dtype=np.float64)
''',
        """

def test_inverts_only_dark_lines(registry):
    step = registry.create("{name}")
    dark = np.full((8, 20), 30, np.uint8)
    light = np.full((8, 20), 220, np.uint8)
    out, to_input = step.apply(dark)
    assert out.mean() == 225 and to_input(np.array([3.0])).tolist() == [3.0]
    assert np.array_equal(step(light), light)
""",
        "htrkit run line.png --preprocess {name} -P threshold=100",
    ),
    "postprocessor": (
        "PostprocessorSpec",
        "Postprocessor",
        "text replaced by a table of corrections",
        (
            "from dataclasses import dataclass, replace\n\nfrom htrkit.options import option",
            "import htrkit\nimport pytest",
        ),
        '''

@dataclass(frozen=True)
class PostprocessorOptions:
    corrections: tuple[str, ...] = option(("ſ=s",), "find=replace pairs, applied in order")


class Postprocessor:
    """Rewrites each line's text with find=replace pairs; the characters are kept only
    when the length does not change, so that they stay in step with the text."""

    def __init__(self, options: PostprocessorOptions):
        self.pairs = [pair.split("=", 1) for pair in options.corrections if "=" in pair]

    def __call__(self, line):
        text = line.text
        for find, new in self.pairs:
            text = text.replace(find, new)
        if len(text) == len(line.chars):
            chars = [replace(c, char=ch) for c, ch in zip(line.chars, text)]
        else:
            chars = []
        return replace(line, text=text, chars=chars)
''',
        """

def test_corrects_the_text(registry):
    line = htrkit.LineResult("ſont", 0.9, (0, 0, 40, 10))
    assert registry.create("{name}")(line).text == "sont"
    fix = registry.create("{name}", {{"corrections": "ii=ü,ſ=s"}})
    assert fix(htrkit.LineResult("Müller iiber", 0.9, (0, 0, 90, 10))).text == "Müller über"
""",
        "htrkit run page.jpg --postprocess {name}",
    ),
    "metric": (
        "MetricSpec",
        "Metric",
        "the share of lines not read exactly",
        (
            "from dataclasses import dataclass\n\nfrom htrkit.metrics import Metric as _Base\n"
            "from htrkit.options import option",
            "import pytest",
        ),
        '''

@dataclass(frozen=True)
class MetricOptions:
    ignore_case: bool = option(False, "compare the lines case-folded")


class Metric(_Base):
    """Sentence error rate: each line counts 1 when it is not read exactly."""

    def __init__(self, options: MetricOptions):
        super().__init__(options)
        self.fold = str.casefold if options.ignore_case else str

    def statistics(self, prediction, reference):
        return float(self.fold(prediction) != self.fold(reference)), 1.0
''',
        """

def test_counts_lines_not_read_exactly(registry):
    metric = registry.create("{name}")
    assert metric.corpus(["ab", "cd", "EF"], ["ab", "cx", "ef"]) == pytest.approx(2 / 3)
    caseless = registry.create("{name}", {{"ignore_case": "true"}})
    assert caseless.corpus(["ab", "cd", "EF"], ["ab", "cx", "ef"]) == pytest.approx(1 / 3)
""",
        "htrkit eval truth.tsv predictions.tsv --metric {name}",
    ),
    "writer": (
        "WriterSpec",
        "Writer",
        "one CSV row per line: source, line number, text, confidence",
        (
            "import csv\nfrom dataclasses import dataclass\n\nfrom htrkit.options import option",
            "import io\n\nimport htrkit\nimport pytest",
        ),
        '''

@dataclass(frozen=True)
class WriterOptions:
    delimiter: str = option(",", "the column separator")


class Writer:
    """One CSV row per recognised line."""

    def __init__(self, options: WriterOptions):
        self.options = options

    def write(self, results, stream):
        rows = csv.writer(stream, delimiter=self.options.delimiter or ",")
        rows.writerow(["source", "line", "text", "confidence"])
        for result in results:
            for number, line in enumerate(result.lines, 1):
                rows.writerow([result.source, number, line.text, f"{line.confidence:.4f}"])
''',
        """

def test_writes_one_row_per_line(registry):
    lines = [
        htrkit.LineResult("a, b", 0.5, (0, 0, 9, 9)),
        htrkit.LineResult("c", 1.0, (0, 9, 9, 18)),
    ]
    stream = io.StringIO()
    registry.create("{name}").write([htrkit.Result("p.png", 9, 18, lines)], stream)
    assert stream.getvalue().splitlines() == [
        "source,line,text,confidence",
        'p.png,1,"a, b",0.5000',
        "p.png,2,c,1.0000",
    ]
""",
        "htrkit run page.jpg --format {name} -o page.csv",
    ),
}


def register(app: typer.Typer) -> None:
    plugin = typer.Typer(help="Write plugin packages.", no_args_is_help=True)
    plugin.command("new")(new)
    app.add_typer(plugin, name="plugin")


def new(
    name: str = typer.Argument(..., help="The plugin's and its component's name: my-decoder."),
    kind: str = typer.Option("decoder", "--kind", "-k", help=f"One of: {', '.join(KINDS)}."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Parent folder [default: the current one]."
    ),
) -> None:
    """Write a plugin package, htrkit-NAME/, with one component of KIND and its tests.

    It installs as written (pip install -e htrkit-NAME) and its tests pass
    (pytest htrkit-NAME/tests); edit the component from there.
    """
    folder = write_package(name, kind, output or Path.cwd())
    typer.echo(f"wrote {folder}: pip install -e {folder} && python -m pytest {folder / 'tests'}")


def write_package(name: str, kind: str, parent: Path) -> Path:
    """Write ``htrkit-<name>/`` under ``parent``; returns its path."""
    if not _NAME.match(name):
        raise ConfigError(
            f"plugin name {name!r}: use lower-case letters and digits, words joined by '-'"
        )
    if kind not in TEMPLATES:
        raise ConfigError(f"--kind {kind!r}: one of {', '.join(KINDS)}")
    folder = parent / f"htrkit-{name}"
    if folder.exists():
        raise ConfigError(f"{folder}: already exists; choose another name or folder")
    module = "htrkit_" + name.replace("-", "_")
    spec, cls, description, (imports, test_imports), body, test, usage = TEMPLATES[kind]
    fields = {
        "name": name,
        "module": module,
        "kind": kind,
        "spec": spec,
        "cls": cls,
        "description": description,
    }
    files = {
        "pyproject.toml": PYPROJECT.format(**fields),
        "README.md": README.format(**fields, usage=usage.format(**fields)),
        f"{module}/__init__.py": INIT.format(**fields) + HOOK.format(**fields),
        f"{module}/component.py": COMPONENT.format(**fields, imports=imports) + body,
        f"tests/test_{module}.py": TEST_HEADER.format(**fields, imports=test_imports)
        + test.format(**fields),
    }
    try:
        for path, text in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{folder}: cannot write the package ({exc.strerror or exc})") from None
    return folder

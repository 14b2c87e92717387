"""``htrkit plugin new NAME``: write a plugin package that installs and passes its tests.

The package has a ``pyproject.toml`` with the ``htrkit`` entry point, one component of
the chosen kind (its options declared with :func:`htrkit.options.option`, its record with
an import-string factory) and tests that load it through a strict plugin manager, as
``docs/plugins.md`` describes. htrkit's own test suite writes, installs and tests each kind.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Optional

import typer

from htrkit.errors import ConfigError

KINDS = ("decoder", "preprocessor", "postprocessor", "metric", "writer")
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")

#: the package's files, as ``str.format`` templates (package data: ``templates/plugin``)
TEMPLATES = Path(__file__).parent / "templates" / "plugin"


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _kinds() -> dict[str, dict[str, str]]:
    """Per kind: its record type, class name, description, the imports of its component
    and its test, and the usage line of its README (``kinds.json``); its component's body
    and its tests are ``KIND.py.tmpl`` and ``test_KIND.py.tmpl``."""
    return json.loads(_template("kinds.json"))


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
    kinds = _kinds()
    if kind not in kinds:
        raise ConfigError(f"--kind {kind!r}: one of {', '.join(KINDS)}")
    folder = parent / f"htrkit-{name}"
    if folder.exists():
        raise ConfigError(f"{folder}: already exists; choose another name or folder")
    module = "htrkit_" + name.replace("-", "_")
    k = kinds[kind]
    fields = {
        "name": name,
        "module": module,
        "kind": kind,
        "spec": k["spec"],
        "cls": k["cls"],
        "description": k["description"],
        "record": k.get("record", ""),  # more fields of the kind's record (a writer's suffix)
    }
    files = {
        "pyproject.toml": _template("pyproject.toml.tmpl").format(**fields),
        "README.md": _template("README.md.tmpl").format(
            **fields, usage=k["usage"].format(**fields)
        ),
        f"{module}/__init__.py": _template("__init__.py.tmpl").format(**fields)
        + _template("hook.py.tmpl").format(**fields),
        f"{module}/component.py": _template("component.py.tmpl").format(
            **fields, imports=k["imports"]
        )
        + _template(f"{kind}.py.tmpl"),
        f"tests/test_{module}.py": _template("test_header.py.tmpl").format(
            **fields, imports=k["test_imports"]
        )
        + _template(f"test_{kind}.py.tmpl").format(**fields),
    }
    try:
        for path, text in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{folder}: cannot write the package ({exc.strerror or exc})") from None
    return folder

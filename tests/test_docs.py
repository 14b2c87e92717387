"""The docs stay true to the code."""

from __future__ import annotations

import re

import docgen
from conftest import ROOT

from htrkit import hookspecs


def test_hook_reference_is_generated_from_hookspecs():
    text = (ROOT / "docs" / "plugins.md").read_text()
    assert docgen.render(text) == text, "run: python tools/docgen.py --write"


def test_every_hook_is_documented_with_params_and_example():
    hooks = [n for n in dir(hookspecs) if n.startswith("htrkit_")]
    assert len(hooks) == 11
    text = (ROOT / "docs" / "plugins.md").read_text()
    for name in hooks:
        doc = getattr(hookspecs, name).__doc__
        assert "Example::" in doc, name
        assert ":return:" in doc or ":param" in doc, name
        assert f"#### `{name}(" in text


def test_component_table_covers_every_kind():
    from htrkit.specs import SPEC_TYPES

    text = (ROOT / "docs" / "plugins.md").read_text()
    table = re.search(r"## Component protocols(.*?)## Hook reference", text, re.S).group(1)
    kinds = set(re.findall(r"^\| (\w+) \|", table, re.M)) - {"kind"}
    assert kinds == set(SPEC_TYPES)


def readme_block(heading: str, lang: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(rf"```{lang}\n(.*?)```", section, re.S).group(1)


def test_ci_runs_the_readme_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    for heading in ("Install and run", "Test"):
        command = readme_block(heading, "bash").strip()
        assert command in ci.splitlines(), heading


def test_readme_python_example_runs(tmp_path, model_path, line_png, monkeypatch):
    import shutil

    import numba  # noqa: F401 - numba registers builtins.print when first imported: not the stub

    shutil.copy(model_path, tmp_path / "model.safetensors")
    monkeypatch.chdir(tmp_path)
    printed = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(a))
    exec(compile(readme_block("Python", "python"), "README.md", "exec"), {})
    assert printed[-1] == ([None, "missing.png: no such file"],)


def test_readme_plugin_example_works(tmp_path, monkeypatch, model_path, line_png):
    import importlib
    import sys

    from htrkit import Pipeline
    from htrkit.plugins import reset_plugin_manager

    text = (ROOT / "README.md").read_text()
    section = text.split("## Plugins\n", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    entry = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    (tmp_path / "htrkit_shout.py").write_text(code)
    info = tmp_path / "htrkit_shout-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: htrkit-shout\nVersion: 0.1\n")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    points = tomllib.loads(entry)["project"]["entry-points"]["htrkit"]
    lines = "".join(f"{name} = {value}\n" for name, value in points.items())
    (info / "entry_points.txt").write_text("[htrkit]\n" + lines)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("HTRKIT_LOAD_PLUGINS", "shout")
    importlib.invalidate_caches()
    reset_plugin_manager()
    try:
        plain = Pipeline(model=model_path)(line_png).text
        shouted = Pipeline(model=model_path, postprocessors=["shout"])(line_png).text
        assert shouted == plain.upper() + "!"
    finally:
        sys.modules.pop("htrkit_shout", None)


def test_no_script_folder_shadows_the_standard_library():
    # a script's own folder goes first on sys.path: a benchmarks/collections.py once made
    # `python benchmarks/decoders.py` fail in a fresh environment (numpy imports collections)
    import sys

    for folder in ("benchmarks", "examples/recipes", "tools"):
        names = {p.stem for p in (ROOT / folder).glob("*.py")}
        assert not names & set(sys.stdlib_module_names), folder


def test_benchmarks_readme_names_scripts_that_exist():
    text = (ROOT / "benchmarks" / "README.md").read_text()
    named = set(re.findall(r"benchmarks/(\w+\.(?:py|sh))", text))
    assert named, "no script named"
    missing = {n for n in named if not (ROOT / "benchmarks" / n).exists()}
    assert not missing

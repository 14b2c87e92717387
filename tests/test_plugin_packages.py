"""Third-party plugins end to end: real packages installed with pip into a temporary
location, then used from ``htrkit plugins``, ``htrkit run`` and ``Pipeline``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli

pytestmark = pytest.mark.slow


def pip_install(source: Path, target: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr


def with_site(site: Path) -> dict[str, str]:
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {"PYTHONPATH": path, "HTRKIT_STRICT_PLUGINS": "1"}


def unset_load_plugins(env: dict[str, str]) -> dict[str, str]:
    full = {**os.environ, **env}
    full.pop("HTRKIT_LOAD_PLUGINS", None)
    return full


def run_all_plugins(*args, env):
    """``python -m htrkit`` with every installed plugin loaded."""
    return subprocess.run(
        [sys.executable, "-m", "htrkit", *map(str, args)],
        capture_output=True,
        text=True,
        env=unset_load_plugins(env),
        timeout=120,
    )


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run Python ``code`` in a subprocess with every installed plugin loaded."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=unset_load_plugins(env),
        timeout=120,
    )


@pytest.fixture(scope="module")
def example_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    pip_install(ROOT / "examples" / "htrkit-plugin-example", site)
    return site


def test_example_plugin_listed(example_site):
    out = run_all_plugins("plugins", "--json", env=with_site(example_site))
    assert out.returncode == 0, out.stderr
    plugin = next(p for p in json.loads(out.stdout) if p["name"] == "example")
    assert plugin["distribution"] == "htrkit-plugin-example"
    assert plugin["version"] == "0.1.0" and not plugin["builtin"]
    assert plugin["components"] == {"decoder": ["confident-greedy"], "metric": ["cer-nocase"]}


def test_example_plugin_from_cli_and_pipeline(example_site, model_path, line_png):
    env = with_site(example_site)
    out = run_all_plugins(
        "run",
        line_png,
        "-m",
        model_path,
        "-d",
        "confident-greedy",
        "-O",
        "min_prob=1.0",
        "-O",
        "placeholder=#",
        env=env,
    )
    assert out.returncode == 0, out.stderr
    cli_text = out.stdout.strip()
    assert cli_text and set(cli_text) == {"#"}  # nothing is read with probability 1
    code = (
        "from htrkit import Pipeline\n"
        f"pipe = Pipeline(model={str(model_path)!r}, decoder='confident-greedy',\n"
        "                decoder_options={'min_prob': 0.0})\n"
        f"plain = Pipeline(model={str(model_path)!r})\n"
        f"print(pipe({str(line_png)!r}).text == plain({str(line_png)!r}).text)\n"
    )
    out = run_python(code, env)
    assert out.stdout.strip() == "True", out.stderr


def test_example_plugin_metric_in_eval(example_site, tmp_path):
    ref, pred = tmp_path / "ref.tsv", tmp_path / "pred.tsv"
    ref.write_text("x\tHello\n")
    pred.write_text("x\thello\n")
    out = run_all_plugins(
        "eval", ref, pred, "--json", "-M", "cer-nocase", "-M", "cer", env=with_site(example_site)
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["scores"] == {"cer-nocase": 0.0, "cer": 0.2}


def test_example_plugin_own_tests_pass(example_site):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(ROOT / "examples" / "htrkit-plugin-example" / "tests"),
        ],
        capture_output=True,
        text=True,
        env=unset_load_plugins(with_site(example_site)),
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def install_and_test(package: Path, site: Path) -> tuple[dict[str, str], Any]:
    """pip-install ``package`` into ``site`` and run its own tests there, from outside its
    folder (so that they import the installed copy); returns the environment and the run."""
    pip_install(package, site)
    env = with_site(site)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
        capture_output=True,
        text=True,
        env=unset_load_plugins(env),
        timeout=300,
        cwd=site,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    return env, tests


def tutorial_files() -> dict[str, str]:
    """The files of the plugin that docs/plugins.md builds, from its marked code blocks."""
    text = (ROOT / "docs" / "plugins.md").read_text()
    blocks = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", text, flags=re.S)
    return dict(blocks)


def test_tutorial_plugin_from_the_docs_works(tmp_path, model_path, line_png):
    files = tutorial_files()
    assert set(files) == {"pyproject.toml", "htrkit_digits.py", "tests/test_htrkit_digits.py"}
    package = tmp_path / "htrkit-digits"
    for name, body in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(body)
    env, tests = install_and_test(package, tmp_path / "site")
    assert "5 passed" in tests.stdout

    listed = json.loads(run_all_plugins("plugins", "--json", env=env).stdout)
    digits = next(p for p in listed if p["name"] == "digits")
    assert digits["components"] == {
        "decoder": ["digits-only"],
        "metric": ["ser"],
        "preprocessor": ["trim-sides"],
    }

    out = run_all_plugins("run", line_png, "-m", model_path, "-d", "digits", env=env)
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"[0-9]*", out.stdout.strip())

    code = (
        "from htrkit import Pipeline\n"
        f"pipe = Pipeline(model={str(model_path)!r}, decoder='digits-only',\n"
        "                decoder_options={'extra': ' '})\n"
        f"print(repr(pipe({str(line_png)!r}).text))\n"
    )
    out = run_python(code, env)
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"'[0-9 ]*'", out.stdout.strip())

    # the preprocessor, from the command line and from Python, reading the same
    args = ("run", line_png, "-m", model_path, "-f", "json", "--preprocess", "trim-sides")
    cli = run_all_plugins(*args, "-P", "margin=2", env=env)
    assert cli.returncode == 0, cli.stderr
    code = (
        "import json\nfrom htrkit import Pipeline\n"
        f"pipe = Pipeline(model={str(model_path)!r},\n"
        "                preprocess=[('trim-sides', {'margin': 2})])\n"
        f"print(json.dumps(pipe({str(line_png)!r}).to_dict()))\n"
    )
    api = run_python(code, env)
    assert api.returncode == 0, api.stderr
    assert json.loads(cli.stdout) == json.loads(api.stdout)
    untrimmed = run_all_plugins("run", line_png, "-m", model_path, "-f", "json", env=env)
    assert json.loads(untrimmed.stdout) != json.loads(cli.stdout)  # the step took effect


def test_plugin_not_loaded_by_default_in_other_tests():
    """The suite runs with HTRKIT_LOAD_PLUGINS='' so installed plugins do not leak in."""
    out = run_cli("plugins", "--json")
    assert all(p["builtin"] for p in json.loads(out.stdout))


# -- plugins/htrkit-pyctcdecode: pyctcdecode pins numpy<2, htrkit does not ------------------


@pytest.fixture(scope="module")
def pyctcdecode_site(tmp_path_factory):
    """pyctcdecode, numpy 1.x and the plugin in a folder put before htrkit's environment on
    PYTHONPATH: the plugin's own environment, with htrkit and torch borrowed."""
    site = tmp_path_factory.mktemp("pcd-site")
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(site), "numpy<2", "pyctcdecode>=0.5,<0.6", "pygtrie",
         "hypothesis", "sortedcontainers"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if out.returncode and "No matching distribution" in out.stderr + out.stdout:
        pytest.skip("pyctcdecode cannot be installed here (no package index)")
    assert out.returncode == 0, out.stderr
    pip_install(ROOT / "plugins" / "htrkit-pyctcdecode", site)
    return site


def test_core_never_requires_numpy_below_2():
    from importlib.metadata import requires

    numpy = [r for r in requires("htrkit") if r.startswith("numpy")]
    assert numpy and all("<2" not in r and "<1" not in r for r in numpy)


def test_pyctcdecode_plugin_own_tests_pass(pyctcdecode_site):
    env = unset_load_plugins(with_site(pyctcdecode_site))
    version = subprocess.run(
        [sys.executable, "-c", "import numpy; print(numpy.__version__)"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert version.stdout.startswith("1."), version.stderr
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(ROOT / "plugins" / "htrkit-pyctcdecode" / "tests")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    listed = run_all_plugins("plugins", env=with_site(pyctcdecode_site))
    assert "pyctcdecode" in listed.stdout, listed.stderr


# -- htrkit plugin new: a skeleton that installs and passes its own tests ------------------


@pytest.mark.parametrize("kind", ["decoder", "preprocessor", "postprocessor", "metric", "writer"])
def test_plugin_new_writes_a_package_that_passes_its_tests(kind, tmp_path):
    name = f"my-{kind}"
    out = run_cli("plugin", "new", name, "--kind", kind, "-o", tmp_path)
    assert out.returncode == 0, out.stderr
    package = tmp_path / f"htrkit-{name}"
    assert (package / "pyproject.toml").is_file() and (package / "README.md").is_file()
    env, tests = install_and_test(package, tmp_path / "site")
    assert re.search(r"\b[3-9] passed", tests.stdout), tests.stdout
    listed = json.loads(run_all_plugins("plugins", "--json", env=env).stdout)
    plugin = next(p for p in listed if p["name"] == name)
    assert plugin["distribution"] == f"htrkit-{name}" and plugin["components"] == {kind: [name]}
    detail = run_all_plugins("plugins", "--all", env=env)
    own = detail.stdout.split(f"    {kind} {name}:", 1)[1].split("\n    ", 2)[1]
    bounds = {"decoder": "min_prob: float = 0.0 [0.0, 1.0]", "preprocessor": "= 128 [0, 255]"}
    assert bounds.get(kind, "") in own, own  # each option with its bounds
    if kind == "metric":  # its options from the command line
        (tmp_path / "ref.tsv").write_text("a\tHello\n")
        (tmp_path / "pred.tsv").write_text("a\thello\n")
        score = ["eval", tmp_path / "ref.tsv", tmp_path / "pred.tsv", "-M", name, "--json"]
        strict = json.loads(run_all_plugins(*score, env=env).stdout)
        folded = run_all_plugins(*score, "--metric-option", f"{name}.ignore_case=true", env=env)
        assert strict["scores"][name] == 1.0 and json.loads(folded.stdout)["scores"][name] == 0.0
        bad = run_all_plugins(*score, "--metric-option", "cer.ignore_case=true", env=env)
        assert bad.returncode == 2 and "not one of the metrics scored" in bad.stderr
    if kind == "writer":  # its options from the command line, for one file and a folder
        line = ROOT / "examples" / "images" / "handwritten.png"
        args = ["run", line, "-f", name, "--format-option", "delimiter=;"]
        one = run_all_plugins(*args, env=env)
        assert one.returncode == 0 and one.stdout.startswith("source;line;text"), one.stderr
        folder = run_all_plugins(*args, "-o", tmp_path / "out", env=env)
        assert folder.returncode == 0, folder.stderr
        assert (tmp_path / "out" / "handwritten.csv").read_text().startswith("source;line")
        bad = run_all_plugins("run", line, "-f", name, "--format-option", "delimitr=;", env=env)
        assert bad.returncode == 2 and "did you mean 'delimiter'" in bad.stderr


@pytest.mark.parametrize(
    "args, needle",
    [
        (["Bad_Name"], "plugin name 'Bad_Name': use lower-case letters"),
        (["ok", "--kind", "backbone"], "--kind 'backbone': one of decoder, preprocessor"),
    ],
)
def test_plugin_new_refuses_bad_input_in_one_line(args, needle, tmp_path):
    out = run_cli("plugin", "new", *args, "-o", tmp_path)
    assert out.returncode == 2 and needle in out.stderr and len(out.stderr.splitlines()) == 1
    assert run_cli("plugin", "new", "twice", "-o", tmp_path).returncode == 0
    again = run_cli("plugin", "new", "twice", "-o", tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr

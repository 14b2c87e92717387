"""The models shipped inside the package: registered, small, documented, and reading.

The shared-data tests re-run the model card's ``htrkit eval`` commands on the validation
splits and check that they give the card's figures, and that the recipe still trains.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, SHARED, run_cli

from htrkit.default_plugins.models import BUNDLED, MODELS


@pytest.mark.parametrize("name, file", [(n, f) for n, f, _ in BUNDLED])
def test_bundled_model_is_registered_small_and_carded(name, file):
    from htrkit.plugins import registry

    path = MODELS / file
    assert path.is_file(), f"{path} is not in the package"
    assert path.stat().st_size <= 25 * 2**20
    assert registry("model").create(name) == path
    card = path.with_suffix(".md").read_text(encoding="utf-8")
    for heading in (
        "Data and licences",
        "Character set",
        "Architecture",
        "Training",
        "Validation",
        "Known limits",
    ):
        assert f"## {heading}" in card, heading
    from htrkit.recognizer import Recognizer

    recognizer = Recognizer.load(path)
    assert "".join(recognizer.config.alphabet) in card  # the card lists the exact alphabet


def test_default_model_card_credits_the_data():
    card = (MODELS / "default.md").read_text(encoding="utf-8")
    for credit in (
        "CC BY 4.0",
        "Bibliothèque et Archives nationales du Québec",
        "Archives nationales",
        "École nationale des chartes",
        "CREMMA",
        "Riaz",
    ):
        assert credit in card, credit


def test_pipeline_and_cli_use_the_default_model():
    from htrkit import Pipeline
    from htrkit.metrics.text import CharacterErrorRate

    pipe = Pipeline()
    assert pipe.recognizer.config.metadata["name"] == "htrkit-default-line"
    text = pipe(ROOT / "examples" / "images" / "handwritten.png").text
    truth = "Handwriting is easy to read for htrkit"
    assert CharacterErrorRate().corpus([text], [truth]) < 0.1, text
    out = run_cli("run", ROOT / "examples" / "images" / "handwritten.png")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == text


def test_digits_model_reads_the_example():
    out = run_cli("run", ROOT / "examples" / "images" / "digits.png", "--model", "digits")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "4096"


def test_plugins_lists_the_bundled_models():
    out = run_cli("plugins")
    assert "models: default, digits" in out.stdout


# -- against the shared data -----------------------------------------------------------

RECIPE = ROOT / "examples" / "recipes" / "default-line.toml"


def card_rows() -> dict[tuple[str, str], dict[str, float]]:
    """The model card's validation table: (dataset, decoder) -> figures in percent."""
    card = (MODELS / "default.md").read_text(encoding="utf-8")
    rows = {}
    pattern = r"^\| (\w+) \| (\w+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$"
    for name, decoder, lines, cer, wer, exact in re.findall(pattern, card, re.M):
        rows[name, decoder] = {
            "lines": int(lines),
            "cer": float(cer),
            "wer": float(wer),
            "exact": float(exact),
        }
    return rows


def card_commands() -> dict[str, str]:
    card = (MODELS / "default.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^# (\w+)\n(htrkit eval .*)$", card, re.M))


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["Copiste", "Poilus", "DHSD"])
def test_eval_reproduces_the_model_card(dataset):
    import shlex

    if not SHARED.is_dir():
        pytest.skip("../shared/data is not here")
    rows = card_rows()
    command = card_commands()[dataset]
    args = shlex.split(command)[2:]  # after "htrkit eval"
    out = run_cli("eval", *args, "--json", "--worst", "0", cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    expected = rows[dataset, "greedy"]
    # the same machine gives the same figures; another CPU may round a few logits
    # differently, so allow a couple of characters and at most one line
    assert result["samples"] == expected["lines"]
    assert 100 * result["scores"]["cer"] == pytest.approx(expected["cer"], abs=0.05)
    assert 100 * result["scores"]["wer"] == pytest.approx(expected["wer"], abs=0.1)
    assert 100 * result["scores"]["exact-match"] == pytest.approx(expected["exact"], abs=0.35)


@pytest.mark.shared
@pytest.mark.slow
def test_recipe_command_retrains(tmp_path):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not here")
    out = run_cli(
        "train",
        RECIPE,
        "-s",
        f'data.cache="{tmp_path / "lines.lmdb"}"',
        "-s",
        f'train.output="{tmp_path / "run"}"',
        "-s",
        "train.max_minutes=0.05",
        cwd=ROOT,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr
    assert "20072 training and 1503 validation lines" in out.stdout + out.stderr
    from htrkit.recognizer import Recognizer

    model = Recognizer.load(tmp_path / "run" / "best.safetensors")
    assert model.config.alphabet == Recognizer.load(MODELS / "default.safetensors").config.alphabet

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


def test_the_accurate_model_reads_the_example_on_onnxruntime_without_torch():
    from test_onnx import run_without_torch

    from htrkit import Pipeline

    pipe = Pipeline(model="accurate")
    # its ONNX form ships beside it, exported from exactly these weights
    assert pipe.recognizer.backend == "onnx"
    assert pipe.recognizer.config.metadata["name"] == "htrkit-accurate-line"
    # it reads as the default does: its character LM, then names in capitals
    assert pipe.decoder_name == "kenlm" and pipe.decoder_options.level == "char"
    assert [p["name"] for p in pipe.describe()["postprocessors"]] == ["capitals"]
    text = pipe(ROOT / "examples" / "images" / "handwritten.png").text
    assert text == "Handwriting is easy to read for htrkit"
    out = run_without_torch("run", str(ROOT / "examples" / "images" / "handwritten.png"),
                            "--model", "accurate")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == text


def test_digits_model_reads_the_example():
    out = run_cli("run", ROOT / "examples" / "images" / "digits.png", "--model", "digits")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "4096"


def test_plugins_lists_the_bundled_models():
    out = run_cli("plugins")
    assert "models: default, accurate, digits" in out.stdout


# -- against the shared data -----------------------------------------------------------

RECIPE = ROOT / "examples" / "recipes" / "default-line.toml"


def card_rows() -> dict[tuple[str, str], dict[str, float]]:
    """The model card's validation table: (dataset, decoder) -> figures in percent."""
    card = (MODELS / "default.md").read_text(encoding="utf-8")
    rows = {}
    pattern = r"^\| (\w+) \| (\w+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|"
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
@pytest.mark.parametrize(
    "dataset",
    # the first generation's sets (in ../shared), then the repositories fetch_data.py gets
    ["Copiste", "Poilus", "DHSD", "LectaurepDufour", "LectaurepRandom1", "TimeUs1858",
     "TimeUs1878", "MSS18", "MSS19", "MSS20", "Peraire"],
)  # fmt: skip
def test_eval_reproduces_the_model_card(dataset):
    import shlex

    if not SHARED.is_dir():
        pytest.skip("../shared/data is not here")
    rows = card_rows()
    command = card_commands()[dataset]
    args = shlex.split(command)[2:]  # after "htrkit eval"
    if not (ROOT / args[0]).exists():
        pytest.skip(f"{args[0]} is not here (examples/recipes/fetch_data.py fetches it)")
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


def recipe_inputs_missing() -> list[str]:
    """What the default recipe reads that is not on this machine: the repositories that
    examples/recipes/fetch_data.py fetches, and the imported PP-OCRv6 starting point."""
    from htrkit.training.config import load_config

    config = load_config(RECIPE)
    paths = [config.resolve(s.path) for s in config.data.train] + [
        config.resolve(config.model.init)
    ]
    return [str(p) for p in paths if not p.exists()]


@pytest.mark.shared
@pytest.mark.slow
def test_recipe_keeps_the_first_generation_splits(tmp_path):
    """Copiste, Poilus and DHSD are validated on exactly the lines they were before."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not here")
    from dataclasses import replace

    from htrkit.training.config import load_config
    from htrkit.training.loop import Trainer

    config = load_config(RECIPE, [f'data.cache="{tmp_path / "lines.lmdb"}"', 'model.init=""'])
    shared = tuple(s for s in config.data.train if "shared/data" in s.path and s.format != "synth")
    assert [s.path.rsplit("/", 1)[-1] for s in shared] == [
        "copiste-pages",
        "poilus-pages",
        "labels.tsv",
    ]
    config = replace(config, data=replace(config.data, train=shared))
    trainer = Trainer(config, log=lambda m: None)
    trainer.load_data()
    per_source = [sum(trainer.store[i].source == k for i in trainer.val_idx) for k in range(3)]
    assert per_source == [537, 312, 654]
    assert len(trainer.train_idx) == 4802 + 2766 + 4504


@pytest.mark.shared
@pytest.mark.slow
def test_recipe_command_retrains(tmp_path):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not here")
    missing = recipe_inputs_missing()
    if missing:
        pytest.skip(
            f"the recipe's inputs are not all here (fetch_data.py, import_ppocr.py): {missing[0]}"
        )
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
    assert "56648 training and 6107 validation lines" in out.stdout + out.stderr
    from htrkit.recognizer import Recognizer

    model = Recognizer.load(tmp_path / "run" / "best.safetensors")
    assert model.config.alphabet == Recognizer.load(MODELS / "default.safetensors").config.alphabet

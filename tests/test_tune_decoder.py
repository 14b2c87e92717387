"""``htrkit tune-decoder`` end to end: the bundled model reads rendered lines, a character
LM built by ``htrkit lm build`` is tuned on them, and the written pipeline configuration
runs."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

pytestmark = pytest.mark.slow

CORPUS = (
    """the river flows past the old mill and under the stone bridge
a letter from the town hall arrived on monday morning
the garden behind the house was full of roses and apple trees
she wrote the names of the children in the parish register
"""
    * 5
)


@pytest.fixture(scope="module")
def lines_and_lm(tmp_path_factory):
    where = tmp_path_factory.mktemp("tune")
    corpus = where / "corpus.txt"
    corpus.write_text(CORPUS)
    out = run_cli("data", "synth", "--n", "24", "-o", where / "lines", "--corpus", corpus,
                  "--seed", "3")  # fmt: skip
    assert out.returncode == 0, out.stderr
    out = run_cli("lm", "build", corpus, "--order", "5", "--char", "-o", where / "c.arpa")
    assert out.returncode == 0, out.stderr
    return where / "lines", where / "c.arpa"


def test_tune_writes_the_best_options_and_they_run(lines_and_lm, tmp_path):
    lines, lm = lines_and_lm
    config = tmp_path / "tuned.toml"
    out = run_cli(
        "tune-decoder", lines, "-d", "kenlm", "-O", f"lm={lm}", "--grid", "alpha=0,0.8",
        "--grid", "beta=0,1", "-o", config, "--json", timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert len(found["trials"]) == 4
    best = min(found["trials"], key=lambda t: (t["cer"], t["wer"]))
    assert found["best"]["options"] == best["options"]
    header = config.read_text().splitlines()[1]
    assert header.startswith(f"# CER {100 * best['cer']:.2f}%, WER {100 * best['wer']:.2f}%")
    assert f"(greedy: CER {100 * found['greedy']['cer']:.2f}%" in header
    assert "[4/4]" in out.stderr and "greedy" in out.stderr

    from htrkit import Pipeline

    pipe = Pipeline.from_config(config)
    assert pipe.decoder_name == "kenlm"
    assert pipe.decoder_options.alpha == float(best["options"]["alpha"])
    assert pipe.decoder_options.lm == str(lm.resolve())
    assert pipe.lang == "mixed"  # recorded: run --config reads with the tuned LM alone
    image = sorted(lines.glob("*.png"))[0]
    read = run_cli("run", image, "--config", config)
    assert read.returncode == 0 and read.stdout.strip(), read.stderr


def test_tune_refuses_bad_grids_before_reading(lines_and_lm, tmp_path):
    lines, lm = lines_and_lm
    out = run_cli("tune-decoder", lines, "-d", "kenlm", "-O", f"lm={lm}", "--grid", "alpha",
                  "-o", tmp_path / "t.toml")  # fmt: skip
    assert out.returncode == 2 and "is not of the form key=v1,v2" in out.stderr
    out = run_cli("tune-decoder", lines, "-d", "kenlm", "-O", f"lm={lm}", "--grid",
                  "alpah=1,2", "-o", tmp_path / "t.toml")  # fmt: skip
    assert out.returncode == 2 and "unknown option 'alpah'" in out.stderr
    assert "did you mean 'alpha'" in out.stderr
    out = run_cli("tune-decoder", lines, "-d", "greedy", "-o", tmp_path / "t.toml")
    assert out.returncode == 2 and "nothing to tune for decoder 'greedy'" in out.stderr
    assert not (tmp_path / "t.toml").exists()
    out = run_cli("tune-decoder", lines, "-d", "kenlm", "-O", f"lm={lm}", "--grid", "alpha=1",
                  "--grid", "alpha=2", "-o", tmp_path / "t.toml")  # fmt: skip
    assert out.returncode == 2 and "--grid alpha is given twice" in out.stderr
    out = run_cli("tune-decoder", lines, "-d", "kenlm", "-O", f"lm={lm}.missing",
                  "-o", tmp_path / "t.toml")  # fmt: skip
    assert out.returncode == 2 and "no such file" in out.stderr
    assert "lines; greedy" not in out.stderr  # said before the model read anything
    for args in (["--lang", "auto"], ["--split", "val", "--val-fraction", "2"]):
        out = run_cli("tune-decoder", lines, "-d", "kenlm", *args, "-o", tmp_path / "t.toml")
        assert out.returncode == 2, (args, out.stderr)
    assert not (tmp_path / "t.toml").exists()


def test_tune_one_language_and_the_configuration_reads_with_it(lines_and_lm, tmp_path):
    lines, _ = lines_and_lm
    config = tmp_path / "en.toml"
    out = run_cli("tune-decoder", lines, "-d", "kenlm", "-O", "level=char", "--lang", "en",
                  "--grid", "alpha=0.5", "--grid", "beta=0,1", "--lines", "8",
                  "-o", config)  # fmt: skip
    assert out.returncode == 0, out.stderr
    from htrkit import Pipeline

    pipe = Pipeline.from_config(config)
    assert pipe.lang == "en" and pipe.decoder_options.lm == "en"

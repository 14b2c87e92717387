"""The htrkit command line, run as a user would: in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import handwriting_like, run_cli
from PIL import Image


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    for i, name in enumerate(["a.png", "b.jpg", "sub/c.tif"]):
        Image.fromarray(handwriting_like(seed=i)).save(folder / name)
    (folder / "notes.txt").write_text("not an image")
    return folder


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_version():
    from htrkit import __version__

    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"htrkit {__version__}"


def test_help_lists_commands_without_heavy_imports():
    code = (
        "import sys\nfrom htrkit.cli import build_app\nbuild_app()\n"
        "print(sorted(m for m in ('torch', 'numpy', 'cv2', 'PIL') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
    help_text = run_cli("--help").stdout
    for command in ("run", "eval", "plugins", "model"):
        assert command in help_text


def test_run_prints_text(model_path, images):
    out = run_cli("run", images / "a.png", "--model", model_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    from htrkit import Pipeline

    expected = Pipeline(model=model_path)(images / "a.png").text
    assert out.stdout == expected + "\n"


def test_run_directory_json_and_decoder_options(model_path, images):
    out = run_cli("run", images, "-m", model_path, "-f", "json", "-d", "beam", "-O", "beam_width=4")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [d["source"] for d in data] == [
        str(images / "a.png"),
        str(images / "b.jpg"),
        str(images / "sub" / "c.tif"),
    ]
    assert all(d["lines"][0]["chars"] is not None for d in data)


def test_run_preprocess_steps_match_the_pipeline(model_path, images):
    from htrkit import Pipeline

    steps = [("binarize", {"method": "sauvola", "window": 15}), ("deslant", {})]
    expected = Pipeline(model=model_path, preprocess=steps)(images / "a.png").to_dict()
    out = run_cli(
        "run", images / "a.png", "-m", model_path, "-f", "json",
        "--preprocess", "binarize", "--preprocess", "deslant",
        "-P", "binarize.method=sauvola", "-P", "binarize.window=15",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == json.loads(json.dumps(expected))
    plain = Pipeline(model=model_path)(images / "a.png").to_dict()
    assert expected != plain  # the steps changed what the network saw
    one = run_cli(
        "run", images / "a.png", "-m", model_path, "-f", "json",
        "--preprocess", "binarize", "-P", "method=sauvola", "-P", "window=15",
    )  # fmt: skip
    replaced = Pipeline(model=model_path, preprocess=steps[:1])(images / "a.png").to_dict()
    assert json.loads(one.stdout) == json.loads(json.dumps(replaced))


def test_run_glob_and_tsv_file_output(model_path, images, tmp_path):
    target = tmp_path / "out" / "pred.tsv"
    out = run_cli("run", str(images / "*.png"), "-m", model_path, "-f", "tsv", "-o", target)
    assert out.returncode == 0, out.stderr
    rows = target.read_text().splitlines()
    assert len(rows) == 1 and rows[0].startswith(str(images / "a.png") + "\t")


def test_run_output_directory(model_path, images, tmp_path):
    target = tmp_path / "texts"
    out = run_cli("run", images, "-m", model_path, "-o", target)
    assert out.returncode == 0, out.stderr
    # the job's manifest and ledger beside them
    names = ["a.txt", "b.txt", "c.txt", "htrkit-job.json", "htrkit-outputs.jsonl"]
    assert sorted(p.name for p in target.iterdir()) == names


def test_an_output_folder_is_named_by_its_ending_slash_even_with_a_dot(model_path, images,
                                                                     tmp_path):  # fmt: skip
    target = tmp_path / "texts.v2"
    out = run_cli("run", images / "a.png", images / "b.jpg", "-m", model_path, "-o", f"{target}/")
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in target.glob("*.txt")) == ["a.txt", "b.txt"]
    mine = tmp_path / "mine.png"  # a file: `-o mine.png/` must not replace it
    mine.write_bytes(b"KEEP")
    for extra in ([], ["--overwrite"]):
        out = run_cli("run", images / "a.png", "-m", model_path, "-o", f"{mine}/", *extra)
        assert out.returncode == 2 and f"-o {mine}/: is a file, not a directory" in out.stderr
    assert mine.read_bytes() == b"KEEP"


def test_failed_inputs_keep_their_place_in_one_document(model_path, images, tmp_path):
    missing = tmp_path / "missing.png"
    out = run_cli("run", images / "a.png", missing, "-m", model_path, "-f", "json")
    assert out.returncode == 1
    body = json.loads(out.stdout)  # a list for two inputs, whichever fail
    assert [(r["source"], r["error"]) for r in body] == [
        (str(images / "a.png"), None),
        (str(missing), f"{missing}: no such file"),
    ]
    out = run_cli("run", missing, images / "notes.txt", "-m", model_path, "-f", "json")
    assert out.returncode == 1 and [r["lines"] for r in json.loads(out.stdout)] == [[], []]
    out = run_cli("run", images / "a.png", missing, "-m", model_path)
    assert out.stdout.endswith(f"\n\n==> {missing} <==\n")
    assert out.stdout.startswith(f"==> {images / 'a.png'} <==\n")


def test_a_page_document_is_not_written_for_a_page_that_failed(model_path, images, tmp_path):
    for fmt in ("alto", "page"):
        target = tmp_path / f"one-{fmt}.xml"
        out = run_cli("run", images / "notes.txt", "-m", model_path, "-f", fmt, "-o", target)
        assert out.returncode == 1 and not target.exists(), fmt


def test_setup_failures_are_bad_usage_said_once(model_path, images, tmp_path):
    a = images / "a.png"
    for args, needle in [
        (["-O", "lm=nope.arpa"], "character LM 'nope.arpa': no such file"),
        (["--decoder", "wordbeam", "-O", "lexicon=nope.txt"], "lexicon 'nope.txt': no such file"),
        (["--preprocess", "deslant", "--replace-preprocess"], "the model reads lines"),
    ]:
        out = run_cli("run", a, a, "-m", "default", *args)
        assert out.returncode == 2, (args, out.stderr)
        assert needle in one_line(out.stderr)
    out = run_cli("run", a, "-m", model_path, env={"HTRKIT_MAX_IMAGE_PIXELS": "abc"})
    assert out.returncode == 2
    assert one_line(out.stderr) == "htrkit: error: HTRKIT_MAX_IMAGE_PIXELS='abc' is not an integer"


def test_existing_overlays_are_refused_before_reading(model_path, images, tmp_path):
    pics = tmp_path / "pics"
    pics.mkdir()
    (pics / "b.png").write_bytes(b"KEEP")
    out = run_cli("run", images / "a.png", images / "b.jpg", "-m", model_path,
                  "--overlay", pics)  # fmt: skip
    assert out.returncode == 2 and out.stdout == ""
    assert one_line(out.stderr).endswith(
        f"{pics / 'b.png'}: exists; give --overwrite to replace it"
    )
    assert sorted(p.name for p in pics.iterdir()) == ["b.png"]
    texts = tmp_path / "texts"  # a refused run makes no folder either
    out = run_cli("run", images / "a.png", images / "b.jpg", "-m", model_path,
                  "--overlay", tmp_path / "one.png", "-o", f"{texts}/")  # fmt: skip
    assert out.returncode == 2 and "give a directory for several inputs" in out.stderr
    assert not texts.exists()


def test_postprocessor_options_from_the_command_line(model_path, images):
    a = images / "a.png"
    two = ["-p", "unicode", "-p", "capitals", "--postprocess-option", "capitals.share=0.9"]
    assert run_cli("run", a, "-m", model_path, *two).returncode == 0
    for args, needle in [
        (["-p", "unicode", "--postprocess-option", "form=XYZ"], "'form' of postprocessor"),
        (["-p", "unicode", "-p", "capitals", "--postprocess-option", "share=0.9"],
         "--postprocess-option share=0.9: with several --postprocess steps, say which"),
        (["--postprocess-option", "share=0.9"], "needs a --postprocess step"),
    ]:  # fmt: skip
        out = run_cli("run", a, "-m", model_path, *args)
        assert out.returncode == 2 and needle in one_line(out.stderr), (args, out.stderr)


def test_model_info_shows_the_bundled_segmenter():
    out = run_cli("model", "info", "segmenter")
    assert out.returncode == 0, out.stderr
    assert "learned line segmenter" in out.stdout and "work_size:" in out.stdout
    assert json.loads(run_cli("model", "info", "segmenter", "--json").stdout)["work_size"] > 0


def test_run_progress_bar(model_path, images):
    out = run_cli("run", images, "-m", model_path, "--progress")
    assert out.returncode == 0
    assert "reading" in out.stderr and "3/3" in out.stderr


def test_bad_inputs_fail_alone(model_path, images, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken.png"
    broken.write_bytes((images / "a.png").read_bytes()[:100])
    out = run_cli(
        "run",
        images / "a.png",
        tmp_path / "missing.png",
        empty,
        images / "notes.txt",
        broken,
        str(tmp_path / "*.gif"),
        images / "b.jpg",
        "-m",
        model_path,
        "-f",
        "tsv",
    )
    assert out.returncode == 1
    errors = out.stderr.splitlines()
    assert errors == [
        f"htrkit: error: {tmp_path / 'missing.png'}: no such file",
        f"htrkit: error: {empty}: no images found in directory (looked for "
        ".bmp, .gif, .jp2, .jpeg, .jpg, .pbm, .pdf, .pgm, .png, .pnm, .ppm, .tif, .tiff, .webp)",
        f"htrkit: error: {images / 'notes.txt'}: not an image, or an unsupported image format",
        errors[3],
        f"htrkit: error: {tmp_path / '*.gif'}: no files match",
        "htrkit: 5 of 7 inputs failed",
    ]
    assert errors[3].startswith(f"htrkit: error: {broken}: ")
    assert [row.split("\t")[0] for row in out.stdout.splitlines()] == [
        str(images / "a.png"),
        str(images / "b.jpg"),
    ]


def test_pixel_limit_is_a_clear_error(model_path, images):
    out = run_cli("run", images / "a.png", "-m", model_path, env={"HTRKIT_MAX_IMAGE_PIXELS": "100"})
    assert out.returncode == 1
    assert "over the limit of 100" in out.stderr


@pytest.mark.parametrize(
    "args, needle, code",
    [
        (["run", "x.png", "-d", "beem"], "unknown decoder 'beem'; did you mean 'beam'?", 2),
        (["run", "x.png", "-O", "beam_width"], "not of the form key=value", 2),
        (["run", "x.png", "-f", "xml"], "unknown writer 'xml'", 2),
        (["run", "x.png", "-m", "nomodel"], "neither a model file nor a known model", 2),
        (["run", "x.png", "-m", "missing.safetensors"], "missing.safetensors: no such model", 2),
        (["model", "info", "pyproject.toml"], "pyproject.toml: not a safetensors model file", 1),
        (["run", "x.png", "-P", "k=v"], "-P) needs a --preprocess step", 2),
        (
            ["run", "x.png", "--preprocess", "binarize", "--preprocess", "deslant", "-P", "k=1"],
            "say which: -P NAME.k=1",
            2,
        ),
        (
            ["run", "x.png", "--preprocess", "binarize", "-P", "deslant.k=1"],
            "'deslant' is not one of the --preprocess steps",
            2,
        ),
        (["run", "x.png", "--preprocess", "binarise", "-P", "metod=otsu"], "'metod'", 2),
    ],
)
def test_errors_are_one_line(args, needle, code, model_path):
    if "-d" in args or "-O" in args or "-f" in args:
        args = [*args, "-m", str(model_path)]
    out = run_cli(*args, cwd=shutil.os.path.dirname(__file__) + "/..")
    assert out.returncode == code
    line = one_line(out.stderr)
    assert line.startswith("htrkit: error: ") and needle in line


def test_debug_shows_traceback():
    out = run_cli("run", "x.png", "-m", "missing.safetensors", env={"HTRKIT_DEBUG": "1"})
    assert "Traceback (most recent call last)" in out.stderr
    assert "ModelNotFoundError" in out.stderr


def test_plugins_json_lists_builtins_with_providers():
    out = run_cli("plugins", "--json")
    assert out.returncode == 0, out.stderr
    data = {p["name"]: p for p in json.loads(out.stdout)}
    assert data["decoders"]["components"]["decoder"] == [
        "greedy",
        "beam",
        "wordbeam",
        "kenlm",
        "pattern",
    ]
    assert data["decoders"]["distribution"] == "htrkit" and data["decoders"]["builtin"]
    assert "cer" in data["metrics"]["components"]["metric"]
    full = {p["name"]: p for p in json.loads(run_cli("plugins", "--all", "--json").stdout)}
    beam = full["decoders"]["components"]["decoder"][1]
    assert beam["name"] == "beam" and beam["options"][0]["name"] == "beam_width"


def test_eval_table_and_json(tmp_path):
    ref = tmp_path / "gt.tsv"
    pred = tmp_path / "pred.tsv"
    ref.write_text("a.png\tkitten\nb.png\thello world\nc.png\tmissing\n")
    pred.write_text("dir/a.png\tsitting\nb.png\thello world\n")
    out = run_cli("eval", ref, pred, "--json", "-M", "cer", "-M", "wer", "-M", "exact-match")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["samples"] == 3 and data["missing"] == 1
    # edits: kitten->sitting 3, identical 0, missing->"" 7; reference chars 6 + 11 + 7
    assert data["scores"]["cer"] == pytest.approx(10 / 24)
    assert data["scores"]["wer"] == pytest.approx(2 / 4)
    assert data["scores"]["exact-match"] == pytest.approx(1 / 3)
    assert "1 of 3 references have no prediction" in out.stderr
    table = run_cli("eval", ref, pred)
    assert "cer" in table.stdout and "0.4167" in table.stdout and "jaro-winkler" in table.stdout


def test_eval_bad_tsv(tmp_path):
    ref = tmp_path / "gt.tsv"
    ref.write_text("a.png\tok\nno tab here\n")
    out = run_cli("eval", ref, ref)
    assert out.returncode == 1
    assert one_line(out.stderr) == f"htrkit: error: {ref}:2: expected id<TAB>text, found no tab"


def test_model_new_and_info(tmp_path):
    target = tmp_path / "m.safetensors"
    out = run_cli("model", "new", "-o", target, "--alphabet", "abc", "-O", "hidden=16")
    assert out.returncode == 0, out.stderr
    info = json.loads(run_cli("model", "info", target, "--json").stdout)
    assert info["alphabet"] == ["a", "b", "c"]
    assert info["backbone_options"] == {"dropout": 0.2, "height": 32, "hidden": 16}


def test_serve_on_a_port_in_use_is_a_one_line_usage_error():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = run_cli("serve", "--port", str(port), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"htrkit: error: 127.0.0.1:{port} is in use by another program; choose another with --port"
    ]
    assert done.stdout == ""

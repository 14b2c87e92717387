"""Every command that writes a file refuses, in one line and before any work, to replace a
user's file without --overwrite, to write where a folder above is a file, and reports a
machine's refusal (a full disk) in one line: found by a hardening probe, 2026-12-07."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli

LINE = ROOT / "examples" / "images" / "handwritten.png"


def one_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "mine.txt").write_text("KEEP\n")
    (tmp_path / "corpus.txt").write_text("hello world\nthe quick brown fox\n")
    (tmp_path / "truth.tsv").write_text(f"{LINE}\thello\n")
    return tmp_path


def commands(d):
    """(command line, the option that names the output) for each file-writing command."""
    return [
        (["model", "new", "-o", d / "mine.txt", "--alphabet", "abc"], "-o"),
        (["lm", "build", d / "corpus.txt", "-o", d / "mine.txt"], "-o"),
        (["run", LINE, "-o", d / "mine.txt"], "-o"),
        (["run", LINE, "--overlay", d / "mine.png"], "--overlay"),
        (
            ["eval", d / "truth.tsv", "--model", "default", "--save-predictions", d / "mine.txt"],
            "--save-predictions",
        ),  # fmt: skip
        (["eval", d / "truth.tsv", "--model", "default", "--grid", d / "mine.png"], "--grid"),
        (["tune-decoder", d / "truth.tsv", "-o", d / "mine.txt"], "-o"),
    ]


def test_no_command_replaces_a_file_without_overwrite(folder):
    (folder / "mine.png").write_text("KEEP\n")
    for args, _ in commands(folder):
        out = run_cli(*args)
        assert out.returncode == 2, (args, out.stderr)
        target = args[args.index(_) + 1] if _ in args else args[-1]
        assert one_line(out) == f"htrkit: error: {target}: exists; give --overwrite to replace it"
        assert target.read_text() == "KEEP\n", args


def test_no_command_writes_below_a_file(folder):
    for args, option in commands(folder):
        i = args.index(option) + 1
        args = [*args[:i], folder / "mine.txt" / "sub" / "x.out", *args[i + 1 :]]
        out = run_cli(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert one_line(out).endswith(f"{folder / 'mine.txt'} is a file, not a folder"), args


def test_overwrite_replaces_and_writes_atomically(folder):
    out = run_cli("lm", "build", folder / "corpus.txt", "-o", folder / "mine.txt", "--overwrite")
    # a .txt is no LM file name: refused, and the file is untouched
    assert out.returncode == 2 and (folder / "mine.txt").read_text() == "KEEP\n"
    (folder / "lm.arpa").write_text("KEEP\n")
    out = run_cli("lm", "build", folder / "corpus.txt", "-o", folder / "lm.arpa", "--overwrite")
    assert out.returncode == 0, out.stderr
    assert (folder / "lm.arpa").read_text().startswith("\n\\data\\")
    assert not [p for p in folder.iterdir() if p.name.startswith(".htrkit-partial-")]


def test_bad_arguments_of_writers_give_one_line(folder):
    empty = run_cli("model", "new", "-o", folder / "m.safetensors", "--alphabet", "")
    assert empty.returncode == 2 and "--alphabet" in one_line(empty)
    assert not (folder / "m.safetensors").exists()
    corpus_folder = run_cli("lm", "build", folder, "-o", folder / "x.arpa")
    assert corpus_folder.returncode == 1
    assert one_line(corpus_folder) == (
        f"htrkit: error: {folder}: a folder; give the corpus's text files"
    )
    (folder / "syn").mkdir()
    (folder / "syn" / "manifest.tsv").write_text("KEEP\n")
    synth = run_cli(
        "data", "synth", "-n", "2", "-o", folder / "syn", "--corpus", folder / "corpus.txt"
    )
    assert synth.returncode == 2 and "holds an earlier run's files" in one_line(synth)
    assert (folder / "syn" / "manifest.tsv").read_text() == "KEEP\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_is_one_line():
    with open("/dev/full", "w") as full:
        cmd = [sys.executable, "-m", "htrkit", "run", str(LINE), "-d", "greedy"]
        out = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert out.returncode == 1
    assert one_line(out) == "htrkit: error: the system refused: No space left on device"


def test_file_names_with_tabs_and_newlines_keep_rows_and_errors_one_line(tmp_path):
    import shutil

    shutil.copy(LINE, tmp_path / "a\tb.png")
    shutil.copy(LINE, tmp_path / "c\nd.png")
    (tmp_path / "e\nf.png").write_text("not an image")
    out = run_cli("run", tmp_path, "-f", "tsv", "-d", "greedy")
    assert out.returncode == 1
    rows = out.stdout.splitlines()
    assert len(rows) == 2 and all(row.count("\t") == 1 for row in rows)
    assert {row.split("\t")[0] for row in rows} == {f"{tmp_path}/a b.png", f"{tmp_path}/c d.png"}
    errors = out.stderr.splitlines()
    assert errors[0].startswith(f"htrkit: error: {tmp_path}/e\\nf.png: not an image")
    assert len(errors) == 2  # that line and the count

"""Collection jobs: ``htrkit run INPUTS -o OUT/`` resumable, on worker processes and on a
real local Ray cluster, with byte-identical outputs whichever way they were read."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, handwriting_like, run_cli
from PIL import Image

EXAMPLES = ROOT / "examples" / "images"


def _inputs(folder: Path, n: int, bad: int = 0) -> Path:
    """``n`` line images of varied widths (and ``bad`` files that are not images)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image = handwriting_like(width=120 + 37 * (i % 9), height=48, seed=i)
        Image.fromarray(image).save(folder / f"line{i:03d}.png")
    for i in range(bad):
        (folder / f"broken{i}.png").write_bytes(b"not an image at all")
    return folder


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".txt"}


def test_folder_job_resumes_refuses_other_settings_and_lists_failures(tmp_path):
    inputs = _inputs(tmp_path / "in", 5, bad=1)
    out = tmp_path / "out"
    first = run_cli("run", inputs, "-o", f"{out}/", "--no-progress")
    assert first.returncode == 1  # one input failed, the others were read
    assert sorted(_outputs(out)) == [f"line{i:03d}.txt" for i in range(5)]
    errors = (out / "errors.tsv").read_text(encoding="utf-8").splitlines()
    assert errors[0] == "input\treason" and len(errors) == 2
    assert errors[1].startswith(f"{inputs / 'broken0.png'}\t") and "not an image" in errors[1]
    assert first.stderr.strip().splitlines()[-1] == (
        f"htrkit: wrote 5 txt files to {out}/; 0 skipped (done before), 1 failed "
        f"(reasons in {out}/errors.tsv)"
    )
    manifest = json.loads((out / "htrkit-job.json").read_text(encoding="utf-8"))
    # the default model's own decoding: its character language model
    assert manifest["format"] == "txt" and manifest["pipeline"]["decoder"] == "kenlm"
    assert manifest["pipeline"]["decoder_options"]["level"] == "char"
    assert len(manifest["pipeline"]["model"]["sha256"]) == 64
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.txt")}

    (inputs / "broken0.png").unlink()
    again = run_cli("run", inputs, "-o", f"{out}/", "--no-progress")
    assert again.returncode == 0, again.stderr
    assert again.stderr.strip() == (
        f"htrkit: wrote 0 txt files to {out}/; 5 skipped (done before), 0 failed"
    )
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.txt")} == stamps
    assert not (out / "errors.tsv").exists()

    other = run_cli("run", inputs, "-o", f"{out}/", "--decoder", "beam")
    assert other.returncode == 2
    assert other.stderr.strip().splitlines() == [
        f"htrkit: error: {out}: written by a job with other settings (pipeline.decoder: "
        "'kenlm' then, 'beam' now); rerun with the same settings to resume, or give "
        "--overwrite to read everything again"
    ]
    redo = run_cli("run", inputs, "-o", f"{out}/", "--decoder", "beam", "--overwrite")
    assert redo.returncode == 0, redo.stderr
    assert "wrote 5 txt files" in redo.stderr and "0 skipped" in redo.stderr
    assert json.loads((out / "htrkit-job.json").read_text())["pipeline"]["decoder"] == "beam"


def test_files_no_job_wrote_are_never_replaced(tmp_path):
    inputs = _inputs(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "line000.txt").write_text("the archivist's own transcription\n")
    done = run_cli("run", inputs, "-o", f"{out}/")
    assert done.returncode == 2
    assert "1 output file(s) exist that no htrkit job wrote here (first: line000.txt)" in (
        done.stderr
    )
    assert (out / "line000.txt").read_text() == "the archivist's own transcription\n"
    single = tmp_path / "all.tsv"
    single.write_text("mine\n")
    refused = run_cli("run", inputs, "-f", "tsv", "-o", single)
    assert refused.returncode == 2 and "exists; give --overwrite" in refused.stderr
    assert single.read_text() == "mine\n"
    assert run_cli("run", inputs, "-f", "tsv", "-o", single, "--overwrite").returncode == 0
    assert single.read_text().count("line00") == 2


def test_an_output_counts_as_done_only_for_the_input_it_was_written_for(tmp_path):
    # two folders whose files have the same name: the second is read, not skipped
    first = _inputs(tmp_path / "d1", 1)
    second = tmp_path / "d2"
    second.mkdir()
    Image.fromarray(handwriting_like(width=400, height=48, seed=99)).save(second / "line000.png")
    out = tmp_path / "out"
    assert run_cli("run", first, "-o", f"{out}/").returncode == 0
    mine = (out / "line000.txt").read_bytes()
    again = run_cli("run", second, "-o", f"{out}/", "--no-progress")
    assert again.returncode == 0, again.stderr
    assert "wrote 1 txt file to" in again.stderr and "0 skipped" in again.stderr
    assert (out / "line000.txt").read_bytes() == mine  # the first folder's stays
    alone = run_cli("run", second / "line000.png")
    assert (out / "line000-2.txt").read_text(encoding="utf-8") == alone.stdout
    # and rerunning the first folder skips it: its output is still recorded for it (an
    # input given twice, under two spellings, is one input)
    again = f"{first}/../d1/line000.png"
    twice = run_cli("run", first, first / "line000.png", again, "-o", f"{out}/", "--no-progress")
    assert "wrote 0 txt files" in twice.stderr and "1 skipped" in twice.stderr


def test_an_input_keeps_its_file_when_the_folder_gains_one_of_the_same_name(tmp_path):
    inputs = tmp_path / "in"
    (inputs / "b").mkdir(parents=True)
    Image.fromarray(handwriting_like(width=300, height=48, seed=1)).save(inputs / "b" / "x.png")
    out = tmp_path / "out"
    assert run_cli("run", inputs, "-o", f"{out}/").returncode == 0
    b_text = (out / "x.txt").read_bytes()
    (inputs / "a").mkdir()  # sorts before b: it would have taken x.txt in a fresh run
    Image.fromarray(handwriting_like(width=200, height=48, seed=2)).save(inputs / "a" / "x.png")
    again = run_cli("run", inputs, "-o", f"{out}/", "--no-progress")
    assert again.returncode == 0, again.stderr
    assert "wrote 1 txt file" in again.stderr and "1 skipped" in again.stderr
    assert (out / "x.txt").read_bytes() == b_text
    assert (out / "x-2.txt").read_text(encoding="utf-8") == run_cli(
        "run", inputs / "a" / "x.png"
    ).stdout


def test_inputs_unreadable_before_the_job_are_counted_and_listed(tmp_path):
    inputs = _inputs(tmp_path / "in", 2)
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    done = run_cli("run", inputs, empty, str(tmp_path / "none*.png"), "-o", f"{out}/",
                   "--jobs", "50", "--no-progress")  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"htrkit: wrote 2 txt files to {out}/; 0 skipped (done before), 2 failed "
        f"(reasons in {out}/errors.tsv); 2 workers"  # --jobs 50, but only 2 inputs
    )
    rows = (out / "errors.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[1].startswith(f"{empty}\t{empty}: no images found in directory")
    assert rows[2] == f"{tmp_path / 'none*.png'}\t{tmp_path / 'none*.png'}: no files match"


def test_two_jobs_write_what_one_job_writes(tmp_path):
    inputs = _inputs(tmp_path / "in", 8)
    one = run_cli("run", inputs, "-o", f"{tmp_path / 'one'}/", "--jobs", "1")
    two = run_cli("run", inputs, "-o", f"{tmp_path / 'two'}/", "--jobs", "2")
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "two")
    assert len(_outputs(tmp_path / "one")) == 8


def _threads_in_worker(_: int) -> dict:
    """What a --jobs worker process runs on (called in the worker)."""
    import cv2

    from htrkit import jobs

    pipe = jobs._WORKER["pipe"]
    return {
        "omp": os.environ.get("OMP_NUM_THREADS"),
        "cv2": cv2.getNumThreads(),
        "decoding": pipe._decoding.threads,
        "backend": pipe.recognizer.backend,
        "network": getattr(pipe.recognizer, "threads", None),
        "segmenter": pipe.segmenter.page.onnx.threads if pipe.segmenter.page.onnx else None,
    }


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["auto", "torch"])
def test_a_worker_keeps_to_its_share_of_the_cores(monkeypatch, backend):
    """A real --jobs worker process with one core's share runs one thread everywhere: the
    network, the decoding, the page segmenter's network and OpenCV, with either backend
    (more oversubscribed two cores and held --jobs 2 to the speed of --jobs 1,
    docs/collections.md)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from htrkit import jobs
    from htrkit.onnxmodel import available

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # the worker sets its own
    settings = {"model": "default", "backend": backend}
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                             initializer=jobs._start_worker,
                             initargs=(settings, "txt", 1)) as pool:  # fmt: skip
        found = pool.submit(_threads_in_worker, 0).result(timeout=300)
    expected = "onnx" if backend == "auto" and available() else "torch"
    assert found["backend"] == expected
    assert found["omp"] == "1" and found["cv2"] == 1 and found["decoding"] == 1
    if expected == "onnx":
        assert found["network"] == 1
    if available():  # the page segmenter runs on onnxruntime with either backend
        assert found["segmenter"] == 1


def test_a_killed_job_resumed_writes_what_an_uninterrupted_one_writes(tmp_path):
    inputs = _inputs(tmp_path / "in", 60)
    whole = tmp_path / "whole"
    assert run_cli("run", inputs, "-o", f"{whole}/", "--jobs", "2").returncode == 0
    out = tmp_path / "out"
    env = {**os.environ, "HTRKIT_LOAD_PLUGINS": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "htrkit", "run", str(inputs), "-o", f"{out}/", "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,  # its workers die with it
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("*.txt"))) < 3:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    partial = len(list(out.glob("*.txt")))
    assert 3 <= partial < 60, "the run must be killed in the middle"
    resumed = run_cli("run", inputs, "-o", f"{out}/", "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{partial} skipped" in resumed.stderr
    assert _outputs(out) == _outputs(whole)
    assert not list(out.glob(".htrkit-partial-*"))


def test_bad_job_options_give_one_line(tmp_path):
    line = EXAMPLES / "handwritten.png"
    cases = [
        (["--jobs", "2"], "--jobs 2 reads a collection into a folder: give -o OUT/"),
        (["--engine", "spark", "-o", f"{tmp_path}/o/"], "--engine must be local or ray"),
        (["--address", "auto"], "--address is the Ray cluster of --engine ray"),
    ]
    for extra, says in cases:
        done = run_cli("run", line, *extra)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0]
    out = tmp_path / "m"
    out.mkdir()
    (out / "htrkit-job.json").write_text("{not json")
    done = run_cli("run", line, "-o", f"{out}/")
    assert done.returncode == 2 and "not a readable job manifest" in done.stderr


@pytest.mark.slow
def test_ray_engine_on_a_local_cluster_writes_what_the_local_engine_writes(tmp_path):
    """A local Ray cluster started by the test (``ray.init(num_cpus=2)``, in a fresh
    process: Ray forks its own processes, which a test process full of threads must not
    do), then ``htrkit run --engine ray`` on it."""
    pytest.importorskip("ray")
    inputs = _inputs(tmp_path / "in", 10, bad=1)
    local = run_cli("run", inputs, "-o", f"{tmp_path / 'local'}/")
    assert local.returncode == 1  # the broken input
    script = (
        "import sys, ray\n"
        "ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)\n"
        "from htrkit.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "finally:\n"
        "    ray.shutdown()\n"
    )
    env = {**os.environ, "HTRKIT_LOAD_PLUGINS": ""}
    on_ray = subprocess.run(
        [sys.executable, "-c", script, "run", str(inputs), "-o", f"{tmp_path / 'ray'}/",
         "--engine", "ray", "--jobs", "2"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert on_ray.returncode == 1, on_ray.stderr
    assert "wrote 10 txt files" in on_ray.stderr and "1 failed" in on_ray.stderr
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")
    assert len(_outputs(tmp_path / "ray")) == 10
    assert (tmp_path / "ray" / "errors.tsv").read_bytes() == (
        tmp_path / "local" / "errors.tsv"
    ).read_bytes()


def test_atomic_writes_keep_the_old_file_when_writing_fails(tmp_path):
    """A full disk or a crash while a file is written leaves the previous file whole."""
    import errno

    from htrkit.atomic import replacing, write_text
    from htrkit.errors import OutputError

    target = tmp_path / "model.txt"
    write_text(target, "the old, good file\n")
    with pytest.raises(OutputError, match="model.txt: cannot write it: No space left"), \
            replacing(target) as tmp:  # fmt: skip
        tmp.write_text("half of the new")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "the old, good file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["model.txt"]  # no temporary left
    write_text(target, "new\n")
    assert target.read_text() == "new\n" and oct(target.stat().st_mode & 0o777) == "0o644"


def test_jobs_auto_takes_a_worker_per_core_within_inputs_and_memory():
    from htrkit.errors import ConfigError
    from htrkit.jobs import WORKER_MEMORY, auto_jobs, parse_jobs

    assert auto_jobs(100, cores=8, memory=64 * WORKER_MEMORY) == 8
    assert auto_jobs(3, cores=8, memory=64 * WORKER_MEMORY) == 3  # no idle workers
    assert auto_jobs(100, cores=8, memory=5 * WORKER_MEMORY + 1) == 5  # what memory holds
    assert auto_jobs(100, cores=8, memory=0) == 1 and auto_jobs(0, cores=8) == 1
    assert 1 <= auto_jobs(1000) <= len(os.sched_getaffinity(0))
    assert parse_jobs("auto") == "auto" and parse_jobs(" AUTO ") == "auto"
    assert parse_jobs("3") == 3 and parse_jobs(2) == 2
    for bad in ("0", "-1", "two", "1.5", "", True):
        with pytest.raises(ConfigError, match="--jobs must be 1 or more, or auto, got"):
            parse_jobs(bad)


@pytest.mark.slow
def test_jobs_auto_reads_what_one_job_reads(tmp_path):
    """``--jobs auto`` on this machine: as many workers as cores (here 2, or 1 on one
    core), named in the summary, writing what one job writes; refused without -o OUT/ and
    with Ray, and a bad value is one line."""
    from htrkit.jobs import auto_jobs

    inputs = _inputs(tmp_path / "in", 6)
    one = run_cli("run", inputs, "-o", f"{tmp_path / 'one'}/", "--no-progress")
    auto = run_cli("run", inputs, "-o", f"{tmp_path / 'auto'}/", "--jobs", "auto",
                   "--no-progress", timeout=300)  # fmt: skip
    assert one.returncode == 0 and auto.returncode == 0, auto.stderr
    assert _outputs(tmp_path / "auto") == _outputs(tmp_path / "one") != {}
    workers = auto_jobs(6)
    summary = auto.stderr.strip().splitlines()[-1]
    assert summary.startswith(f"htrkit: wrote 6 txt files to {tmp_path / 'auto'}/")
    assert summary.endswith(f"; {workers} workers") == (workers > 1)
    bad = run_cli("run", inputs, "-o", f"{tmp_path / 'x'}/", "--jobs", "many")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "htrkit: error: --jobs must be 1 or more, or auto, got 'many'"
    single = run_cli("run", inputs / "line000.png", "--jobs", "auto")
    assert single.returncode == 2 and "give -o OUT/" in single.stderr
    ray = run_cli("run", inputs, "-o", f"{tmp_path / 'r'}/", "--jobs", "auto", "--engine", "ray")
    assert ray.returncode == 2
    assert ray.stderr.strip() == (
        "htrkit: error: --jobs auto is for the local engine: give Ray a number of actors"
    )


def test_more_workers_than_the_memory_holds_are_warned_of():
    from htrkit.jobs import WORKER_MEMORY, memory_warning

    assert memory_warning(2, memory=4 * WORKER_MEMORY) is None
    said = memory_warning(50, memory=int(3.5 * WORKER_MEMORY))
    assert said.startswith("--jobs 50: the free memory (2.1 GiB) holds about 3 worker(s)")
    assert "--jobs auto" in said

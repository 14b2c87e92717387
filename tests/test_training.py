"""Training end to end: from generated data to a model that reads, exact resume, DDP,
the LMDB cache, fine-tuning with a larger alphabet, and evaluation of a dataset. (The
checks of a configuration before training are tests/test_training_config.py, adapting
tests/test_adapt.py.)"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import run_cli, train_config, train_toml, write_word_dataset
from safetensors.torch import load_file

from htrkit.errors import ConfigError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    return write_word_dataset(tmp_path_factory.mktemp("words"), 800)


def test_trains_to_a_low_cer_and_the_model_reads(tmp_path, words):
    from htrkit import Pipeline
    from htrkit.training.loop import Trainer

    cfg = train_config(
        tmp_path,
        words,
        "run",
        "train.epochs=14",
        "train.augment=false",
        "train.patience=0",
        "train.batch_size=8",
    )
    summary = Trainer(cfg, log=lambda m: None).fit()
    assert summary["best_cer"] < 0.10, summary
    out = tmp_path / "run"
    for name in (
        "best.safetensors",
        "last.safetensors",
        "train-state.safetensors",
        "history.json",
        "history.png",
    ):
        assert (out / name).is_file(), name
    history = json.loads((out / "history.json").read_text())
    assert len(history) == 14 and history[-1]["train_loss"] < history[0]["train_loss"]
    # the trained model reads held-out words through the ordinary pipeline
    pipe = Pipeline(model=out / "best.safetensors", segmenter_options={"trim": False})
    held_out = write_word_dataset(tmp_path / "new", 40, seed=99)
    pngs = sorted(held_out.rglob("*.png"))
    results = pipe.batch(pngs)
    truth = [p.with_name(p.stem + ".gt.txt").read_text() for p in pngs]
    from htrkit.metrics.text import CharacterErrorRate

    assert CharacterErrorRate().corpus([r.text for r in results], truth) < 0.15
    config_json = json.loads(run_cli("model", "info", out / "best.safetensors", "--json").stdout)
    assert config_json["metadata"]["validation"]["cer"] == pytest.approx(
        summary["best_cer"], abs=1e-4
    )


def test_resume_gives_the_same_weights(tmp_path, words):
    from htrkit.training.loop import Trainer

    small = write_word_dataset(tmp_path / "small", 200, seed=3)
    straight = train_config(tmp_path, small, "a", "train.epochs=2")
    Trainer(straight, log=lambda m: None).fit()
    # Interrupted after the first batch or so by the time budget, then resumed.
    cut = train_config(tmp_path, small, "b", "train.epochs=2", "train.max_minutes=0.0001")
    summary = Trainer(cut, log=lambda m: None).fit()
    assert summary["stopped"].startswith("time budget")
    assert summary["steps"] < 20
    again = train_config(tmp_path, small, "b", "train.epochs=2")
    Trainer(again, resume=True, log=lambda m: None).fit()
    a = load_file(tmp_path / "a" / "last.safetensors")
    b = load_file(tmp_path / "b" / "last.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key].numpy(), b[key].numpy()), key
    # more epochs may be asked for, and the run says what that does to its schedule
    said: list[str] = []
    Trainer(
        train_config(tmp_path, small, "b", "train.epochs=3"), resume=True, log=said.append
    ).fit()
    assert any(m.startswith("note: 3 epochs where the run had 2: its cosine schedule now spans")
               for m in said), said  # fmt: skip
    changed = train_config(tmp_path, small, "b", "train.epochs=3", "train.lr=0.1")
    with pytest.raises(ConfigError, match="cannot resume: train.lr differs"):
        Trainer(changed, resume=True, log=lambda m: None).fit()
    # a model of another shape is refused by name too, before its weights are loaded
    other = train_config(
        tmp_path, small, "b", "train.epochs=2", "model.backbone_options={hidden=16}"
    )
    with pytest.raises(ConfigError, match="cannot resume: model.backbone_options.hidden"):
        Trainer(other, resume=True, log=lambda m: None).fit()


def test_ddp_two_processes(tmp_path, words):
    small = write_word_dataset(tmp_path / "small", 160, seed=4)
    toml = tmp_path / "train.toml"
    toml.write_text(
        f'[[data.train]]\npath = "{small}"\nformat = "gt-pairs"\n'
        f'[train]\noutput = "{tmp_path / "ddp"}"\nepochs = 1\nbatch_size = 8\ndevice = "cpu"\n'
    )
    out = run_cli("train", toml, "--nproc", "2", timeout=600)
    assert out.returncode == 0, out.stderr
    assert "best validation CER" in out.stdout
    model = tmp_path / "ddp" / "best.safetensors"
    read = run_cli("run", small / "group000" / "w00000.png", "--model", model)
    assert read.returncode == 0, read.stderr


def test_cache_fine_tune_and_eval(tmp_path, words):
    from htrkit.training.cache import LmdbStore
    from htrkit.training.loop import Trainer

    base = write_word_dataset(tmp_path / "base", 120, seed=5, chars="abc")
    cfg = train_config(
        tmp_path, base, "base", "train.epochs=1", f'data.cache="{tmp_path / "c.lmdb"}"'
    )
    Trainer(cfg, log=lambda m: None).fit()
    store = LmdbStore(tmp_path / "c.lmdb")
    assert len(store) == 120 and store[0].image.shape[0] == 32 and store[0].text
    # a different preprocessing must not silently reuse the cache
    other = train_config(
        tmp_path, base, "x", "model.input_height=48", f'data.cache="{tmp_path / "c.lmdb"}"'
    )
    with pytest.raises(ConfigError, match="cache was built with other preprocess"):
        Trainer(other, log=lambda m: None).load_data()
    # nor a cache of lines cut before they were straightened along their baselines
    import lmdb

    old_cache = tmp_path / "old.lmdb"
    shutil.copy(tmp_path / "c.lmdb", old_cache)
    env = lmdb.open(str(old_cache), subdir=False, lock=False)
    with env.begin(write=True) as txn:
        meta = json.loads(txn.get(b"__meta__"))
        del meta["crop"]
        txn.put(b"__meta__", json.dumps(meta).encode())
    env.close()
    stale = train_config(tmp_path, base, "x", f'data.cache="{old_cache}"')
    with pytest.raises(ConfigError, match="old.lmdb: cache holds lines cut by an older htrkit"):
        Trainer(stale, log=lambda m: None).load_data()

    more = write_word_dataset(tmp_path / "more", 120, seed=6, chars="abcxyz")
    tuned = train_config(
        tmp_path,
        more,
        "tuned",
        "train.epochs=1",
        f'model.init="{tmp_path / "base" / "best.safetensors"}"',
    )
    Trainer(tuned, log=lambda m: None).fit()
    old = load_file(tmp_path / "base" / "best.safetensors")
    new = load_file(tmp_path / "tuned" / "train-state.safetensors")
    info = json.loads(
        run_cli("model", "info", tmp_path / "tuned" / "best.safetensors", "--json").stdout
    )
    assert info["alphabet"][:3] == ["a", "b", "c"] and set(info["alphabet"][3:]) == set("xyz")
    assert new["model.head.weight"].shape[0] == old["head.weight"].shape[0] + 3
    # with an alphabet in the config, only its new characters are added, not the texts'
    limited = train_config(
        tmp_path,
        more,
        "limited",
        "train.epochs=1",
        'model.alphabet="abcx"',
        f'model.init="{tmp_path / "base" / "best.safetensors"}"',
    )
    Trainer(limited, log=lambda m: None).fit()
    info = json.loads(
        run_cli("model", "info", tmp_path / "limited" / "best.safetensors", "--json").stdout
    )
    assert info["alphabet"] == ["a", "b", "c", "x"]

    grid = tmp_path / "grid.png"
    out = run_cli(
        "eval",
        more,
        "--model",
        tmp_path / "tuned" / "best.safetensors",
        "--json",
        "--grid",
        grid,
        "--split",
        "val",
        "--val-fraction",
        "0.5",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert 0 < data["samples"] < 120
    assert {"cer", "wer", "word-accuracy", "jaro-winkler"} <= set(data["scores"])
    assert grid.is_file() and grid.stat().st_size > 1000


def test_cli_cache_then_train_with_progress(tmp_path):
    data = write_word_dataset(tmp_path / "data", 120, seed=8)
    toml = tmp_path / "train.toml"
    toml.write_text(
        f'[[data.train]]\npath = "{data}"\n'
        f'[data]\ncache = "lines.lmdb"\n'
        f'[train]\noutput = "out"\nbatch_size = 8\nthreads = 1\n'
    )
    out = run_cli("data", "cache", toml)
    assert out.returncode == 0, out.stderr
    assert "lines.lmdb: 120 lines" in out.stdout
    again = run_cli("data", "cache", toml)
    assert again.returncode == 2 and "exists already" in again.stderr
    out = run_cli("train", toml, "--epochs", "2", "--progress", timeout=600)
    assert out.returncode == 0, out.stderr
    assert "epoch 2/2" in out.stderr and "val CER" in out.stderr
    assert "epoch 2/2 (run: ~" in out.stderr  # the whole run's time to go, from epoch 2 on
    assert "stopped: epochs done after 2 epochs" in out.stdout
    assert (tmp_path / "out" / "history.png").is_file()
    # an earlier run is neither replaced nor resumed by accident
    best = (tmp_path / "out" / "best.safetensors").read_bytes()
    again = run_cli("train", toml, "--epochs", "1")
    assert again.returncode == 2 and "holds an earlier run (best.safetensors)" in again.stderr
    assert (tmp_path / "out" / "best.safetensors").read_bytes() == best
    fresh = run_cli("train", toml, "-o", tmp_path / "new", "--resume")
    assert fresh.returncode == 2 and "no training state to resume from" in fresh.stderr
    # data added since the cache was written: the cache is refused, not read stale
    write_word_dataset(data / "added", 20, seed=11)
    stale = run_cli("train", toml, "-o", tmp_path / "new", "--epochs", "1")
    assert stale.returncode == 2 and "the data changed since the cache was written" in stale.stderr
    (tmp_path / "notes.txt").write_text("not a cache")
    other = run_cli("train", toml, "-o", tmp_path / "new", "-s", 'data.cache="notes.txt"')
    assert other.returncode == 1 and "notes.txt: not an htrkit line cache" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1


def test_init_names_an_installed_model(tmp_path):
    import torch

    from htrkit.plugins import registry
    from htrkit.recognizer import Recognizer
    from htrkit.training.loop import Trainer

    data = write_word_dataset(tmp_path / "d", 30, seed=2, chars="0123")
    trainer = Trainer(train_config(tmp_path, data, "x", 'model.init="digits"'), log=lambda m: None)
    trainer.load_data()
    trainer.build_model()
    digits = Recognizer.load(registry("model").create("digits"))
    assert trainer.recognizer.config.backbone == digits.config.backbone
    assert trainer.steps == digits.config.preprocess
    theirs = digits.module.state_dict()
    for key, value in trainer.recognizer.module.state_dict().items():
        assert torch.equal(value, theirs[key]), key
    missing = Trainer(train_config(tmp_path, data, "y", 'model.init="no-such-model"'), log=print)
    with pytest.raises(ConfigError, match="no such model file .* no installed model of that name"):
        missing.load_data()


def test_data_loader_workers_give_the_same_weights(tmp_path):
    """[train] num_workers decodes and augments in worker processes: each sample is
    seeded by its index and epoch, so the run is the same as without workers."""
    from htrkit.training.loop import Trainer

    small = write_word_dataset(tmp_path / "small", 120, seed=5)
    for out, workers in (("w0", 0), ("w2", 2)):
        cfg = train_config(tmp_path, small, out, "train.epochs=1", f"train.num_workers={workers}")
        Trainer(cfg, log=lambda m: None).fit()
    a = load_file(tmp_path / "w0" / "last.safetensors")
    b = load_file(tmp_path / "w2" / "last.safetensors")
    for key in a:
        assert np.array_equal(a[key].numpy(), b[key].numpy()), key


def test_fork_server_workers_give_the_batches_of_the_process(tmp_path):
    """On a GPU, DataLoader workers start from a fork server (a forked worker inherits
    the trainer's CUDA tensors and dies freeing one): the dataset travels to them pickled,
    LMDB store and augmenter included, and they give the batches collated in-process."""
    import torch
    from torch.utils.data import DataLoader

    from htrkit.training.dataset import collate
    from htrkit.training.loop import Trainer, _forkserver

    small = write_word_dataset(tmp_path / "small", 60, seed=8)
    cfg = train_config(
        tmp_path, small, "x", f'data.cache="{tmp_path / "c.lmdb"}"', "train.epochs=1"
    )
    trainer = Trainer(cfg, log=lambda m: None)
    run = trainer._start()
    run.train_set.epoch = 1
    batches = trainer._epoch_batches(1)[:4]
    here = [collate([run.train_set[i] for i in batch]) for batch in batches]
    loader = DataLoader(run.train_set, batch_sampler=batches, collate_fn=collate,
                        num_workers=2, multiprocessing_context=_forkserver())  # fmt: skip
    there = list(loader)
    assert len(there) == len(here) >= 2
    for a, b in zip(here, there):
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], torch.Tensor):
                assert torch.equal(a[key], b[key]), key
            else:
                assert a[key] == b[key], key


def test_ddp_on_gpus_needs_a_gpu_per_process():
    from htrkit.training.distributed import check_gpus

    check_gpus("cpu", world=4, gpus=0)
    check_gpus("cuda", world=2, gpus=2)
    check_gpus("auto", world=2, gpus=0)  # auto: on CPUs with gloo
    with pytest.raises(ConfigError, match="--nproc 2 .* 1 GPU.*one GPU per process"):
        check_gpus("cuda", world=2, gpus=1)
    with pytest.raises(ConfigError, match="--nproc 3 .* 2 GPUs"):
        check_gpus("auto", world=3, gpus=2)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_cuda_training_and_resume(tmp_path, precision):
    """The CUDA path (run where a GPU is lent): model, batches and CTC loss on the GPU,
    autocast, a gradient scaler for fp16, and a resumed run that ends where an
    uninterrupted one does (same steps and history; GPU kernels are not bitwise
    deterministic, so the weights are compared loosely)."""
    import torch

    from htrkit.training.loop import Trainer

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    small = write_word_dataset(tmp_path / "small", 200, seed=3)
    # DataLoader workers too: each epoch's start after a validation on the GPU
    extra = ('train.device="cuda"', f'train.precision="{precision}"', "train.epochs=6",
             "train.num_workers=2")  # fmt: skip
    logs: list[str] = []
    whole = Trainer(train_config(tmp_path, small, "a", *extra), log=logs.append).fit()
    assert any(f"device: cuda:0, precision {precision}" in m for m in logs)
    cut = train_config(tmp_path, small, "b", *extra, "train.max_minutes=0.0001")
    assert Trainer(cut, log=lambda m: None).fit()["stopped"].startswith("time budget")
    resumed = Trainer(train_config(tmp_path, small, "b", *extra), resume=True, log=print).fit()
    assert resumed["steps"] == whole["steps"]
    a = load_file(tmp_path / "a" / "last.safetensors")
    b = load_file(tmp_path / "b" / "last.safetensors")
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=0.05), key
    history = json.loads((tmp_path / "b" / "history.json").read_text())
    # it learns (60 steps of a small network: the loss falls long before the CER does)
    assert history[-1]["val_loss"] < 0.8 * history[0]["val_loss"]
    assert history[-1]["train_loss"] < history[1]["train_loss"]


def test_training_killed_at_random_moments_resumes_to_the_same_weights(tmp_path):
    """Fault injection: ``htrkit train`` SIGKILLed at ten random (seeded) moments once it
    has begun to train (0 to 1 s after a train state was last written: during steps,
    validation or a checkpoint's write, wherever they fall), each time rerun with
    --resume, ends with the weights and validation history of a run never interrupted;
    every file it left between kills reads, and no partial file is left behind."""
    import random
    import subprocess
    import sys
    import time

    from safetensors import safe_open

    from htrkit.atomic import PARTIAL

    data = write_word_dataset(tmp_path / "words", 200, seed=3)
    cmd = [sys.executable, "-m", "htrkit", "train", "--no-progress"]
    straight = subprocess.run([*cmd, train_toml(tmp_path, data, "a")], capture_output=True,
                              text=True, timeout=600)  # fmt: skip
    assert straight.returncode == 0, straight.stderr
    rng, kills, runs = random.Random(0), 0, 0
    toml, out = train_toml(tmp_path, data, "b"), tmp_path / "b"
    state = out / "train-state.safetensors"
    while True:
        before = state.stat().st_mtime_ns if state.exists() else 0
        resume = ["--resume"] if before else []
        proc = subprocess.Popen([*cmd, toml, *resume], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        runs += 1
        if kills < 10:
            # wait for this run to write a state of its own, then kill it a moment later
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if state.exists() and state.stat().st_mtime_ns != before:
                    break
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 1.0))
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                kills += 1
                for f in out.glob("*.safetensors"):  # whatever it left reads whole
                    with safe_open(str(f), framework="np") as opened:
                        assert opened.metadata() is not None and list(opened.keys()), f
                continue
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        break  # the run finished on its own
    assert kills == 10, f"the run ended before ten kills ({kills})"
    a, b = load_file(tmp_path / "a" / "last.safetensors"), load_file(out / "last.safetensors")
    for key in a:
        assert np.array_equal(a[key].numpy(), b[key].numpy()), key
    history = [json.loads((d / "history.json").read_text()) for d in (tmp_path / "a", out)]
    assert [h["val_cer"] for h in history[0]] == [h["val_cer"] for h in history[1]]
    assert not list(out.glob(f"{PARTIAL}*")) and runs == 11


def test_a_run_that_stopped_early_resumes_to_nothing_more(tmp_path):
    """Killed after early stopping decided (its state saved) but before it exited, a run's
    --resume stops at once instead of training on."""
    from htrkit.training.loop import Trainer

    small = write_word_dataset(tmp_path / "small", 120, seed=6)
    extra = ("train.epochs=30", "train.patience=1", "train.eval_every_steps=2", "train.lr=1e-6")
    first = Trainer(train_config(tmp_path, small, "run", *extra), log=lambda m: None).fit()
    assert first["stopped"].startswith("no improvement") and first["epochs"] < 30
    again = Trainer(train_config(tmp_path, small, "run", *extra), resume=True, log=lambda m: None)
    summary = again.fit()
    assert summary["stopped"].startswith("no improvement")
    assert summary["steps"] == first["steps"]


def test_a_full_disk_while_saving_is_one_line_and_leaves_no_partial_file(tmp_path):
    """A write that fails (here the kernel's file-size limit, EFBIG, as a full disk gives
    ENOSPC) while a checkpoint is saved: one line naming the file, exit 1, nothing half
    written; the same for an output of htrkit run."""
    import resource
    import signal
    import subprocess
    import sys

    from htrkit.atomic import PARTIAL

    def limited(size: int):
        def apply() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, not the process
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

        return apply

    data = write_word_dataset(tmp_path / "words", 60, seed=5)
    toml = train_toml(tmp_path, data, "run")
    done = subprocess.run([sys.executable, "-m", "htrkit", "train", toml, "--no-progress"],
                          capture_output=True, text=True, preexec_fn=limited(100_000),
                          timeout=600)  # fmt: skip
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()
    assert len(last) == 1 and "best.safetensors: cannot write it: File too large" in last[0]
    assert not list((tmp_path / "run").glob(f"{PARTIAL}*"))
    image = tmp_path / "words" / "group000" / "w00000.png"
    (tmp_path / "old.json").write_text("keep", encoding="utf-8")
    for target in ("out.json", "outdir/"):
        ran = subprocess.run([sys.executable, "-m", "htrkit", "run", str(image), "-f", "json",
                              "--decoder", "greedy", "-o", str(tmp_path / target)],
                             capture_output=True, text=True, preexec_fn=limited(100),
                             timeout=300)  # fmt: skip
        assert ran.returncode == 1 and "cannot write it: File too large" in ran.stderr
        assert "Traceback" not in ran.stderr and len(ran.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.rglob(f"{PARTIAL}*")) and not (tmp_path / "out.json").exists()

"""Training end to end: from generated data to a model that reads, exact resume, DDP,
the LMDB cache, fine-tuning with a larger alphabet, and evaluation of a dataset."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import run_cli, write_word_dataset
from safetensors.torch import load_file

from htrkit.errors import ConfigError
from htrkit.training.config import load_config

pytestmark = pytest.mark.slow


def config(tmp_path, data, out="run", *extra):
    return load_config(
        None,
        [
            f'data.train={{path="{data}", format="gt-pairs"}}',
            f'train.output="{tmp_path / out}"',
            "data.val_fraction=0.15",
            "train.batch_size=16",
            "train.lr=0.003",
            "train.warmup_steps=20",
            "train.threads=1",  # one per xdist worker: two oversubscribed a busy machine
            # bitwise-exact resumes and worker counts are CPU guarantees (GPU kernels are
            # not deterministic): on a machine with a GPU, "auto" would pick it
            'train.device="cpu"',
            *extra,
        ],
    )


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    return write_word_dataset(tmp_path_factory.mktemp("words"), 800)


def test_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no \\[\\[data.train\\]\\] source"):
        load_config(None, [])
    with pytest.raises(ConfigError, match="not of the form section.key=value"):
        load_config(None, ["lr=3"])
    with pytest.raises(ConfigError, match="unknown option 'batchsize'.*did you mean 'batch_size'"):
        load_config(None, ['data.train={path="x"}', "train.batchsize=3"])
    with pytest.raises(ConfigError, match="unknown training config section \\[optim\\]"):
        load_config(None, ['data.train={path="x"}', "optim.lr=3"])
    # bounded and checked before any data is read (100,000 threads crashed a run)
    for override, says in (
        ("train.threads=100000", "'threads' of training config \\[train\\] must be <= 1024"),
        ("train.batch_size=0", "'batch_size' .* must be >= 1"),
        ("train.lr=nan", "'lr' .* got nan"),
        ("train.lr=0", "lr must be above 0"),
        ("train.num_workers=1000", "'num_workers' .* must be <= 64"),
        # a weight of 1e308 overflowed the epoch's draw; a share of 5 said "no training samples"
        ('data.train={path="x", weight=1e308}', "'weight' .* must be <= 1000"),
        ("data.val_fraction=5", "'val_fraction' .* must be <= 1"),
        ("data.val_fraction=nan", "'val_fraction' .* finite number"),
        # the backbone, before any data is read (it was found once the lines were loaded)
        ('model.backbone="crnn-smal"', "unknown backbone 'crnn-smal'; did you mean 'crnn-small'"),
        ("model.backbone_options={nope=1}", "unknown option 'nope' for backbone 'crnn-small'"),
    ):
        with pytest.raises(ConfigError, match=says):
            load_config(
                None, ['data.train={path="x"}', override][override.startswith("data.train") :]
            )
    bad = tmp_path / "t.toml"
    bad.write_text("[train\n")
    with pytest.raises(ConfigError, match="t.toml: cannot read training configuration"):
        load_config(bad)


def test_trains_to_a_low_cer_and_the_model_reads(tmp_path, words):
    from htrkit import Pipeline
    from htrkit.training.loop import Trainer

    cfg = config(
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
    straight = config(tmp_path, small, "a", "train.epochs=2")
    Trainer(straight, log=lambda m: None).fit()
    # Interrupted after the first batch or so by the time budget, then resumed.
    cut = config(tmp_path, small, "b", "train.epochs=2", "train.max_minutes=0.0001")
    summary = Trainer(cut, log=lambda m: None).fit()
    assert summary["stopped"].startswith("time budget")
    assert summary["steps"] < 20
    again = config(tmp_path, small, "b", "train.epochs=2")
    Trainer(again, resume=True, log=lambda m: None).fit()
    a = load_file(tmp_path / "a" / "last.safetensors")
    b = load_file(tmp_path / "b" / "last.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key].numpy(), b[key].numpy()), key
    # more epochs may be asked for, and the run says what that does to its schedule
    said: list[str] = []
    Trainer(config(tmp_path, small, "b", "train.epochs=3"), resume=True, log=said.append).fit()
    assert any(m.startswith("note: 3 epochs where the run had 2: its cosine schedule now spans")
               for m in said), said  # fmt: skip
    changed = config(tmp_path, small, "b", "train.epochs=3", "train.lr=0.1")
    with pytest.raises(ConfigError, match="cannot resume: train.lr differs"):
        Trainer(changed, resume=True, log=lambda m: None).fit()
    # a model of another shape is refused by name too, before its weights are loaded
    other = config(tmp_path, small, "b", "train.epochs=2", "model.backbone_options={hidden=16}")
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
    cfg = config(tmp_path, base, "base", "train.epochs=1", f'data.cache="{tmp_path / "c.lmdb"}"')
    Trainer(cfg, log=lambda m: None).fit()
    store = LmdbStore(tmp_path / "c.lmdb")
    assert len(store) == 120 and store[0].image.shape[0] == 32 and store[0].text
    # a different preprocessing must not silently reuse the cache
    other = config(
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
    stale = config(tmp_path, base, "x", f'data.cache="{old_cache}"')
    with pytest.raises(ConfigError, match="old.lmdb: cache holds lines cut by an older htrkit"):
        Trainer(stale, log=lambda m: None).load_data()

    more = write_word_dataset(tmp_path / "more", 120, seed=6, chars="abcxyz")
    tuned = config(
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
    limited = config(
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


def test_max_text_length_leaves_long_training_lines_out_and_a_weight_must_be_positive(
    tmp_path,
):
    from htrkit.errors import HtrkitError
    from htrkit.training.loop import Trainer

    data = write_word_dataset(tmp_path / "d", 40, seed=5)
    texts = {p.stem: p.read_text() for p in data.rglob("*.gt.txt")}
    limit = sorted(len(t) for t in texts.values())[len(texts) // 2]
    every, short = (Trainer(config(tmp_path, data, "x", *extra), log=lambda m: None)
                    for extra in ((), (f"data.max_text_length={limit}",)))  # fmt: skip
    every.load_data()
    short.load_data()
    assert short.val_idx == every.val_idx  # validation keeps every line
    kept = [short.store[i].text for i in short.train_idx]
    assert kept and all(len(t) <= limit for t in kept)
    assert len(kept) == sum(len(every.store[i].text) <= limit for i in every.train_idx)
    assert len(kept) < len(every.train_idx)
    with pytest.raises(HtrkitError, match="weight"):
        config(tmp_path, data, "x", f'data.train={{path="{data}", weight=0}}')


def test_init_names_an_installed_model(tmp_path):
    import torch

    from htrkit.plugins import registry
    from htrkit.recognizer import Recognizer
    from htrkit.training.loop import Trainer

    data = write_word_dataset(tmp_path / "d", 30, seed=2, chars="0123")
    trainer = Trainer(config(tmp_path, data, "x", 'model.init="digits"'), log=lambda m: None)
    trainer.load_data()
    trainer.build_model()
    digits = Recognizer.load(registry("model").create("digits"))
    assert trainer.recognizer.config.backbone == digits.config.backbone
    assert trainer.steps == digits.config.preprocess
    theirs = digits.module.state_dict()
    for key, value in trainer.recognizer.module.state_dict().items():
        assert torch.equal(value, theirs[key]), key
    missing = Trainer(config(tmp_path, data, "y", 'model.init="no-such-model"'), log=print)
    with pytest.raises(ConfigError, match="no such model file .* no installed model of that name"):
        missing.load_data()


def test_data_loader_workers_give_the_same_weights(tmp_path):
    """[train] num_workers decodes and augments in worker processes: each sample is
    seeded by its index and epoch, so the run is the same as without workers."""
    from htrkit.training.loop import Trainer

    small = write_word_dataset(tmp_path / "small", 120, seed=5)
    for out, workers in (("w0", 0), ("w2", 2)):
        cfg = config(tmp_path, small, out, "train.epochs=1", f"train.num_workers={workers}")
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
    cfg = config(tmp_path, small, "x", f'data.cache="{tmp_path / "c.lmdb"}"', "train.epochs=1")
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


def test_device_and_precision_are_checked(tmp_path):
    import torch

    from htrkit.training.loop import Trainer, training_device

    small = write_word_dataset(tmp_path / "small", 40, seed=6)
    assert training_device("cpu").type == "cpu"
    assert training_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="device.*'auto', 'cpu', 'cuda'|must be one of"):
        config(tmp_path, small, "x", 'train.device="gpu"')
    if not torch.cuda.is_available():
        cuda = config(tmp_path, small, "x", 'train.device="cuda"')
        with pytest.raises(ConfigError, match="torch sees no CUDA device"):
            Trainer(cuda, log=lambda m: None).fit()
        fp16 = config(tmp_path, small, "x", 'train.precision="fp16"', 'train.device="cpu"')
        with pytest.raises(ConfigError, match="fp16' needs a CUDA device"):
            Trainer(fp16, log=lambda m: None).fit()


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
    whole = Trainer(config(tmp_path, small, "a", *extra), log=logs.append).fit()
    assert any(f"device: cuda:0, precision {precision}" in m for m in logs)
    cut = config(tmp_path, small, "b", *extra, "train.max_minutes=0.0001")
    assert Trainer(cut, log=lambda m: None).fit()["stopped"].startswith("time budget")
    resumed = Trainer(config(tmp_path, small, "b", *extra), resume=True, log=print).fit()
    assert resumed["steps"] == whole["steps"]
    a = load_file(tmp_path / "a" / "last.safetensors")
    b = load_file(tmp_path / "b" / "last.safetensors")
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=0.05), key
    history = json.loads((tmp_path / "b" / "history.json").read_text())
    # it learns (60 steps of a small network: the loss falls long before the CER does)
    assert history[-1]["val_loss"] < 0.8 * history[0]["val_loss"]
    assert history[-1]["train_loss"] < history[1]["train_loss"]


def test_a_fine_tune_never_ends_worse_than_its_start(tmp_path):
    """The starting model is validated first and stays "best" unless training beats it:
    here a learning rate that wrecks the weights."""
    from htrkit.models import FOLDER
    from htrkit.training.loop import Trainer

    small = write_word_dataset(tmp_path / "small", 160, seed=7)
    start = FOLDER / "default.safetensors"  # reads these printed words fairly well
    logs: list[str] = []
    wreck = config(
        tmp_path, small, "wreck", 'model.init="default"', "train.epochs=1", "train.lr=20.0",
        "train.warmup_steps=0", "train.grad_clip=0", "train.augment=false",
    )  # fmt: skip
    summary = Trainer(wreck, log=logs.append).fit()
    history = json.loads((tmp_path / "wreck" / "history.json").read_text())
    assert history[0]["epoch"] == 0 and history[-1]["val_cer"] > history[0]["val_cer"]
    assert summary["best_cer"] == history[0]["val_cer"]
    assert any("the starting model" in m for m in logs)
    a, b = load_file(start), load_file(tmp_path / "wreck" / "best.safetensors")
    for key in a:
        assert np.array_equal(a[key].numpy(), b[key].numpy()), key


def test_htrkit_adapt_holds_out_pages_and_says_before_and_after(tmp_path):
    """One command: pages in, a model out that names its base, data, held-out pages and
    CER before and after, never worse than its start; bad requests are one line."""
    from htrkit.modelfile import read_config

    words = write_word_dataset(tmp_path / "words", 60, seed=9)  # 3 folders of 20
    out = tmp_path / "mine.safetensors"
    mine = tmp_path / ".mine-adapt"  # a user's folder of the name the run once took
    mine.mkdir()
    (mine / "keep.txt").write_text("KEEP")
    done = run_cli("adapt", words, "-o", out, "--max-minutes", "0.3", "--threads", "1",
                   "--val-pages", "1", timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("CER on the 1 held-out page(s): ") and f"wrote {out}" in last
    meta = read_config(out).metadata
    facts = meta["adaptation"]
    assert meta["adapted_from"] == "default" and meta["name"] == "mine"
    assert facts["held_out_lines"] == 20 and facts["training_lines"] == 40
    assert len(facts["held_out_pages"]) == 1
    assert facts["cer_after"] <= facts["cer_before"]
    assert facts["decoded_cer_after"] <= facts["decoded_cer_before"]  # with its own LM too
    assert "with the model's own decoding" in last
    assert (mine / "keep.txt").read_text() == "KEEP"  # the run's own folder is gone, not it
    assert sorted(p.name for p in tmp_path.iterdir()) == [".mine-adapt", "mine.safetensors",
                                                          "words"]  # fmt: skip
    again = run_cli("adapt", words, "-o", out)
    assert again.returncode == 2 and "exists; give --overwrite" in again.stderr
    for extra, says in ((["--val-pages", "3"], "give between 1 and 2 of the 3 pages"),):
        bad = run_cli("adapt", words, "-o", tmp_path / "x.safetensors", *extra)
        assert bad.returncode == 2 and says in bad.stderr, bad.stderr
    one = run_cli("adapt", words / "group000" / "w00000.png", "-o", tmp_path / "y.safetensors")
    assert one.returncode != 0 and len(one.stderr.strip().splitlines()) == 1
    # pages it cannot read: the error says which and why (they used to vanish silently)
    broken = tmp_path / "broken"
    broken.mkdir()
    for k in range(3):
        (broken / f"b{k}.png").write_bytes(b"not a png")
        (broken / f"b{k}.gt.txt").write_text("word", encoding="utf-8")
    bad = run_cli("adapt", broken, "-o", tmp_path / "z.safetensors")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "0 lines on 0 page(s)" in bad.stderr and "3 bad item(s) skipped" in bad.stderr
    assert "b0.png: not an image" in bad.stderr


def _train_toml(tmp_path, data, out: str) -> str:
    path = tmp_path / f"{out}.toml"
    path.write_text(
        f'[[data.train]]\npath = "{data}"\nformat = "gt-pairs"\n[data]\nval_fraction = 0.15\n'
        f'[train]\noutput = "{tmp_path / out}"\nbatch_size = 16\nlr = 0.003\nwarmup_steps = 20\n'
        "threads = 1\nepochs = 10\neval_every_steps = 3\npatience = 0\n",
        encoding="utf-8",
    )
    return str(path)


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
    straight = subprocess.run([*cmd, _train_toml(tmp_path, data, "a")], capture_output=True,
                              text=True, timeout=600)  # fmt: skip
    assert straight.returncode == 0, straight.stderr
    rng, kills, runs = random.Random(0), 0, 0
    toml, out = _train_toml(tmp_path, data, "b"), tmp_path / "b"
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
    first = Trainer(config(tmp_path, small, "run", *extra), log=lambda m: None).fit()
    assert first["stopped"].startswith("no improvement") and first["epochs"] < 30
    again = Trainer(config(tmp_path, small, "run", *extra), resume=True, log=lambda m: None)
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
    toml = _train_toml(tmp_path, data, "run")
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


def test_a_preprocessing_step_named_wrongly_is_bad_usage_said_once(tmp_path):
    data = write_word_dataset(tmp_path / "d", 20, seed=1)
    toml = _train_toml(tmp_path, data, "p")
    out = run_cli("train", toml, "-s", 'model.preprocess=[{name="nope"}]')
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == (
        "htrkit: error: [model]: preprocess: unknown preprocessor 'nope'; available: "
        "binarize, deslant, grayscale, normalize-contrast, pad, resize-fixed, resize-height"
    )
    for fmt, says in (("", "no such file or directory"), (', format="gt-pairs"', "no such folder")):
        where = f'data.train=[{{path="{tmp_path / "no"}"{fmt}}}]'
        gone = run_cli("train", toml, "-s", where)
        assert gone.returncode == 1 and gone.stderr.strip().endswith(f"no: {says}"), gone.stderr


def test_augment_options_are_checked_with_the_configuration():
    from htrkit.errors import HtrkitError

    source = 'data.train={path="x"}'
    with pytest.raises(HtrkitError, match="'rotaton' for \\[train\\] augment; did you mean"):
        load_config(None, [source, "train.augment_options={rotaton=3}"])
    assert load_config(None, [source, "train.augment_options={rotation=3}"]).train.augment_options

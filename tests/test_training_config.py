"""Training configurations checked before any data is read or any step is trained: bad
keys and values, devices and precisions, data settings, preprocessing and augmentation."""

from __future__ import annotations

import pytest
from conftest import run_cli, train_config, train_toml, write_word_dataset

from htrkit.errors import ConfigError
from htrkit.training.config import load_config

pytestmark = pytest.mark.slow


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


def test_max_text_length_leaves_long_training_lines_out_and_a_weight_must_be_positive(
    tmp_path,
):
    from htrkit.errors import HtrkitError
    from htrkit.training.loop import Trainer

    data = write_word_dataset(tmp_path / "d", 40, seed=5)
    texts = {p.stem: p.read_text() for p in data.rglob("*.gt.txt")}
    limit = sorted(len(t) for t in texts.values())[len(texts) // 2]
    every, short = (Trainer(train_config(tmp_path, data, "x", *extra), log=lambda m: None)
                    for extra in ((), (f"data.max_text_length={limit}",)))  # fmt: skip
    every.load_data()
    short.load_data()
    assert short.val_idx == every.val_idx  # validation keeps every line
    kept = [short.store[i].text for i in short.train_idx]
    assert kept and all(len(t) <= limit for t in kept)
    assert len(kept) == sum(len(every.store[i].text) <= limit for i in every.train_idx)
    assert len(kept) < len(every.train_idx)
    with pytest.raises(HtrkitError, match="weight"):
        train_config(tmp_path, data, "x", f'data.train={{path="{data}", weight=0}}')


def test_device_and_precision_are_checked(tmp_path):
    import torch

    from htrkit.training.loop import Trainer, training_device

    small = write_word_dataset(tmp_path / "small", 40, seed=6)
    assert training_device("cpu").type == "cpu"
    assert training_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="device.*'auto', 'cpu', 'cuda'|must be one of"):
        train_config(tmp_path, small, "x", 'train.device="gpu"')
    if not torch.cuda.is_available():
        cuda = train_config(tmp_path, small, "x", 'train.device="cuda"')
        with pytest.raises(ConfigError, match="torch sees no CUDA device"):
            Trainer(cuda, log=lambda m: None).fit()
        fp16 = train_config(tmp_path, small, "x", 'train.precision="fp16"', 'train.device="cpu"')
        with pytest.raises(ConfigError, match="fp16' needs a CUDA device"):
            Trainer(fp16, log=lambda m: None).fit()


def test_a_preprocessing_step_named_wrongly_is_bad_usage_said_once(tmp_path):
    data = write_word_dataset(tmp_path / "d", 20, seed=1)
    toml = train_toml(tmp_path, data, "p")
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

"""The model file: one safetensors file with a JSON configuration, and never a pickle."""

from __future__ import annotations

import json
import pickle
import struct
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from htrkit.errors import ModelError
from htrkit.modelfile import (
    CONFIG_KEY,
    FORMAT,
    FORMAT_VERSION,
    ModelConfig,
    load_weights,
    read_config,
    save_model,
)
from htrkit.recognizer import Recognizer

PREPROCESS = [
    {"name": "grayscale", "options": {}},
    {"name": "resize-height", "options": {"height": 32}},
]


def make_config(**changes) -> ModelConfig:
    config = ModelConfig(
        backbone="crnn-small",
        alphabet=list("abc"),
        input_height=32,
        backbone_options={"height": 32},
        preprocess=PREPROCESS,
    )
    return replace(config, **changes)


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer.create(make_config(metadata={"name": "test", "note": "Straße ✓"}), seed=0)


@pytest.fixture(scope="module")
def saved(recognizer, tmp_path_factory) -> Path:
    return recognizer.save(tmp_path_factory.mktemp("model") / "model.safetensors")


def line_images(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, 256, (40, 90), dtype=np.uint8),
        rng.integers(0, 256, (20, 30, 3), dtype=np.uint8),
        np.full((32, 200), 255, np.uint8),
    ]


def read_header(path: Path) -> tuple[dict, int]:
    """The safetensors header, parsed by hand: a little-endian u64 length, then JSON."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), 8 + length


def write_safetensors(path: Path, tensors: dict, metadata: dict | None) -> Path:
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=metadata)
    return path


def write_model(path: Path, tensors: dict, config) -> Path:
    """A model file with ``config`` (a dict, or raw text) as its configuration."""
    text = config if isinstance(config, str) else json.dumps(config)
    return write_safetensors(path, tensors, {"format": FORMAT, CONFIG_KEY: text})


def load_error(path: Path) -> str:
    """Loading must fail with a one-line ModelError naming the file."""
    with pytest.raises(ModelError) as info:
        Recognizer.load(path)
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message
    return message


# -- round trip --------------------------------------------------------------------------


def test_create_fills_in_backbone_defaults(recognizer):
    assert recognizer.config.backbone_options == {"height": 32, "hidden": 128, "dropout": 0.2}
    assert recognizer.alphabet.chars == ("a", "b", "c")
    assert recognizer.preprocess.names == ["grayscale", "resize-height"]
    assert not recognizer.module.training


def test_seed_makes_creation_reproducible(recognizer):
    again = Recognizer.create(make_config(), seed=0)
    other = Recognizer.create(make_config(), seed=1)
    w = "head.weight"
    assert torch.equal(again.module.state_dict()[w], recognizer.module.state_dict()[w])
    assert not torch.equal(other.module.state_dict()[w], recognizer.module.state_dict()[w])


def test_round_trip(recognizer, saved):
    loaded = Recognizer.load(saved)
    assert loaded.config == recognizer.config
    assert loaded.source == str(saved)
    assert not loaded.module.training
    original = recognizer.module.state_dict()
    restored = loaded.module.state_dict()
    assert original.keys() == restored.keys()
    for key, tensor in original.items():
        assert restored[key].dtype == tensor.dtype, key
        assert torch.equal(restored[key], tensor), key

    images = [recognizer.preprocess.run(im)[0] for im in line_images()]
    assert [im.shape for im in images] == [(32, 72), (32, 48), (32, 200)]
    np.testing.assert_array_equal(images[0], loaded.preprocess.run(line_images()[0])[0])
    before = recognizer.log_probs(images)
    after = loaded.log_probs(images)
    assert [lp.shape for lp in before] == [(18, 4), (12, 4), (50, 4)]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(np.exp(a).sum(axis=1), 1.0, rtol=1e-5)


def test_round_trip_of_loaded_model(saved, tmp_path):
    again = Recognizer.load(saved).save(tmp_path / "again.safetensors")
    assert read_config(again) == read_config(saved)
    first, second = load_weights(saved), load_weights(again)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_file_layout(recognizer, saved):
    header, data_start = read_header(saved)
    meta = header.pop("__metadata__")
    assert set(meta) == {"format", CONFIG_KEY}
    assert meta["format"] == "htrkit-model"
    config = json.loads(meta[CONFIG_KEY])
    assert config == asdict(recognizer.config)
    assert config["format_version"] == FORMAT_VERSION == 1
    assert config["metadata"]["note"] == "Straße ✓"

    # every tensor of the module, with its shape, and the data filling the rest of the file
    state = recognizer.module.state_dict()
    assert set(header) == set(state)
    size = saved.stat().st_size - data_start
    spans = sorted(entry["data_offsets"] for entry in header.values())
    assert spans[0][0] == 0 and spans[-1][1] == size
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    for key, entry in header.items():
        assert entry["shape"] == list(state[key].shape), key
    entry = header["head.weight"]
    assert entry["dtype"] == "F32"
    start, end = entry["data_offsets"]
    raw = saved.read_bytes()[data_start + start : data_start + end]
    np.testing.assert_array_equal(
        np.frombuffer(raw, "<f4").reshape(entry["shape"]), state["head.weight"].numpy()
    )


def test_save_is_a_single_file(recognizer, tmp_path):
    path = recognizer.save(tmp_path / "new" / "dir" / "m.safetensors")
    assert path == tmp_path / "new" / "dir" / "m.safetensors"
    assert list(path.parent.iterdir()) == [path]  # no sidecar files, no temp files left
    # saving again replaces the file in place
    changed = replace(recognizer.config, metadata={"name": "second"})
    save_model(path, recognizer.module, changed)
    assert list(path.parent.iterdir()) == [path]
    assert read_config(path).metadata == {"name": "second"}
    assert path.stat().st_mode & 0o777 == 0o644  # readable by all, as files usually are


def test_read_config(recognizer, saved):
    config = read_config(saved)
    assert isinstance(config, ModelConfig)
    assert config == recognizer.config
    assert read_config(str(saved)) == config


def test_config_json_round_trip():
    config = make_config(metadata={"cer": 0.1, "data": ["a", "b"]})
    assert ModelConfig.from_json(config.to_json(), "x") == config


# -- files that are not model files ------------------------------------------------------


def test_missing_file(tmp_path):
    assert "no such model file" in load_error(tmp_path / "missing.safetensors")
    with pytest.raises(ModelError, match="no such model file"):
        read_config(tmp_path / "missing.safetensors")


def test_directory(tmp_path):
    folder = tmp_path / "model.safetensors"
    folder.mkdir()
    assert "is a directory" in load_error(folder)


@pytest.mark.parametrize(
    "content",
    [b"", b"just some text, not a model\n", b"\x05\x00\x00\x00\x00\x00\x00\x00{}", b"\xff" * 64],
)
def test_not_safetensors(tmp_path, content):
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    assert "not a safetensors model file" in load_error(path)


def test_truncated_file(saved, tmp_path):
    data = saved.read_bytes()
    header_end = read_header(saved)[1]
    for cut in (header_end // 2, header_end + 1000):
        path = tmp_path / f"cut{cut}.safetensors"
        path.write_bytes(data[:cut])
        load_error(path)


class Exploit:
    """Unpickling this creates ``marker``: proof that a file was unpickled."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickle_opcodes(path: Path) -> tuple[set[tuple[str, str]], list[str]]:
    """The globals a pickle (or the data.pkl of torch.save's zip) would import, and its
    strings, found by reading its opcodes, without running any."""
    import pickletools
    import zipfile

    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            data = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    found, strings = set(), []
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            found.add(tuple(arg.split(" ", 1)))
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif op.name == "STACK_GLOBAL":
            found.add((strings[-2], strings[-1]))
    return found, strings


@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_pickle_is_refused_never_unpickled(tmp_path, writer):
    marker = tmp_path / "unpickled"
    payload = {"head.weight": torch.zeros(2), "hook": Exploit(marker)}
    path = tmp_path / "model.safetensors"
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload))
    # the exploit is armed: its gadget (open on the marker's path) is in the pickle that
    # was written, read statically with pickletools (nothing here ever unpickles a file)
    calls, strings = _pickle_opcodes(path)
    assert calls & {("io", "open"), ("builtins", "open")} and str(marker) in strings

    assert "not a safetensors model file" in load_error(path)
    with pytest.raises(ModelError):
        read_config(path)
    with pytest.raises(ModelError):
        load_weights(path)
    assert not marker.exists()


def test_safetensors_without_htrkit_metadata(recognizer, tmp_path):
    state = recognizer.module.state_dict()
    message = "safetensors file has no htrkit model configuration"
    for name, metadata in [
        ("plain", None),
        ("other", {"format": "pt"}),
        ("noconfig", {"format": FORMAT}),
        ("wrongformat", {"format": "other-model", CONFIG_KEY: recognizer.config.to_json()}),
    ]:
        path = write_safetensors(tmp_path / f"{name}.safetensors", state, metadata)
        assert message in load_error(path)


# -- bad configurations ------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_config(recognizer) -> dict:
    return asdict(recognizer.config)


@pytest.fixture(scope="module")
def weights(recognizer) -> dict:
    return recognizer.module.state_dict()


def test_hand_written_file_loads(tmp_path, good_config, weights):
    # the helpers below write valid files when given a valid configuration
    path = write_model(tmp_path / "ok.safetensors", weights, good_config)
    assert Recognizer.load(path).config == ModelConfig(**good_config)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "model configuration is not valid JSON"),
        ("", "model configuration is not valid JSON"),
        ("[1, 2]", "model configuration must be a JSON object"),
        ('"crnn-small"', "model configuration must be a JSON object"),
    ],
)
def test_config_not_json_object(tmp_path, weights, text, expected):
    assert expected in load_error(write_model(tmp_path / "m.safetensors", weights, text))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"colour": "red"}, "unknown model configuration key 'colour'"),
        ({"format_version": FORMAT_VERSION + 1}, "model format version 2 is newer than this"),
        ({"format_version": "1"}, "format_version must be a positive integer"),
        ({"format_version": True}, "format_version must be a positive integer"),
        ({"backbone": None}, "model configuration 'backbone' must be a str"),
        ({"alphabet": "abc"}, "model configuration 'alphabet' must be a list"),
        ({"input_height": "32"}, "model configuration 'input_height' must be a int"),
        ({"backbone_options": []}, "model configuration 'backbone_options' must be a dict"),
        ({"preprocess": {}}, "model configuration 'preprocess' must be a list"),
        ({"metadata": "x"}, "model configuration 'metadata' must be a dict"),
        ({"preprocess": [{"options": {}}]}, "each preprocess step needs a 'name'"),
        ({"preprocess": ["grayscale"]}, "each preprocess step needs a 'name'"),
        ({"preprocess": [{"name": "greyscale"}]}, "unknown preprocessor 'greyscale'"),
        (
            {"preprocess": [{"name": "resize-height", "options": {"hieght": 32}}]},
            "did you mean 'height'",
        ),
        ({"backbone": "crnn-smal"}, "unknown backbone 'crnn-smal'; did you mean 'crnn-small'?"),
        ({"backbone": "resnet"}, "available: crnn-small"),
        ({"backbone_options": {"height": 30}}, "height must be a multiple of 8"),
        ({"backbone_options": {"height": 32, "depth": 4}}, "unknown option 'depth'"),
        ({"alphabet": ["a", "b", "a"]}, "alphabet lists 'a' more than once"),
        ({"alphabet": ["a", 1, "c"]}, "alphabet symbols must be non-empty strings"),
        (
            {"preprocess": [{"name": "grayscale", "options": 5}]},
            "options of preprocess step 'grayscale' must be a dict",
        ),
    ],
)
def test_bad_config(tmp_path, weights, good_config, change, expected):
    path = write_model(tmp_path / "m.safetensors", weights, {**good_config, **change})
    assert expected in load_error(path)


@pytest.mark.parametrize("key", ["backbone", "alphabet", "input_height"])
def test_config_lacks_required_key(tmp_path, weights, good_config, key):
    config = {k: v for k, v in good_config.items() if k != key}
    path = write_model(tmp_path / "m.safetensors", weights, config)
    assert f"model configuration lacks {key!r}" in load_error(path)


def test_older_config_without_optional_keys(tmp_path, weights, good_config):
    config = {k: good_config[k] for k in ("backbone", "alphabet", "input_height")}
    config["backbone_options"] = good_config["backbone_options"]
    path = write_model(tmp_path / "m.safetensors", weights, config)
    loaded = Recognizer.load(path)
    assert loaded.config.format_version == FORMAT_VERSION
    assert loaded.config.preprocess == [] and loaded.config.metadata == {}


# -- weights that do not fit the configuration ------------------------------------------


def test_weights_from_a_larger_hidden_size(tmp_path, recognizer):
    # the configuration says hidden=64, the weights are those of hidden=128
    config = replace(recognizer.config, backbone_options={"height": 32, "hidden": 64})
    path = save_model(tmp_path / "m.safetensors", recognizer.module, config)
    message = load_error(path)
    assert "weights do not fit backbone 'crnn-small'" in message
    assert "'hidden': 64" in message
    assert "rnn.weight_ih_l0 has shape [512, 512] in the file, [256, 512] expected" in message


def test_weights_for_another_alphabet(tmp_path, recognizer):
    config = replace(recognizer.config, alphabet=list("abcd"))
    path = save_model(tmp_path / "m.safetensors", recognizer.module, config)
    assert "head.weight has shape [4, 256] in the file, [5, 256] expected" in load_error(path)


def test_missing_and_unexpected_tensors(tmp_path, good_config, weights):
    fewer = {k: v for k, v in weights.items() if k != "head.bias"}
    path = write_model(tmp_path / "fewer.safetensors", fewer, good_config)
    assert "missing head.bias" in load_error(path)
    more = {**weights, "extra.weight": torch.zeros(3)}
    path = write_model(tmp_path / "more.safetensors", more, good_config)
    assert "unexpected extra.weight" in load_error(path)


@pytest.mark.parametrize(
    "change, says",
    [
        ({"preprocess": ("resize-height", {"min_width": 10**8})},
         "option 'min_width' of preprocessor 'resize-height' must be <= 16384"),
        ({"preprocess": ("resize-height", {"height": 10**9})},
         "option 'height' of preprocessor 'resize-height' must be <= 256"),
        ({"preprocess": ("pad", {"left": 10**9})}, "option 'left' of preprocessor 'pad' must be"),
        ({"input_height": 10**6}, "input_height must be 4 to 256, got 1000000"),
        ({"backbone_options": {"height": 10**6, "hidden": 32}},
         "option 'height' of backbone 'crnn-small' must be <= 256"),
        ({"backbone_options": {"height": 32, "hidden": 10**7}},
         "option 'hidden' of backbone 'crnn-small' must be <= 4096"),
    ],
)  # fmt: skip
def test_a_hostile_model_file_cannot_size_memory(tmp_path, change, says):
    """Every size a model file sets is bounded where the option is declared: the file is
    refused in one line before anything is allocated."""
    from dataclasses import replace

    from conftest import ROOT, run_cli

    from htrkit.modelfile import ModelConfig, save_model
    from htrkit.preprocess.chain import standard_steps
    from htrkit.recognizer import Recognizer

    config = ModelConfig(
        backbone="crnn-small",
        alphabet=list("abc "),
        input_height=32,
        backbone_options={"height": 32, "hidden": 32},
        preprocess=standard_steps("line", 32),
    )
    module = Recognizer.create(config, seed=0).module
    if "preprocess" in change:
        name, options = change.pop("preprocess")
        steps = [dict(s) for s in config.preprocess]
        for step in steps:
            if step["name"] == name:
                step["options"] = {**(step.get("options") or {}), **options}
        change["preprocess"] = steps
    path = save_model(tmp_path / "hostile.safetensors", module, replace(config, **change))
    line = ROOT / "examples" / "images" / "handwritten.png"
    done = run_cli("run", line, "-m", path, "--backend", "torch", timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and str(path) in lines[0]

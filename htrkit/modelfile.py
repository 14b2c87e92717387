"""The htrkit model file: safetensors weights with a JSON configuration in their header.

A model file is a single ``.safetensors`` file. Its header metadata holds:

- ``"format": "htrkit-model"``
- ``"htrkit.config"``: the JSON configuration described by :class:`ModelConfig`.

Loading reads the JSON, builds the named backbone from the registry and loads the tensors.
Nothing in the file is ever executed: there is no pickle anywhere. See
``docs/model-format.md``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from htrkit.errors import ModelError, ModelNotFoundError

FORMAT = "htrkit-model"
FORMAT_VERSION = 1
CONFIG_KEY = "htrkit.config"


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model, apart from its weights."""

    backbone: str
    alphabet: list[str]
    input_height: int
    backbone_options: dict[str, Any] = field(default_factory=dict)
    #: the preprocessing chain, as ``[{"name": ..., "options": {...}}, ...]``
    preprocess: list[dict[str, Any]] = field(default_factory=list)
    #: free-form facts: name, description, training data, metrics, htrkit version
    metadata: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str) -> ModelConfig:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(f"{source}: model configuration is not valid JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise ModelError(f"{source}: model configuration must be a JSON object")
        version = raw.get("format_version", FORMAT_VERSION)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ModelError(f"{source}: format_version must be a positive integer")
        if version > FORMAT_VERSION:
            raise ModelError(
                f"{source}: model format version {version!r} is newer than this htrkit "
                f"understands ({FORMAT_VERSION}); upgrade htrkit"
            )
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ModelError(f"{source}: unknown model configuration key {unknown[0]!r}")
        missing = [k for k in ("backbone", "alphabet", "input_height") if k not in raw]
        if missing:
            raise ModelError(f"{source}: model configuration lacks {missing[0]!r}")
        checks = {
            "backbone": str,
            "alphabet": list,
            "input_height": int,
            "backbone_options": dict,
            "preprocess": list,
            "metadata": dict,
        }
        for key, tp in checks.items():
            if key in raw and not isinstance(raw[key], tp):
                raise ModelError(f"{source}: model configuration {key!r} must be a {tp.__name__}")
        height = raw["input_height"]
        if isinstance(height, bool) or not 4 <= height <= 256:
            raise ModelError(f"{source}: input_height must be 4 to 256, got {height!r}")
        if not 1 <= len(raw["alphabet"]) <= 100_000:
            raise ModelError(f"{source}: the alphabet must have 1 to 100,000 symbols")
        for step in raw.get("preprocess", []):
            if not isinstance(step, dict) or not isinstance(step.get("name"), str):
                raise ModelError(f"{source}: each preprocess step needs a 'name'")
            if not isinstance(step.get("options") or {}, dict):
                name = step["name"]
                raise ModelError(f"{source}: options of preprocess step {name!r} must be a dict")
        return cls(**raw)


def save_model(path: str | os.PathLike[str], module: Any, config: ModelConfig) -> Path:
    """Write ``module``'s weights and ``config`` to ``path``, atomically."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}
    meta = {"format": FORMAT, CONFIG_KEY: config.to_json()}
    from htrkit.atomic import replacing

    with replacing(path) as tmp:  # a model file is for sharing: 0644
        save_file(tensors, str(tmp), metadata=meta)
    return path


def read_config(path: str | os.PathLike[str]) -> ModelConfig:
    """Read only the configuration of a model file (fast: the weights stay on disk)."""
    from safetensors import safe_open

    source = str(path)
    _check_file(Path(path))
    try:
        with safe_open(source, framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types
        raise ModelError(f"{source}: not a safetensors model file ({exc})") from None
    if meta.get("format") != FORMAT or CONFIG_KEY not in meta:
        raise ModelError(f"{source}: safetensors file has no htrkit model configuration")
    return ModelConfig.from_json(meta[CONFIG_KEY], source)


def load_weights(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The tensors of a model file."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:
        raise ModelError(f"{path}: cannot read weights ({exc})") from None


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ModelNotFoundError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelError(f"{path}: is a directory, not a model file")


def is_model_path(model: str) -> bool:
    """Whether a ``model`` argument names a file rather than an installed model: an
    existing path, a ``.safetensors`` name, or anything with a folder in it."""
    return (
        Path(model).exists()
        or model.endswith((".safetensors", ".onnx"))
        or "/" in model
        or os.sep in model
    )

"""The training configuration: a TOML file, overridable from the command line.

See ``docs/training.md`` for every key. Sections: ``[model]``, ``[data]`` (with
``[[data.train]]`` and ``[[data.val]]`` sources) and ``[train]``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from htrkit.errors import ConfigError, OptionsError, UnknownComponentError
from htrkit.options import option, validate_options


@dataclass(frozen=True)
class ModelSection:
    #: the default was chosen by validation CER per CPU-hour (docs/backbones.md)
    backbone: str = "crnn-small"
    backbone_options: dict[str, Any] = field(default_factory=dict)
    input_height: int = 32
    #: "" derives the alphabet from the training texts; otherwise the characters to use
    alphabet: str = ""
    #: "line" (grey, fixed height, variable width, padded), "word" (fixed 32x128-style
    #: box) or an explicit list of {"name", "options"} steps
    preprocess: Any = "line"
    #: fine-tune from this model file (its alphabet is extended with new characters)
    init: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    path: str
    format: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    skip_bad: bool = False
    #: how often each epoch sees this source's samples (to balance datasets): 2 repeats
    #: every sample, 0.5 draws a random half, each epoch anew
    weight: float = option(1.0, min=1e-3, max=1000)
    #: "auto": split by group with ``val_fraction``; "train": never used for validation
    #: (synthetic data, say, so that validation measures real handwriting only); "val":
    #: only used for validation (a dataset's own test folder)
    split: Literal["auto", "train", "val"] = "auto"
    #: this source's share of groups for validation ("auto" split); -1 takes
    #: ``[data] val_fraction`` (a source with few documents may need a larger share)
    val_fraction: float = option(-1.0, min=-1, max=1)


@dataclass(frozen=True)
class DataSection:
    train: tuple[Source, ...] = ()
    #: explicit validation sources; when empty, ``val_fraction`` of the training groups
    val: tuple[Source, ...] = ()
    val_fraction: float = option(
        0.1, "share of the training groups kept for validation", min=0, max=1
    )
    split_seed: int = 0
    #: an LMDB cache of the preprocessed lines (written on first use)
    cache: str = ""
    #: leave training lines whose text has more characters than this out (0: keep all);
    #: validation keeps every line
    max_text_length: int = option(0, min=0, max=100_000)

    def shares(self) -> list[float]:
        """Each training source's share of groups for validation: 0 for ``split =
        "train"``, 1 for ``split = "val"``, else its own ``val_fraction`` or this one."""
        return [
            0.0 if s.split == "train" else 1.0 if s.split == "val"
            else (s.val_fraction if s.val_fraction >= 0 else self.val_fraction)
            for s in self.train
        ]  # fmt: skip


@dataclass(frozen=True)
class TrainSection:
    output: str = "runs/htrkit"
    epochs: int = option(50, "passes over the training data", min=1, max=100_000)
    batch_size: int = option(16, "lines per step (per process)", min=1, max=4096)
    lr: float = option(1e-3, "peak learning rate (AdamW)", min=0.0, max=100.0)
    weight_decay: float = option(1e-2, "AdamW weight decay", min=0.0, max=10.0)
    warmup_steps: int = option(200, "linear warm-up steps", min=0, max=10_000_000)
    schedule: Literal["cosine", "plateau", "constant"] = "cosine"
    grad_clip: float = option(5.0, "gradient norm clip (0: off)", min=0.0, max=1e6)
    #: auto: bf16 on a CPU that has it, and on CUDA where the GPU supports it (else fp16,
    #: with a gradient scaler); fp32 otherwise
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    #: where the model, batches and loss live: auto is CUDA when torch sees a GPU
    device: Literal["auto", "cpu", "cuda"] = "auto"
    #: stop when validation CER has not improved for this many epochs (0: never)
    patience: int = option(10, "evaluations without progress before stopping", min=0)
    #: stop (after saving) once this many minutes have passed (0: no limit)
    max_minutes: float = option(0.0, "time budget in minutes (0: none)", min=0.0)
    seed: int = 0
    augment: bool = True
    #: put lines of similar width in one batch (less padding; batch order stays random)
    bucket: bool = True
    augment_options: dict[str, Any] = field(default_factory=dict)
    #: with [model] init: validate the starting model first, and keep it as the best
    #: unless training beats it
    score_start: bool = True
    #: DataLoader worker processes that decode and augment batches (0: in the loop)
    num_workers: int = option(0, "DataLoader worker processes", min=0, max=64)
    #: evaluate and checkpoint every this many epochs
    eval_every: int = option(1, "validate every this many epochs", min=1)
    #: also evaluate every this many steps within an epoch (0: only at epoch ends)
    eval_every_steps: int = option(0, "also validate every this many steps", min=0)
    #: torch threads (0: torch's default); bounded: 100,000 threads crashed the process
    threads: int = option(0, "torch threads (0: torch's default)", min=0, max=1024)

    def __post_init__(self) -> None:
        import math

        for name in ("lr", "weight_decay", "grad_clip", "max_minutes"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if self.lr <= 0:
            raise ValueError(f"lr must be above 0, got {self.lr!r}")
        if self.augment_options:  # checked with the rest, before any data is read
            from htrkit.options import validate_options
            from htrkit.training.augment import AugmentOptions

            validate_options(AugmentOptions, self.augment_options, what="[train] augment")


@dataclass(frozen=True)
class TrainConfig:
    model: ModelSection = ModelSection()
    data: DataSection = DataSection()
    train: TrainSection = TrainSection()
    #: where the file was, for resolving relative paths
    base: str = "."

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base) / p

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("base")
        return d


def load_config(path: str | Path | None, overrides: list[str] = ()) -> TrainConfig:
    """Read a training TOML file (or start from defaults) and apply ``section.key=value``
    overrides, whose values are parsed as TOML (``train.lr=3e-4``, ``data.cache="c.lmdb"``)."""
    raw: dict[str, Any] = {}
    base = "."
    if path is not None:
        path = Path(path)
        raw = _read_toml(path)
        base = str(path.parent)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise ConfigError(f"override {item!r} is not of the form section.key=value")
        section, _, name = key.strip().partition(".")
        raw.setdefault(section, {})[name] = _parse_value(value)
    return from_dict(raw, base)


def from_dict(raw: dict[str, Any], base: str = ".") -> TrainConfig:
    unknown = set(raw) - {"model", "data", "train"}
    if unknown:
        raise ConfigError(f"unknown training config section [{sorted(unknown)[0]}]")
    model = _section(ModelSection, raw.get("model", {}), "model")
    data_raw = dict(raw.get("data", {}))
    sources = {}
    for split in ("train", "val"):
        items = data_raw.pop(split, [])
        if isinstance(items, dict):
            items = [items]
        sources[split] = tuple(_section(Source, s, f"data.{split}") for s in items)
    data = dataclasses.replace(_section(DataSection, data_raw, "data"), **sources)
    train = _section(TrainSection, raw.get("train", {}), "train")
    if not data.train:
        raise ConfigError("training config has no [[data.train]] source")
    _check_backbone(model)
    return TrainConfig(model=model, data=data, train=train, base=base)


def _check_backbone(model: ModelSection) -> None:
    """The backbone and its options, checked before any data is read (an unknown name
    was found only once the lines were loaded)."""
    from htrkit.plugins import registry

    try:
        spec = registry("backbone").get(model.backbone)
        validate_options(spec.options, model.backbone_options, what=f"backbone {spec.name!r}")
    except (UnknownComponentError, OptionsError) as exc:
        raise ConfigError(str(exc)) from None


def _section(schema: type, values: dict[str, Any], what: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"[{what}] must be a table")
    # dict/list fields pass through; scalar fields get validated and coerced
    hints = {f.name: f for f in dataclasses.fields(schema)}
    passthrough = {k: v for k, v in values.items() if k in hints and _is_container(hints[k])}
    scalars = {k: v for k, v in values.items() if k not in passthrough}
    try:
        obj = validate_options(schema, scalars, what=f"training config [{what}]")
    except Exception as exc:
        raise ConfigError(str(exc)) from None
    return dataclasses.replace(obj, **passthrough)


def _is_container(f: dataclasses.Field) -> bool:
    return f.default_factory is not dataclasses.MISSING or f.name == "preprocess"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such training configuration file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read training configuration ({exc})") from None


def _parse_value(text: str) -> Any:
    try:
        import tomllib
    except ModuleNotFoundError:
        import tomli as tomllib
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare string

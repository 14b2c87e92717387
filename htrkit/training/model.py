"""The model a training run starts from: a new one for the configuration, or a trained
one (``[model] init``, a file or an installed model's name) whose output layer grows for a
larger alphabet."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from htrkit.alphabet import Alphabet
from htrkit.errors import ConfigError
from htrkit.modelfile import ModelConfig
from htrkit.recognizer import Recognizer
from htrkit.training.config import TrainConfig


def init_path(config: TrainConfig) -> Path:
    """``[model] init``: a model file (relative to the config), or the name of an
    installed model such as ``default``."""
    from htrkit.modelfile import is_model_path
    from htrkit.plugins import registry

    init = config.model.init
    if not is_model_path(init) and init in registry("model"):
        return Path(registry("model").create(init))
    path = config.resolve(init)
    if not path.is_file():
        models = ", ".join(registry("model").names()) or "none installed"
        raise ConfigError(
            f"[model] init {init!r}: no such model file ({path}) and no installed model "
            f"of that name (models: {models})"
        )
    return path


def preprocess_steps(config: TrainConfig) -> list[dict[str, Any]]:
    """The preprocessing a configuration trains with: its starting model's (``[model]
    init``), which a fine-tune must keep, else the recipe's own for its input height."""
    from htrkit.modelfile import read_config
    from htrkit.preprocess.chain import standard_steps

    if config.model.init:
        return read_config(init_path(config)).preprocess
    return standard_steps(config.model.preprocess, config.model.input_height)


def build_recognizer(
    config: TrainConfig,
    steps: list[dict[str, Any]],
    texts: Iterable[str],
    log: Callable[[str], None],
) -> Recognizer:
    """The recogniser to train: ``[model] init`` with its alphabet extended to the
    configured one (or to every character of ``texts``), or a new one seeded with
    ``[train] seed``; ``steps`` is the preprocessing chain recorded in it."""
    import torch

    c = config
    if c.model.init:
        base = Recognizer.load(init_path(c))
        # the configured alphabet, when there is one, else every character of the texts
        wanted = c.model.alphabet or {ch for t in texts for ch in t}
        extra = sorted(set(wanted) - set(base.alphabet.chars))
        chars = list(base.alphabet.chars) + extra
        if extra:
            log(f"fine-tuning: alphabet extended by {''.join(extra)!r}")
        # the config's metadata (the model's name, licence) over the starting model's
        metadata = {**base.config.metadata, **dict(c.model.metadata)}
        recognizer = Recognizer(
            base.module, replace(base.config, alphabet=chars, metadata=metadata)
        )
        if extra:
            extend_head(recognizer.module, len(base.alphabet) + 1, len(chars) + 1)
        return recognizer
    chars = (
        list(dict.fromkeys(c.model.alphabet))
        if c.model.alphabet
        else list(Alphabet.from_texts(texts).chars)
    )
    model = ModelConfig(
        backbone=c.model.backbone,
        alphabet=chars,
        input_height=c.model.input_height,
        backbone_options=dict(c.model.backbone_options),
        preprocess=steps,
        metadata=dict(c.model.metadata),
    )
    torch.manual_seed(c.train.seed)
    return Recognizer.create(model)


def extend_head(module: Any, old: int, new: int) -> None:
    """Grow the last ``nn.Linear`` with ``old`` outputs to ``new``, keeping learnt rows."""
    import torch
    from torch import nn

    name, head = None, None
    for n, m in module.named_modules():
        if isinstance(m, nn.Linear) and m.out_features == old:
            name, head = n, m
    if head is None:
        raise ConfigError(f"cannot extend the alphabet: no output layer with {old} classes")
    bigger = nn.Linear(head.in_features, new, bias=head.bias is not None)
    with torch.no_grad():
        bigger.weight[:old] = head.weight
        if head.bias is not None:
            bigger.bias[:old] = head.bias
            bigger.bias[old:] = head.bias[1:].mean() if old > 1 else 0.0
    parent = module.get_submodule(name.rsplit(".", 1)[0]) if "." in name else module
    setattr(parent, name.rsplit(".", 1)[-1], bigger)

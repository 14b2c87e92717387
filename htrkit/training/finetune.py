"""Fine-tuning: growing a trained model's output layer for a larger alphabet."""

from __future__ import annotations

from typing import Any

from htrkit.errors import ConfigError


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

"""Training state for ``--resume``: safetensors for the tensors, JSON for the rest.

The optimiser's state dict is split into its tensors (``optim.<param>.<name>``) and its
plain values (JSON), and the torch RNG state is stored as a tensor, so a resume file, like a
model file, never contains a pickle.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from htrkit.errors import ConfigError, ModelError

STATE_KEY = "htrkit.train_state"


def save_state(path: Path, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
    """Write model weights, optimiser state, RNG state and ``state`` atomically."""
    import torch
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    for k, v in model.state_dict().items():
        tensors[f"model.{k}"] = v.detach().cpu().contiguous()
    opt = optimizer.state_dict()
    plain_state: dict[str, dict[str, Any]] = {}
    for param, values in opt["state"].items():
        plain_state[str(param)] = {}
        for name, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optim.{param}.{name}"] = value.detach().cpu().contiguous()
            else:
                plain_state[str(param)][name] = value
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():  # each GPU's generator too: dropout draws on it
        for i, rng in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = rng
    meta = {
        **state,
        "optimizer": {"param_groups": opt["param_groups"], "state": plain_state},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    from htrkit.atomic import replacing

    with replacing(path, mode=0o600) as tmp:  # a train state stays its owner's
        save_file(tensors, str(tmp), metadata={STATE_KEY: json.dumps(meta)})


def load_state(
    path: Path, model: Any, optimizer: Any, check: Callable[[dict], None] | None = None
) -> dict[str, Any]:
    """Restore what :func:`save_state` wrote; returns the plain ``state`` dict. ``check``
    sees that dict first, before any weight is loaded (a run whose model changed is refused
    there, in one line, not by the weights' shapes)."""
    import torch
    from safetensors import safe_open

    if not path.is_file():
        raise ModelError(f"{path}: no training state to resume from")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})[STATE_KEY])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (KeyError, json.JSONDecodeError, OSError) as exc:
        raise ModelError(f"{path}: not an htrkit training state ({exc})") from None
    except Exception as exc:  # safetensors' own errors
        raise ModelError(f"{path}: cannot read training state ({exc})") from None
    if check is not None:
        check(meta)
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    opt_meta = meta.pop("optimizer")
    state: dict[int, dict[str, Any]] = {}
    for param, values in opt_meta["state"].items():
        state[int(param)] = dict(values)
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, param, name = key.split(".", 2)
            state.setdefault(int(param), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": opt_meta["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    names = sorted((k for k in tensors if k.startswith("rng.cuda.")), key=lambda k: int(k[9:]))
    cuda = [tensors[k] for k in names]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    return meta


#: what may change between a run and its --resume (the budget, the machine, how often it
#: validates); everything else shapes the run and must stay
RESUMABLE_CHANGES = ("epochs", "max_minutes", "patience", "num_workers", "threads", "device",
                     "output", "eval_every", "eval_every_steps", "score_start")  # fmt: skip


@dataclass
class TrainState:
    """Where a run stands, as ``--resume`` needs it (with the weights, the optimiser's state
    and the RNG states that :func:`save_state` stores beside it)."""

    epoch: int  #: completed epochs, or the one in progress
    batch: int  #: batches done in that epoch
    step: int
    best_cer: float
    bad_epochs: int
    history: list[dict[str, Any]]
    schedule: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    alphabet: list[str] = field(default_factory=list)
    scaler: dict[str, Any] = field(default_factory=dict)  #: fp16's gradient scaler
    world: int = 0  #: processes the run trained on (0: a state written before it was kept)

    def with_run(self, trainer: Any, schedule: Any, scaler: Any) -> TrainState:
        """This position with the run's schedule, configuration, alphabet and scaler."""
        return replace(
            self,
            schedule=schedule.state(),
            config=trainer.config.to_dict(),
            alphabet=list(trainer.alphabet.chars),
            scaler=scaler.state_dict() if scaler.is_enabled() else {},
            world=trainer.world,
        )

    def save(self, path: Path, model: Any, optimizer: Any) -> None:
        plain = asdict(self)
        plain["best_cer"] = self.best_cer if math.isfinite(self.best_cer) else 1e9
        if not self.scaler:
            del plain["scaler"]
        save_state(path, model, optimizer, plain)

    @classmethod
    def load(
        cls, path: Path, model: Any, optimizer: Any, check: Callable[[dict], None] | None = None
    ) -> TrainState:
        """Restore the weights, optimiser and RNG states into ``model`` and ``optimizer``
        (``check`` sees the saved state first); returns the position."""
        state = load_state(path, model, optimizer, check)
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in state.items() if k in names})


def check_resumable(before: dict[str, Any], now: dict[str, Any]) -> None:
    """Refuse, in one line, to resume a run whose configuration ``before`` differs from
    ``now`` in more than :data:`RESUMABLE_CHANGES`."""
    before, now = json.loads(json.dumps(before)), json.loads(json.dumps(now))
    for key in RESUMABLE_CHANGES:
        before.get("train", {}).pop(key, None)
        now.get("train", {}).pop(key, None)
    if before != now:
        changed = _differences(before, now)
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        shown = ", ".join(changed[:3]) + more
        raise ConfigError(
            f"cannot resume: {shown or 'the configuration'} differs from the interrupted "
            "run's (only epochs, max_minutes, patience, num_workers, threads, device and how "
            "often it validates may change)"
        )


def _differences(before: Any, now: Any, where: str = "") -> list[str]:
    """The dotted names of the settings that differ (``model.backbone``)."""
    if isinstance(before, dict) and isinstance(now, dict):
        found: list[str] = []
        for key in sorted(set(before) | set(now), key=str):
            name = f"{where}.{key}" if where else str(key)
            found += _differences(before.get(key), now.get(key), name)
        return found
    return [] if before == now else [where or "the configuration"]

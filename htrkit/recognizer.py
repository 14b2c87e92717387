"""A loaded model: backbone weights, alphabet and preprocessing chain, run on batches."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from htrkit.alphabet import Alphabet
from htrkit.errors import HtrkitError, ModelError
from htrkit.modelfile import ModelConfig, load_weights, read_config, save_model
from htrkit.preprocess.chain import PreprocessChain, XMap


@dataclass(frozen=True)
class LineReading:
    """What the network read on one line image."""

    #: ``[frames, classes]`` log-probabilities, class 0 the CTC blank
    log_probs: np.ndarray
    #: frame positions (floats, ``0 .. frames``) to x positions in the image that was read
    frames_to_x: XMap


class LineReader(ABC):
    """What every backend shares: a model's configuration, alphabet and preprocessing
    chain, and the one way lines are read (:meth:`read`). A backend gives
    :meth:`log_probs`: :class:`Recognizer` runs the torch network,
    :class:`htrkit.onnxmodel.OnnxRecognizer` its ONNX export with onnxruntime."""

    #: the name ``Pipeline(backend=...)`` and ``htrkit run --backend`` know it by
    backend = ""

    def __init__(self, config: ModelConfig, source: str):
        self.config = config
        self.source = source
        try:
            self.alphabet = Alphabet(config.alphabet)
        except ModelError as exc:
            raise ModelError(f"{source}: {exc}") from None
        self.preprocess = PreprocessChain.from_config(config.preprocess, source=source)

    def _check(self, out: np.ndarray) -> np.ndarray:
        if out.ndim != 2 or out.dtype != np.uint8:
            raise ModelError(
                f"{self.source}: preprocessing must end in a 2-D uint8 image, got "
                f"{out.dtype} {out.shape}; add 'grayscale' to the model's preprocess chain"
            )
        if out.shape[0] != self.config.input_height:
            raise ModelError(
                f"{self.source}: the preprocessing gives lines {out.shape[0]} px high, but "
                f"the model reads lines {self.config.input_height} px high (steps that "
                f"replace the model's own must end at its height)"
            )
        return out

    def read(
        self, images: Sequence[np.ndarray], batch_size: int = 32, *, bf16: bool = False
    ) -> list[LineReading]:
        """Read raw line images, the one way htrkit does (pipeline, eval, tune-decoder and
        the trainer's validation): each is preprocessed once, lines of similar width go
        through the network together, and each comes back, in the given order, with its
        log-probabilities and the map from frame positions to its own x positions.

        :param bf16: run the network in bfloat16 on the CPU (training validation).
        """
        # read_prepared checks each network input once
        return self.read_prepared([self.preprocess.run(im) for im in images], batch_size, bf16=bf16)

    def read_prepared(
        self,
        inputs: Sequence[tuple[np.ndarray, XMap | None]],
        batch_size: int = 32,
        *,
        bf16: bool = False,
    ) -> list[LineReading]:
        """:meth:`read` for lines already preprocessed: ``(network input, its x map)`` pairs
        from ``self.preprocess.run``, or ``(image, None)`` for an image that is already the
        network's input (the training cache)."""
        checked = [(self._check(im), to_input or _identity) for im, to_input in inputs]
        order = sorted(range(len(checked)), key=lambda i: checked[i][0].shape[1])
        chunks = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        found = self.log_probs_batches([[checked[i][0] for i in c] for c in chunks], bf16=bf16)
        out: list[LineReading | None] = [None] * len(checked)
        for chunk, log_probs in zip(chunks, found):
            for i, lp in zip(chunk, log_probs):
                image, to_input = checked[i]
                px = image.shape[1] / max(lp.shape[0], 1)  # network-input pixels per frame
                out[i] = LineReading(lp, _frames_to_x(to_input, px))
        return out  # type: ignore[return-value]

    def log_probs_batches(
        self, batches: Sequence[Sequence[np.ndarray]], *, bf16: bool = False
    ) -> list[list[np.ndarray]]:
        """:meth:`log_probs` of each batch, in order (one after the other here; a backend
        may run them side by side)."""
        return [self.log_probs(batch, bf16=bf16) for batch in batches]

    @abstractmethod
    def log_probs(self, images: Sequence[np.ndarray], *, bf16: bool = False) -> list[np.ndarray]:
        """Log-probabilities ``[frames, classes]`` for preprocessed line images, as one
        padded batch through the network (:meth:`read` orders and batches them)."""


class Recognizer(LineReader):
    """A CTC line recogniser run by torch: ``[H, W]`` uint8 line images in,
    log-probabilities out."""

    backend = "torch"

    def __init__(self, module: Any, config: ModelConfig, *, source: str = "<memory>"):
        super().__init__(config, source)
        self.module = module.eval()

    # -- construction ----------------------------------------------------------------

    @classmethod
    def create(cls, config: ModelConfig, *, seed: int | None = None) -> Recognizer:
        """A new, randomly initialised model for ``config``."""
        import torch

        from htrkit.plugins import registry

        spec = registry("backbone").get(config.backbone)
        options = spec.validate(config.backbone_options)
        config = replace(config, backbone_options=asdict(options))
        if seed is not None:
            torch.manual_seed(seed)
        module = _build(config, "<new model>")
        return cls(module, config)

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "cpu") -> Recognizer:
        """Load a model file (see :mod:`htrkit.modelfile`)."""
        config = read_config(path)
        module = _build(config, str(path))
        state = load_weights(path)
        # load_state_dict raises a bare RuntimeError for a shape mismatch: check first
        own = module.state_dict()
        wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
        if wrong:
            k = wrong[0]
            raise ModelError(
                f"{path}: weights do not fit backbone {config.backbone!r} with options "
                f"{config.backbone_options}: {k} has shape {list(state[k].shape)} in the file, "
                f"{list(own[k].shape)} expected"
            )
        result = module.load_state_dict(state, strict=False)
        if result.missing_keys or result.unexpected_keys:
            parts = []
            if result.missing_keys:
                parts.append(f"missing {', '.join(result.missing_keys[:3])}")
            if result.unexpected_keys:
                parts.append(f"unexpected {', '.join(result.unexpected_keys[:3])}")
            raise ModelError(
                f"{path}: weights do not fit backbone {config.backbone!r}: {'; '.join(parts)}"
            )
        return cls(module.to(device), config, source=str(path))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write this model to ``path``."""
        return save_model(path, self.module, self.config)

    # -- inference -------------------------------------------------------------------

    @property
    def device(self) -> Any:
        return next(self.module.parameters()).device

    def log_probs(self, images: Sequence[np.ndarray], *, bf16: bool = False) -> list[np.ndarray]:
        """Log-probabilities ``[frames, classes]`` for preprocessed line images, as one
        padded batch through the network (:meth:`read` orders and batches them)."""
        import torch

        if not images:
            return []
        batch, widths = network_batch(images, self.config.input_height)
        with torch.inference_mode():
            x = torch.from_numpy(batch).to(self.device)
            w = torch.from_numpy(widths)
            with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
                logits = self.module(x, w.to(self.device))
            lengths = self.module.output_lengths(w).tolist()
            lp = torch.log_softmax(logits.float(), dim=-1).cpu().numpy()
        return [lp[i, : max(int(n), 0)] for i, n in enumerate(lengths)]


def network_batch(images: Sequence[np.ndarray], height: int) -> tuple[np.ndarray, np.ndarray]:
    """The network's input for preprocessed line images: ``[N, 1, height, max width]``
    float32 ink (1 - grey / 255, zero past each line's end), and the widths (int64)."""
    widths = np.array([im.shape[1] for im in images], dtype=np.int64)
    batch = np.zeros((len(images), 1, height, int(widths.max())), np.float32)
    for i, im in enumerate(images):
        batch[i, 0, :, : im.shape[1]] = 1.0 - im.astype(np.float32) / 255.0
    return batch, widths


def _identity(xs: np.ndarray) -> np.ndarray:
    return np.asarray(xs, dtype=np.float64)


def _frames_to_x(to_input: XMap, px: float) -> XMap:
    return lambda frames: to_input(np.asarray(frames, dtype=np.float64) * px)


def _build(config: ModelConfig, source: str) -> Any:
    from htrkit.plugins import registry

    try:
        spec = registry("backbone").get(config.backbone)
        num_classes = len(config.alphabet) + 1
        return spec.create(config.backbone_options, num_classes)
    except HtrkitError as exc:
        raise ModelError(f"{source}: {exc}") from None

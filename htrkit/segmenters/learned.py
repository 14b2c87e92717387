"""``learned``: a small trained pixel classifier finds line regions and baselines.

A U-Net (about 0.15 M parameters) reads the page scaled so that its long side is the
model's ``work_size`` (512 for the bundled one) pixels and gives, per pixel, the
probability of being inside a text line and of lying on a baseline. Each baseline (a
connected stroke of baseline pixels, pieces of a broken one joined) becomes a line; the
inside pixels go to the nearest baseline above or just below them, and the outline of
each line's pixels is its polygon. Lines come in reading order
(:mod:`htrkit.segmenters.order`: columns left to right, each top to bottom).

The bundled model (``htrkit/models/segmenter.safetensors``) was trained on the training
pages of Copiste and Testaments de Poilus (ALTO ground truth in ``../shared/data``) by
``examples/recipes/train_segmenter.py``; the same split leaves their validation pages
unseen. It handles stamps, marginalia, ruled paper and skew as far as those pages show them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from htrkit.errors import InputError, ResourceNotFoundError
from htrkit.results import LineRegion
from htrkit.segmenters.learned_net import BUNDLED, load_model, onnx_form, page_tensor, read_config
from htrkit.segmenters.maps import lines_from_maps, without_rules
from htrkit.segmenters.options import LearnedOptions

__all__ = ["BUNDLED", "LearnedSegmenter", "lines_from_maps"]


class LearnedSegmenter:
    def __init__(self, options: LearnedOptions | None = None, *, threads: int = 0):
        """``threads``: onnxruntime's threads (0: one per core the process may use, as a
        pipeline's 0 means, so that its :meth:`limit_threads` finds the session as it is)."""
        from htrkit.threads import available_cores

        threads = threads or available_cores()
        self.options = o = options or LearnedOptions()
        where = BUNDLED if o.model == "default" else Path(o.model)
        if not where.is_file():
            raise ResourceNotFoundError(f"segmenter model {o.model!r}: no such file")
        self.config = read_config(where)
        # onnxruntime where the model has an export beside it (the bundled one does): the
        # same probabilities within 1e-5, and no torch to import
        self.onnx = onnx_form(where, threads) if o.backend != "torch" else None
        if o.backend == "onnx" and self.onnx is None:
            raise InputError(
                f"segmenter model {o.model!r}: no ONNX export beside it (htrkit model export "
                f"{where}) or no onnxruntime"
            )
        self.net = None if self.onnx is not None else load_model(where)[0]

    def limit_threads(self, threads: int) -> None:
        """Run the network on ``threads`` threads: onnxruntime's session is made again
        with that many (in a ``--jobs`` worker, one per core otherwise oversubscribed the
        cores: measured in docs/collections.md)."""
        if self.onnx is not None and self.onnx.threads != threads:
            self.onnx = self.onnx.with_threads(threads)

    def probabilities(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Inside-line and baseline probabilities at the working scale, and the scale."""
        import cv2

        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        x, scale = page_tensor(grey, self.config["work_size"])  # the scale it trained at
        if self.options.remove_rules:
            x = without_rules(x)
        if self.onnx is not None:
            out = self.onnx(x)
        else:
            import torch

            with torch.inference_mode():
                out = torch.sigmoid(self.net(torch.from_numpy(x)[None, None]))[0].numpy()
        return out[0], out[1], scale

    def segment(self, image: np.ndarray) -> list[LineRegion]:
        inside, base, scale = self.probabilities(image)
        h, w = image.shape[:2]
        return lines_from_maps(inside, base, scale, w, h, self.options)

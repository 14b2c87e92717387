"""The learned segmenter's network and its file: the U-Net, the page tensor it reads,
saving and loading it (safetensors + JSON), and its ONNX export and onnxruntime form."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from htrkit.errors import InputError
from htrkit.models import FOLDER

BUNDLED = FOLDER / "segmenter.safetensors"


def build_net(width: int = 16):
    import torch
    from torch import nn

    def block(cin: int, cout: int) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            c = [width, width * 2, width * 4, width * 6]
            self.down = nn.ModuleList([block(1, c[0]), block(c[0], c[1]), block(c[1], c[2])])
            self.mid = block(c[2], c[3])
            self.up = nn.ModuleList(
                [block(c[3] + c[2], c[2]), block(c[2] + c[1], c[1]), block(c[1] + c[0], c[0])]
            )
            self.head = nn.Conv2d(c[0], 2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            skips = []
            for layer in self.down:
                x = layer(x)
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
            x = self.mid(x)
            for layer, skip in zip(self.up, reversed(skips)):
                x = nn.functional.interpolate(x, size=skip.shape[-2:], mode="nearest")
                x = layer(torch.cat([x, skip], 1))
            return self.head(x)

    return UNet()


def page_tensor(grey: np.ndarray, work_size: int) -> tuple[np.ndarray, float]:
    """The page scaled to ``work_size`` on its long side, as float32 ink (0 paper, 1 ink)
    padded to a multiple of 8, and the scale."""
    import cv2

    h, w = grey.shape
    scale = work_size / max(h, w)
    small = cv2.resize(grey, (max(round(w * scale), 8), max(round(h * scale), 8)),
                       interpolation=cv2.INTER_AREA)  # fmt: skip
    x = 1.0 - small.astype(np.float32) / 255.0
    ph, pw = (-x.shape[0]) % 8, (-x.shape[1]) % 8
    return np.pad(x, ((0, ph), (0, pw))), scale


def save_model(net: object, path: Path, config: dict) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(path), metadata={"htrkit_segmenter": json.dumps(config)})


def load_model(path: Path):
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), "pt") as f:
            config = json.loads((f.metadata() or {})["htrkit_segmenter"])
        config["work_size"] = int(config["work_size"])  # the scale it was trained at
        net = build_net(config["width"])
        net.load_state_dict(load_file(str(path)))
    except (OSError, KeyError, TypeError, ValueError, RuntimeError, SafetensorError) as exc:
        raise InputError(f"{path}: not an htrkit segmenter model ({exc})") from None
    net.eval()
    return net, config


def read_config(path: Path) -> dict:
    """A segmenter model file's configuration (its header only)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), "np") as f:
            config = json.loads((f.metadata() or {})["htrkit_segmenter"])
        config["work_size"] = int(config["work_size"])
        config["width"] = int(config["width"])
    except (OSError, KeyError, TypeError, ValueError, SafetensorError) as exc:
        raise InputError(f"{path}: not an htrkit segmenter model ({exc})") from None
    return config


def export_onnx(path: Path, out: Path, *, opset: int = 17) -> Path:
    """Write a segmenter model's network to ``out`` as ONNX (input ``page`` ``[1, 1, H, W]``,
    H and W multiples of 8; output ``probabilities`` ``[1, 2, H, W]``, after the sigmoid),
    its configuration and the source file's SHA-256 in the metadata; atomically."""
    import warnings

    import onnx
    import torch

    from htrkit.atomic import replacing
    from htrkit.cache import sha256

    net, config = load_model(path)

    class WithSigmoid(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, page: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(self.net(page))

    with replacing(out) as written:
        tmp = str(written)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                WithSigmoid().eval(),
                (torch.zeros(1, 1, 64, 96),),
                tmp,
                input_names=["page"],
                output_names=["probabilities"],
                dynamic_axes={"page": {2: "height", 3: "width"},
                              "probabilities": {2: "height", 3: "width"}},
                opset_version=opset,
                dynamo=False,
            )  # fmt: skip
        proto = onnx.load(tmp)
        for key, value in (("format", ONNX_FORMAT), ("htrkit_segmenter", json.dumps(config)),
                           ("htrkit.source_sha256", sha256(path))):  # fmt: skip
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, tmp)
    return out


ONNX_FORMAT = "htrkit-segmenter-onnx"


class _OnnxNet:
    """The segmenter's ONNX export run by onnxruntime: probabilities for a page array."""

    def __init__(self, path: Path, threads: int = 0):
        import onnxruntime as ort

        self.path = path
        self.threads = threads
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:  # else onnxruntime's default, one per core
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options,
                                                providers=["CPUExecutionProvider"])  # fmt: skip
        except Exception as exc:  # onnxruntime's own exception types
            raise InputError(f"{path}: not a readable ONNX segmenter ({exc})") from None
        self.meta = self.session.get_modelmeta().custom_metadata_map

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"page": x[None, None].astype(np.float32)})[0][0]

    def with_threads(self, threads: int) -> _OnnxNet:
        """The same network in a session of ``threads`` threads (already checked)."""
        return _OnnxNet(self.path, threads)


def onnx_form(path: Path, threads: int = 0) -> _OnnxNet | None:
    """The ``.onnx`` beside a segmenter model, when it was exported from these weights;
    ``threads``: onnxruntime's threads (0: one per core)."""
    from htrkit.cache import sha256
    from htrkit.onnxmodel import available

    sibling = path.with_suffix(".onnx")
    if not (available() and sibling.is_file()):
        return None
    net = _OnnxNet(sibling, threads)
    if net.meta.get("format") != ONNX_FORMAT or net.meta.get("htrkit.source_sha256") != sha256(
        path
    ):
        return None
    return net

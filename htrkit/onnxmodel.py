"""A model's network as ONNX, and the onnxruntime backend that reads lines with it.

:func:`export` writes one ``.onnx`` file from a loaded :class:`~htrkit.recognizer.Recognizer`
(torch is needed for this step only). The file is self-contained: its metadata holds the
same JSON configuration as the safetensors model file (alphabet, preprocessing, backbone)
and the SHA-256 of the file it was exported from. Its graph takes

- ``images``: ``[batch, 1, height, width]`` float32 ink (``1 - grey / 255``, zero past each
  line's end), dynamic batch and width;
- ``widths``: ``[batch]`` int64, each line's width in pixels;

and gives ``log_probs`` ``[batch, frames, classes]`` (log-softmax, class 0 the CTC blank)
and ``lengths`` ``[batch]`` (each line's frames).

:class:`OnnxRecognizer` runs that file with onnxruntime. It shares everything else with the
torch backend (:class:`~htrkit.recognizer.LineReader`): preprocessing, ordering and
batching of lines, frame-to-pixel maps, so decoding and character positions are the same.
Loading it imports neither torch nor the onnx package: only ``onnxruntime`` (the extra
``htrkit[onnx]``).

How a safetensors model finds its ONNX form (:func:`onnx_form`): the file beside it with
the same name and ``.onnx`` (``htrkit model export model.safetensors`` writes it there;
the bundled models ship one), when it was exported from these very weights; else an export
cached under ``$HTRKIT_CACHE`` (default ``~/.cache/htrkit``), written on first use.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from htrkit.atomic import replacing
from htrkit.cache import cache_dir, sha256
from htrkit.errors import ConfigError, ModelError
from htrkit.modelfile import ModelConfig
from htrkit.recognizer import LineReader, network_batch
from htrkit.threads import LazyPool, available_cores

FORMAT = "htrkit-onnx"
FORMAT_KEY = "format"
CONFIG_KEY = "htrkit.config"
SOURCE_KEY = "htrkit.source_sha256"
#: opset 17: opsets 13, 17, 18 and 20 of the default model read 64 lines within 3% of one
#: another (0.656-0.674 s on one thread, best of 3, interleaved); 17 is read by
#: onnxruntime 1.14 and later (docs/collections.md)
DEFAULT_OPSET = 17
#: a bound on what is read from a file: ONNX files over 1 GiB and configurations over
#: 1 MB are refused before parsing
MAX_FILE_BYTES = 1 << 30
MAX_CONFIG_CHARS = 1 << 20
BACKENDS = ("auto", "torch", "onnx")
#: the most lines onnxruntime reads in one run. One thread, 274 validation lines: runs of
#: 1 line 8.01 ms a line, of 2 7.63, of 4 8.25, of 8 9.21 (small inputs stay in the cache);
#: end to end on two threads runs of 2 and 4 read alike (200.8 and 203.0 lines/s), and runs
#: of 2 let a read of a few lines (a web request, a short page) use both cores: 4 lines
#: take 15.0 ms as two runs side by side, 29.6 ms on one thread
RUN_LINES = 2


def available() -> bool:
    """Whether onnxruntime is installed (the ``onnx`` backend can run)."""
    return importlib.util.find_spec("onnxruntime") is not None


# -- export ------------------------------------------------------------------------------


def export(
    recognizer: Any,
    path: str | os.PathLike[str],
    *,
    opset: int = DEFAULT_OPSET,
    int8: bool = False,
    source_sha256: str = "",
) -> Path:
    """Write ``recognizer``'s network (a torch :class:`~htrkit.recognizer.Recognizer`) to
    ``path`` as ONNX, with its configuration in the metadata; atomically (a temporary file
    renamed). ``int8``: weights quantised to 8 bits (onnxruntime's dynamic quantisation);
    measured, not offered by the CLI: on the default model it reads 0.5x as fast as fp32
    and 3.4 points of CER worse (docs/collections.md)."""
    for name in ("torch", "onnx"):
        if importlib.util.find_spec(name) is None:
            raise ConfigError(
                f"exporting to ONNX needs the {name} package: pip install 'htrkit[onnx]'"
            )
    import onnx
    import torch

    path = Path(path)
    module = recognizer.module
    config: ModelConfig = recognizer.config
    wrapper = _exported(module).eval()
    height = config.input_height
    # two lines of different widths, so that the masking of padded columns is traced
    width = max(64, 8 * height)
    images = torch.zeros(2, 1, height, width)
    images[:, :, height // 3 : 2 * height // 3, 4:-4] = 1.0
    images[1, :, :, width // 2 :] = 0.0
    widths = torch.tensor([width, width // 2], dtype=torch.long)
    device = next(module.parameters()).device
    with replacing(path) as written:
        tmp = str(written)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
            try:
                torch.onnx.export(
                    wrapper.to(device),
                    (images.to(device), widths.to(device)),
                    tmp,
                    input_names=["images", "widths"],
                    output_names=["log_probs", "lengths"],
                    dynamic_axes={
                        "images": {0: "batch", 3: "width"},
                        "widths": {0: "batch"},
                        "log_probs": {0: "batch", 1: "frames"},
                        "lengths": {0: "batch"},
                    },
                    opset_version=opset,
                    dynamo=False,
                )
            except Exception as exc:  # the exporter raises many types for one failure
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise ModelError(
                    f"{recognizer.source}: backbone {config.backbone!r} cannot be exported to "
                    f"ONNX ({type(exc).__name__}: {first[:200]})"
                ) from None
        proto = onnx.load(tmp)
        meta = {
            FORMAT_KEY: FORMAT,
            CONFIG_KEY: config.to_json(),
            SOURCE_KEY: source_sha256,
            "htrkit.int8": "1" if int8 else "0",
        }
        del proto.metadata_props[:]
        for key, value in meta.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, tmp)
        if int8:
            _quantize(tmp)
    return path


def _quantize(path: str) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = path + ".int8"
    try:
        # per-channel int8 weights of the convolutions and linear layers, activations
        # quantised on the fly
        quantize_dynamic(path, out, weight_type=QuantType.QInt8, per_channel=True)
        os.replace(out, path)
    finally:
        if os.path.exists(out):
            os.unlink(out)


def _exported(module: Any) -> Any:
    """The graph that is exported: the backbone's logits as log-probabilities, and each
    line's frame count."""
    import torch

    class Exported(torch.nn.Module):
        def __init__(self, net: Any):
            super().__init__()
            self.net = net

        def forward(self, images: torch.Tensor, widths: torch.Tensor):
            logits = self.net(images, widths)
            lengths = self.net.output_lengths(widths).clamp(max=logits.shape[1])
            return torch.log_softmax(logits.float(), dim=-1), lengths

    return Exported(module)


# -- the onnxruntime backend ---------------------------------------------------------------


class OnnxRecognizer(LineReader):
    """A model's ONNX export run by onnxruntime (see the module's documentation)."""

    backend = "onnx"

    def __init__(
        self,
        session: Any,
        config: ModelConfig,
        *,
        source: str,
        source_sha256: str = "",
        threads: int = 1,
    ):
        super().__init__(config, source)
        self.session = session
        self.source_sha256 = source_sha256
        #: the batches run side by side on this many threads (:meth:`log_probs_batches`)
        self.threads = max(1, threads)
        self._pool = LazyPool(self.threads, "htrkit-onnx")  # fork-safe, threads made lazily

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, threads: int = 0) -> OnnxRecognizer:
        """Load an ``.onnx`` file written by :func:`export`. ``threads``: how many
        batches run side by side (0: one per core), each on one onnxruntime thread."""
        if not available():
            raise ConfigError("the onnx backend needs onnxruntime: pip install 'htrkit[onnx]'")
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise ModelError(f"{path}: no such ONNX model file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ModelError(f"{path}: ONNX file of {size:,} bytes is over the 1 GiB limit")
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: no optimiser chatter on stderr
        # one thread per run: runs go side by side instead (log_probs_batches), which used
        # two cores better than one run on two threads (1.18x, docs/collections.md)
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{path}: not a readable ONNX model ({first[:200]})") from None
        meta = session.get_modelmeta().custom_metadata_map
        if meta.get(FORMAT_KEY) != FORMAT or CONFIG_KEY not in meta:
            raise ModelError(
                f"{path}: ONNX file has no htrkit configuration (write it with htrkit model export)"
            )
        text = meta[CONFIG_KEY]
        if len(text) > MAX_CONFIG_CHARS:
            raise ModelError(f"{path}: model configuration over {MAX_CONFIG_CHARS:,} characters")
        config = ModelConfig.from_json(text, str(path))
        names = [i.name for i in session.get_inputs()]
        if names != ["images", "widths"]:
            raise ModelError(f"{path}: ONNX inputs {names}, expected ['images', 'widths']")
        return cls(
            session,
            config,
            source=str(path),
            source_sha256=meta.get(SOURCE_KEY, ""),
            threads=threads or available_cores(),
        )

    def log_probs(self, images: Sequence[np.ndarray], *, bf16: bool = False) -> list[np.ndarray]:
        """As the torch backend's (``bf16`` is ignored: the graph is fp32 or int8)."""
        if not images:
            return []
        batch, widths = network_batch(images, self.config.input_height)
        log_probs, lengths = self.session.run(None, {"images": batch, "widths": widths})
        return [log_probs[i, : max(int(n), 0)] for i, n in enumerate(lengths)]

    def log_probs_batches(
        self, batches: Sequence[Sequence[np.ndarray]], *, bf16: bool = False
    ) -> list[list[np.ndarray]]:
        """Each batch cut into runs of at most :data:`RUN_LINES` lines, the runs made side
        by side on :attr:`threads` threads, the widest first so that the threads finish
        together. The cut does not depend on the threads, so neither do the values."""
        runs: list[tuple[int, Sequence[np.ndarray]]] = [
            (b, batch[start : start + RUN_LINES])
            for b, batch in enumerate(batches)
            for start in range(0, len(batch), RUN_LINES)
        ]
        if self.threads < 2 or len(runs) < 2:
            found = [self.log_probs(images) for _, images in runs]
        else:
            cost = [len(images) * max(i.shape[1] for i in images) for _, images in runs]
            widest = sorted(range(len(runs)), key=lambda j: -cost[j])
            made = self._pool.map(lambda j: self.log_probs(runs[j][1]), widest)
            done = dict(zip(widest, made))
            found = [done[j] for j in range(len(runs))]
        out: list[list[np.ndarray]] = [[] for _ in batches]
        for (b, _), log_probs in zip(runs, found):
            out[b].extend(log_probs)
        return out


# -- finding a model's ONNX form -----------------------------------------------------------


def onnx_form(model_path: Path, *, threads: int = 0, export_if_missing: bool = True):
    """An :class:`OnnxRecognizer` for a safetensors model file: the ``.onnx`` file beside it
    when it was exported from these weights, else the cached export (written now, with
    torch, when ``export_if_missing``; else ``None``)."""
    digest = sha256(model_path)
    sibling = model_path.with_suffix(".onnx")
    if sibling.is_file():
        found = OnnxRecognizer.load(sibling, threads=threads)
        if found.source_sha256 == digest:
            return found
    cached = cache_dir() / "onnx" / f"{digest[:32]}.onnx"
    if cached.is_file():
        try:
            found = OnnxRecognizer.load(cached, threads=threads)
            if found.source_sha256 == digest:
                return found
        except ModelError:
            pass  # a damaged cache entry is written again
    if not export_if_missing:
        return None
    from htrkit.recognizer import Recognizer

    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{cached.parent}: cannot create the ONNX cache ({exc.strerror or exc}); set "
            "HTRKIT_CACHE or write model.onnx beside the model with htrkit model export"
        ) from None
    export(Recognizer.load(model_path), cached, source_sha256=digest)
    return OnnxRecognizer.load(cached, threads=threads)


def describe(path: Path) -> dict[str, Any]:
    """What ``htrkit model info`` shows of an ONNX file."""
    found = OnnxRecognizer.load(path, threads=1)
    meta = found.session.get_modelmeta().custom_metadata_map
    return {
        "config": found.config,
        "int8": meta.get("htrkit.int8") == "1",
        "source_sha256": found.source_sha256,
        "inputs": {i.name: i.shape for i in found.session.get_inputs()},
        "outputs": {o.name: o.shape for o in found.session.get_outputs()},
    }

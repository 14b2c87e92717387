"""Shared fixtures: a small random model, test images, and CLI runners."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# One thread per test process, and per CLI process a test starts (they inherit the
# environment): with `pytest -n 2` on two cores, two workers each using every core made a
# loaded machine's run ten times slower. Set before anything imports torch.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

# What htrkit caches across runs (ONNX exports, language models' binary tables) goes to a
# folder of this test run, never the user's ~/.cache.
if "HTRKIT_CACHE" not in os.environ:
    import tempfile

    os.environ["HTRKIT_CACHE"] = tempfile.mkdtemp(prefix="htrkit-test-cache-")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))  # development tools (docgen) the tests check
SHARED = ROOT.parent / "shared" / "data"
ALPHABET = list("abcdefghijklmnopqrstuvwxyz0123456789 ")


@pytest.fixture(autouse=True)
def _only_builtin_plugins(monkeypatch):
    """Third-party plugins installed in the environment must not change test results."""
    from htrkit.plugins import reset_plugin_manager

    monkeypatch.setenv("HTRKIT_LOAD_PLUGINS", "")
    reset_plugin_manager()
    yield
    reset_plugin_manager()


@pytest.fixture(scope="session")
def model_path(tmp_path_factory) -> Path:
    """An untrained crnn-small model file (random weights, fixed seed)."""
    from htrkit.modelfile import ModelConfig
    from htrkit.preprocess.chain import standard_steps
    from htrkit.recognizer import Recognizer

    config = ModelConfig(
        backbone="crnn-small",
        alphabet=ALPHABET,
        input_height=32,
        backbone_options={"height": 32, "hidden": 32},
        preprocess=standard_steps("line", 32),
        metadata={"description": "random weights for tests"},
    )
    path = tmp_path_factory.mktemp("model") / "random.safetensors"
    Recognizer.create(config, seed=0).save(path)
    return path


def handwriting_like(width: int = 240, height: int = 48, seed: int = 0) -> np.ndarray:
    """A white image with dark strokes, so that segmenters and models have ink to see."""
    import cv2

    rng = np.random.default_rng(seed)
    image = np.full((height, width), 255, np.uint8)
    x = 10
    while x < width - 20:
        pts = np.stack([x + rng.integers(0, 14, 5), rng.integers(10, height - 10, 5)], 1)
        cv2.polylines(image, [pts.astype(np.int32)], False, 20, 2)
        x += int(rng.integers(10, 24))
    return image


@pytest.fixture
def line_png(tmp_path) -> Path:
    from PIL import Image

    path = tmp_path / "line.png"
    Image.fromarray(handwriting_like()).save(path)
    return path


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: int = 120):
    """Run ``python -m htrkit`` in a subprocess; returns the CompletedProcess."""
    full_env = {**os.environ, "HTRKIT_LOAD_PLUGINS": "", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "htrkit", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )


def passes_in_fork(check, timeout: float = 60.0) -> bool:
    """Run ``check()`` in a forked child; whether it returned true. A child that hangs is
    killed after ``timeout`` seconds and fails the test (the bug such tests look for)."""
    import time

    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the check holds
        try:
            os._exit(0 if check() else 1)
        finally:
            os._exit(2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) == 0
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child hung for {timeout:.0f} s")


def write_word_dataset(root: Path, n: int, seed: int = 0, chars: str = "0123456789abcdefghij"):
    """``n`` rendered words as gt-pairs (``x.png`` + ``x.gt.txt``), 20 per folder (group).

    Hershey fonts, varied size, thickness and position: easy enough for a small CRNN to
    learn in a minute or two, varied enough that it must generalise to the held-out groups.
    """
    import cv2

    rng = np.random.default_rng(seed)
    fonts = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX]
    for i in range(n):
        folder = root / f"group{i // 20:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        text = "".join(rng.choice(list(chars), int(rng.integers(3, 7))))
        image = np.full((40, 170), 255, np.uint8)
        cv2.putText(
            image,
            text,
            (int(rng.integers(2, 12)), int(rng.integers(26, 33))),
            fonts[i % 3],
            0.8 + 0.2 * rng.random(),
            0,
            int(rng.integers(1, 3)),
        )
        cv2.imwrite(str(folder / f"w{i:05d}.png"), image)
        (folder / f"w{i:05d}.gt.txt").write_text(text)
    return root


def labelling_probability(lp: np.ndarray, labels: tuple[int, ...]) -> float:
    """P(labels | lp) by summing over every path (for tiny matrices only)."""
    total = 0.0
    T, C = lp.shape
    for path in itertools.product(range(C), repeat=T):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or path[i - 1] != c)]
        if tuple(collapsed) == labels:
            total += float(np.exp(lp[np.arange(T), path].sum()))
    return total


# -- a layout page shared by the dataset tests ------------------------------------------


@pytest.fixture
def alto_page(tmp_path) -> Path:
    """A folder with one ALTO v4 page (dataset_helpers.ALTO_LINES) and its image."""
    from dataset_helpers import ALTO_LINES, alto, page_image, save

    folder = tmp_path / "alto"
    save(page_image(), folder / "page.png")
    (folder / "page.xml").write_text(alto(ALTO_LINES))
    return folder


# -- training configurations shared by the training, adapt and configuration tests ---------


def train_config(tmp_path: Path, data: Path, out: str = "run", *extra: str):
    """A training configuration on the gt-pairs words of ``data``, small and CPU-bound,
    writing to ``tmp_path / out``; ``extra`` overrides (``section.key=value``)."""
    from htrkit.training.config import load_config

    return load_config(
        None,
        [
            f'data.train={{path="{data}", format="gt-pairs"}}',
            f'train.output="{tmp_path / out}"',
            "data.val_fraction=0.15",
            "train.batch_size=16",
            "train.lr=0.003",
            "train.warmup_steps=20",
            "train.threads=1",  # one per xdist worker: two oversubscribed a busy machine
            # bitwise-exact resumes and worker counts are CPU guarantees (GPU kernels are
            # not deterministic): on a machine with a GPU, "auto" would pick it
            'train.device="cpu"',
            *extra,
        ],
    )


def train_toml(tmp_path: Path, data: Path, out: str) -> str:
    """The same kind of run as a TOML file, for ``htrkit train``."""
    path = tmp_path / f"{out}.toml"
    path.write_text(
        f'[[data.train]]\npath = "{data}"\nformat = "gt-pairs"\n[data]\nval_fraction = 0.15\n'
        f'[train]\noutput = "{tmp_path / out}"\nbatch_size = 16\nlr = 0.003\nwarmup_steps = 20\n'
        "threads = 1\nepochs = 10\neval_every_steps = 3\npatience = 0\n",
        encoding="utf-8",
    )
    return str(path)

"""Drive ``htrkit serve`` in a real headless Chromium (Debian's ``chromium``) with
Playwright: start the server, open the page, draw on its canvas with mouse or touch events.

Used by ``tests/test_web_browser.py`` and ``benchmarks/web_digits.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np

CHROMIUM = os.environ.get("HTRKIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: the flags a root, offline, headless Chromium needs here (no sandbox as root; no calls home)
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(*args: str, timeout: float = 90) -> Iterator[str]:
    """``htrkit serve`` on a free port in a subprocess; yields its base URL."""
    port = free_port()
    env = {**os.environ, "HTRKIT_LOAD_PLUGINS": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "htrkit", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"htrkit serve exited with {proc.returncode}: {out}")
            try:
                with urllib.request.urlopen(url + "/api/config", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"htrkit serve did not answer in {timeout} s") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


@contextlib.contextmanager
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def open_page(b, url: str, **context):
    """A new page on the app, its menus filled from /api/config."""
    page = b.new_context(**context).new_page()
    page.goto(url + "/")
    page.wait_for_selector("#decoder option", state="attached")
    return page


def set_mode(page, mode: str) -> None:
    page.check(f"input[name=mode][value={mode}]")


def result_count(page) -> int:
    return int(page.get_attribute("#text", "data-seq") or 0)


def wait_result(page, after: int, timeout: float = 60_000) -> str:
    """Wait until the page shows the answer to its newest request, sent after the
    ``after``-th; returns the text shown."""
    page.wait_for_function(
        "n => { const d = document.getElementById('text').dataset;"
        " return Number(d.seq) > n && d.seq === d.sent; }",
        arg=after,
        timeout=timeout,
    )
    return page.inner_text("#text")


def canvas_size(page) -> tuple[int, int]:
    return page.evaluate("() => [document.getElementById('pad').width, "
                         "document.getElementById('pad').height]")  # fmt: skip


def strokes_from_mask(mask: np.ndarray, step: int) -> list[list[tuple[float, float]]]:
    """A binary picture as horizontal pen strokes every ``step`` rows: each run of ink
    along a row is one stroke. With a pen about ``step`` wide this paints the picture back."""
    strokes = []
    for y in range(step // 2, mask.shape[0], step):
        row = np.r_[False, mask[y] > 0, False]
        edges = np.flatnonzero(row[1:] != row[:-1])
        for x0, x1 in zip(edges[0::2], edges[1::2]):
            strokes.append([(float(x0), float(y)), (float(max(x1 - 1, x0)), float(y))])
    return strokes


def fit(mask: np.ndarray, width: int, height: int, fill: float = 0.7) -> np.ndarray:
    """``mask`` scaled to fill ``fill`` of a ``width`` x ``height`` canvas, centred."""
    import cv2

    h, w = mask.shape
    scale = fill * min(width / w, height / h)
    size = (max(int(w * scale), 1), max(int(h * scale), 1))
    small = cv2.resize(mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_LINEAR) > 127
    out = np.zeros((height, width), bool)
    y0, x0 = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    out[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return out


def draw_mouse(page, strokes, steps: int = 2) -> None:
    """Draw strokes (canvas pixel coordinates) on the pad with mouse events."""
    box = page.locator("#pad").bounding_box()
    w, h = canvas_size(page)
    sx, sy = box["width"] / w, box["height"] / h
    mouse = page.mouse
    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        mouse.move(box["x"] + x * sx, box["y"] + y * sy)
        mouse.down()
        for x, y in rest:
            mouse.move(box["x"] + x * sx, box["y"] + y * sy, steps=steps)
        mouse.up()


def draw_touch(page, strokes) -> None:
    """Draw strokes with touch events (a finger), sent through the DevTools protocol."""
    box = page.locator("#pad").bounding_box()
    w, h = canvas_size(page)
    sx, sy = box["width"] / w, box["height"] / h
    cdp = page.context.new_cdp_session(page)
    for stroke in strokes:
        points = [(box["x"] + x * sx, box["y"] + y * sy) for x, y in stroke]
        kinds = ["touchStart"] + ["touchMove"] * (len(points) - 1)
        for kind, (x, y) in zip(kinds, points):
            cdp.send("Input.dispatchTouchEvent",
                     {"type": kind, "touchPoints": [{"x": x, "y": y}]})  # fmt: skip
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def polyline(points, every: float = 6.0) -> list[tuple[float, float]]:
    """Points along a polyline at most ``every`` pixels apart (a hand moves smoothly)."""
    out = [tuple(points[0])]
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        n = max(int(np.hypot(x1 - x0, y1 - y0) / every), 1)
        out += [(x0 + (x1 - x0) * t / n, y0 + (y1 - y0) * t / n) for t in range(1, n + 1)]
    return out

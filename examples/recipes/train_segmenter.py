r"""Train the ``learned`` segmenter's pixel classifier on the ALTO pages of Copiste and
Testaments de Poilus (their training split: the validation pages are the ones
``examples/recipes/default-line.toml`` holds out, by document and by page).

    python examples/recipes/train_segmenter.py [--minutes 35]
        [--out htrkit/models/segmenter.safetensors]

Pages are scaled to a long side of 512 pixels; targets are the line polygons (shrunk by a
pixel) and the baselines (3 pixels thick). Random 256-pixel crops, scaled 0.8-1.25, with
contrast changes, train a small U-Net with binary cross-entropy (baselines weighted 4x).
Where a page is transcribed only in part (a Poilus will beside printed forms, stamps and
notes nobody transcribed), only its annotated text regions, the ALTO ``TextBlock``\ s that
hold transcribed lines, grown by 3% of the page, count in the loss: writing outside them is
neither line nor background to the network.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from htrkit.datasets import DatasetReport, find_reader, split_of
from htrkit.segmenters.learned_net import build_net, page_tensor, save_model

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
SETS = [
    ("copiste", SHARED / "copiste-pages",
     {"group_by": "document", "document_pattern": r"^(?:imp_|oldbatch_)?wikitexte_\d+"}),
    ("poilus", SHARED / "poilus-pages", {}),
]  # fmt: skip
WORK = 512


def pages(split: str):
    for name, path, options in SETS:
        reader = find_reader(path, "alto", options)
        for page in reader.pages(path, DatasetReport(), skip_bad=True):
            if split_of(page.group, 0.1, 240) == split:
                yield name, page


def annotated_area(page, shape, scale):
    """1 where the loss counts: the text regions holding transcribed lines, grown by 3% of
    the page; the whole page when it has no regions."""
    from htrkit.metrics.segmentation import annotated

    h, w = page.image.shape[:2]
    regions = annotated(page.regions, [ln.polygon for ln in page.lines], w, h)
    if not regions:
        return np.ones(shape, np.uint8)
    area = np.zeros(shape, np.uint8)
    for region in regions:
        cv2.fillPoly(area, [np.round(np.asarray(region) * scale).astype(np.int32)], 1)
    grow = max(int(0.03 * max(shape)), 1)
    return cv2.dilate(area, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))


def targets(page, shape, scale):
    inside = np.zeros(shape, np.uint8)
    base = np.zeros(shape, np.uint8)
    for line in page.lines:
        poly = np.round(np.asarray(line.polygon) * scale).astype(np.int32)
        one = np.zeros(shape, np.uint8)
        cv2.fillPoly(one, [poly], 1)
        inside |= cv2.erode(one, np.ones((3, 3), np.uint8))
        if len(line.baseline) >= 2:
            pts = np.round(np.asarray(line.baseline) * scale).astype(np.int32)
            cv2.polylines(base, [pts], False, 1, 3)
    return inside, base


def cache(split: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    out = []
    for _, page in pages(split):
        grey = page.image if page.image.ndim == 2 else cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
        x, scale = page_tensor(grey, WORK)
        inside, base = targets(page, x.shape, scale)
        out.append((x, inside, base, annotated_area(page, x.shape, scale)))
    return out


def batch(data, rng, size=8, crop=256):
    xs, ts, ws = [], [], []
    for _ in range(size):
        x, inside, base, area = data[int(rng.integers(len(data)))]
        f = float(rng.uniform(0.8, 1.25))
        if abs(f - 1) > 0.02:
            dsize = (max(int(x.shape[1] * f), crop), max(int(x.shape[0] * f), crop))
            x = cv2.resize(x, dsize, interpolation=cv2.INTER_AREA)
            inside = cv2.resize(inside, dsize, interpolation=cv2.INTER_NEAREST)
            base = cv2.resize(base, dsize, interpolation=cv2.INTER_NEAREST)
            area = cv2.resize(area, dsize, interpolation=cv2.INTER_NEAREST)
        h, w = x.shape
        y0 = int(rng.integers(0, max(h - crop, 0) + 1))
        x0 = int(rng.integers(0, max(w - crop, 0) + 1))
        sl = (slice(y0, y0 + crop), slice(x0, x0 + crop))
        img = x[sl] * float(rng.uniform(0.6, 1.4)) + float(rng.uniform(-0.1, 0.1))
        pad = ((0, crop - img.shape[0]), (0, crop - img.shape[1]))
        xs.append(np.pad(img, pad))
        ts.append(np.stack([np.pad(inside[sl], pad), np.pad(base[sl], pad)]))
        ws.append(np.pad(area[sl], pad)[None])
    return (torch.from_numpy(np.stack(xs)[:, None]), torch.from_numpy(np.stack(ts)).float(),
            torch.from_numpy(np.stack(ws)).float())  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=35)
    bundled = ROOT / "htrkit" / "models" / "segmenter.safetensors"
    ap.add_argument("--out", type=Path, default=bundled)
    ap.add_argument("--width", type=int, default=10)
    args = ap.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    start = time.time()
    data = cache("train")
    print(f"{len(data)} training pages cached in {time.time() - start:.0f} s", flush=True)
    net = build_net(args.width)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    weight = torch.tensor([1.0, 4.0]).view(1, 2, 1, 1)
    step, t0 = 0, time.time()
    budget = args.minutes * 60
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        for g in opt.param_groups:
            g["lr"] = 3e-3 * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0)))
        x, t, area = batch(data, rng)
        logits = net(x)
        per_pixel = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, t, pos_weight=weight, reduction="none"
        )
        loss = (per_pixel * area).sum() / (2 * area.sum()).clamp(min=1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 25 == 0:
            print(f"step {step} loss {loss.item():.4f} ({time.time() - t0:.0f} s)", flush=True)
    config = {"width": args.width, "work_size": WORK, "steps": step, "minutes": args.minutes,
              "trained_on": "Copiste + Testaments de Poilus training pages (ALTO)"}  # fmt: skip
    save_model(net, args.out, config)
    print(json.dumps(config))


if __name__ == "__main__":
    main()

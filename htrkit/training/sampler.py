"""Which lines make up each step of an epoch: a seeded permutation of the training lines,
each repeated by its source's weight, optionally bucketed by width, cut into global
batches (one per rank per step) so that every rank takes the same number of steps."""

from __future__ import annotations

import numpy as np


def epoch_batches(
    weights: np.ndarray,
    widths: np.ndarray,
    *,
    seed: int,
    epoch: int,
    batch_size: int,
    world: int = 1,
    rank: int = 0,
    bucket: bool = True,
) -> list[list[int]]:
    """This rank's batches of ``epoch``: lists of item indices (item ``i + k * n`` is the
    ``k``-th repeat of line ``i`` of ``n``, augmented differently: :class:`LineDataset`).

    :param weights: each training line's weight (its source's): a line of weight 1.5 is
        seen once, and a second time with a chance of one half, in each epoch.
    :param widths: each line's width in pixels (for ``bucket``).
    """
    rng = np.random.default_rng([seed, epoch])
    w = weights
    # each sample whole-weight times, plus once more with the fractional part's chance
    repeats = np.floor(w).astype(np.int64) + (rng.random(len(w)) < w - np.floor(w))
    positions = np.repeat(np.arange(len(w)), repeats)
    starts = np.cumsum(repeats) - repeats
    nth = np.arange(len(positions)) - np.repeat(starts, repeats)
    order = rng.permutation(positions + nth * len(w))
    per_step = batch_size * world
    steps = max(len(order) // per_step, 1)
    order = order[: steps * per_step] if len(order) >= per_step else order
    if bucket:
        # lines of similar width share a batch (less padding: ~1.7x faster on lines);
        # sorted within windows of 32 batches, and the batches shuffled again
        window = per_step * 32
        line_widths = widths[order % len(w)]
        for s in range(0, len(order), window):
            part = slice(s, s + window)
            order[part] = order[part][np.argsort(line_widths[part], kind="stable")]
        cuts = [order[s * per_step : (s + 1) * per_step] for s in range(steps)]
        order = np.concatenate([cuts[k] for k in rng.permutation(len(cuts))])
    batches = []
    for s in range(steps):
        chunk = order[s * per_step : (s + 1) * per_step]
        mine = chunk[rank * batch_size : (rank + 1) * batch_size]
        batches.append([int(i) for i in (mine if len(mine) else chunk[:batch_size])])
    return batches

"""The torch side of training data: the dataset that turns line records into
(image, label, text) items, augmented reproducibly, and the collate function that
batches them for CTC training."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from htrkit.alphabet import Alphabet
from htrkit.training.cache import LineRecord


class LineDataset:
    """``(image float [H, W] ink-high, label indices, text)`` items for the training loop.

    Augmentation is seeded per (seed, epoch, index), so the data of a run is the same
    whatever the number of workers, and a resumed run sees exactly what an uninterrupted
    one would have seen.
    """

    def __init__(
        self,
        store: Sequence[LineRecord],
        indices: Sequence[int],
        alphabet: Alphabet,
        augmenter=None,
        seed: int = 0,
    ):
        self.store = store
        self.indices = list(indices)
        self.alphabet = alphabet
        self.augmenter = augmenter
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        # i >= len(self) is a repeat of item i % len(self) within an epoch (source weights)
        repeat, i = divmod(i, len(self.indices))
        record = self.store[self.indices[i]]
        image = record.image
        if self.augmenter is not None:
            rng = np.random.default_rng([self.seed, self.epoch, self.indices[i], repeat])
            neighbour = None
            if getattr(self.augmenter.options, "neighbours_p", 0) > 0:
                # another line of the set, for the ink of the lines above and below
                other = np.random.default_rng([self.seed, self.epoch, self.indices[i], repeat, 1])
                neighbour = self.store[self.indices[int(other.integers(len(self.indices)))]].image
            image = self.augmenter(image, rng, neighbour)
        label = [self.alphabet.index(c) for c in record.text if c in self.alphabet]
        return 1.0 - image.astype(np.float32) / 255.0, label, record.text


def collate(items):
    """Right-pad images to the widest; concatenate CTC targets."""
    import torch

    height = items[0][0].shape[0]
    widths = [im.shape[1] for im, _, _ in items]
    batch = np.zeros((len(items), 1, height, max(widths)), np.float32)
    for i, (im, _, _) in enumerate(items):
        batch[i, 0, :, : im.shape[1]] = im
    targets = [t for _, label, _ in items for t in label]
    return {
        "images": torch.from_numpy(batch),
        "widths": torch.tensor(widths, dtype=torch.long),
        "targets": torch.tensor(targets, dtype=torch.long),
        "target_lengths": torch.tensor([len(label) for _, label, _ in items], dtype=torch.long),
        "texts": [text for _, _, text in items],
    }

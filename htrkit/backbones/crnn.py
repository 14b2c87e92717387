"""``crnn-small``: a compact CNN + BiLSTM for words, captchas and short lines.

Four 3x3 conv blocks (32, 64, 128, 128 channels) with batch norm; max-pools reduce the
height 8x and the width 4x; the remaining rows are flattened into features for two
bidirectional LSTM layers and a linear CTC head.
"""

from __future__ import annotations

import torch
from torch import nn

from htrkit.backbones.options import CRNNSmallOptions
from htrkit.backbones.padding import bilstm, run_masked


def _block(cin: int, cout: int, pool: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(pool, pool) if pool != (1, 1) else nn.Identity(),
    )


class CRNNSmall(nn.Module):
    width_stride = 4

    def __init__(self, options: CRNNSmallOptions, num_classes: int):
        super().__init__()
        self.options = options
        self.cnn = nn.Sequential(
            _block(1, 32, (2, 2)),
            _block(32, 64, (2, 2)),
            _block(64, 128, (2, 1)),
            _block(128, 128, (1, 1)),
        )
        features = 128 * (options.height // 8)
        self.dropout = nn.Dropout(options.dropout)
        self.rnn = nn.LSTM(
            features,
            options.hidden,
            num_layers=2,
            bidirectional=True,
            batch_first=True,
            dropout=options.dropout,
        )
        self.head = nn.Linear(2 * options.hidden, num_classes)

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None = None) -> torch.Tensor:
        f = run_masked(self.cnn, x, widths)  # [B, C, H/8, W/4]
        b, c, h, w = f.shape
        f = self.dropout(f.permute(0, 3, 1, 2).reshape(b, w, c * h))
        lengths = None if widths is None else self.output_lengths(widths)
        return self.head(bilstm(self.rnn, f, lengths))

    def output_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        return torch.div(widths, self.width_stride, rounding_mode="floor")

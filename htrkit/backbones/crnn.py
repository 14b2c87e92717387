"""``crnn-small``: a compact CNN + BiLSTM for words, captchas and short lines.

Four 3x3 conv blocks (32, 64, 128, 128 channels) with batch norm; max-pools reduce the
height 8x and the width 4x; the remaining rows are flattened into features for two
bidirectional LSTM layers and a linear CTC head.
"""

from __future__ import annotations

from torch import nn

from htrkit.backbones.base import ConvBiLSTM
from htrkit.backbones.options import CRNNSmallOptions


def _block(cin: int, cout: int, pool: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(pool, pool) if pool != (1, 1) else nn.Identity(),
    )


class CRNNSmall(ConvBiLSTM):
    def __init__(self, options: CRNNSmallOptions, num_classes: int):
        cnn = nn.Sequential(
            _block(1, 32, (2, 2)),
            _block(32, 64, (2, 2)),
            _block(64, 128, (2, 1)),
            _block(128, 128, (1, 1)),
        )
        super().__init__(
            cnn, 128 * (options.height // 8), options.hidden, options.dropout, num_classes
        )
        self.options = options

"""``crnn-vgg``: the seven-layer VGG-style CRNN often trained on IAM, with two BiLSTMs.

====  =========================  ==================  ========================
conv  channels, kernel           then                size after (H x W)
====  =========================  ==================  ========================
1     64, 3x3                    ReLU, max-pool 2x2  H/2 x W/2
2     128, 3x3                   ReLU, max-pool 2x2  H/4 x W/4
3     256, 3x3                   ReLU                H/4 x W/4
4     256, 3x3                   ReLU, max-pool 2x1  H/8 x W/4
5     512, 3x3                   ReLU, batch norm    H/8 x W/4
6     512, 3x3                   ReLU, batch norm,   H/16 x W/4
                                 max-pool 2x1
7     512, 2x2, no padding       ReLU                (H/16 - 1) x (W/4 - 1)
====  =========================  ==================  ========================

The rows left (1 for height 32, 3 for height 64) are folded into the features of two
bidirectional LSTM layers, followed by a linear CTC head. A line ``W`` pixels wide gives
``W // 4 - 1`` frames.

Right padding does not change the result for the real part of a line: when ``widths`` is
given, each padded 3x3 conv sees zeros past the line's end (as it would for the line alone)
and the LSTMs stop at each line's end (``padding.bilstm``).
"""

from __future__ import annotations

import torch
from torch import nn

from htrkit.backbones.base import ConvBiLSTM
from htrkit.backbones.options import CRNNVGGOptions

#: (output channels, kernel, max-pool after it or None, batch norm after it)
_LAYERS: tuple[tuple[int, int, tuple[int, int] | None, bool], ...] = (
    (64, 3, (2, 2), False),
    (128, 3, (2, 2), False),
    (256, 3, None, False),
    (256, 3, (2, 1), False),
    (512, 3, None, True),
    (512, 3, (2, 1), True),
    (512, 2, None, False),
)


def _layers() -> list[nn.Module]:
    layers: list[nn.Module] = []
    cin = 1
    for cout, kernel, pool, norm in _LAYERS:
        layers += [nn.Conv2d(cin, cout, kernel, padding=1 if kernel == 3 else 0)]
        layers += [nn.ReLU(inplace=True)]
        if norm:  # after the activation, as in the original Keras model
            layers += [nn.BatchNorm2d(cout)]
        if pool:
            layers += [nn.MaxPool2d(pool, pool)]
        cin = cout
    return layers


class CRNNVGG(ConvBiLSTM):
    def __init__(self, options: CRNNVGGOptions, num_classes: int):
        features = 512 * (options.height // 16 - 1)  # [B, 512, H/16 - 1, W/4 - 1]
        super().__init__(
            nn.Sequential(*_layers()), features, options.hidden, options.dropout, num_classes
        )
        self.options = options

    def output_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        # two 2x2 pools, then the unpadded 2x2 conv: W // 4 - 1 (at least 8 px for a frame)
        return (torch.div(widths, 4, rounding_mode="floor") - 1).clamp(min=0)

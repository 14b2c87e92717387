"""``resnet-blstm``: nine residual blocks and two BiLSTMs, after the mltu IAM line model.

Each block is conv 3x3 (with the block's stride) → batch norm → leaky ReLU (slope 0.1) →
conv 3x3 → batch norm, plus a shortcut (a 1x1 conv with the same stride where the mltu
model has one, else the identity) → leaky ReLU → dropout.

=====  ========  ======  ========  ==============
block  channels  stride  shortcut  size after
=====  ========  ======  ========  ==============
1      32        1       1x1 conv  H x W
2      32        2x2     1x1 conv  H/2 x W/2
3      32        1       identity
4      64        2x2     1x1 conv  H/4 x W/4
5      64        1       identity
6      128       2x1     1x1 conv  H/8 x W/4
7      128       1       1x1 conv
8      128       2x1     1x1 conv  H/16 x W/4
9      128       1       identity
=====  ========  ======  ========  ==============

The rows left (2 for height 32) are folded into the features of a BiLSTM (``hidden``, 256
per direction), dropout, a second BiLSTM (``hidden2``, 64), dropout and a linear CTC head.
A line ``W`` pixels wide gives ``ceil(W / 4)`` frames.

Unlike mltu, blocks 6 and 8 halve only the height, and the feature map is read column by
column: mltu strides 2x2 four times and flattens rows x columns into one sequence, which
gives a 32-px line of width 400 only 25 frames per row and orders the frames row by row
rather than left to right, so padding could not be kept out and frames would not map to x
positions.

Right padding does not change the result for the real part of a line: when ``widths`` is
given, every conv sees zeros past the line's end (as it would for the line alone) and the
LSTMs run on packed sequences.
"""

from __future__ import annotations

import torch
from torch import nn

from htrkit.backbones.base import bilstm, zero_right
from htrkit.backbones.options import ResNetBLSTMOptions

#: (output channels, stride (height, width), 1x1 conv shortcut)
_BLOCKS: tuple[tuple[int, tuple[int, int], bool], ...] = (
    (32, (1, 1), True),
    (32, (2, 2), True),
    (32, (1, 1), False),
    (64, (2, 2), True),
    (64, (1, 1), False),
    (128, (2, 1), True),
    (128, (1, 1), True),
    (128, (2, 1), True),
    (128, (1, 1), False),
)


class ResidualBlock(nn.Module):
    def __init__(
        self, cin: int, cout: int, stride: tuple[int, int], shortcut_conv: bool, dropout: float
    ):
        super().__init__()
        if not shortcut_conv and (cin != cout or stride != (1, 1)):
            raise ValueError("an identity shortcut needs equal channels and stride 1")
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride) if shortcut_conv else nn.Identity()
        self.act = nn.LeakyReLU(0.1)
        self.dropout = nn.Dropout(dropout)
        self.width_stride = stride[1]

    def forward(
        self, x: torch.Tensor, widths: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x`` must be zero past ``widths``; so is the output, past the returned widths."""
        if widths is not None and self.width_stride > 1:  # padded conv: ceil(W / stride)
            widths = torch.div(widths - 1, self.width_stride, rounding_mode="floor") + 1
        y = zero_right(self.act(self.bn1(self.conv1(x))), widths)
        y = self.act(self.bn2(self.conv2(y)) + self.shortcut(x))
        return zero_right(self.dropout(y), widths), widths


class ResNetBLSTM(nn.Module):
    width_stride = 4

    def __init__(self, options: ResNetBLSTMOptions, num_classes: int):
        super().__init__()
        self.options = options
        blocks, cin = [], 1
        for cout, stride, shortcut_conv in _BLOCKS:
            blocks.append(ResidualBlock(cin, cout, stride, shortcut_conv, options.dropout))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.rnn1 = nn.LSTM(
            cin * (options.height // 16), options.hidden, bidirectional=True, batch_first=True
        )
        self.rnn2 = nn.LSTM(
            2 * options.hidden, options.hidden2, bidirectional=True, batch_first=True
        )
        self.dropout = nn.Dropout(options.dropout)
        self.head = nn.Linear(2 * options.hidden2, num_classes)

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None = None) -> torch.Tensor:
        w = None if widths is None else widths.to(x.device)
        f = zero_right(x, w)
        for block in self.blocks:
            f, w = block(f, w)
        b, c, h, t = f.shape  # [B, 128, H/16, ceil(W/4)]
        f = f.permute(0, 3, 1, 2).reshape(b, t, c * h)
        lengths = None if widths is None else self.output_lengths(widths)
        f = self.dropout(bilstm(self.rnn1, f, lengths))
        f = self.dropout(bilstm(self.rnn2, f, lengths))
        return self.head(f)

    def output_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        return torch.div(widths + self.width_stride - 1, self.width_stride, rounding_mode="floor")

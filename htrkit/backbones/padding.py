"""Keeping right padding out of a backbone's results.

Lines of a batch are right-padded to the widest. For a line's logits to be the same alone
and in a batch, every padded convolution must read zeros past the line's end (as it does
at the image border when the line is alone), and the recurrent layers must stop at the
line's last frame. These helpers do both; the built-in backbones use them.
"""

from __future__ import annotations

import torch
from torch import nn


def out_width(layer: nn.Module, widths: torch.Tensor) -> torch.Tensor:
    """Valid output columns of a conv or pool for inputs ``widths`` columns wide."""
    if isinstance(layer, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):
        k, s, p = (
            v if isinstance(v, int) else v[-1]
            for v in (layer.kernel_size, layer.stride, layer.padding)
        )
        return torch.div(widths + 2 * p - k, s, rounding_mode="floor") + 1
    return widths


def zero_right(f: torch.Tensor, widths: torch.Tensor | None) -> torch.Tensor:
    """``f`` (``[B, C, H, W]``) with the columns at and past each item's width zeroed."""
    if widths is None:
        return f
    pad = torch.arange(f.shape[-1], device=f.device) >= widths[:, None]
    return f.masked_fill(pad[:, None, None, :], 0.0)


def run_masked(cnn: nn.Module, x: torch.Tensor, widths: torch.Tensor | None) -> torch.Tensor:
    """Run a (nested) ``nn.Sequential`` of plain layers, zeroing what each padded conv
    would read past a line's end and carrying the valid widths through convs and pools."""
    if widths is None:
        return cnn(x)
    w = widths.to(x.device)
    for layer in _leaves(cnn):
        if isinstance(layer, nn.Conv2d) and layer.padding[-1]:
            x = zero_right(x, w)
        x = layer(x)
        w = out_width(layer, w)
    return x


def bilstm(rnn: nn.LSTM, f: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Run ``rnn`` over ``[B, T, F]``, keeping frames past ``lengths`` out of its state."""
    if lengths is None:
        return rnn(f)[0]
    lengths = lengths.clamp(1, f.shape[1]).cpu()
    packed = nn.utils.rnn.pack_padded_sequence(f, lengths, batch_first=True, enforce_sorted=False)
    out, _ = rnn(packed)
    return nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=f.shape[1])[0]


def _leaves(module: nn.Module):  # noqa: ANN202
    if isinstance(module, nn.Sequential):
        for child in module:
            yield from _leaves(child)
    else:
        yield module


class ConvBiLSTM(nn.Module):
    """A CNN whose feature map is read column by column (its rows stacked into features)
    by a 2-layer BiLSTM, then a linear CTC head. Subclasses build ``cnn``."""

    width_stride = 4

    def __init__(self, cnn: nn.Module, features: int, hidden: int, dropout: float, classes: int):
        super().__init__()
        self.cnn = cnn
        self.dropout = nn.Dropout(dropout)
        self.rnn = nn.LSTM(
            features, hidden, num_layers=2, bidirectional=True, batch_first=True, dropout=dropout
        )
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None = None) -> torch.Tensor:
        f = run_masked(self.cnn, x, widths)  # [B, C, H', T]
        b, c, h, t = f.shape
        f = self.dropout(f.permute(0, 3, 1, 2).reshape(b, t, c * h))
        lengths = None if widths is None else self.output_lengths(widths)
        return self.head(bilstm(self.rnn, f, lengths))

    def output_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        """Frames for inputs of ``widths`` (override when the CNN trims columns)."""
        return torch.div(widths, self.width_stride, rounding_mode="floor")

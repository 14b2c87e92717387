"""The base of the built-in backbones: :class:`ConvBiLSTM` (a CNN, then BiLSTMs) and the
helpers that keep right padding out of a backbone's results.

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
    """``f`` (``[B, C, H, W]``) with the columns at and past each item's width zeroed.

    A product with a 0/1 mask, not ``masked_fill``: the values are the same, and in the
    ONNX export the ``Mul`` keeps onnxruntime's blocked-channel layout between convolutions
    where a ``Where`` broke it (reordering around every mask): the default model's network
    ran 1.12x as fast on one thread (docs/collections.md)."""
    if widths is None:
        return f
    keep = torch.arange(f.shape[-1], device=f.device) < widths[:, None]
    return f * keep[:, None, None, :].to(f.dtype)


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
    """Run the bidirectional ``rnn`` over ``[B, T, F]``, keeping frames past ``lengths`` out
    of its state; frames past a line's end come out as zeros.

    The forward direction reads right padding only after a line's last frame, so it runs
    over the padded batch as it is. The backward direction runs forwards over each line
    reversed within its own length (``reverse_within``), with the same weights. This gives
    what packed sequences give, but packed LSTMs miss oneDNN's fast path on CPUs and run
    about 3x slower.
    """
    if lengths is None:
        return rnn(f)[0]
    b, t, _ = f.shape
    lengths = lengths.clamp(1, t).to(f.device)
    if rnn.proj_size or not rnn.bidirectional or not rnn.batch_first:
        packed = nn.utils.rnn.pack_padded_sequence(
            f, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = rnn(packed)
        return nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=t)[0]
    order = reverse_index(lengths, t)
    h = f
    for layer in range(rnn.num_layers):
        if layer and rnn.dropout:
            h = nn.functional.dropout(h, rnn.dropout, rnn.training)
        zero = h.new_zeros(1, b, rnn.hidden_size)
        forward = torch.lstm(h, (zero, zero), _weights(rnn, layer, ""), rnn.bias, 1, 0.0,
                             rnn.training, False, True)[0]  # fmt: skip
        backward = torch.lstm(_gather(h, order), (zero, zero), _weights(rnn, layer, "_reverse"),
                              rnn.bias, 1, 0.0, rnn.training, False, True)[0]  # fmt: skip
        h = torch.cat([forward, _gather(backward, order)], -1)
    valid = torch.arange(t, device=f.device)[None, :] < lengths[:, None]
    return h * valid[:, :, None].to(h.dtype)


def reverse_index(lengths: torch.Tensor, total: int) -> torch.Tensor:
    """``[B, total]`` frame indices that reverse each item's first ``lengths`` frames and
    leave the padding after them in place (the index is its own inverse)."""
    frames = torch.arange(total, device=lengths.device)[None, :]
    last = lengths[:, None] - 1
    return torch.where(frames <= last, last - frames, frames)


def _gather(x: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    return x.gather(1, order[:, :, None].expand(-1, -1, x.shape[-1]))


def _weights(rnn: nn.LSTM, layer: int, suffix: str) -> list[torch.Tensor]:
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if rnn.bias else [])
    return [getattr(rnn, f"{name}_l{layer}{suffix}") for name in names]


def _leaves(module: nn.Module):
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

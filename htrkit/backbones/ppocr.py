"""``ppocr``: PaddleOCR's PP-OCRv6 text-line recognisers, ``tiny`` and ``small``.

A PPLCNetV4 CNN reads the line; its feature map is averaged down to one row and a CTC
neck and head turn the columns into logits:

=====  ==========================================  =============================  ========
size   stem                                        blocks (channels)              neck
=====  ==========================================  =============================  ========
tiny   two 3x3 stride-2 convs with batch norm      9: 48, 48, 96 x3, 160 x4       guide
small  PaddleOCR's StemBlock (2x2 conv and max-    13: 96 x3, 192 x7, 384 x3      SVTR
       pool branches, ReLU)
=====  ==========================================  =============================  ========

Each block is a depthwise 3x3 conv (stride 2 in height only where the channels grow),
an optional squeeze-excite (hard sigmoid gate), then a 1x1 expansion to twice the input
channels, GELU and a 1x1 compression, with a residual connection where the shape allows.
The stem halves the height and width twice, the two strided blocks halve the height
again, and the last pool averages the remaining ``height / 16`` rows (3 at height 48) and
pairs of columns. A line ``W`` pixels wide gives ``(W + 3) // 8`` frames (it must be at
least 5 px wide).

The tiny neck is a "guide" layer over the frames (depthwise 1x5 conv, batch norm, hard
swish, 1x1 conv, batch norm, hard swish) before a 160-80-classes linear head. The small
neck is PaddleOCR's light SVTR: a 1x1 reduction to 120 channels plus a depthwise 1x7
conv, two pre-norm transformer blocks (8 heads, MLP ratio 2, SiLU), a layer norm and a
1x1 skip branch from the CNN features, then a linear head.

The layers are PaddleOCR's deployed form, as in the released inference models: each conv
and batch norm pair of the CNN (and the re-parameterised three-branch depthwise conv) is
one conv with a bias. Batch norms remain where the released models keep them (tiny: the
stem and the guide layer; small: the neck); ``freeze_norm`` keeps them on their running
statistics in training too. In training, PaddleOCR pools the CNN features
to 40 columns for its fixed 320-px crops; here the pool is always the 2-column one, so
that frames follow the line at any width.

Inputs are htrkit's grey images (ink 1, paper 0). ``forward`` turns them into PaddleOCR's
``(pixel / 255 - 0.5) / 0.5``, that is ``1 - 2x``, and the first conv takes one channel
(the released BGR weights summed, which is exact for grey images). Right padding does not
change a line's result: every conv wider than one column reads zeros past the line's end,
squeeze-excite means and training-mode batch norm statistics count only the columns
within each line, and attention ignores frames past it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from htrkit.backbones.base import zero_right
from htrkit.backbones.options import PPOCROptions

#: per size: the stem's (middle, output) channels, then each block's
#: (input channels, output channels, height stride, squeeze-excite)
_NETS: dict[str, tuple[tuple[int, int], list[tuple[int, int, int, bool]]]] = {
    "tiny": (
        (24, 48),
        [(48, 48, 1, True), (48, 48, 1, False)]
        + [(48, 96, 2, False), (96, 96, 1, True), (96, 96, 1, False)]
        + [(96, 160, 2, False), (160, 160, 1, True), (160, 160, 1, False), (160, 160, 1, False)],
    ),
    "small": (
        (48, 96),
        [(96, 96, 1, True), (96, 96, 1, False), (96, 96, 1, False)]
        + [(96, 192, 2, False)]
        + [(192, 192, 1, se) for se in (True, False, True, False, True, False)]
        + [(192, 384, 2, False), (384, 384, 1, True), (384, 384, 1, False)],
    ),
}
TINY_BOTTLENECK = 80  # the tiny head's two linear layers: 160 -> 80 -> classes
SVTR_DIMS, SVTR_DEPTH, SVTR_HEADS, SVTR_MLP_RATIO, SVTR_KERNEL = 120, 2, 8, 2.0, 7


def _half(widths: torch.Tensor | None) -> torch.Tensor | None:
    """Valid columns after a 3x3 stride-2 conv with padding 1: ``ceil(W / 2)``."""
    return None if widths is None else torch.div(widths + 1, 2, rounding_mode="floor")


def _pad_same(x: torch.Tensor, widths: torch.Tensor | None) -> torch.Tensor:
    """Paddle's ``SAME`` padding of a 2x2 stride-1 window: one column right, one row below."""
    return F.pad(zero_right(x, widths), (0, 1, 0, 1))


def _batch_norm(bn: nn.BatchNorm2d, x: torch.Tensor, widths: torch.Tensor | None) -> torch.Tensor:
    """``bn(x)``, whose training statistics count only the columns within each line."""
    if not bn.training or widths is None:
        return bn(x)
    xf = x.to(torch.promote_types(x.dtype, torch.float32))  # statistics in fp32 at least
    valid = (torch.arange(x.shape[-1], device=x.device) < widths[:, None]).to(xf.dtype)
    valid = valid[:, None, None, :]  # [B, 1, 1, W]
    n = valid.sum() * x.shape[2]
    mean = (xf * valid).sum((0, 2, 3)) / n
    centred = xf - mean[:, None, None]
    var = (centred.square() * valid).sum((0, 2, 3)) / n
    with torch.no_grad():
        bn.num_batches_tracked += 1
        momentum = bn.momentum if bn.momentum is not None else 1 / int(bn.num_batches_tracked)
        unbiased = var * n / (n - 1).clamp(min=1)
        bn.running_mean.lerp_(mean.to(bn.running_mean.dtype), momentum)
        bn.running_var.lerp_(unbiased.to(bn.running_var.dtype), momentum)
    y = centred * torch.rsqrt(var + bn.eps)[:, None, None]
    return (y * bn.weight[:, None, None] + bn.bias[:, None, None]).to(x.dtype)


class ConvNorm(nn.Module):
    """A bias-free conv, then a batch norm (``widths``: the conv's valid output columns)."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.conv = conv
        self.bn = nn.BatchNorm2d(conv.out_channels)

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None) -> torch.Tensor:
        return _batch_norm(self.bn, self.conv(x), widths)


class TinyStem(nn.Module):
    """Two 3x3 stride-2 convs with batch norm, GELU between them."""

    def __init__(self, mid: int, out: int):
        super().__init__()
        self.conv1 = ConvNorm(nn.Conv2d(1, mid, 3, 2, 1, bias=False))
        self.conv2 = ConvNorm(nn.Conv2d(mid, out, 3, 2, 1, bias=False))

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None):
        w1, w2 = _half(widths), _half(_half(widths))
        x = F.gelu(self.conv1(zero_right(x, widths), w1))
        return self.conv2(zero_right(x, w1), w2), w2


class BranchStem(nn.Module):
    """PaddleOCR's StemBlock: a 3x3 stride-2 conv; a 2x2 max-pool beside two 2x2 convs; a
    3x3 stride-2 conv over both branches and a 1x1 conv; ReLU after every conv."""

    def __init__(self, mid: int, out: int):
        super().__init__()
        self.conv1 = nn.Conv2d(1, mid, 3, 2, 1)
        self.conv2a = nn.Conv2d(mid, mid // 2, 2)
        self.conv2b = nn.Conv2d(mid // 2, mid, 2)
        self.conv3 = nn.Conv2d(2 * mid, mid, 3, 2, 1)
        self.conv4 = nn.Conv2d(mid, out, 1)

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None):
        w1, w2 = _half(widths), _half(_half(widths))
        x = F.relu(self.conv1(zero_right(x, widths)))
        branch = F.relu(self.conv2a(_pad_same(x, w1)))
        branch = F.relu(self.conv2b(_pad_same(branch, w1)))
        pooled = F.max_pool2d(_pad_same(x, w1), 2, 1)  # x >= 0: zeros pad as -inf would
        x = F.relu(self.conv3(zero_right(torch.cat([pooled, branch], 1), w1)))
        return F.relu(self.conv4(x)), w2


class SqueezeExcite(nn.Module):
    """Channel gates from the mean over each line's own columns (reduction 4)."""

    def __init__(self, channels: int):
        super().__init__()
        self.reduce = nn.Conv2d(channels, channels // 4, 1)
        self.expand = nn.Conv2d(channels // 4, channels, 1)

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None) -> torch.Tensor:
        if widths is None:
            s = x.mean((2, 3), keepdim=True)
        else:
            count = (widths.clamp(min=1) * x.shape[2]).to(x.dtype)
            s = zero_right(x, widths).sum((2, 3), keepdim=True) / count[:, None, None, None]
        return x * F.hardsigmoid(self.expand(F.relu(self.reduce(s))))


class LCNetBlock(nn.Module):
    """Depthwise 3x3 conv, optional squeeze-excite, then 1x1 expand (x2), GELU, 1x1
    compress, added to the depthwise output where the shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, se: bool):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, (stride, 1), 1, groups=cin)
        self.se = SqueezeExcite(cin) if se else None
        self.expand = nn.Conv2d(cin, 2 * cin, 1)
        self.compress = nn.Conv2d(2 * cin, cout, 1)
        self.residual = cin == cout and stride == 1

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None) -> torch.Tensor:
        x = self.dw(zero_right(x, widths))
        if self.se is not None:
            x = self.se(x, widths)
        y = self.compress(F.gelu(self.expand(x)))
        return x + y if self.residual else y


class GuideNeck(nn.Module):
    """The tiny head's guide layer over the frames: depthwise 1x5 conv, batch norm, hard
    swish, 1x1 conv, batch norm, hard swish."""

    def __init__(self, channels: int):
        super().__init__()
        dw = nn.Conv2d(channels, channels, (1, 5), 1, (0, 2), groups=channels, bias=False)
        self.dw = ConvNorm(dw)
        self.pw = ConvNorm(nn.Conv2d(channels, channels, 1, bias=False))

    def forward(self, f: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        f = F.hardswish(self.dw(zero_right(f, lengths), lengths))
        f = F.hardswish(self.pw(f, lengths))
        return f.squeeze(2).transpose(1, 2)  # [B, T, C]


class TransformerBlock(nn.Module):
    """Pre-norm global self-attention and a SiLU MLP, each with a residual connection."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, dropout: float, attn_dropout: float):
        super().__init__()
        self.heads = heads
        self.attention_dropout = attn_dropout
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.fc1 = nn.Linear(dim, int(dim * mlp_ratio))
        self.fc2 = nn.Linear(int(dim * mlp_ratio), dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        mask = None if valid is None else valid[:, None, None, :]  # keys within the line
        p = self.attention_dropout if self.training else 0.0
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        x = x + self.dropout(self.proj(a.transpose(1, 2).reshape(b, t, c)))
        return x + self.dropout(self.fc2(self.dropout(F.silu(self.fc1(self.norm2(x))))))


class SVTRNeck(nn.Module):
    """PaddleOCR's light SVTR neck: a 1x1 reduction plus a depthwise 1x7 conv, transformer
    blocks, a layer norm, and a 1x1 skip branch added at the end (SiLU after each conv)."""

    def __init__(self, cin: int, options: PPOCROptions):
        super().__init__()
        d = SVTR_DIMS
        self.skip = ConvNorm(nn.Conv2d(cin, d, 1, bias=False))
        self.reduce = ConvNorm(nn.Conv2d(cin, d, 1, bias=False))
        pad = SVTR_KERNEL // 2
        self.local = ConvNorm(nn.Conv2d(d, d, (1, SVTR_KERNEL), 1, (0, pad), groups=d, bias=False))
        p, pa = options.dropout, options.attention_dropout
        self.blocks = nn.ModuleList(
            TransformerBlock(d, SVTR_HEADS, SVTR_MLP_RATIO, p, pa) for _ in range(SVTR_DEPTH)
        )
        self.norm = nn.LayerNorm(d, eps=1e-6)

    def forward(self, f: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        skip = F.silu(self.skip(f, lengths))
        z = F.silu(self.reduce(f, lengths))
        z = z + F.silu(self.local(zero_right(z, lengths), lengths))
        t = z.squeeze(2).transpose(1, 2)  # [B, T, C]
        valid = None
        if lengths is not None:  # at least one key, so that no softmax row is empty
            valid = torch.arange(t.shape[1], device=t.device) < lengths.clamp(min=1)[:, None]
        for block in self.blocks:
            t = block(t, valid)
        return self.norm(t) + skip.squeeze(2).transpose(1, 2)


class PPOCR(nn.Module):
    """A PP-OCRv6 line recogniser; ``forward`` returns CTC logits (class 0: blank)."""

    def __init__(self, options: PPOCROptions, num_classes: int):
        super().__init__()
        self.options = options
        (mid, out), blocks = _NETS[options.size]
        tiny = options.size == "tiny"
        self.stem = TinyStem(mid, out) if tiny else BranchStem(mid, out)
        self.blocks = nn.ModuleList(LCNetBlock(*b) for b in blocks)
        channels = blocks[-1][1]
        self.pool_rows = options.height // 16
        self.neck = GuideNeck(channels) if tiny else SVTRNeck(channels, options)
        self.dropout = nn.Dropout(options.dropout if tiny else 0.0)
        self.bottleneck = nn.Linear(channels, TINY_BOTTLENECK) if tiny else nn.Identity()
        self.head = nn.Linear(TINY_BOTTLENECK if tiny else SVTR_DIMS, num_classes)

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None = None) -> torch.Tensor:
        if widths is not None:
            widths = widths.to(x.device)
        f, w = self.stem(1.0 - 2.0 * x, widths)  # PaddleOCR's input: paper +1, ink -1
        for block in self.blocks:
            f = block(f, w)
        f = F.avg_pool2d(f, (self.pool_rows, 2))  # [B, C, 1, (W + 3) // 8]
        lengths = None if widths is None else self.output_lengths(widths)
        f = self.neck(f, lengths)  # [B, T, C]
        return self.head(self.bottleneck(self.dropout(f)))

    def train(self, mode: bool = True) -> PPOCR:
        super().train(mode)
        if mode and self.options.freeze_norm:  # normalise with the running statistics
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def output_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        """``(W + 3) // 8`` frames: the stem's two stride-2 convs give ``ceil(W / 4)``
        columns, and the final 2-column average pool halves them, rounding down."""
        return torch.div(widths + 3, 8, rounding_mode="floor")

"""Built-in backbones."""

from __future__ import annotations

from htrkit.backbones.options import (
    CRNNSmallOptions,
    CRNNVGGOptions,
    PPOCROptions,
    ResNetBLSTMOptions,
)
from htrkit.hookspecs import hookimpl
from htrkit.specs import BackboneSpec

BACKBONES = [
    BackboneSpec(
        "crnn-small",
        "htrkit.backbones.crnn:CRNNSmall",
        "compact CNN + 2 BiLSTM for words, captchas and short lines",
        options=CRNNSmallOptions,
    ),
    BackboneSpec(
        "crnn-vgg",
        "htrkit.backbones.vgg:CRNNVGG",
        "7-conv VGG-style CNN (64-512 channels) + 2 BiLSTM, for lines",
        options=CRNNVGGOptions,
    ),
    BackboneSpec(
        "resnet-blstm",
        "htrkit.backbones.resnet:ResNetBLSTM",
        "9 residual blocks (32-128 channels) + BiLSTM 256 and 64, for lines",
        options=ResNetBLSTMOptions,
    ),
    BackboneSpec(
        "ppocr",
        "htrkit.backbones.ppocr:PPOCR",
        "PaddleOCR's PP-OCRv6 recognisers (PPLCNetV4 + CTC neck), tiny and small",
        options=PPOCROptions,
    ),
]


@hookimpl
def htrkit_register_backbones() -> list[BackboneSpec]:
    return BACKBONES

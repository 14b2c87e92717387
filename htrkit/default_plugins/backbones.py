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


def _crnn_small(options: CRNNSmallOptions, num_classes: int):
    from htrkit.backbones.crnn import CRNNSmall

    return CRNNSmall(options, num_classes)


def _crnn_vgg(options: CRNNVGGOptions, num_classes: int):
    from htrkit.backbones.vgg import CRNNVGG

    return CRNNVGG(options, num_classes)


def _resnet_blstm(options: ResNetBLSTMOptions, num_classes: int):
    from htrkit.backbones.resnet import ResNetBLSTM

    return ResNetBLSTM(options, num_classes)


def _ppocr(options: PPOCROptions, num_classes: int):
    from htrkit.backbones.ppocr import PPOCR

    return PPOCR(options, num_classes)


@hookimpl
def htrkit_register_backbones() -> list[BackboneSpec]:
    return [
        BackboneSpec(
            "crnn-small",
            _crnn_small,
            "compact CNN + 2 BiLSTM for words, captchas and short lines",
            options=CRNNSmallOptions,
        ),
        BackboneSpec(
            "crnn-vgg",
            _crnn_vgg,
            "7-conv VGG-style CNN (64-512 channels) + 2 BiLSTM, for lines",
            options=CRNNVGGOptions,
        ),
        BackboneSpec(
            "resnet-blstm",
            _resnet_blstm,
            "9 residual blocks (32-128 channels) + BiLSTM 256 and 64, for lines",
            options=ResNetBLSTMOptions,
        ),
        BackboneSpec(
            "ppocr",
            _ppocr,
            "PaddleOCR's PP-OCRv6 recognisers (PPLCNetV4 + CTC neck), tiny and small",
            options=PPOCROptions,
        ),
    ]

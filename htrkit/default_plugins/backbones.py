"""Built-in backbones."""

from __future__ import annotations

from htrkit.backbones.options import CRNNSmallOptions
from htrkit.hookspecs import hookimpl
from htrkit.specs import BackboneSpec


def _crnn_small(options: CRNNSmallOptions, num_classes: int):
    from htrkit.backbones.crnn import CRNNSmall

    return CRNNSmall(options, num_classes)


@hookimpl
def htrkit_register_backbones() -> list[BackboneSpec]:
    return [
        BackboneSpec(
            "crnn-small",
            _crnn_small,
            "compact CNN + 2 BiLSTM for words, captchas and short lines",
            options=CRNNSmallOptions,
        ),
    ]

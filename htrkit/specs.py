"""Registration records: what a plugin returns from an ``htrkit_register_*`` hook.

Each record is frozen and names one component: its ``name``, a ``factory`` that builds it,
an ``options`` schema (a dataclass, see :mod:`htrkit.options`), a one-line ``description``
and ``aliases``. Factories are called only when the component is used, so a plugin keeps
heavy imports (torch, its own dependencies) inside the factory and ``htrkit --help`` stays
fast.

What each factory must return is described by the protocols in :mod:`htrkit.components`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from htrkit.errors import PluginError
from htrkit.options import NoOptions, validate_options

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")


@dataclass(frozen=True)
class ComponentSpec:
    """Common fields of every registration record."""

    name: str
    factory: Callable[..., Any]
    description: str = ""
    options: type = NoOptions
    aliases: tuple[str, ...] = ()

    kind: ClassVar[str] = "component"

    def __post_init__(self) -> None:
        for n in (self.name, *self.aliases):
            if not isinstance(n, str) or not _NAME.match(n):
                raise PluginError(
                    f"invalid {self.kind} name {n!r}: use lower-case letters, digits and -_.+"
                )
        if not callable(self.factory):
            raise PluginError(f"{self.kind} {self.name!r}: factory is not callable")
        if not dataclasses.is_dataclass(self.options):
            raise PluginError(f"{self.kind} {self.name!r}: options must be a dataclass type")
        object.__setattr__(self, "aliases", tuple(self.aliases))

    def validate(self, options: Mapping[str, Any] | Any | None = None) -> Any:
        """Validate ``options`` against this component's schema and return the instance."""
        return validate_options(self.options, options, what=f"{self.kind} {self.name!r}")

    def create(self, options: Mapping[str, Any] | Any | None = None, /, *args: Any) -> Any:
        """Validate ``options`` and call the factory: ``factory(options, *args)``."""
        return self.factory(self.validate(options), *args)


@dataclass(frozen=True)
class BackboneSpec(ComponentSpec):
    """A network architecture. ``factory(options, num_classes)`` returns a
    :class:`htrkit.components.Backbone` (a ``torch.nn.Module``)."""

    kind: ClassVar[str] = "backbone"


@dataclass(frozen=True)
class PreprocessorSpec(ComponentSpec):
    """An image transform applied to each line before the model.
    ``factory(options)`` returns a :class:`htrkit.components.Preprocessor`."""

    kind: ClassVar[str] = "preprocessor"


@dataclass(frozen=True)
class SegmenterSpec(ComponentSpec):
    """Finds text lines on a page. ``factory(options)`` returns a
    :class:`htrkit.components.Segmenter`."""

    kind: ClassVar[str] = "segmenter"


@dataclass(frozen=True)
class DecoderSpec(ComponentSpec):
    """Turns CTC log-probabilities into text. ``factory(options)`` returns a
    :class:`htrkit.components.Decoder`."""

    kind: ClassVar[str] = "decoder"


@dataclass(frozen=True)
class PostprocessorSpec(ComponentSpec):
    """Rewrites each recognised line. ``factory(options)`` returns a
    :class:`htrkit.components.Postprocessor`."""

    kind: ClassVar[str] = "postprocessor"


@dataclass(frozen=True)
class MetricSpec(ComponentSpec):
    """Scores predictions against references. ``factory(options)`` returns a
    :class:`htrkit.metrics.Metric`."""

    kind: ClassVar[str] = "metric"


@dataclass(frozen=True)
class LoaderSpec(ComponentSpec):
    """Reads input files into pages. ``factory(options)`` returns a
    :class:`htrkit.components.Loader`. ``suffixes`` (lower-case, with the dot) are the
    file types it claims when no loader is named."""

    suffixes: tuple[str, ...] = ()
    kind: ClassVar[str] = "loader"


@dataclass(frozen=True)
class DatasetSpec(ComponentSpec):
    """Reads a training/evaluation dataset (ALTO, PAGE-XML, IAM, CSV, ...).
    ``factory(options)`` returns a :class:`htrkit.datasets.DatasetReader`."""

    kind: ClassVar[str] = "dataset"


@dataclass(frozen=True)
class WriterSpec(ComponentSpec):
    """Writes results in an output format. ``factory(options)`` returns a
    :class:`htrkit.components.Writer`; ``suffix`` is the file extension it writes;
    ``per_input`` says it writes one document per input (XML page formats), so that
    several inputs need an output directory."""

    suffix: str = ".txt"
    per_input: bool = False
    kind: ClassVar[str] = "writer"


@dataclass(frozen=True)
class ModelSpec(ComponentSpec):
    """A named model file, so that ``--model NAME`` works. ``factory(options)`` returns the
    path of an htrkit model file (see ``docs/model-format.md``)."""

    kind: ClassVar[str] = "model"


SPEC_TYPES: dict[str, type[ComponentSpec]] = {
    cls.kind: cls
    for cls in (
        BackboneSpec,
        PreprocessorSpec,
        SegmenterSpec,
        DecoderSpec,
        PostprocessorSpec,
        MetricSpec,
        LoaderSpec,
        DatasetSpec,
        WriterSpec,
        ModelSpec,
    )
}

__all__ = [*(cls.__name__ for cls in SPEC_TYPES.values()), "ComponentSpec", "SPEC_TYPES", "field"]

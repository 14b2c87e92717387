"""Registration records: what a plugin returns from an ``htrkit_register_*`` hook.

Each record is frozen and names one component: its ``name``, a ``factory`` that builds it,
an ``options`` schema (a dataclass, see :mod:`htrkit.options`), a one-line ``description``
and ``aliases``. The factory is a callable or an import string, ``"package.module:Name"``,
imported the first time the component is built: a plugin's records then import nothing
heavy (torch, cv2, its own dependencies) and ``htrkit --help`` stays fast.

Each record type names its kind's contract: ``protocol``, the :mod:`htrkit.components`
class that the factory's result must satisfy, and ``call``, how the factory is called.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from htrkit import components
from htrkit.errors import PluginError
from htrkit.options import NoOptions, validate_options

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")
_IMPORT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


@dataclass(frozen=True)
class ComponentSpec:
    """Common fields of every registration record."""

    name: str
    factory: Callable[..., Any] | str
    description: str = ""
    options: type = NoOptions
    aliases: tuple[str, ...] = ()

    kind: ClassVar[str] = "component"
    #: the contract of what the factory returns
    protocol: ClassVar[type] = object
    #: how htrkit calls the factory
    call: ClassVar[str] = "factory(options)"

    def __post_init__(self) -> None:
        for n in (self.name, *self.aliases):
            if not isinstance(n, str) or not _NAME.match(n):
                raise PluginError(
                    f"invalid {self.kind} name {n!r}: use lower-case letters, digits and -_.+"
                )
        if isinstance(self.factory, str):
            if not _IMPORT.match(self.factory):
                raise PluginError(
                    f"{self.kind} {self.name!r}: factory {self.factory!r} is not an import "
                    "string of the form 'package.module:Name'"
                )
        elif not callable(self.factory):
            raise PluginError(f"{self.kind} {self.name!r}: factory is not callable")
        if not dataclasses.is_dataclass(self.options):
            raise PluginError(f"{self.kind} {self.name!r}: options must be a dataclass type")
        object.__setattr__(self, "aliases", tuple(self.aliases))

    def validate(self, options: Mapping[str, Any] | Any | None = None) -> Any:
        """Validate ``options`` against this component's schema and return the instance."""
        return validate_options(self.options, options, what=f"{self.kind} {self.name!r}")

    def load(self) -> Callable[..., Any]:
        """The factory itself, imported first if it is an import string.

        :raises PluginError: the module or the name in it cannot be imported.
        """
        if not isinstance(self.factory, str):
            return self.factory
        module, _, attribute = self.factory.partition(":")
        try:
            target: Any = importlib.import_module(module)
            for part in attribute.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError) as exc:
            raise PluginError(
                f"{self.kind} {self.name!r}: cannot import its factory {self.factory!r} ({exc})"
            ) from None
        if not callable(target):
            raise PluginError(f"{self.kind} {self.name!r}: {self.factory!r} is not callable")
        return target

    def create(self, options: Mapping[str, Any] | Any | None = None, /, *args: Any) -> Any:
        """Validate ``options`` and call the factory: ``factory(options, *args)``."""
        validated = self.validate(options)
        return self.load()(validated, *args)


@dataclass(frozen=True)
class BackboneSpec(ComponentSpec):
    """The record of a backbone (what it is: :class:`~htrkit.components.Backbone`)."""

    kind: ClassVar[str] = "backbone"
    protocol: ClassVar[type] = components.Backbone
    call: ClassVar[str] = "factory(options, num_classes)"


@dataclass(frozen=True)
class PreprocessorSpec(ComponentSpec):
    """The record of a preprocessor (what it is: :class:`~htrkit.components.Preprocessor`)."""

    kind: ClassVar[str] = "preprocessor"
    protocol: ClassVar[type] = components.Preprocessor


@dataclass(frozen=True)
class SegmenterSpec(ComponentSpec):
    """The record of a segmenter (what it is: :class:`~htrkit.components.Segmenter`)."""

    kind: ClassVar[str] = "segmenter"
    protocol: ClassVar[type] = components.Segmenter


@dataclass(frozen=True)
class DecoderSpec(ComponentSpec):
    """The record of a decoder (what it is: :class:`~htrkit.components.Decoder`)."""

    kind: ClassVar[str] = "decoder"
    protocol: ClassVar[type] = components.Decoder


@dataclass(frozen=True)
class PostprocessorSpec(ComponentSpec):
    """The record of a postprocessor (what it is: :class:`~htrkit.components.Postprocessor`)."""

    kind: ClassVar[str] = "postprocessor"
    protocol: ClassVar[type] = components.Postprocessor


@dataclass(frozen=True)
class MetricSpec(ComponentSpec):
    """The record of a metric (what it is: :class:`~htrkit.components.Metric`)."""

    kind: ClassVar[str] = "metric"
    protocol: ClassVar[type] = components.Metric


@dataclass(frozen=True)
class LoaderSpec(ComponentSpec):
    """The record of a loader (what it is: :class:`~htrkit.components.Loader`);
    ``suffixes``, lower-case with the dot, are the file types it claims."""

    suffixes: tuple[str, ...] = ()
    kind: ClassVar[str] = "loader"
    protocol: ClassVar[type] = components.Loader


@dataclass(frozen=True)
class DatasetSpec(ComponentSpec):
    """The record of a dataset (what it is: :class:`~htrkit.components.DatasetReader`)."""

    kind: ClassVar[str] = "dataset"
    protocol: ClassVar[type] = components.DatasetReader


@dataclass(frozen=True)
class WriterSpec(ComponentSpec):
    """The record of a writer (what it is, and what ``suffix`` and ``per_input`` mean:
    :class:`~htrkit.components.Writer`)."""

    suffix: str = ".txt"
    per_input: bool = False
    kind: ClassVar[str] = "writer"
    protocol: ClassVar[type] = components.Writer


@dataclass(frozen=True)
class ModelSpec(ComponentSpec):
    """The record of a model (what it is: :class:`~htrkit.components.ModelFile`)."""

    kind: ClassVar[str] = "model"
    protocol: ClassVar[type] = components.ModelFile


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

__all__ = [*(cls.__name__ for cls in SPEC_TYPES.values()), "ComponentSpec", "SPEC_TYPES"]

"""The hooks a plugin implements, grouped by pipeline stage.

A plugin is a module (or any object) with functions decorated by ``htrkit.hookimpl`` and
named after the hooks below. Every registration hook takes no arguments and returns a list
of frozen records from :mod:`htrkit.specs`. htrkit's own components are registered through
exactly these hooks (see ``htrkit/default_plugins/``).

What each kind's factory must return is written once, in :mod:`htrkit.components`, and
named by its record type (``DecoderSpec.protocol``). ``docs/plugins.md`` carries a
reference generated from this module and those contracts (``python tools/docgen.py
--write``); a test keeps them in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from htrkit.specs import (
        BackboneSpec,
        DatasetSpec,
        DecoderSpec,
        LoaderSpec,
        MetricSpec,
        ModelSpec,
        PostprocessorSpec,
        PreprocessorSpec,
        SegmenterSpec,
        WriterSpec,
    )

hookspec = pluggy.HookspecMarker("htrkit")
hookimpl = pluggy.HookimplMarker("htrkit")

# -- load ------------------------------------------------------------------------------


@hookspec
def htrkit_register_loaders() -> list[LoaderSpec]:
    """Register input loaders (:class:`~htrkit.components.Loader`).

    :return: the loaders this plugin provides.

    Example::

        @hookimpl
        def htrkit_register_loaders():
            return [LoaderSpec("heic", make_heic_loader, "HEIC photos", suffixes=(".heic",))]
    """


@hookspec
def htrkit_register_datasets() -> list[DatasetSpec]:
    """Register dataset readers (:class:`~htrkit.components.DatasetReader`).

    :return: the dataset readers this plugin provides.

    Example::

        @hookimpl
        def htrkit_register_datasets():
            return [DatasetSpec("hdf5", make_hdf5_reader, "lines in an HDF5 file")]
    """


# -- preprocess ------------------------------------------------------------------------


@hookspec
def htrkit_register_preprocessors() -> list[PreprocessorSpec]:
    """Register image preprocessors (:class:`~htrkit.components.Preprocessor`).

    :return: the preprocessors this plugin provides.

    Example::

        @hookimpl
        def htrkit_register_preprocessors():
            return [PreprocessorSpec("invert", "my_plugin.steps:Invert",
                                     "swap ink and paper")]
    """


# -- segment ---------------------------------------------------------------------------


@hookspec
def htrkit_register_segmenters() -> list[SegmenterSpec]:
    """Register line segmenters (:class:`~htrkit.components.Segmenter`).

    :return: the segmenters this plugin provides.

    Example::

        @hookimpl
        def htrkit_register_segmenters():
            return [SegmenterSpec("projection", make_projection, "projection profiles",
                                  options=ProjectionOptions)]
    """


# -- model -----------------------------------------------------------------------------


@hookspec
def htrkit_register_backbones() -> list[BackboneSpec]:
    """Register network architectures (:class:`~htrkit.components.Backbone`).

    :return: the backbones this plugin provides.

    Example::

        @hookimpl
        def htrkit_register_backbones():
            return [BackboneSpec("my-crnn", make_my_crnn, "a small CRNN", options=MyOptions)]
    """


@hookspec
def htrkit_register_models() -> list[ModelSpec]:
    """Register named model files (:class:`~htrkit.components.ModelFile`).

    :return: the models this plugin ships.

    Example::

        @hookimpl
        def htrkit_register_models():
            here = pathlib.Path(__file__).parent
            return [ModelSpec("medieval-latin", lambda opts: here / "latin.safetensors",
                              "Latin charters, 12th-15th c.")]
    """


# -- decode ----------------------------------------------------------------------------


@hookspec
def htrkit_register_decoders() -> list[DecoderSpec]:
    """Register CTC decoders (:class:`~htrkit.components.Decoder`).

    :return: the decoders this plugin provides.

    Example::

        @hookimpl
        def htrkit_register_decoders():
            return [DecoderSpec("my-beam", make_decoder, "my beam search",
                                options=MyBeamOptions, aliases=("mb",))]
    """


# -- postprocess -----------------------------------------------------------------------


@hookspec
def htrkit_register_postprocessors() -> list[PostprocessorSpec]:
    """Register postprocessors (:class:`~htrkit.components.Postprocessor`).

    :return: the postprocessors this plugin provides.

    Example::

        @hookimpl
        def htrkit_register_postprocessors():
            return [PostprocessorSpec("upper", make_upper, "upper-case every line")]
    """


# -- evaluate and write ----------------------------------------------------------------


@hookspec
def htrkit_register_metrics() -> list[MetricSpec]:
    """Register metrics (:class:`~htrkit.components.Metric`).

    :return: the metrics this plugin provides.

    Example::

        @hookimpl
        def htrkit_register_metrics():
            return [MetricSpec("ser", make_sentence_error_rate, "sentence error rate")]
    """


@hookspec
def htrkit_register_writers() -> list[WriterSpec]:
    """Register output writers (:class:`~htrkit.components.Writer`).

    :return: the writers this plugin provides.

    Example::

        @hookimpl
        def htrkit_register_writers():
            return [WriterSpec("csv", make_csv_writer, "one CSV row per input", suffix=".csv")]
    """


# -- command line ----------------------------------------------------------------------


@hookspec
def htrkit_register_commands(app: typer.Typer) -> None:
    """Add subcommands to the ``htrkit`` command line.

    :param app: the root ``typer.Typer`` application; add commands or sub-apps to it.

    Example::

        @hookimpl
        def htrkit_register_commands(app):
            @app.command()
            def hello(name: str):
                "Say hello."
                print(f"hello {name}")
    """

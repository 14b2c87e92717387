"""The files that ship inside htrkit: the trained models and their cards, the segmenter,
and the decoders' lexicon and language models. ``FOLDER`` is where they are; the model
plugin (``htrkit.default_plugins.models``), the learned segmenter and the decoders' ``default``
files all find them here."""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent

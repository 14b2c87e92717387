"""Synthetic handwriting: text lines rendered with handwriting fonts, for training.

- :mod:`htrkit.synth.fonts` finds fonts and checks which characters each can draw;
- :mod:`htrkit.synth.corpus` samples word spans from text files;
- :mod:`htrkit.synth.renderer` draws one line with random size, slant, spacing, baseline,
  ink and paper;
- :mod:`htrkit.synth.dataset` writes ``<id>.png`` + ``<id>.gt.txt`` pairs and a manifest
  (``htrkit data synth`` on the command line).

Three small OFL fonts ship in ``htrkit/synth/fonts`` (see the README there).
"""

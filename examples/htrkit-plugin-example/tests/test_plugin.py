"""Tests of the example plugin, run with the plugin installed (pip install -e .)."""

import numpy as np

from htrkit import Alphabet
from htrkit.plugins import PluginManager


def frames(labels, n_classes, p=0.9):
    """Log-probabilities with class ``labels[t]`` at probability ``p`` in frame t."""
    lp = np.full((len(labels), n_classes), np.log((1 - p) / (n_classes - 1)))
    lp[np.arange(len(labels)), labels] = np.log(p)
    return lp


def test_registered_through_entry_point():
    manager = PluginManager()
    assert "confident-greedy" in manager.registry("decoder")
    assert "cer-nocase" in manager.registry("metric")


def test_unsure_characters_become_placeholders():
    decoder = PluginManager().registry("decoder").create("confident-greedy", {"min_prob": 0.8})
    alphabet = Alphabet("ab")
    lp = frames([1, 1, 0, 2], 3, p=0.9)
    lp[3] = np.log([0.3, 0.1, 0.6])  # "b" at 0.6 only
    result = decoder.decode(lp, alphabet)
    assert result.text == "a?"
    assert [(c.start, c.end) for c in result.chars] == [(0, 2), (3, 4)]


def test_case_insensitive_cer():
    metric = PluginManager().registry("metric").create("cer-nocase")
    assert metric.corpus(["Hello", "WORLD"], ["hello", "world"]) == 0.0
    assert metric.sample("hallo", "Hello") == 0.2

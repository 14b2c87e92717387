"""Searching a decoder's options on validation lines (``htrkit tune-decoder`` parses its
flags, calls :func:`grid_search` and prints what it returns).

The model reads the lines once; every combination of the grid's values then decodes the
same log-probabilities, so a grid of 16 costs 16 decodings, not 16 forward passes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from htrkit.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

    from htrkit.alphabet import Alphabet

#: what is searched when no grid is given
DEFAULT_GRIDS: dict[str, dict[str, list[Any]]] = {
    "kenlm": {"alpha": [0.25, 0.5, 0.75, 1.0], "beta": [0.0, 1.0, 2.0, 3.0]},
    "pyctcdecode": {"alpha": [0.25, 0.5, 0.75, 1.0], "beta": [0.0, 1.0, 2.0, 3.0]},
    "wordbeam": {"lm_weight": [0.0, 0.25, 0.5, 1.0], "mode": ["ngrams", "ngrams+forecast"]},
    "beam": {"beam_width": [4, 8, 16, 32]},
}


@dataclass
class Trial:
    """One decoding of every line: its options and corpus scores."""

    options: dict[str, Any]
    cer: float
    wer: float
    lines_per_s: float


@dataclass
class Tuning:
    """The greedy baseline, every trial in grid order, and the best trial."""

    decoder: str
    greedy: Trial
    trials: list[Trial]
    best: Trial


def trials_of(
    decoder: str, space: Mapping[str, Sequence[Any]], fixed: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every combination of ``space``'s values (the fixed options added), each checked
    against the decoder's options, so that a bad value fails before any line is read.

    :raises ConfigError: for an empty grid, an unknown option or a bad value."""
    from htrkit.plugins import registry

    spec = registry("decoder").get(decoder)
    if not space:
        raise ConfigError(f"nothing to tune for decoder {spec.name!r}: give a grid key=v1,v2")
    trials = [dict(zip(space, values)) for values in itertools.product(*space.values())]
    for trial in trials:
        spec.validate({**(fixed or {}), **trial})
    return [{**(fixed or {}), **trial} for trial in trials]


def grid_search(
    log_probs: Sequence[np.ndarray],
    references: Sequence[str],
    alphabet: Alphabet,
    decoder: str,
    trials: Sequence[Mapping[str, Any]],
    *,
    metric: str = "cer",
    on_trial: Callable[[int, Trial], None] | None = None,
) -> Tuning:
    """Decode ``log_probs`` greedily, then with ``decoder`` under each of ``trials`` (from
    :func:`trials_of`), and score each against ``references``. The best trial has the
    lowest ``metric`` (``"cer"`` or ``"wer"``; ties go to the lower CER, then WER).
    ``on_trial(i, trial)`` is called after each trial (``i`` from 1; 0 for greedy)."""
    from htrkit.metrics.text import CharacterErrorRate, WordErrorRate
    from htrkit.plugins import registry

    if metric not in ("cer", "wer"):
        raise ConfigError(f"metric must be cer or wer, got {metric!r}")
    if not trials:
        raise ConfigError("no trials to run")
    decoders = registry("decoder")
    name = decoders.get(decoder).name
    cer, wer = CharacterErrorRate(), WordErrorRate()

    def run(which: str, options: Mapping[str, Any]) -> Trial:
        d = decoders.create(which, dict(options))
        start = time.perf_counter()
        preds = [d.decode(lp, alphabet).text for lp in log_probs]
        seconds = time.perf_counter() - start
        return Trial(
            dict(options),
            cer.corpus(preds, list(references)),
            wer.corpus(preds, list(references)),
            len(log_probs) / max(seconds, 1e-9),
        )

    greedy = run("greedy", {})
    if on_trial is not None:
        on_trial(0, greedy)
    done = []
    for i, options in enumerate(trials, 1):
        done.append(run(name, options))
        if on_trial is not None:
            on_trial(i, done[-1])
    best = min(done, key=lambda t: (getattr(t, metric), t.cer, t.wer))
    return Tuning(name, greedy, done, best)

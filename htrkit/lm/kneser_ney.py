"""Interpolated modified Kneser-Ney n-gram estimation, written as an ARPA file.

What KenLM's ``lmplz`` computes (Chen and Goodman 1998; Heafield et al. 2013), in pure
Python for corpora of up to a few million tokens, so that ``htrkit lm build`` works where
KenLM's programs are not installed:

- each sentence is ``<s> tokens </s>``;
- the highest order uses raw counts; a lower-order n-gram uses its *continuation* count,
  the number of different tokens seen before it (raw counts for n-grams starting with
  ``<s>``, which nothing precedes);
- each order has three discounts, for n-grams seen once, twice and three or more times,
  estimated from the counts of counts ``t1..t4``: ``Y = t1 / (t1 + 2 t2)``,
  ``D1 = 1 - 2Y t2/t1``, ``D2 = 2 - 3Y t3/t2``, ``D3 = 3 - 4Y t4/t3`` (a corpus too small
  for these falls back to 0.5, 1.0 and 1.5, capped by the count);
- probabilities interpolate down to a uniform distribution over the vocabulary (with
  ``<unk>``): ``p(w|h) = (a(hw) - D(a(hw))) / a(h.) + gamma(h) p(w|h')``, with
  ``gamma(h) = (D1 n1(h.) + D2 n2(h.) + D3 n3+(h.)) / a(h.)``.

In the ARPA file a listed n-gram carries its interpolated probability and each context its
``gamma`` as the back-off weight, so that ARPA back-off gives exactly the interpolated
model (and ``kenlm.Model`` loads it).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
#: the token that stands for a space in a character-level model
SPACE = "<sp>"

Gram = tuple[str, ...]


def char_tokens(line: str) -> list[str]:
    """A line as character tokens, spaces as :data:`SPACE` (runs collapsed)."""
    return [SPACE if c == " " else c for c in " ".join(line.split())]


def word_tokens(line: str) -> list[str]:
    return line.split()


@dataclass
class NGramModel:
    """An estimated model: log10 probabilities and back-off weights per n-gram."""

    order: int
    #: per order (index 0 = unigrams): n-gram -> (log10 p, log10 back-off)
    grams: list[dict[Gram, tuple[float, float]]] = field(default_factory=list)
    discounts: list[tuple[float, float, float]] = field(default_factory=list)

    def logprob(self, word: str, context: Sequence[str] = ()) -> float:
        """log10 p(word | context) by ARPA back-off (the last ``order - 1`` tokens count)."""
        context = tuple(context)[-(self.order - 1) :] if self.order > 1 else ()
        backoff = 0.0
        while True:
            entry = self.grams[len(context)].get((*context, word))
            if entry is not None:
                return backoff + entry[0]
            if not context:
                return backoff + self.grams[0][(UNK,)][0]
            ctx = self.grams[len(context) - 1].get(context)
            backoff += ctx[1] if ctx is not None else 0.0
            context = context[1:]

    def vocabulary(self) -> list[str]:
        return [g[0] for g in self.grams[0]]


def estimate(sentences: Iterable[Sequence[str]], order: int) -> NGramModel:
    """Estimate an interpolated modified Kneser-Ney model of ``order`` from token lists."""
    if order < 1:
        raise ValueError(f"order must be at least 1, got {order}")
    raw: list[Counter[Gram]] = [Counter() for _ in range(order)]
    for tokens in sentences:
        padded = [BOS, *tokens, EOS]
        n = len(padded)
        for k in range(1, order + 1):
            counts = raw[k - 1]
            for i in range(n - k + 1):
                gram = tuple(padded[i : i + k])
                if gram == (BOS,):
                    continue
                counts[gram] += 1
    if not raw[0]:
        raise ValueError("the corpus has no tokens")
    # adjusted counts: raw at the top order and for n-grams starting with <s>;
    # continuation counts (distinct left extensions) otherwise
    adjusted: list[dict[Gram, int]] = [dict() for _ in range(order)]
    adjusted[order - 1] = dict(raw[order - 1])
    for k in range(order - 1, 0, -1):  # order k (1-based) from order k + 1
        left: Counter[Gram] = Counter()
        for gram in raw[k]:
            left[gram[1:]] += 1
        adj = adjusted[k - 1]
        for gram, count in raw[k - 1].items():
            adj[gram] = count if gram[0] == BOS else left.get(gram, count)
    discounts = [_discounts(adjusted[k]) for k in range(order)]

    # the vocabulary the model predicts: every token, </s> and <unk> (not <s>)
    vocab = {g[0] for g in adjusted[0]} | {EOS, UNK}
    vocab.discard(BOS)
    grams: list[dict[Gram, tuple[float, float]]] = [dict() for _ in range(order)]
    # per context: total adjusted count and how many extensions had 1, 2, 3+
    probs: list[dict[Gram, float]] = [dict() for _ in range(order)]
    gammas: list[dict[Gram, float]] = [dict() for _ in range(order)]
    for k in range(order):
        d1, d2, d3 = discounts[k]
        totals: dict[Gram, float] = defaultdict(float)
        buckets: dict[Gram, list[int]] = defaultdict(lambda: [0, 0, 0])
        for gram, a in adjusted[k].items():
            h = gram[:-1]
            totals[h] += a
            buckets[h][min(a, 3) - 1] += 1
        for h, total in totals.items():
            n1, n2, n3 = buckets[h]
            gammas[k][h] = (d1 * n1 + d2 * n2 + d3 * n3) / total
        for gram, a in adjusted[k].items():
            h = gram[:-1]
            d = (d1, d2, d3)[min(a, 3) - 1]
            lower = probs[k - 1].get(gram[1:]) if k else None
            if lower is None:
                lower = _lower(probs, gammas, gram[1:], len(vocab)) if k else 1 / len(vocab)
            probs[k][gram] = (a - d) / totals[h] + gammas[k][h] * lower
    # <unk> gets only the interpolation mass of the unigram level
    probs[0][(UNK,)] = gammas[0][()] / len(vocab)
    for k in range(order):
        for gram, p in probs[k].items():
            bow = gammas[k + 1].get(gram) if k + 1 < order else None
            grams[k][gram] = (math.log10(p), math.log10(bow) if bow else 0.0)
    if order > 1 or (BOS,) not in grams[0]:
        bow = gammas[1].get((BOS,)) if order > 1 else None
        grams[0][(BOS,)] = (-99.0, math.log10(bow) if bow else 0.0)
    grams[0] = dict(sorted(grams[0].items()))
    return NGramModel(order, grams, discounts)


def _lower(probs, gammas, gram: Gram, vocab_size: int) -> float:
    """The interpolated probability of ``gram`` at its own order, listed or not."""
    k = len(gram) - 1
    if gram in probs[k]:
        return probs[k][gram]
    lower = _lower(probs, gammas, gram[1:], vocab_size) if k else 1 / vocab_size
    return gammas[k].get(gram[:-1], 1.0) * lower if k else gammas[0][()] * lower


def _discounts(adjusted: dict[Gram, int]) -> tuple[float, float, float]:
    t = Counter(min(a, 5) for a in adjusted.values())
    t1, t2, t3, t4 = (t.get(i, 0) for i in (1, 2, 3, 4))
    if min(t1, t2, t3, t4) > 0:
        y = t1 / (t1 + 2 * t2)
        d = (1 - 2 * y * t2 / t1, 2 - 3 * y * t3 / t2, 3 - 4 * y * t4 / t3)
        if all(0 < di < i + 1 for i, di in enumerate(d)):
            return d
    return (0.5, 1.0, 1.5)


def write_arpa(model: NGramModel, path: str | Path) -> Path:
    """Write ``model`` in the ARPA text format (UTF-8)."""
    from htrkit.atomic import replacing

    path = Path(path)
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as out:
        out.write("\n\\data\\\n")
        for k in range(model.order):
            out.write(f"ngram {k + 1}={len(model.grams[k])}\n")
        for k in range(model.order):
            out.write(f"\n\\{k + 1}-grams:\n")
            top = k + 1 == model.order
            for gram, (lp, bow) in model.grams[k].items():
                text = " ".join(gram)
                out.write(f"{lp:.6f}\t{text}\n" if top else f"{lp:.6f}\t{text}\t{bow:.6f}\n")
        out.write("\n\\end\\\n")
    return path

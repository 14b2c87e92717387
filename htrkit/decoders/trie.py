"""The vocabulary and hotwords of a word-level search as flat arrays, for the compiled
search (:mod:`htrkit.decoders.compiled`) to walk as a word is written."""

from __future__ import annotations

import numpy as np


class WordTrie:
    """The vocabulary and hotwords as a trie over symbol ids (node 0 is the root).

    Per node: ``word`` (the LM id of the word ending there, 0 when none), ``known``
    (some vocabulary word begins there), ``hot_len`` (length of the first hotword, in
    sorted order, that begins there; 0 when none) and ``hot`` (a hotword ends there).
    """

    def __init__(self, vocabulary: list[str], hotwords: list[str], ids: dict[str, int]):
        self.symbols: dict[str, int] = {}
        children: list[dict[int, int]] = [{}]
        word = [0]
        known = [bool(vocabulary)]
        hot_len = [0]
        hot = [False]

        def walk(text: str, on_node) -> None:
            node = 0
            on_node(node)
            for ch in text:
                sym = self.symbols.setdefault(ch, len(self.symbols))
                nxt = children[node].get(sym)
                if nxt is None:
                    nxt = children[node][sym] = len(children)
                    children.append({})
                    word.append(0)
                    known.append(False)
                    hot_len.append(0)
                    hot.append(False)
                node = nxt
                on_node(node)
            return node

        for w in vocabulary:
            end = walk(w, lambda n: known.__setitem__(n, True))
            word[end] = ids.get(w, 0)
        for h in sorted(hotwords):  # the first in sorted order wins, as bisect finds it
            end = walk(h, lambda n, size=len(h): hot_len[n] or hot_len.__setitem__(n, size))
            hot[end] = True
        n = len(children)
        self.first = np.zeros(n + 1, dtype=np.int32)
        syms, kids = [], []
        for i, ch in enumerate(children):
            self.first[i] = len(syms)
            for s in sorted(ch):
                syms.append(s)
                kids.append(ch[s])
        self.first[n] = len(syms)
        self.child_sym = np.array(syms, dtype=np.int32)
        self.child_node = np.array(kids, dtype=np.int32)
        self.word = np.array(word, dtype=np.int32)
        self.known = np.array(known, dtype=np.bool_)
        self.hot_len = np.array(hot_len, dtype=np.int32)
        self.hot = np.array(hot, dtype=np.bool_)

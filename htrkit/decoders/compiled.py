"""The KenLM beam search compiled with numba: the same search as
:func:`htrkit.decoders.search.prefix_search` with a
:class:`~htrkit.decoders.ngram.WordLMScorer` or :class:`~htrkit.decoders.ngram.CharLMScorer`,
giving the same readings 10 to 35 times faster (character and word models).

The language model is read from its ARPA file into flat tables
(:mod:`htrkit.lm.tables`); a word-level search walks a character trie of the LM's
vocabulary and the hotwords (:class:`htrkit.decoders.trie.WordTrie`) to know, as a word is
written, whether it begins a known word and which hotword it may become.

Prefixes are nodes of a tree (parent, last label), made once per line, so that two paths
spelling the same prefix meet at the same node and share its scorer state, as the Python
engine's dictionaries keyed by label tuples do. Ties are broken the same way too.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from htrkit.alphabet import Alphabet
from htrkit.decoders.alignment import readable
from htrkit.decoders.options import KenLMOptions
from htrkit.decoders.trie import WordTrie
from htrkit.lm.kneser_ney import SPACE
from htrkit.lm.tables import NGramTables, _hash, score_known

LN10 = math.log(10.0)
NEG = -np.inf


class CompiledKenLM:
    """The compiled search for one LM, options and alphabet (see :meth:`search`)."""

    def __init__(
        self,
        tables: NGramTables,
        options: KenLMOptions,
        level: str,
        alphabet: Alphabet,
        vocabulary: list[str],
    ):
        o = options
        self.tables = tables
        self.options = o
        self.level = level
        chars = alphabet.chars
        norm = [c.lower() if o.lowercase else c for c in chars]
        if level == "char":
            toks = [tables.id(SPACE) if c == " " else tables.id(n) for c, n in zip(chars, norm)]
            self.class_token = np.array([0, *toks], dtype=np.int32)
            self.trie = WordTrie([], [], {})
            self.class_symbol = np.full(len(chars) + 1, -1, dtype=np.int32)
        else:
            self.class_token = np.zeros(len(chars) + 1, dtype=np.int32)
            hotwords = sorted({(w.lower() if o.lowercase else w) for w in o.hotwords})
            self.trie = WordTrie(vocabulary, hotwords, tables.ids)
            self.class_symbol = np.array(
                [-1, *(self.trie.symbols.get(n, -1) for n in norm)], dtype=np.int32
            )
        self.space = chars.index(" ") + 1 if " " in chars else -1
        # the most a query can return (log10): the highest probability after the most
        # back-off weights; lets the search skip extensions that cannot make the beam
        probs, backs = tables.ngram_values()
        highest = max(0.0, float(tables.unigram_prob.max(initial=0.0)),
                      float(probs.max(initial=0.0)))  # fmt: skip
        back = max(0.0, float(tables.unigram_backoff.max(initial=0.0)),
                   float(backs.max(initial=0.0)))  # fmt: skip
        self.bound = highest + (tables.order - 1) * back
        self.closed = tables.prefix_closed

    @staticmethod
    def supports(options: KenLMOptions, level: str, alphabet: Alphabet) -> bool:
        """Whether the compiled search gives what the Python one does: a word-level search
        lower-cases character by character, which must then map one to one."""
        if level == "char" or not options.lowercase:
            return True
        return all(len(c.lower()) == 1 for c in alphabet.chars)

    def search(self, log_probs: np.ndarray) -> tuple[int, ...] | None:
        """The best labelling (class indices), or ``None`` when no prefix survives."""
        o = self.options
        lp = readable(log_probs)
        if lp.ndim != 2 or lp.shape[0] == 0:
            return None if lp.ndim != 2 else ()
        threshold = math.log(o.char_prune) if o.char_prune > 0 else NEG
        t = self.trie
        labels = _search(
            lp,
            threshold,
            o.beam_width,
            o.beam_prune,
            self.level == "char",
            o.alpha * LN10,
            o.beta,
            o.alpha * o.unk_offset,
            self.bound,
            o.hotword_weight,
            self.space,
            self.class_token,
            self.class_symbol,
            t.first,
            t.child_sym,
            t.child_node,
            t.word,
            t.known,
            t.hot_len,
            t.hot,
            self.tables.order,
            self.closed,
            self.tables.bos,
            self.tables.eos,
            *self.tables.arrays(),
        )
        if labels.shape[0] == 1 and labels[0] < 0:
            return None
        return tuple(int(x) for x in labels)


@njit(cache=True, nogil=True, inline="always")
def _lae(a, b):
    if a == NEG:
        return b
    if b == NEG:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


_MEMO = 4096


@njit(cache=True, nogil=True, inline="always")
def _lm(hist, row, n, known, known_back, tok, key, m_key, m_len, m_val, m_found, m_back,
        tables):  # fmt: skip
    """log10 p(tok | hist[row, :n]), the order of the n-gram found and its back-off weight
    (no suffix of the history longer than ``known`` is an n-gram, the last ``known``
    tokens' weight is ``known_back``: see score_known), remembered in a direct-mapped
    table."""
    for j in range(n):
        key[j] = hist[row, j]
    key[n] = tok
    length = n + 1
    at = _hash(key, 0, length) & np.uint64(_MEMO - 1)
    if m_len[at] == length:
        same = True
        for j in range(length):
            if m_key[at, j] != key[j]:
                same = False
                break
        if same:
            return m_val[at], m_found[at], m_back[at]
    uni_p, uni_b, slot_base, slot_mask, slot_shift, slots, records, values, record_base = tables
    value, found, back = score_known(key, length, known, known_back, uni_p, uni_b, slot_base,
                                     slot_mask, slot_shift, slots, records, values,
                                     record_base)  # fmt: skip
    m_len[at] = length
    for j in range(length):
        m_key[at, j] = key[j]
    m_val[at] = value
    m_found[at] = found
    m_back[at] = back
    return value, found, back


@njit(cache=True, nogil=True, inline="always")
def _trie_child(node, sym, first, child_sym, child_node):
    if node < 0 or sym < 0:
        return -1
    lo = first[node]
    hi = first[node + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        s = child_sym[mid]
        if s == sym:
            return child_node[mid]
        if s < sym:
            lo = mid + 1
        else:
            hi = mid
    return -1


# -- the search, in steps ------------------------------------------------------------------
#
# _search makes the line's arrays; _run, compiled without reference counting, searches the
# frames. The steps are inlined into them (numba's inline="always") and take the arrays they
# share in tuples (``tree``: the prefix tree; ``lm``: the weights, tables and trie;
# ``memo``: the line's remembered LM scores); those called for every candidate take
# scalars. nogil: lines are searched on several threads at once (Pipeline's decoding pool),
# each with arrays of its own.
#
# tree = (parent, label, kid, sib, hist, hlen, tnode, wlen, partial, total, scored, slot,
#         in_beam, beam_kid, known, known_back)
# lm = (char_level, a10, beta, unk, hot_weight, space, class_token, class_symbol,
#       first, child_sym, child_node, t_word, t_known, t_hot_len, t_hot, order, h, closed)
# memo = (key, m_key, m_len, m_val, m_found, m_back, tables)


@njit(cache=True, nogil=True, inline="always")
def _candidates(lp, threshold):
    """Each frame's candidate classes, ``cand[start[f]:start[f + 1]]``, most probable
    first: those at or above ``threshold``, else the frame's best one. Found first, they
    bound the number of prefixes, so the arrays of the search are made once."""
    frames, classes = lp.shape
    cand = np.empty(frames * (classes - 1) + 1, np.int32)
    start = np.empty(frames + 1, np.int64)
    at = 0
    for f in range(frames):
        start[f] = at
        best_c = 1
        for c in range(1, classes):
            if lp[f, c] >= threshold:
                cand[at] = c
                at += 1
            if lp[f, c] > lp[f, best_c]:
                best_c = c
        if at == start[f]:
            cand[at] = best_c
            at += 1
        # best first (a stable insertion sort of a few), so that a beam's extensions can
        # stop at the first that cannot make the beam
        for a in range(start[f] + 1, at):
            c = cand[a]
            v = lp[f, c]
            b = a
            while b > start[f] and lp[f, cand[b - 1]] < v:
                cand[b] = cand[b - 1]
                b -= 1
            cand[b] = c
    start[frames] = at
    return cand, start


@njit(cache=True, nogil=True, inline="always")
def _new_tree(cap, h, order, bos):
    """The prefix tree, room for ``cap`` nodes, holding its root (the empty prefix)."""
    parent = np.empty(cap, np.int32)
    label = np.empty(cap, np.int32)
    kid = np.empty(cap, np.int32)  # first child
    sib = np.empty(cap, np.int32)  # next sibling
    hist = np.empty((cap, h), np.int32)  # the scorer state: the LM history
    hlen = np.empty(cap, np.int32)
    tnode = np.empty(cap, np.int32)  # trie node of the word being written (-1: none)
    wlen = np.empty(cap, np.int32)
    partial = np.empty(cap, np.float64)  # what the word being written has gained so far
    # the LM's whole gain along the prefix; while ``scored`` is False, the most it can be
    # (the LM has not been asked yet: see _score)
    total = np.empty(cap, np.float64)
    scored = np.empty(cap, np.bool_)
    slot = np.empty(cap, np.int32)  # where a node is in this frame's step, -1 if not
    in_beam = np.zeros(cap, np.bool_)
    beam_kid = np.zeros(cap, np.bool_)  # whether a child of the node is a beam
    # no suffix of the history longer than this is an n-gram of the LM (set when the LM
    # scores the node, or copied with the history): its next query starts there
    known = np.empty(cap, np.int32)
    known_back = np.empty(cap, np.float64)  # that suffix's back-off weight (NaN: not known)
    parent[0] = -1
    label[0] = -1
    kid[0] = -1
    sib[0] = -1
    hist[0, 0] = bos
    hlen[0] = 1 if order > 1 else 0
    known[0] = hlen[0]
    known_back[0] = np.nan
    tnode[0] = 0
    wlen[0] = 0
    partial[0] = 0.0
    total[0] = 0.0
    scored[0] = True
    slot[0] = -1
    return (parent, label, kid, sib, hist, hlen, tnode, wlen, partial, total, scored, slot,
            in_beam, beam_kid, known, known_back)  # fmt: skip


@njit(cache=True, nogil=True, inline="always")
def _stays(lp, f, n_beams, b_node, b_pnb, b_whole, b_stay, label, total):
    """Each beam's score for staying the same prefix at frame ``f`` (a blank, or its last
    label repeated), in ``b_stay``; returns the lowest, with the LM's gain: a lower bound of
    the width-th best score, as merges can only raise them."""
    floor_key = np.inf
    blank = lp[f, 0]
    for i in range(n_beams):
        node = b_node[i]
        last = label[node]
        stay_nb = b_pnb[i] + lp[f, last] if last > 0 else NEG
        b_stay[i] = _lae(b_whole[i] + blank, stay_nb)
        floor_key = min(floor_key, b_stay[i] + total[node])
    return floor_key


@njit(cache=True, nogil=True, inline="always")
def _most_gain(char_level, is_space, word_len, word_gain, gain_char, gain_word, gain_letter):
    """The most the LM can add for extending a prefix (whose word being written has
    ``word_len`` letters and has gained ``word_gain``) by a character, a space or a letter.
    Scalars only: arrays passed in the innermost loop would cost reference counting."""
    if char_level:
        return gain_char
    if is_space:
        return 0.0 if word_len == 0 else gain_word - word_gain
    return gain_letter - word_gain


@njit(cache=True, nogil=True, inline="always")
def _heap_push(heap, n, width, k):
    """Keep the ``width`` largest keys pushed so far in the min-heap ``heap[:n]``; returns
    its new ``n``. Its root, once full, is a floor under the width-th best score."""
    if n < width:
        at = n
        n += 1
        while at > 0:
            up = (at - 1) >> 1
            if heap[up] <= k:
                break
            heap[at] = heap[up]
            at = up
        heap[at] = k
        return n
    if not k > heap[0]:
        return n
    at = 0
    while True:
        child = 2 * at + 1
        if child >= n:
            break
        if child + 1 < n and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= k:
            break
        heap[at] = heap[child]
        at = child
    heap[at] = k
    return n


@njit(cache=True, nogil=True, inline="always")
def _score(ch, tree, lm, memo):
    """Ask the LM what node ``ch`` gains (a character; a word's end at a space), which its
    ``total`` only bounded until now."""
    parent, label, hist, hlen, tnode, partial, total, scored = (
        tree[0], tree[1], tree[4], tree[5], tree[6], tree[8], tree[9], tree[10])  # fmt: skip
    known, known_back = tree[14], tree[15]
    char_level, a10, beta, hot_weight, class_token = lm[0], lm[1], lm[2], lm[4], lm[6]
    t_word, t_hot, closed = lm[11], lm[14], lm[17]
    key, m_key, m_len, m_val, m_found, m_back, tables = memo
    node = parent[ch]
    if char_level:
        tok = class_token[label[ch]]
        value, found, back = _lm(hist, node, hlen[node], known[node], known_back[node], tok,
                                 key, m_key, m_len, m_val, m_found, m_back, tables)  # fmt: skip
        gain = a10 * value + beta
    else:  # a space ending a word
        tn = tnode[node]
        wid = t_word[tn] if tn >= 0 else 0
        value, found, back = _lm(hist, node, hlen[node], known[node], known_back[node], wid,
                                 key, m_key, m_len, m_val, m_found, m_back, tables)  # fmt: skip
        gain = a10 * value + beta
        if tn >= 0 and t_hot[tn]:
            gain += hot_weight
        gain -= partial[node]
    if closed:
        known[ch] = min(found, hlen[ch])
        known_back[ch] = back if found == known[ch] else np.nan
    else:
        known[ch] = hlen[ch]
        known_back[ch] = np.nan
    total[ch] = total[node] + gain
    scored[ch] = True


@njit(cache=True, nogil=True, inline="always")
def _rank(k, i, n, cap, keys, idx):
    """Put the entry made ``i``-th, of score ``k``, in its place among the ``n`` ranked in
    ``keys``/``idx`` (a higher score first; of equal scores the one made first, a stable
    sort), keeping at most ``cap``; returns the new ``n``."""
    if n == cap:
        if not (keys[cap - 1] < k or (keys[cap - 1] == k and idx[cap - 1] > i)):
            return n
        n -= 1
    at = n
    while at > 0 and (keys[at - 1] < k or (keys[at - 1] == k and idx[at - 1] > i)):
        keys[at] = keys[at - 1]
        idx[at] = idx[at - 1]
        at -= 1
    keys[at] = k
    idx[at] = i
    return n + 1


@njit(cache=True, nogil=True, inline="always")
def _keep_best(n_step, width, beam_prune, s_node, s_whole, tree, lm, memo, top_key, top_idx,
               pend, pend_key):  # fmt: skip
    """The entries of the step that stay beams: the best ``width``, best first (of equal
    scores the one made first, a stable sort), none further than ``beam_prune`` below the
    best. Their indices are ``top_idx[:n]``; returns ``n``.

    An entry whose node the LM has not scored yet is ranked by the most it can score; the
    LM is asked, best bound first, only while an entry may still be kept."""
    total, scored = tree[9], tree[10]
    n_top = 0
    n_pend = 0
    for i in range(n_step):
        k = s_whole[i] + total[s_node[i]]
        if scored[s_node[i]]:
            n_top = _rank(k, i, n_top, width, top_key, top_idx)
        else:  # pending, best bound first
            n_pend = _rank(k, i, n_pend, n_step, pend_key, pend)
    for q in range(n_pend):
        bound = pend_key[q]
        if n_top == width and bound < top_key[width - 1]:
            break  # neither this entry nor any after it can be kept
        if beam_prune > 0 and n_top > 0 and bound < top_key[0] - beam_prune:
            break
        i = pend[q]
        _score(s_node[i], tree, lm, memo)
        n_top = _rank(s_whole[i] + total[s_node[i]], i, n_top, width, top_key, top_idx)
    if beam_prune > 0:
        floor = top_key[0] - beam_prune
        while n_top > 0 and not top_key[n_top - 1] >= floor:
            n_top -= 1
    return n_top


@njit(cache=True, nogil=True, inline="always")
def _line_end(node, eos, tree, lm, memo, keyh):
    """What the LM adds when the line ends after ``node``: the last word's score (word
    level) and the end of the sentence."""
    hist, hlen, tnode, wlen, partial, known, known_back = (
        tree[4], tree[5], tree[6], tree[7], tree[8], tree[14], tree[15])  # fmt: skip
    char_level, a10, beta, hot_weight = lm[0], lm[1], lm[2], lm[4]
    t_word, t_hot, order, h, closed = lm[11], lm[14], lm[15], lm[16], lm[17]
    key, m_key, m_len, m_val, m_found, m_back, tables = memo
    if char_level:
        return a10 * _lm(hist, node, hlen[node], known[node], known_back[node], eos, key, m_key,
                         m_len, m_val, m_found, m_back, tables)[0]  # fmt: skip
    end = 0.0
    n = hlen[node]
    kn = known[node]
    kb = known_back[node]
    for k in range(n):
        keyh[0, k] = hist[node, k]
    if wlen[node] > 0:
        tn = tnode[node]
        wid = t_word[tn] if tn >= 0 else 0
        value, found, back = _lm(keyh, 0, n, kn, kb, wid, key, m_key, m_len, m_val, m_found,
                                 m_back, tables)  # fmt: skip
        end = a10 * value + beta
        if tn >= 0 and t_hot[tn]:
            end += hot_weight
        end -= partial[node]
        if order > 1:
            if n == h:
                for k in range(h - 1):
                    keyh[0, k] = keyh[0, k + 1]
                keyh[0, h - 1] = wid
            else:
                keyh[0, n] = wid
                n += 1
        kn = min(found, n) if closed else n
        kb = back if closed and found == kn else np.nan
    return end + a10 * _lm(keyh, 0, n, kn, kb, eos, key, m_key, m_len, m_val, m_found, m_back,
                           tables)[0]  # fmt: skip


@njit(cache=True, nogil=True, inline="always")
def _labels(best, parent, label):
    """The labels of the prefix ending at node ``best``, first to last."""
    n = 0
    node = best
    while node > 0:
        n += 1
        node = parent[node]
    out = np.empty(n, np.int32)
    node = best
    while node > 0:
        n -= 1
        out[n] = label[node]
        node = parent[node]
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _search(
    lp, threshold, width, beam_prune, char_level, a10, beta, unk, lp_bound, hot_weight, space,
    class_token, class_symbol, first, child_sym, child_node, t_word, t_known, t_hot_len,
    t_hot, order, closed, bos, eos, uni_p, uni_b, slot_base, slot_mask, slot_shift, slots, records,
    values, record_base,
):  # fmt: skip
    """The prefix beam search over one line: its labels, or ``[-1]`` when nothing survives.

    It reads what the Python search reads, for less work: an extension that cannot make
    the beam is not made (its score, with the most the LM can add, is below a floor under
    the width-th best score: the beams' staying, then the best entries made so far), a
    beam's extensions stop at the first such (candidates come most probable first), and
    the LM is asked about a new prefix only when its rank needs it (see _keep_best)."""
    frames, classes = lp.shape
    h = max(order - 1, 1)
    cand_all, cand_start = _candidates(lp, threshold)
    tree = _new_tree(1 + cand_start[frames] * width, h, order, bos)
    lm = (char_level, a10, beta, unk, hot_weight, space, class_token, class_symbol,
          first, child_sym, child_node, t_word, t_known, t_hot_len, t_hot, order, h,
          closed)  # fmt: skip
    # LM scores met before in this line (histories repeat across prefixes)
    memo = (np.empty(h + 1, np.int32), np.empty((_MEMO, h + 1), np.int32),
            np.full(_MEMO, -1, np.int32), np.empty(_MEMO, np.float64),
            np.empty(_MEMO, np.int32), np.empty(_MEMO, np.float64),
            (uni_p, uni_b, slot_base, slot_mask, slot_shift, slots, records, values,
             record_base))  # fmt: skip
    # the beams, and the step (next frame's entries) under construction
    scap = width * classes + 1
    beams = (np.empty(width, np.int32), np.empty(width, np.float64),
             np.empty(width, np.float64), np.empty(width, np.float64),
             np.empty(width, np.float64))  # fmt: skip
    step = (np.empty(scap, np.int32), np.empty(scap, np.float64), np.empty(scap, np.float64),
            np.empty(scap, np.float64), np.empty(scap, np.bool_), np.empty(scap, np.int32),
            np.empty(scap, np.float64))  # fmt: skip
    ranks = (np.empty(width, np.float64), np.empty(width, np.int32), np.empty(width, np.float64))
    keyh = np.empty((1, h), np.int32)
    best = _run(lp, width, beam_prune, lp_bound, cand_all, cand_start, tree, lm, memo, beams,
                step, ranks, keyh, eos)  # fmt: skip
    if best < 0:
        return np.full(1, -1, np.int32)
    return _labels(best, tree[0], tree[1])


@njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
def _run(lp, width, beam_prune, lp_bound, cand_all, cand_start, tree, lm, memo, beams, step,
         ranks, keyh, eos):  # fmt: skip
    """The search's frames, on arrays made by _search: the best prefix's node, or -1.
    Compiled without numba's reference counting (``_nrt=False``: it makes no array), which
    otherwise counts every array a step takes, an atomic operation each time."""
    frames, classes = lp.shape
    (parent, label, kid, sib, hist, hlen, tnode, wlen, partial, total, scored, slot, in_beam,
     beam_kid, known, known_back) = tree  # fmt: skip
    char_level, a10, beta, unk, hot_weight, space, class_token, class_symbol = lm[:8]
    first, child_sym, child_node, t_word, t_known, t_hot_len, t_hot, order, h = lm[8:17]
    b_node, b_pb, b_pnb, b_whole, b_stay = beams
    s_node, s_pb, s_pnb, s_whole, s_merged, pend, pend_key = step
    top_key, top_idx, heap = ranks
    n_nodes = 1
    # the most an extension can gain from the LM (see _most_gain)
    hot_any = hot_weight if t_hot_len[0] > 0 else 0.0  # any hotword begins at the root
    gain_char = a10 * lp_bound + beta
    gain_word = a10 * lp_bound + beta + hot_any
    gain_letter = max(0.0, unk) + hot_any
    n_beams = 1
    b_node[0] = 0
    b_pb[0] = 0.0
    b_pnb[0] = NEG
    b_whole[0] = 0.0
    for f in range(frames):
        c0 = cand_start[f]
        n_cand = cand_start[f + 1] - c0
        blank = lp[f, 0]
        n_step = 0
        # an extension whose score, with the most the LM can add, is below the floor is
        # not made when no entry it would merge into exists: it could not be kept. The
        # floor starts at the beams' staying (once the beam is full) and rises to the
        # width-th best score of the entries made so far whose LM gain is known (``heap``:
        # merges only raise an entry's score, so each is a floor of its own)
        floor_key = _stays(lp, f, n_beams, b_node, b_pnb, b_whole, b_stay, label, total)
        if n_beams < width:
            floor_key = NEG
        n_heap = 0
        for i in range(n_beams):
            in_beam[b_node[i]] = True
            if parent[b_node[i]] >= 0:
                beam_kid[parent[b_node[i]]] = True
        skipped = False
        for i in range(n_beams):
            node = b_node[i]
            pb = b_pb[i]
            whole = b_whole[i]
            last = label[node]
            # the prefix stays: a blank, or its last label repeated
            stay_nb = b_pnb[i] + lp[f, last] if last > 0 else NEG
            s = slot[node]
            if s < 0:
                slot[node] = n_step
                s_node[n_step] = node
                s_pb[n_step] = whole + blank
                s_pnb[n_step] = stay_nb
                s_whole[n_step] = b_stay[i]
                s_merged[n_step] = False
                n_step += 1
                n_heap = _heap_push(heap, n_heap, width, b_stay[i] + total[node])
                if n_heap == width and heap[0] > floor_key:
                    floor_key = heap[0]
            else:
                s_pb[s] = _lae(s_pb[s], whole + blank)
                s_pnb[s] = _lae(s_pnb[s], stay_nb)
                s_merged[s] = True
            # the most the LM can add to any extension of this prefix
            most_any = max(
                _most_gain(char_level, True, wlen[node], partial[node], gain_char, gain_word,
                           gain_letter),
                _most_gain(char_level, False, wlen[node], partial[node], gain_char, gain_word,
                           gain_letter),
            )  # fmt: skip
            # the prefix grows by each candidate, most probable first
            for j in range(n_cand):
                c = cand_all[c0 + j]
                # no later candidate can do better: stop (unless a child is a beam, whose
                # entry an extension must merge into)
                if (floor_key > NEG and not beam_kid[node]
                        and whole + lp[f, c] + total[node] + most_any < floor_key):  # fmt: skip
                    skipped = True
                    break
                p = (pb if c == last else whole) + lp[f, c]
                if p == NEG:
                    continue
                ch = kid[node]
                while ch >= 0 and label[ch] != c:
                    ch = sib[ch]
                if floor_key > NEG and (ch < 0 or (slot[ch] < 0 and not in_beam[ch])):
                    if ch >= 0:
                        most = total[ch] - total[node]  # known, or bounded
                    else:
                        most = _most_gain(char_level, c == space, wlen[node], partial[node],
                                          gain_char, gain_word, gain_letter)  # fmt: skip
                    if p + total[node] + most < floor_key:
                        skipped = True
                        continue
                if ch < 0:
                    # grow: the child is made the first time it is reached, with its scorer
                    # state; what the LM adds is only bounded (a character; a word's end at
                    # a space) until its rank needs it (_keep_best asks), while a letter of
                    # a word gains what is known at once. Inline, not a step of its own:
                    # numba counts references to each array passed to a function, which
                    # cost 13% of the search here (measured)
                    ch = n_nodes
                    n_nodes += 1
                    parent[ch] = node
                    label[ch] = c
                    kid[ch] = -1
                    sib[ch] = kid[node]
                    kid[node] = ch
                    slot[ch] = -1
                    in_beam[ch] = False
                    beam_kid[ch] = False
                    scored[ch] = True
                    gain = 0.0
                    if char_level:
                        tok = class_token[c]
                        gain = gain_char
                        scored[ch] = False
                        _push(hist, hlen, node, ch, tok, h, order)
                        tnode[ch] = 0
                        wlen[ch] = 0
                        partial[ch] = 0.0
                    elif c == space:
                        if wlen[node] == 0:
                            for k in range(hlen[node]):
                                hist[ch, k] = hist[node, k]
                            hlen[ch] = hlen[node]
                            known[ch] = known[node]
                            known_back[ch] = known_back[node]
                        else:
                            tn = tnode[node]
                            wid = t_word[tn] if tn >= 0 else 0
                            gain = gain_word - partial[node]
                            scored[ch] = False
                            _push(hist, hlen, node, ch, wid, h, order)
                        tnode[ch] = 0
                        wlen[ch] = 0
                        partial[ch] = 0.0
                    else:
                        for k in range(hlen[node]):
                            hist[ch, k] = hist[node, k]
                        hlen[ch] = hlen[node]
                        known[ch] = known[node]
                        known_back[ch] = known_back[node]
                        tn = _trie_child(tnode[node], class_symbol[c], first, child_sym,
                                         child_node)  # fmt: skip
                        n = wlen[node] + 1
                        now = 0.0
                        if (tn < 0 or not t_known[tn]) and t_known[0]:
                            now += unk
                        if tn >= 0 and t_hot_len[tn] > 0:
                            now += hot_weight * n / t_hot_len[tn]
                        gain = now - partial[node]
                        tnode[ch] = tn
                        wlen[ch] = n
                        partial[ch] = now
                    total[ch] = total[node] + gain
                s = slot[ch]
                if s >= 0:
                    s_pnb[s] = _lae(s_pnb[s], p)
                    s_merged[s] = True
                else:
                    slot[ch] = n_step
                    s_node[n_step] = ch
                    s_pb[n_step] = NEG
                    s_pnb[n_step] = p
                    s_whole[n_step] = p  # _lae(NEG, p)
                    s_merged[n_step] = False
                    n_step += 1
                    if scored[ch]:
                        n_heap = _heap_push(heap, n_heap, width, p + total[ch])
                        if n_heap == width and heap[0] > floor_key:
                            floor_key = heap[0]
        for i in range(n_step):
            slot[s_node[i]] = -1
            if s_merged[i]:  # else known: the same sum, made once
                s_whole[i] = _lae(s_pb[i], s_pnb[i])
        for i in range(n_beams):
            in_beam[b_node[i]] = False
            if parent[b_node[i]] >= 0:
                beam_kid[parent[b_node[i]]] = False
        if n_step <= width and beam_prune <= 0 and not skipped:
            for i in range(n_step):
                top_idx[i] = i
                if not scored[s_node[i]]:
                    _score(s_node[i], tree, lm, memo)
            n_beams = n_step
        else:
            n_beams = _keep_best(n_step, width, beam_prune, s_node, s_whole, tree, lm, memo,
                                 top_key, top_idx, pend, pend_key)  # fmt: skip
        for i in range(n_beams):
            r = top_idx[i]
            b_node[i] = s_node[r]
            b_pb[i] = s_pb[r]
            b_pnb[i] = s_pnb[r]
            b_whole[i] = s_whole[r]
    # the end of the line: finish each prefix and take the best
    best = -1
    best_total = NEG
    for i in range(n_beams):
        node = b_node[i]
        value = b_whole[i] + total[node] + _line_end(node, eos, tree, lm, memo, keyh)
        if best < 0 or value > best_total:
            best = node
            best_total = value
    return best


@njit(cache=True, nogil=True, inline="always")
def _push(hist, hlen, node, ch, tok, h, order):
    """The history of ``ch``: that of ``node`` with ``tok`` appended, its last order-1."""
    if order == 1:
        hlen[ch] = 0
        return
    n = hlen[node]
    if n == h:
        for k in range(h - 1):
            hist[ch, k] = hist[node, k + 1]
        hist[ch, h - 1] = tok
        hlen[ch] = h
    else:
        for k in range(n):
            hist[ch, k] = hist[node, k]
        hist[ch, n] = tok
        hlen[ch] = n + 1

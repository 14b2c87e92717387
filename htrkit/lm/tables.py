"""An ARPA n-gram model as flat arrays that compiled code queries (the compiled decoders
cannot call ``kenlm``).

Unigrams are indexed by token id; each higher order is an open-addressing hash table of
token-id tuples. A query backs off the ARPA way: ``log10 p(w | h)`` is the probability of
the longest listed ``h' w`` (``h'`` a suffix of ``h``), plus the back-off weights of the
longer contexts that were skipped. That is what ``kenlm.Model.BaseScore`` returns for the
same file (KenLM's state minimisation loses nothing), which the tests check.
"""

from __future__ import annotations

import functools
import gzip
import json
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from numba import njit

from htrkit.errors import InputError
from htrkit.lm.kneser_ney import BOS, EOS, UNK

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@dataclass(frozen=True)
class NGramTables:
    order: int
    #: token -> id; ``<unk>`` is 0
    ids: dict[str, int]
    unigram_prob: np.ndarray  # float32 [V]
    unigram_backoff: np.ndarray  # float32 [V]
    #: per order k >= 2 (index k), where its slots, entries and words start in the flat arrays
    slot_base: np.ndarray  # int64 [order + 2]
    slot_mask: np.ndarray  # int64 [order + 1]
    entry_base: np.ndarray  # int64 [order + 2]
    slots: np.ndarray  # int32: entry index within its order, -1 empty
    words: np.ndarray  # int32: entry i of order k is words[wbase_k + i*k : ... + k]
    word_base: np.ndarray  # int64 [order + 2]
    prob: np.ndarray  # float32, by entry_base[k] + i
    backoff: np.ndarray  # float32

    @property
    def bos(self) -> int:
        return self.ids[BOS]

    @property
    def eos(self) -> int:
        return self.ids[EOS]

    def id(self, token: str) -> int:
        return self.ids.get(token, 0)

    def arrays(self) -> tuple:
        """The arrays :func:`score` takes, in its order."""
        return (
            self.unigram_prob,
            self.unigram_backoff,
            self.slot_base,
            self.slot_mask,
            self.entry_base,
            self.slots,
            self.words,
            self.word_base,
            self.prob,
            self.backoff,
        )

    def logprob(self, token: str, context: list[str] | tuple[str, ...] = ()) -> float:
        """log10 p(token | context), for tests and debugging."""
        keep = self.order - 1
        ids = [self.id(t) for t in context][-keep:] if keep else []
        hist = np.array(ids, dtype=np.int32)
        return float(score(hist, len(hist), self.id(token), *self.arrays()))


def is_arpa(path: Path) -> bool:
    """Whether ``path`` (gzipped or not) is an ARPA text file rather than a KenLM binary."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            return f.read(64).lstrip().startswith(b"\\data\\")
    except (OSError, EOFError):
        return False


#: the binary form's version: a change in the tables' layout gives new cache entries
BINARY_VERSION = 1
_ARRAYS = ("unigram_prob", "unigram_backoff", "slot_base", "slot_mask", "entry_base", "slots",
           "words", "word_base", "prob", "backoff")  # fmt: skip


@functools.lru_cache(maxsize=4)
def load_tables(path: Path) -> NGramTables:
    """The tables of an ARPA file, from their binary form in the cache
    (:mod:`htrkit.cache`) when it is there: parsing a 5 MB ARPA file takes about 2 s, loading
    its tables about 0.05 s. The first read writes the binary form (best effort: a
    read-only cache only costs the parse again)."""
    from htrkit.cache import cache_dir, sha256

    path = Path(path)
    try:
        binary = cache_dir() / "lm" / f"{sha256(path)[:32]}-v{BINARY_VERSION}.npz"
    except OSError as exc:
        raise InputError(f"{path}: cannot read the ARPA file: {exc.strerror or exc}") from None
    if binary.is_file():
        tables = _read_binary(binary)
        if tables is not None:
            return tables
    tables = read_arpa(path)
    _write_binary(tables, binary)
    return tables


def _write_binary(tables: NGramTables, binary: Path) -> None:
    """Best effort: a cache that cannot be written only costs the parse again."""
    from htrkit.atomic import replacing

    vocabulary = json.dumps(list(tables.ids), ensure_ascii=False).encode("utf-8")
    try:
        binary.parent.mkdir(parents=True, exist_ok=True)
        with replacing(binary) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                order=np.array(tables.order, dtype=np.int64),
                vocabulary=np.frombuffer(vocabulary, dtype=np.uint8),
                **{name: getattr(tables, name) for name in _ARRAYS},
            )
    except OSError:
        pass


def _read_binary(binary: Path) -> NGramTables | None:
    """The tables in a binary form, or ``None`` when it is damaged or inconsistent (it is
    then written again from the ARPA file): every index the search follows is checked to
    lie inside its array, so a bad cache file cannot make compiled code read out of
    bounds."""
    try:
        with np.load(binary, allow_pickle=False) as data:
            order = int(data["order"])
            ids = {t: i for i, t in enumerate(json.loads(bytes(data["vocabulary"]).decode()))}
            arrays = {name: data[name] for name in _ARRAYS}
    except (OSError, ValueError, KeyError, UnicodeDecodeError, zipfile.BadZipFile):
        return None
    tables = NGramTables(order=order, ids=ids, **arrays)
    return tables if _consistent(tables) else None


def _consistent(t: NGramTables) -> bool:
    expected = {f.name: f for f in fields(NGramTables)}
    if not (1 <= t.order <= 64) or set(expected) - {"order", "ids"} != set(_ARRAYS):
        return False
    v = len(t.ids)
    if t.ids.get(UNK) != 0 or BOS not in t.ids or EOS not in t.ids:
        return False
    if len(t.unigram_prob) != v or len(t.unigram_backoff) != v:
        return False
    if any(len(a) != t.order + 2 for a in (t.slot_base, t.entry_base, t.word_base)):
        return False
    if len(t.slot_mask) != t.order + 1:
        return False
    top = t.order + 1
    if t.slot_base[top] != len(t.slots) or t.entry_base[top] != len(t.prob):
        return False
    if len(t.backoff) != len(t.prob) or t.word_base[top] != len(t.words):
        return False
    for k in range(2, t.order + 1):
        size = t.slot_base[k + 1] - t.slot_base[k]
        n = t.entry_base[k + 1] - t.entry_base[k]
        if size <= 0 or size & (size - 1) or t.slot_mask[k] != size - 1:
            return False
        if t.word_base[k + 1] - t.word_base[k] != n * k:
            return False
        part = t.slots[t.slot_base[k] : t.slot_base[k + 1]]
        # a table without an empty slot would make a lookup of a missing n-gram loop
        if not (part == -1).any() or part.min() < -1 or part.max() >= n:
            return False
    return not len(t.words) or (t.words.min() >= 0 and t.words.max() < v)


@functools.lru_cache(maxsize=4)
def read_arpa(path: Path) -> NGramTables:
    """The tables of an ARPA file (gzipped or not); read once per file and process."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the ARPA file: {exc}") from None
    if not text.lstrip().startswith("\\data\\"):
        raise InputError(f"{path}: not an ARPA file (a KenLM binary has no readable n-grams)")
    try:
        return _parse_arpa(path, text)
    except (ValueError, IndexError) as exc:  # a number that is not one, a short row
        raise InputError(f"{path}: malformed ARPA file ({str(exc)[:200]})") from None


def _parse_arpa(path: Path, text: str) -> NGramTables:
    sections = text.split("-grams:\n")
    order = len(sections) - 1
    if order < 1:
        raise InputError(f"{path}: an ARPA file without n-gram sections")
    grams: list[list[list[str]]] = []
    for k, section in enumerate(sections[1:], start=1):
        body = section.split("\n\\", 1)[0]
        rows = [line.split("\t") for line in body.split("\n") if line.strip()]
        for row in rows:
            if len(row) < 2:
                raise InputError(f"{path}: bad {k}-gram line {chr(9).join(row)!r}")
        grams.append(rows)
    ids = {UNK: 0}
    for row in grams[0]:
        ids.setdefault(row[1], len(ids))
    vocab = len(ids)
    uni_p = np.full(vocab, -100.0, dtype=np.float32)
    uni_b = np.zeros(vocab, dtype=np.float32)
    for row in grams[0]:
        i = ids[row[1]]
        uni_p[i] = float(row[0])
        uni_b[i] = float(row[2]) if len(row) > 2 else 0.0
    slot_base = np.zeros(order + 2, dtype=np.int64)
    slot_mask = np.zeros(order + 1, dtype=np.int64)
    entry_base = np.zeros(order + 2, dtype=np.int64)
    word_base = np.zeros(order + 2, dtype=np.int64)
    words_parts, prob_parts, back_parts, slot_parts = [], [], [], []
    for k in range(2, order + 1):
        rows = grams[k - 1]
        n = len(rows)
        toks = np.empty((n, k), dtype=np.int32)
        for i, row in enumerate(rows):
            parts = row[1].split(" ")
            if len(parts) != k:
                raise InputError(f"{path}: {k}-gram line with {len(parts)} tokens: {row[1]!r}")
            for j, t in enumerate(parts):
                toks[i, j] = ids.get(t, 0)
        probs = np.array([float(r[0]) for r in rows], dtype=np.float32)
        backs = np.array([float(r[2]) if len(r) > 2 else 0.0 for r in rows], dtype=np.float32)
        size = 1 << max(4, int(2 * max(n, 1) - 1).bit_length())
        table = np.full(size, -1, dtype=np.int32)
        _fill(table, toks)
        slot_mask[k] = size - 1
        slot_base[k + 1] = slot_base[k] + size
        entry_base[k + 1] = entry_base[k] + n
        word_base[k + 1] = word_base[k] + n * k
        words_parts.append(toks.ravel())
        prob_parts.append(probs)
        back_parts.append(backs)
        slot_parts.append(table)

    def cat(parts: list, dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    for name in (BOS, EOS):
        if name not in ids:
            raise InputError(f"{path}: the ARPA file has no {name} unigram")
    return NGramTables(
        order=order,
        ids=ids,
        unigram_prob=uni_p,
        unigram_backoff=uni_b,
        slot_base=slot_base,
        slot_mask=slot_mask,
        entry_base=entry_base,
        slots=cat(slot_parts, np.int32),
        words=cat(words_parts, np.int32),
        word_base=word_base,
        prob=cat(prob_parts, np.float32),
        backoff=cat(back_parts, np.float32),
    )


@njit(cache=True, inline="always")
def _hash(toks, start, length):
    h = _FNV_OFFSET
    for j in range(start, start + length):
        h = (h ^ np.uint64(toks[j] + 1)) * _FNV_PRIME
    return h ^ (h >> np.uint64(29))


@njit(cache=True)
def _fill(table, toks):
    mask = np.uint64(table.shape[0] - 1)
    k = toks.shape[1]
    flat = toks.ravel()
    for i in range(toks.shape[0]):
        s = _hash(flat, i * k, k) & mask
        while table[s] != -1:
            s = (s + np.uint64(1)) & mask
        table[s] = i


@njit(cache=True, inline="always")
def find(key, start, k, slot_base, slot_mask, slots, words, word_base):
    """The index within order ``k`` of the n-gram ``key[start:start + k]``, or -1."""
    mask = np.uint64(slot_mask[k])
    s = _hash(key, start, k) & mask
    base = slot_base[k]
    wb = word_base[k]
    while True:
        e = slots[base + s]
        if e < 0:
            return -1
        same = True
        for j in range(k):
            if words[wb + e * k + j] != key[start + j]:
                same = False
                break
        if same:
            return e
        s = (s + np.uint64(1)) & mask


@njit(cache=True)
def score(
    hist, hist_len, token, uni_p, uni_b, slot_base, slot_mask, entry_base, slots, words,
    word_base, prob, backoff,
):  # fmt: skip
    """log10 p(token | hist[:hist_len]) by ARPA back-off (``hist`` holds at most
    order - 1 tokens)."""
    key = np.empty(hist_len + 1, dtype=np.int32)
    for j in range(hist_len):
        key[j] = hist[j]
    key[hist_len] = token
    return score_key(key, hist_len + 1, uni_p, uni_b, slot_base, slot_mask, entry_base, slots,
                     words, word_base, prob, backoff)  # fmt: skip


@njit(cache=True, inline="always")
def score_key(
    key, length, uni_p, uni_b, slot_base, slot_mask, entry_base, slots, words, word_base, prob,
    backoff,
):  # fmt: skip
    """log10 p(key[length - 1] | key[:length - 1]): :func:`score` without an allocation."""
    hist_len = length - 1
    acc = 0.0
    for start in range(hist_len):
        k = length - start
        e = find(key, start, k, slot_base, slot_mask, slots, words, word_base)
        if e >= 0:
            return acc + prob[entry_base[k] + e]
        # the context key[start:hist_len] was skipped: add its back-off weight
        c = hist_len - start
        if c == 1:
            acc += uni_b[key[start]]
        else:
            ce = find(key, start, c, slot_base, slot_mask, slots, words, word_base)
            if ce >= 0:
                acc += backoff[entry_base[c] + ce]
    return acc + uni_p[key[hist_len]]


@njit(cache=True, nogil=True)
def sequence_log10(
    toks, order, floor, uni_p, uni_b, slot_base, slot_mask, entry_base, slots, words,
    word_base, prob, backoff,
):  # fmt: skip
    """log10 probability of the token ids ``toks`` (``<s>`` first), each token's at least
    ``floor``."""
    total = 0.0
    key = np.empty(order, dtype=np.int32)
    for i in range(1, toks.shape[0]):
        start = max(0, i - order + 1)
        n = i - start + 1
        for j in range(n):
            key[j] = toks[start + j]
        value = score_key(key, n, uni_p, uni_b, slot_base, slot_mask, entry_base, slots, words,
                          word_base, prob, backoff)  # fmt: skip
        total += max(value, floor)
    return total

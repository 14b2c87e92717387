"""An ARPA n-gram model as flat arrays that compiled code queries (the compiled decoders
cannot call ``kenlm``).

Unigrams are indexed by token id; each higher order is an open-addressing hash table of
token-id tuples. A slot holds its entry's index and a tag of its hash, so that a lookup of
an n-gram that is not there seldom reads past the slot; an entry is one record (its token
ids, then its probability and back-off weight), so that one that is there costs two reads
of memory, not three.

A query backs off the ARPA way: ``log10 p(w | h)`` is the probability of the longest listed
``h' w`` (``h'`` a suffix of ``h``), plus the back-off weights of the longer contexts that
were skipped. That is what ``kenlm.Model.BaseScore`` returns for the same file (KenLM's
state minimisation loses nothing), which the tests check.
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
    #: per order k >= 2 (index k), where its slots and records start in the flat arrays
    slot_base: np.ndarray  # int64 [order + 2]
    slot_mask: np.ndarray  # int64 [order + 1]
    #: per order k >= 2: the bits of a slot that hold the entry's index (the rest: its tag)
    slot_shift: np.ndarray  # int64 [order + 1]
    record_base: np.ndarray  # int64 [order + 2]
    slots: np.ndarray  # int32: -1 empty, else tag << slot_shift[k] | entry index
    #: int32: entry i of order k is records[record_base[k] + i * (k + 2):][:k + 2], its k
    #: token ids, then its log10 probability and back-off weight (float32 bits)
    records: np.ndarray

    @property
    def bos(self) -> int:
        return self.ids[BOS]

    @property
    def eos(self) -> int:
        return self.ids[EOS]

    def id(self, token: str) -> int:
        return self.ids.get(token, 0)

    def arrays(self) -> tuple:
        """The arrays :func:`score` takes, in its order (``records`` twice: as token ids,
        and as float32 for the probabilities and weights)."""
        return (
            self.unigram_prob,
            self.unigram_backoff,
            self.slot_base,
            self.slot_mask,
            self.slot_shift,
            self.slots,
            self.records,
            self.records.view(np.float32),
            self.record_base,
        )

    def ngram_values(self) -> tuple[np.ndarray, np.ndarray]:
        """The log10 probabilities and back-off weights of every n-gram of order 2 and
        more (in no particular order)."""
        values = self.records.view(np.float32)
        probs, backs = [np.zeros(0, np.float32)], [np.zeros(0, np.float32)]
        for k in range(2, self.order + 1):
            part = values[self.record_base[k] : self.record_base[k + 1]].reshape(-1, k + 2)
            probs.append(part[:, k])
            backs.append(part[:, k + 1])
        return np.concatenate(probs), np.concatenate(backs)

    @functools.cached_property
    def prefix_closed(self) -> bool:
        """Whether the context of every n-gram is an n-gram of the model too (as KenLM's
        ``lmplz`` and htrkit's own builder write them), so that a query can start from the
        longest n-gram its history's last query found (:func:`score_known`)."""
        return bool(_prefix_closed(self.order, self.slot_base, self.slot_mask,
                                   self.slot_shift, self.slots, self.records,
                                   self.record_base))  # fmt: skip

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
BINARY_VERSION = 2
_ARRAYS = ("unigram_prob", "unigram_backoff", "slot_base", "slot_mask", "slot_shift",
           "record_base", "slots", "records")  # fmt: skip


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
    if any(len(a) != t.order + 2 for a in (t.slot_base, t.record_base)):
        return False
    if len(t.slot_mask) != t.order + 1 or len(t.slot_shift) != t.order + 1:
        return False
    if t.slots.dtype != np.int32 or t.records.dtype != np.int32:
        return False
    top = t.order + 1
    if t.slot_base[top] != len(t.slots) or t.record_base[top] != len(t.records):
        return False
    for k in range(2, t.order + 1):
        size = t.slot_base[k + 1] - t.slot_base[k]
        length = t.record_base[k + 1] - t.record_base[k]
        if size <= 0 or size & (size - 1) or t.slot_mask[k] != size - 1:
            return False
        if length < 0 or length % (k + 2):
            return False
        n = length // (k + 2)
        shift = int(t.slot_shift[k])
        if not 1 <= shift <= 31 or n > (1 << shift):
            return False
        part = t.slots[t.slot_base[k] : t.slot_base[k + 1]]
        # a table without an empty slot would make a lookup of a missing n-gram loop
        if not (part == -1).any() or part.min() < -1:
            return False
        if (part[part >= 0] & ((1 << shift) - 1)).max(initial=-1) >= n:
            return False
        toks = t.records[t.record_base[k] : t.record_base[k + 1]].reshape(n, k + 2)[:, :k]
        if toks.size and (toks.min() < 0 or toks.max() >= v):
            return False
    return True


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
    counts = _declared_counts(path, sections[0], order)
    grams: list[list[list[str]]] = []
    for k, section in enumerate(sections[1:], start=1):
        body, _, rest = section.partition("\n\\")
        rows = [line.split("\t") for line in body.split("\n") if line.strip()]
        for row in rows:
            if len(row) < 2:
                raise InputError(f"{path}: bad {k}-gram line {chr(9).join(row)!r}")
        if len(rows) != counts[k]:
            raise InputError(
                f"{path}: the header declares {counts[k]:,} {k}-grams but the file has "
                f"{len(rows):,} (a truncated or edited file?)"
            )
        grams.append(rows)
    if rest.strip() != "end\\":
        raise InputError(f"{path}: the ARPA file does not end in \\end\\ (truncated?)")
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
    _check_values(path, uni_p, uni_b)
    slot_base = np.zeros(order + 2, dtype=np.int64)
    slot_mask = np.zeros(order + 1, dtype=np.int64)
    slot_shift = np.zeros(order + 1, dtype=np.int64)
    record_base = np.zeros(order + 2, dtype=np.int64)
    record_parts, slot_parts = [], []
    for k in range(2, order + 1):
        rows = grams[k - 1]
        n = len(rows)
        if n >= 1 << 31:
            raise InputError(f"{path}: over 2**31 {k}-grams")
        records = np.empty((n, k + 2), dtype=np.int32)
        for i, row in enumerate(rows):
            parts = row[1].split(" ")
            if len(parts) != k:
                raise InputError(f"{path}: {k}-gram line with {len(parts)} tokens: {row[1]!r}")
            for j, t in enumerate(parts):
                records[i, j] = ids.get(t, 0)
        probs = np.array([float(r[0]) for r in rows], dtype=np.float32)
        backs = np.array([float(r[2]) if len(r) > 2 else 0.0 for r in rows], dtype=np.float32)
        _check_values(path, probs, backs)
        records[:, k] = probs.view(np.int32)
        records[:, k + 1] = backs.view(np.int32)
        size = 1 << max(4, int(2 * max(n, 1) - 1).bit_length())
        shift = max(1, (n - 1).bit_length())
        table = np.full(size, -1, dtype=np.int32)
        _fill(table, np.ascontiguousarray(records[:, :k]), shift)
        slot_mask[k] = size - 1
        slot_shift[k] = shift
        slot_base[k + 1] = slot_base[k] + size
        record_base[k + 1] = record_base[k] + n * (k + 2)
        record_parts.append(records.ravel())
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
        slot_shift=slot_shift,
        record_base=record_base,
        slots=cat(slot_parts, np.int32),
        records=cat(record_parts, np.int32),
    )


def _check_values(path: Path, probs: np.ndarray, backs: np.ndarray) -> None:
    """Log10 probabilities must be finite and at most 0, back-offs finite."""
    if not (np.isfinite(probs).all() and np.isfinite(backs).all() and (probs <= 0).all()):
        raise InputError(
            f"{path}: the ARPA file holds a probability or back-off that is not a finite "
            "log10 value (inf, nan, or a probability above 1)"
        )


def _declared_counts(path: Path, header: str, order: int) -> dict[int, int]:
    """The n-gram counts the ``\\data\\`` header declares, one for each section."""
    import re

    found = {int(k): int(n) for k, n in re.findall(r"^ngram\s+(\d+)\s*=\s*(\d+)\s*$", header, re.M)}
    if sorted(found) != list(range(1, order + 1)):
        raise InputError(
            f"{path}: the \\data\\ header declares n-gram counts for orders "
            f"{sorted(found) or 'none'}, the file has sections 1 to {order} (truncated?)"
        )
    return found


@njit(cache=True, inline="always")
def _hash(toks, start, length):
    h = _FNV_OFFSET
    for j in range(start, start + length):
        h = (h ^ np.uint64(toks[j] + 1)) * _FNV_PRIME
    return h ^ (h >> np.uint64(29))


@njit(cache=True, inline="always")
def _tag(h, shift):
    """The tag of hash ``h`` in a slot whose low ``shift`` bits hold the entry index: bits
    of the hash that do not choose the slot."""
    return np.int64((h >> np.uint64(40)) & np.uint64((np.int64(1) << (31 - shift)) - 1))


@njit(cache=True)
def _fill(table, toks, shift):
    mask = np.uint64(table.shape[0] - 1)
    k = toks.shape[1]
    flat = toks.ravel()
    for i in range(toks.shape[0]):
        h = _hash(flat, i * k, k)
        s = h & mask
        while table[s] != -1:
            s = (s + np.uint64(1)) & mask
        table[s] = np.int32((_tag(h, shift) << shift) | i)


@njit(cache=True, inline="always")
def find(key, start, k, slot_base, slot_mask, slot_shift, slots, records, record_base):
    """Where the record of the n-gram ``key[start:start + k]`` (order ``k`` >= 2) starts
    in ``records``, or -1."""
    h = _hash(key, start, k)
    mask = np.uint64(slot_mask[k])
    s = h & mask
    base = slot_base[k]
    shift = slot_shift[k]
    tag = _tag(h, shift)
    low = (np.int64(1) << shift) - 1
    width = k + 2
    rb = record_base[k]
    while True:
        v = np.int64(slots[base + s])
        if v < 0:
            return -1
        if (v >> shift) == tag:
            at = rb + (v & low) * width
            same = True
            for j in range(k):
                if records[at + j] != key[start + j]:
                    same = False
                    break
            if same:
                return at
        s = (s + np.uint64(1)) & mask


@njit(cache=True)
def score(
    hist, hist_len, token, uni_p, uni_b, slot_base, slot_mask, slot_shift, slots, records,
    values, record_base,
):  # fmt: skip
    """log10 p(token | hist[:hist_len]) by ARPA back-off (``hist`` holds at most
    order - 1 tokens)."""
    key = np.empty(hist_len + 1, dtype=np.int32)
    for j in range(hist_len):
        key[j] = hist[j]
    key[hist_len] = token
    return score_key(key, hist_len + 1, uni_p, uni_b, slot_base, slot_mask, slot_shift, slots,
                     records, values, record_base)  # fmt: skip


@njit(cache=True, inline="always")
def score_key(
    key, length, uni_p, uni_b, slot_base, slot_mask, slot_shift, slots, records, values,
    record_base,
):  # fmt: skip
    """log10 p(key[length - 1] | key[:length - 1]): :func:`score` without an allocation."""
    return score_known(key, length, length - 1, np.nan, uni_p, uni_b, slot_base, slot_mask,
                       slot_shift, slots, records, values, record_base)[0]  # fmt: skip


@njit(cache=True, inline="always")
def score_known(
    key, length, known, known_backoff, uni_p, uni_b, slot_base, slot_mask, slot_shift, slots,
    records, values, record_base,
):  # fmt: skip
    """log10 p(key[length - 1] | key[:length - 1]), the order of the n-gram that gave it
    (1: the unigram) and that n-gram's back-off weight (NaN for one of the highest order),
    for a history of which no suffix longer than ``known`` tokens is an n-gram of the
    model, its last ``known`` tokens' back-off weight being ``known_backoff`` (NaN: look it
    up). The longer n-grams are not looked for: their contexts are not there, so neither
    are they, nor back-off weights of theirs. The n-gram found bounds the next history's in
    the same way, and its weight is that history's (:meth:`NGramTables.prefix_closed`), as
    KenLM's state does."""
    hist_len = length - 1
    acc = 0.0
    for start in range(hist_len - known, hist_len):
        k = length - start
        at = find(key, start, k, slot_base, slot_mask, slot_shift, slots, records, record_base)
        if at >= 0:
            # (an n-gram of the highest order is nobody's context)
            back = values[at + k + 1] if k < slot_mask.shape[0] - 1 else np.nan
            return acc + values[at + k], k, back
        # the context key[start:hist_len] was skipped: add its back-off weight
        c = hist_len - start
        if c == 1:
            acc += uni_b[key[start]]
        elif start == hist_len - known and not np.isnan(known_backoff):
            acc += known_backoff
        else:
            ca = find(key, start, c, slot_base, slot_mask, slot_shift, slots, records,
                      record_base)  # fmt: skip
            if ca >= 0:
                acc += values[ca + c + 1]
    return acc + uni_p[key[hist_len]], 1, uni_b[key[hist_len]]


@njit(cache=True)
def _prefix_closed(order, slot_base, slot_mask, slot_shift, slots, records, record_base):
    for k in range(3, order + 1):
        width = k + 2
        for at in range(record_base[k], record_base[k + 1], width):
            if find(records, at, k - 1, slot_base, slot_mask, slot_shift, slots, records,
                    record_base) < 0:  # fmt: skip
                return False
    return True


@njit(cache=True, nogil=True)
def sequence_log10(
    toks, order, floor, uni_p, uni_b, slot_base, slot_mask, slot_shift, slots, records, values,
    record_base,
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
        value = score_key(key, n, uni_p, uni_b, slot_base, slot_mask, slot_shift, slots,
                          records, values, record_base)  # fmt: skip
        total += max(value, floor)
    return total


@njit(cache=True, nogil=True)
def greedy_scores(lp, letter, tokens, lms, floor, scores):
    """Add to ``scores[i]`` the log10 probability, under model ``lms[i]`` (its order,
    ``<s>``, ``</s>`` and :meth:`NGramTables.arrays`), of the greedy reading of a line's
    network output ``lp`` (``[frames, classes]``, blank 0: the best class per frame,
    repeats merged, blanks dropped), class ``c`` being token ``tokens[i, c]``, each token's
    at least ``floor``. Returns whether the reading holds a class that ``letter`` marks."""
    frames = lp.shape[0]
    labels = np.empty(frames, np.int64)
    n = 0
    prev = -1
    letters = False
    for t in range(frames):
        best = 0
        for c in range(1, lp.shape[1]):
            if lp[t, c] > lp[t, best]:
                best = c
        if best != prev and best > 0:
            labels[n] = best
            n += 1
            letters = letters or letter[best]
        prev = best
    ids = np.empty(n + 2, np.int32)
    for i in range(len(lms)):
        order, bos, eos, arrays = lms[i]
        ids[0] = bos
        for j in range(n):
            ids[j + 1] = tokens[i, labels[j]]
        ids[n + 1] = eos
        scores[i] += sequence_log10(ids, order, floor, *arrays)
    return letters

"""Decoding a batch's lines on several threads (htrkit.decoders.parallel): the same readings
as one thread, with the real bundled model and language models; decoders that do not say
they are thread-safe are decoded one line after another."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from test_languages import ENGLISH, FRENCH, rendered_page

from htrkit import Pipeline
from htrkit.decoders.compiled import _search
from htrkit.decoders.parallel import DecodingPool, is_concurrent


@pytest.fixture(scope="module")
def pages():
    # two pages in two languages, so that the batch mixes two decoders
    return [rendered_page(ENGLISH + ENGLISH[::-1]), rendered_page(FRENCH + FRENCH[::-1])]


def test_two_threads_read_what_one_reads(pages):
    one, two = Pipeline(threads=1), Pipeline(threads=2)
    assert one._decoding.threads == 1 and two._decoding.threads == 2
    a, b = one.batch(pages), two.batch(pages)
    assert two._decoding.started  # the lines did go to the pool
    assert not one._decoding.started
    assert [r.lang for r in a] == [r.lang for r in b] == ["en", "fr"]
    for x, y in zip(a, b):
        assert [line.text for line in x.lines] == [line.text for line in y.lines]
        assert [line.chars for line in x.lines] == [line.chars for line in y.lines]
        assert [line.confidence for line in x.lines] == [line.confidence for line in y.lines]
    assert sum(len(r.lines) for r in b) == 12


def test_the_compiled_search_releases_the_gil():
    assert _search.targetoptions["nogil"] is True


class Recording:
    """A decoder wrapping the pipeline's: it records the threads it decoded on."""

    def __init__(self, inner, concurrent: bool | None):
        self.inner = inner
        self.threads: set[str] = set()
        if concurrent is not None:
            self.concurrent = lambda alphabet: concurrent

    def decode(self, log_probs, alphabet):
        self.threads.add(threading.current_thread().name)
        return self.inner.decode(log_probs, alphabet)


@pytest.mark.parametrize("concurrent", [None, False, True])
def test_only_a_decoder_that_says_it_is_thread_safe_goes_to_the_pool(pages, concurrent):
    pipe = Pipeline(decoder="greedy", threads=2)
    expected = [line.text for line in pipe.batch(pages[:1])[0].lines]
    pipe.decoder = recording = Recording(pipe.decoder, concurrent)
    assert is_concurrent(recording, pipe.recognizer.alphabet) is bool(concurrent)
    assert [line.text for line in pipe.batch(pages[:1])[0].lines] == expected
    on_pool = {name for name in recording.threads if name.startswith("htrkit-decode")}
    if concurrent:
        assert on_pool and threading.current_thread().name not in recording.threads
    else:
        assert recording.threads == {threading.current_thread().name}


def test_the_kenlm_decoder_is_thread_safe_only_with_the_compiled_search():
    from htrkit.alphabet import Alphabet
    from htrkit.decoders.ngram import KenLMDecoder
    from htrkit.decoders.options import KenLMOptions

    alphabet = Alphabet("abc ")
    assert KenLMDecoder(KenLMOptions(level="char", lm="default")).concurrent(alphabet)
    python = KenLMDecoder(KenLMOptions(level="char", lm="default", engine="python"))
    assert not python.concurrent(alphabet)


def test_a_pool_decodes_in_order_and_survives_a_copy():
    import copy

    class Echo:
        def concurrent(self, alphabet):
            return True

        def decode(self, log_probs, alphabet):
            return int(log_probs[0, 0])

    pool = DecodingPool(3)
    work = [(Echo(), np.full((1, 1), k, np.float32)) for k in range(50)]
    assert pool.decode(work, None) == list(range(50))
    twin = copy.deepcopy(pool)  # a pipeline copied (or pickled) carries no threads
    assert not twin.started and twin.decode(work, None) == list(range(50))
    pool.close()
    assert not pool.started and pool.decode(work, None) == list(range(50))
    assert DecodingPool(0).threads >= 1


def test_a_pool_maps_in_order_on_its_threads():
    pool = DecodingPool(2)
    seen: set[str] = set()

    def work(x: int) -> int:
        seen.add(threading.current_thread().name)
        return x * x

    assert pool.map(work, list(range(50))) == [x * x for x in range(50)]
    assert pool.started and all(name.startswith("htrkit-decode") for name in seen)
    assert DecodingPool(1).map(work, [3, 4]) == [9, 16]  # one thread: in this one
    pool.close()

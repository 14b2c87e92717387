"""Run by ``benchmarks/decoders.py`` in an environment that has the htrkit-pyctcdecode
plugin (pyctcdecode pins numpy<2): decodes the cached log-probabilities with it and prints
the texts and the decoding time as JSON. The request comes as JSON on standard input."""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from htrkit import Alphabet
from htrkit.plugins import registry


def main() -> None:
    request = json.load(sys.stdin)
    data = np.load(request["cache"])
    lps = [data[f"lp{i}"] for i in range(request["lines"])]
    alphabet = Alphabet(request["labels"][1:])
    options = {k: request[k] for k in ("lm", "alpha", "beta", "beam_width")}
    decoder = registry("decoder").create("pyctcdecode", options)
    decoder.decode(lps[0], alphabet)  # warm up: build the decoder for this alphabet
    start = time.perf_counter()
    texts = [decoder.decode(lp, alphabet).text for lp in lps]
    print(json.dumps({"texts": texts, "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()

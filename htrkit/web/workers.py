"""The recognition pool of ``htrkit serve``: its settings, a pipeline per worker thread
and request mode, and back-pressure (503 when too many requests wait)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from htrkit.web.requests import MODES, RequestError

#: pipelines a worker thread keeps (the least recently used go first)
PIPELINES_PER_WORKER = 8


@dataclass(frozen=True)
class Settings:
    model: str = "default"
    digit_model: str = "digits"
    decoder: str = "auto"
    max_upload_bytes: int = 10 * 2**20
    max_pixels: int = 40_000_000
    workers: int = 2
    max_pending: int = 16
    #: Host header values answered (others get 400): the loopback names by default
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")


class Recognition:
    """Pipelines per worker thread, built on first use, and the work a request does. The
    recognisers (read-only once loaded) are loaded once and shared by the threads; the
    decoders and segmenters, which may keep state, are each thread's own."""

    def __init__(self, settings: Settings, recognizers: dict[str, Any]):
        self.settings = settings
        self.recognizers = recognizers  #: model setting name -> Recognizer
        self.pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="htrkit-web")
        self.local = threading.local()
        self.pending = 0
        self.lock = threading.Lock()

    def pipeline(self, mode: str, decoder: str, options: dict[str, Any], lang: str = "auto") -> Any:
        from htrkit.pipeline import Pipeline

        model_setting, segmenter, segmenter_options, fixed = MODES[mode]
        if fixed is not None:
            decoder, options = fixed
        key = (mode, decoder, json.dumps(options, sort_keys=True), lang)
        cache = getattr(self.local, "pipelines", None)
        if cache is None:
            cache = self.local.pipelines = OrderedDict()
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        cache[key] = Pipeline(
            self.recognizers[model_setting],
            decoder=decoder,
            decoder_options=options,
            segmenter=segmenter,
            segmenter_options=segmenter_options,
            lang=lang,
        )
        # the least recently used go: each holds its decoder's tables (a kenlm pipeline
        # about 7 MB), and requests choose among thousands of settings
        while len(cache) > PIPELINES_PER_WORKER:
            cache.popitem(last=False)
        return cache[key]

    def run(
        self, data: bytes, source: str, mode: str, decoder: str, options: dict, lang: str = "auto"
    ) -> dict:
        from htrkit.imageio import decode_image
        from htrkit.results import Page

        start = time.perf_counter()
        image = decode_image(data, source, self.settings.max_pixels)
        pipe = self.pipeline(mode, decoder, options, lang)
        # the segmenter's margin may reach past the image: crop_line pads it with paper
        out = pipe(Page(source, image)).to_dict()
        out.update(
            mode=mode,
            decoder=pipe.decoder_name,
            model=getattr(self.settings, MODES[mode][0]),
            seconds=round(time.perf_counter() - start, 4),
        )
        return out

    async def submit(self, *args: Any) -> dict:
        with self.lock:
            if self.pending >= self.settings.max_pending:
                raise RequestError(
                    f"server busy: {self.pending} requests waiting; try again", status=503
                )
            self.pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, self.run, *args)
        finally:
            with self.lock:
                self.pending -= 1

"""The Ray engine of collection jobs (``htrkit run INPUTS -o OUT/ --engine ray``).

The job is a Ray Data pipeline: the inputs' paths become a dataset (``from_items``), and
``map_batches`` maps them with a pool of actors (:class:`RayReader`), each of which builds
the pipeline once and reads every input of its batches on its own, exactly as a local
worker does (:func:`htrkit.jobs.read_one`). The rendered outputs come back to the driver,
which writes them (:class:`htrkit.jobs.CollectionJob`), so a Ray job writes byte for byte
what a local one writes. The workers read the inputs from their paths: on a cluster, the
inputs (and the model file, when it is not a bundled one) must be on storage every node
sees at the same path.

Scheduling, retries of lost workers and back-pressure are Ray's; htrkit has no scheduler
of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

#: inputs per actor call: small, so that progress moves and a lost batch costs little
BATCH = 4


class RayReader:
    """A Ray Data actor: the pipeline is built once, in ``__init__``."""

    def __init__(self, settings: dict[str, Any], fmt: str, threads: int):
        from htrkit.workers import make_reader

        self.pipe, self.writer = make_reader(settings, fmt, threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from htrkit.workers import read_one

        outputs, errors = [], []
        for source in batch["source"]:
            output, error = read_one(self.pipe, self.writer, str(source))
            outputs.append(output)
            errors.append(error)
        return {
            "index": np.asarray(batch["index"], dtype=np.int64),
            "output": np.array(outputs, dtype=object),
            "error": np.array(errors, dtype=object),
        }


def connect(address: str | None, cpus: int) -> None:
    """Join the Ray cluster at ``address``, or start a local one with ``cpus`` CPUs, unless
    this process is connected already. Called before anything starts threads (the model's
    runtime): Ray forks its local processes, and a fork beside running threads can hang."""
    import logging

    try:
        import ray
    except ImportError:
        from htrkit.errors import ConfigError

        raise ConfigError("--engine ray needs Ray: pip install 'htrkit[ray]'") from None
    if ray.is_initialized():
        return
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address:
        ray.init(address=address, **quiet)
    else:
        ray.init(num_cpus=cpus, include_dashboard=False, **quiet)


def read_with_ray(
    items: list[tuple[int, str]], settings: dict[str, Any], fmt: str, actors: int
) -> Iterator[tuple[int, str, str]]:
    """``(index, output, error)`` for each ``(index, source)``, as Ray finishes them, read
    by ``actors`` actors of one CPU each on the connected cluster."""
    import logging

    import ray

    # htrkit's progress bar and summary say how the job goes: Ray Data's own progress
    # bars and execution logs would interleave with them on stderr
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    data = ray.data.from_items([{"index": i, "source": s} for i, s in items])
    read = data.map_batches(
        RayReader,
        fn_constructor_kwargs={"settings": settings, "fmt": fmt, "threads": 1},
        batch_size=BATCH,
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=1,
        batch_format="numpy",
    )
    for row in read.iter_rows():
        yield int(row["index"]), str(row["output"]), str(row["error"])

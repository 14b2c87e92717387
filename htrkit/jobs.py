"""Reading a collection into a folder: one output file per input, resumable, on N worker
processes or on a Ray cluster.

``htrkit run INPUTS -o OUT/`` is a :class:`CollectionJob`:

- **Each input is read on its own** (its lines batched together, never with another
  input's), so its output depends on nothing but the input and the settings: the same
  whichever worker reads it, in whatever order, in one run or in several.
- **Outputs are atomic**: written to a hidden temporary file in ``OUT`` and renamed, so a
  file that exists is complete.
- **A manifest**, ``OUT/htrkit-job.json``, records the settings that matter to the outputs
  (model weights by SHA-256, backend, decoder, segmenter, pre- and postprocessing, output
  format). A rerun with the same settings skips the inputs whose output exists; with other
  settings it refuses (``--overwrite`` redoes the folder). Files in ``OUT`` that no job
  wrote are never replaced without ``--overwrite``.
- **A ledger**, ``OUT/htrkit-outputs.jsonl``, records which input (by its resolved path)
  each output file is for, one JSON line appended before the file is written. An output
  counts as done only for the input it was written for; an input keeps the file it was
  given in an earlier run, and a name another input holds is never given to a new one, so
  a rerun over another folder whose files have the same names, or over a folder that has
  gained files, never takes one input's output for another's.
- **Failures** do not stop the others: each is one line in ``OUT/errors.tsv`` (input, then
  the reason; inputs that cannot be read at all, such as a broken PDF, too), and is tried
  again by the next run.

Engines: ``local`` (this process for one job, else a pool of ``jobs`` worker processes,
each loading the model once, with the machine's cores divided among them) and ``ray``
(a Ray Data job: the list of inputs mapped in batches by a pool of actors that each load
the model once; see docs/collections.md). Both write through the same code here, so their
outputs are byte-identical.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from htrkit.atomic import remove_partials
from htrkit.errors import ConfigError
from htrkit.workers import make_reader, read_one

MANIFEST = "htrkit-job.json"
ERRORS = "errors.tsv"
LEDGER = "htrkit-outputs.jsonl"

#: 2: the ledger of which input each output is for
MANIFEST_VERSION = 2
#: a ledger larger than this is refused (about 5 million outputs)
LEDGER_LIMIT = 2**30
ENGINES = ("local", "ray")
#: memory a worker may take: the default pipeline peaked at 414 MiB reading validation pages
#: (models, language models and the pages' images), with room to spare
WORKER_MEMORY = 600 * 2**20


def parse_jobs(value: object) -> int | str:
    """``--jobs``: a number of worker processes (1 or more), or ``auto``."""
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1 or isinstance(value, bool):
        raise ConfigError(f"--jobs must be 1 or more, or auto, got {value!r}")
    return jobs


def auto_jobs(inputs: int, *, cores: int | None = None, memory: int | None = None) -> int:
    """``--jobs auto``: a worker per core, one thread each (on 2 cores two one-thread
    workers read 1.36x as many pages a second as one two-thread job, docs/collections.md),
    no more than there are inputs to read or than the available memory holds at
    :data:`WORKER_MEMORY` each."""
    from htrkit.threads import available_cores

    if cores is None:
        cores = available_cores()
    if memory is None:  # not on Linux: the cores decide
        memory = _free_memory() or cores * WORKER_MEMORY
    return max(1, min(cores, inputs, memory // WORKER_MEMORY))


def _free_memory() -> int | None:
    """The memory free now, in bytes, or ``None`` where the system does not say."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def memory_warning(jobs: int, memory: int | None = None) -> str | None:
    """What to tell a user whose ``--jobs`` is more workers than the free memory holds at
    :data:`WORKER_MEMORY` each (they are started all the same: the number is theirs)."""
    if memory is None:
        memory = _free_memory()
        if memory is None:
            return None
    fits = max(1, memory // WORKER_MEMORY)
    if jobs <= fits:
        return None
    return (
        f"--jobs {jobs}: the free memory ({memory / 2**30:.1f} GiB) holds about {fits} "
        f"worker(s) of {WORKER_MEMORY >> 20} MiB; more may swap or be killed "
        "(--jobs auto picks a number that fits)"
    )


@dataclass(frozen=True)
class Task:
    """One input and the file its output goes to."""

    index: int
    source: str
    target: Path
    #: the input as the ledger knows it (:func:`source_key`)
    key: str = ""


@dataclass
class JobSummary:
    read: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    #: worker processes (or Ray actors) that read them
    workers: int = 1

    def line(self, out: Path, fmt: str = "") -> str:
        """``wrote 48 alto files to out/; 2 skipped (done before), 0 failed``."""
        what = f"{fmt} file" if fmt else "file"
        text = (
            f"wrote {self.read} {what}{'' if self.read == 1 else 's'} to {out}/; "
            f"{self.skipped} skipped (done before), {len(self.failed)} failed"
        )
        if self.failed:
            text += f" (reasons in {out / ERRORS})"
        if self.workers > 1:
            text += f"; {self.workers} workers"
        return text


# -- what a worker does --------------------------------------------------------------------


_WORKER: dict[str, Any] = {}


def _start_worker(settings: dict[str, Any], fmt: str, threads: int) -> None:
    # each worker keeps to its share of the cores: OpenMP and OpenBLAS (set before numpy
    # and OpenCV load, which size their pools once), OpenCV's own pool (page loading, line
    # cuts), as the model, decoder and segmenter do (make_reader)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    import cv2

    cv2.setNumThreads(threads)
    _WORKER["pipe"], _WORKER["writer"] = make_reader(settings, fmt, threads)


def _work(task: Task) -> tuple[int, str, str]:
    output, error = read_one(_WORKER["pipe"], _WORKER["writer"], task.source)
    return task.index, output, error


# -- the job -------------------------------------------------------------------------------


class CollectionJob:
    """Read ``sources`` into ``out``, one file per input (see the module's documentation).

    :param settings: :class:`htrkit.Pipeline` arguments (picklable: names and options).
    :param pipeline: the pipeline built from them in this process: it checks the settings
        before any worker starts, gives what the manifest records, and reads when the
        job runs here (one local job).
    """

    def __init__(
        self,
        settings: dict[str, Any],
        pipeline: Any,
        fmt: str,
        out: Path,
        *,
        overwrite: bool = False,
        jobs: int | str = 1,
        engine: str = "local",
        address: str | None = None,
        writer_options: dict[str, Any] | None = None,
    ):
        from htrkit.plugins import registry

        if engine not in ENGINES:
            raise ConfigError(f"--engine must be local or ray, got {engine!r}")
        jobs = parse_jobs(jobs)
        if jobs == "auto" and engine == "ray":
            raise ConfigError("--jobs auto is for the local engine: give Ray a number of actors")
        self.spec = registry("writer").get(fmt)
        self.writer_options = dict(writer_options or {})
        self.spec.validate(self.writer_options)  # bad usage before anything is read
        self.settings = {**settings, "backend": pipeline.recognizer.backend}
        if self.writer_options:  # for the workers' writers (make_reader takes them out)
            self.settings["writer_options"] = self.writer_options
        self.pipeline = pipeline
        self.fmt = self.spec.name
        self.out = out
        self.overwrite = overwrite
        self.jobs = jobs
        self.engine = engine
        self.address = address

    # -- planning

    def manifest(self) -> dict[str, Any]:
        """What the outputs depend on."""
        from htrkit import __version__
        from htrkit.cache import sha256

        described = self.pipeline.describe()
        recognizer = self.pipeline.recognizer
        weights = getattr(recognizer, "source_sha256", "") or sha256(recognizer.source)
        described["model"] = {"sha256": weights, "backend": recognizer.backend}
        found = {
            "htrkit_job": MANIFEST_VERSION,
            "format": self.fmt,
            "pipeline": described,
            "written_by": f"htrkit {__version__}",
        }
        if self.writer_options:  # only then: the folders written before keep their identity
            found["format_options"] = self.writer_options
        return found

    def plan(self, sources: Iterable[str], recorded: dict[str, str] | None = None) -> list[Task]:
        """Each input's output file. An input the ledger (``recorded``: file name -> input)
        gave a file keeps it; the others take their name, then ``-2``, ``-3`` ... past the
        names taken by an earlier input or held by another input in the ledger. So the
        same inputs always map to the same files, in one run or in several."""
        # an input given twice is one input (its one output file)
        unique: dict[str, str] = {}
        for source in sources:
            unique.setdefault(source_key(source), source)
        sources, keys = list(unique.values()), list(unique)
        recorded = recorded or {}
        held = {key: name for name, key in recorded.items()}
        names: list[str | None] = [None] * len(sources)
        taken: set[str] = set()
        for i, key in enumerate(keys):
            name = held.get(key)
            if name is not None and name not in taken:
                names[i] = name
                taken.add(name)
        for i, source in enumerate(sources):
            if names[i] is not None:
                continue
            stem, n = output_stem(source), 1
            name = f"{stem}{self.spec.suffix}"
            while name in taken or name in recorded or name in (MANIFEST, ERRORS, LEDGER):
                n += 1
                name = f"{stem}-{n}{self.spec.suffix}"
            taken.add(name)
            names[i] = name
        return [
            Task(i, s, self.out / name, key)
            for i, (s, name, key) in enumerate(zip(sources, names, keys))
        ]

    def prepare(self, tasks: list[Task], recorded: dict[str, str]) -> list[Task]:
        """Check the folder against the manifest and the ledger (``recorded``), write the
        manifest, clear stale partial files; the tasks still to do."""
        manifest = json.loads(json.dumps(self.manifest()))  # as it reads back (no tuples)
        path = self.out / MANIFEST
        previous = None if self.overwrite else _read_manifest(path)
        existing = [t for t in tasks if t.target.exists()]
        if (
            previous is not None
            and _settings(previous) != _settings(manifest)
            and not self.overwrite
        ):
            what = _difference(previous, manifest)  # type: ignore[arg-type]
            raise ConfigError(
                f"{self.out}: written by a job with other settings ({what}); rerun with the "
                "same settings to resume, or give --overwrite to read everything again"
            )
        # an existing output is this input's only if the ledger says it was written for it
        foreign = [t for t in existing if recorded.get(t.target.name) != t.key]
        if foreign and not self.overwrite:
            raise ConfigError(
                f"{self.out}: {len(foreign)} output file(s) exist that no htrkit job wrote "
                f"here (first: {foreign[0].target.name}); give --overwrite to replace them"
            )
        remove_partials(self.out)
        atomic_write(path, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
        if self.overwrite:
            atomic_write(self.out / LEDGER, "")
            return tasks
        return [t for t in tasks if not t.target.exists()]

    # -- running

    def run(
        self,
        sources: list[str],
        progress: Callable[[int], None] | None = None,
        rejected: Iterable[tuple[str, str]] = (),
    ) -> JobSummary:
        """Read ``sources`` into the folder; ``rejected`` are inputs found unreadable
        before the job (input, reason), counted and listed with its failures."""
        started = time.monotonic()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{self.out}: cannot create the output folder ({exc})") from None
        recorded = {} if self.overwrite else read_ledger(self.out / LEDGER)
        tasks = self.plan(sources, recorded)
        todo = self.prepare(tasks, recorded)
        if self.jobs == "auto":
            self.jobs = auto_jobs(len(todo))
        else:  # never more workers than inputs to read
            self.jobs = max(1, min(self.jobs, len(todo)))
            warning = memory_warning(self.jobs) if self.engine == "local" else None
            if warning:
                import warnings

                warnings.warn(warning, stacklevel=2)
        summary = JobSummary(skipped=len(tasks) - len(todo), workers=self.jobs if todo else 1)
        advance = progress or (lambda n: None)
        advance(summary.skipped + len(sources) - len(tasks))  # and inputs given twice
        failures: dict[int, tuple[str, str]] = {}
        with open(self.out / LEDGER, "a", encoding="utf-8") as ledger:
            for task, output, error in self._outputs(todo):
                if error:
                    failures[task.index] = (task.source, error)
                else:
                    try:
                        # the claim first: a file that exists is always in the ledger
                        ledger.write(json.dumps({"output": task.target.name, "input": task.key},
                                                ensure_ascii=False) + "\n")  # fmt: skip
                        ledger.flush()
                        atomic_write(task.target, output)
                        summary.read += 1
                    except OSError as exc:
                        failures[task.index] = (
                            task.source, f"{task.target}: cannot write ({exc})"
                        )  # fmt: skip
                advance(1)
        summary.failed = list(rejected) + [failures[i] for i in sorted(failures)]
        errors = self.out / ERRORS
        if summary.failed:
            rows = "".join(f"{_cell(s)}\t{_cell(r)}\n" for s, r in summary.failed)
            atomic_write(errors, "input\treason\n" + rows)
        elif errors.exists():
            errors.unlink()
        summary.seconds = time.monotonic() - started
        return summary

    def _outputs(self, todo: list[Task]) -> Iterator[tuple[Task, str, str]]:
        if not todo:
            return
        if self.engine == "ray":
            yield from self._ray(todo)
        elif self.jobs == 1:
            writer = self.spec.create(self.writer_options or None)
            for task in todo:
                yield (task, *read_one(self.pipeline, writer, task.source))
        else:
            yield from self._pool(todo)

    def _threads(self) -> int:
        from htrkit.threads import available_cores

        return max(1, available_cores() // self.jobs)

    def _pool(self, todo: list[Task]) -> Iterator[tuple[Task, str, str]]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        by_index = {t.index: t for t in todo}
        # spawn: a worker starts clean (no copy of this process's model or threads)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            self.jobs,
            mp_context=context,
            initializer=_start_worker,
            initargs=(self.settings, self.fmt, self._threads()),
        ) as pool:
            futures = [pool.submit(_work, t) for t in todo]
            try:
                for future in as_completed(futures):
                    index, output, error = future.result()
                    yield by_index[index], output, error
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def _ray(self, todo: list[Task]) -> Iterator[tuple[Task, str, str]]:
        from htrkit.engines import connect, read_with_ray

        connect(self.address, self.jobs)  # a no-op when the caller connected first
        by_index = {t.index: t for t in todo}
        for index, output, error in read_with_ray(
            [(t.index, t.source) for t in todo], self.settings, self.fmt, self.jobs
        ):
            yield by_index[index], output, error


# -- files ---------------------------------------------------------------------------------


def output_stem(source: str) -> str:
    """The name an input's output file takes: the input's stem, and the page of a
    multi-page file (``scans.pdf#page=3`` -> ``scans-p003``)."""
    import re

    match = re.match(r"^(?P<path>.+)#page=(?P<page>\d+)$", source)
    if match and not Path(source).exists():
        return f"{Path(match['path']).stem}-p{int(match['page']):03d}"
    return Path(source).stem


def source_key(source: str) -> str:
    """An input as the ledger records it: its resolved path (a page of a multi-page file
    keeps its ``#page=N``), so that the same file is known from any working folder."""
    import re

    match = re.match(r"^(?P<path>.+)#page=(?P<page>\d+)$", source)
    if match and not Path(source).exists():
        return f"{Path(match['path']).resolve()}#page={int(match['page'])}"
    return str(Path(source).resolve())


def read_ledger(path: Path) -> dict[str, str]:
    """The ledger's output file names and the inputs they were written for (the last line
    for a name wins; a line torn by a killed run is skipped)."""
    if not path.exists():
        return {}
    try:
        if path.stat().st_size > LEDGER_LIMIT:
            raise ValueError(f"over {LEDGER_LIMIT >> 20} MiB")
        found: dict[str, str] = {}
        with open(path, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    row = json.loads(line)
                    found[str(row["output"])] = str(row["input"])
                except (ValueError, TypeError, KeyError):
                    continue
        return found
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: not a readable job ledger ({exc}); give --overwrite to start again"
        ) from None


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, renamed: a
    reader sees the old file or the whole new one, never a part."""
    from htrkit.atomic import write_text

    write_text(path, text)


def _read_manifest(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        if path.stat().st_size > 1 << 20:
            raise ValueError("over 1 MB")
        found = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(found, dict):
            raise ValueError("not a JSON object")
        return found
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: not a readable job manifest ({exc}); give --overwrite to start again"
        ) from None


def _settings(manifest: dict[str, Any]) -> dict[str, Any]:
    """What must agree for a job to resume (not the htrkit version that wrote it)."""
    return {k: v for k, v in manifest.items() if k != "written_by"}


def _difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The first setting that differs, as ``key: old -> new``."""

    def flat(d: Any, prefix: str = "") -> dict[str, Any]:
        if not isinstance(d, dict):
            return {prefix: d}
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out

    a, b = flat(old), flat(new)
    for key in sorted(set(a) | set(b)):
        if key != "written_by" and a.get(key) != b.get(key):
            return f"{key}: {a.get(key)!r} then, {b.get(key)!r} now"
    return "written by another htrkit version"


def _cell(text: str) -> str:
    return " ".join(str(text).split())

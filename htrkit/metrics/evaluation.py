"""Reading prediction and reference files, pairing them, reading a dataset's lines with a
pipeline, and scoring a corpus (``htrkit eval`` parses its options and prints these)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from htrkit.errors import InputError
from htrkit.metrics import Metric

if TYPE_CHECKING:
    from htrkit.datasets import Sample
    from htrkit.pipeline import Pipeline
    from htrkit.results import Page


def read_tsv(path: str | Path) -> dict[str, str]:
    """Read ``id<TAB>text`` lines (UTF-8; blank lines, ``#`` comments and a first
    ``id<TAB>text`` header skipped; the text is all after the first tab, tabs included).

    :raises InputError: naming the file and line for a missing tab or a repeated id.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    rows: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, tab, text = line.partition("\t")
        if not tab:
            raise InputError(f"{path}:{number}: expected id<TAB>text, found no tab")
        if not rows and line.lower().split("\t")[:2] == ["id", "text"]:
            continue  # a header row (data synth's manifest.tsv has one)
        if key in rows:
            raise InputError(f"{path}:{number}: id {key!r} appears twice")
        rows[key] = text
    return rows


def align_ids(
    refs: Mapping[str, str], preds: Mapping[str, str]
) -> tuple[list[tuple[str, str, str]], list[str], list[str]]:
    """Pair references with predictions: ``(id, reference, prediction)`` rows, the ids
    with no prediction, and the prediction ids with no reference.

    Ids match exactly or, failing that, by file stem (``a/b/x.png`` matches ``x``) when
    the stem is unique on both sides.
    """

    def stems(ids):
        out: dict[str, str | None] = {}
        for i in ids:
            s = Path(i).stem
            out[s] = None if s in out else i  # None marks an ambiguous stem
        return out

    pred_stems = stems(preds)
    ref_stems = stems(refs)
    used: set[str] = set()
    pairs, missing = [], []
    for rid, text in refs.items():
        pid = rid if rid in preds else None
        if pid is None and ref_stems.get(Path(rid).stem) == rid:
            pid = pred_stems.get(Path(rid).stem)
        if pid is None:
            missing.append(rid)
            pairs.append((rid, text, ""))
        else:
            used.add(pid)
            pairs.append((rid, text, preds[pid]))
    extra = [p for p in preds if p not in used]
    return pairs, missing, extra


def score(pairs: list[tuple[str, str, str]], metrics: Mapping[str, Metric]) -> dict[str, float]:
    """Corpus score of each metric over ``(id, reference, prediction)`` rows."""
    refs = [r for _, r, _ in pairs]
    preds = [p for _, _, p in pairs]
    return {name: m.corpus(preds, refs) for name, m in metrics.items()}


def predict(
    pipeline: Pipeline,
    samples: Iterable[Sample],
    chunk: int = 256,
    languages: Counter[str] | None = None,
) -> Iterator[tuple[Sample, str]]:
    """Each sample with the text ``pipeline`` reads in its image, the image taken as one
    whole line (no segmentation), in the given order. Samples are read ``chunk`` at a time
    (the pipeline batches them by width), so a dataset of any size streams through in
    bounded memory.

    The lines of one group (a page, a text, a writer) that come one after another are
    given to the pipeline as one page, each line a region of its own (stacked, so that each
    region's crop is the sample's image exactly): what the pipeline decides per page, the
    language with ``lang="auto"``, it decides from all of the page's lines, as it does
    when it reads the page itself. ``languages``, when given, counts the pages read in
    each language (``Result.lang``; ``"none"`` for a page that has none)."""
    batch: list[Sample] = []

    def flush() -> Iterator[tuple[Sample, str]]:
        pages, spans = _stacked_pages(batch)
        results = pipeline.batch(pages)
        for (first, count), result in zip(spans, results):
            if languages is not None:
                languages[result.lang or "none"] += 1
            texts = [line.text for line in result.lines]
            for k in range(count):
                yield batch[first + k], texts[k] if k < len(texts) else ""
        batch.clear()

    for sample in samples:
        batch.append(sample)
        if len(batch) >= chunk:
            yield from flush()
    yield from flush()


#: most lines stacked into one page
_PAGE_LINES = 64


def _stacked_pages(samples: list[Sample]) -> tuple[list[Page], list[tuple[int, int]]]:
    """One page per run of samples of the same group: the lines' images one under
    another on white, each a region; with (first sample, count) per page."""
    import numpy as np

    from htrkit.results import LineRegion, Page

    pages, spans = [], []
    start = 0
    while start < len(samples):
        end = start + 1
        while (
            end < len(samples)
            and end - start < _PAGE_LINES
            and samples[end].group == samples[start].group
        ):
            end += 1
        run = samples[start:end]
        images = [s.image for s in run]
        if any(i.shape[2:] != images[0].shape[2:] or i.dtype != images[0].dtype for i in images):
            run, end = run[:1], start + 1  # lines of another kind of image: a page each
            images = images[:1]
        height = sum(i.shape[0] for i in images)
        width = max(i.shape[1] for i in images)
        canvas = np.full((height, width, *images[0].shape[2:]), 255, dtype=images[0].dtype)
        regions, y = [], 0
        for image in images:
            h, w = image.shape[:2]
            canvas[y : y + h, :w] = image
            regions.append(LineRegion((0, y, w, y + h)))
            y += h
        pages.append(Page(run[0].id, canvas, regions))
        spans.append((start, len(run)))
        start = end
    return pages, spans

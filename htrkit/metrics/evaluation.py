"""Reading prediction and reference files, pairing them, reading a dataset's lines with a
pipeline, and scoring a corpus (``htrkit eval`` parses its options and prints these)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from htrkit.errors import InputError
from htrkit.metrics import Metric

if TYPE_CHECKING:
    from htrkit.datasets import Sample
    from htrkit.pipeline import Pipeline


def read_tsv(path: str | Path) -> dict[str, str]:
    """Read ``id<TAB>text`` lines (UTF-8; blank lines and ``#`` comments skipped).

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
    pipeline: Pipeline, samples: Iterable[Sample], chunk: int = 256
) -> Iterator[tuple[Sample, str]]:
    """Each sample with the text ``pipeline`` reads in its image, the image taken as one
    whole line (no segmentation), in the given order. Samples are read ``chunk`` at a time
    (the pipeline batches them by width), so a dataset of any size streams through in
    bounded memory."""
    from htrkit.results import LineRegion, Page

    batch: list[Sample] = []

    def flush() -> Iterator[tuple[Sample, str]]:
        pages = [Page(s.id, s.image, [LineRegion((0, 0, s.image.shape[1], s.image.shape[0]))])
                 for s in batch]  # fmt: skip
        yield from zip(batch, (result.text for result in pipeline.batch(pages)))
        batch.clear()

    for sample in samples:
        batch.append(sample)
        if len(batch) >= chunk:
            yield from flush()
    yield from flush()

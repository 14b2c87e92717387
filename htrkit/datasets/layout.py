"""What the page-layout readers (ALTO, PAGE-XML) share: safe XML parsing, finding the page
image, filtering lines, grouping pages, and cutting out line images.

A format module only turns a parsed XML tree into a :class:`PageTruth`; the rest is here.
Pages and lines are htrkit's own :class:`~htrkit.results.Page` and
:class:`~htrkit.results.LineRegion`, with the text and the page's regions and group.
XML is parsed with ``defusedxml`` and DTDs refused, so a dataset downloaded from anywhere
cannot read local files (XXE) or blow up memory (entity expansion).
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from htrkit.datasets import DatasetError, DatasetReport, Sample
from htrkit.datasets.options import PageOptions
from htrkit.datasets.reading import bad, load_image, outside, read_head, sorted_files
from htrkit.results import LineRegion, Page

Point = tuple[float, float]

#: tried, in this order, when the named image is not found
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".jp2", ".webp", ".bmp")


class LineError(ValueError):
    """A line's geometry or text cannot be read (the message names the line)."""


@dataclass
class PageTruth:
    """What a layout file says about its page: the image it names, its lines (ground-truth
    :class:`~htrkit.results.LineRegion`, with text, or the error that made one unreadable)
    and the outlines of its text regions (ALTO ``TextBlock``, PAGE ``TextRegion``)."""

    image: str
    lines: list[LineRegion | LineError]
    regions: list[list[Point]] = field(default_factory=list)


def clip_points(points: list[Point], width: int, height: int) -> list[Point]:
    """Each point moved onto the page (``0..width`` by ``0..height``)."""
    return [(min(max(x, 0.0), float(width)), min(max(y, 0.0), float(height))) for x, y in points]


def clip_line(line: LineRegion, width: int, height: int) -> LineRegion | None:
    """The line with its outline and baseline clipped to the page, or ``None`` when its
    outline does not reach the page at all."""
    xs = [p[0] for p in line.polygon]
    ys = [p[1] for p in line.polygon]
    if max(xs) <= 0 or max(ys) <= 0 or min(xs) >= width or min(ys) >= height:
        return None
    return LineRegion.from_polygon(
        clip_points(line.polygon, width, height),
        clip_points(line.baseline, width, height),
        line.id,
        line.text,
        line.types,
    )


def parse_points(value: str, what: str) -> list[Point]:
    """``"x1 y1 x2 y2"`` or ``"x1,y1 x2,y2"`` as a list of ``(x, y)``."""
    tokens = value.replace(",", " ").split()
    try:
        numbers = [float(t) for t in tokens]
    except ValueError:
        raise LineError(f"{what} {value[:60]!r} is not a list of numbers") from None
    if len(numbers) % 2:
        raise LineError(f"{what} has an odd number of coordinates ({len(numbers)})")
    if not all(math.isfinite(n) for n in numbers):
        raise LineError(f"{what} has a non-finite coordinate")
    return list(zip(numbers[0::2], numbers[1::2]))


def box_polygon(x: float, y: float, w: float, h: float) -> list[Point]:
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def local_name(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(tag: str) -> str:
    """``"{ns}"`` of an element tag, or ``""``."""
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


def parse_xml(path: Path) -> Any:
    """The root element of an XML file; DTDs, entities and external references refused."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import parse

    try:
        return parse(path, forbid_dtd=True, forbid_entities=True, forbid_external=True).getroot()
    except DefusedXmlException as exc:
        raise DatasetError(
            f"{path}: refused: the XML declares a DTD or entities ({type(exc).__name__}); "
            "ground-truth files must not"
        ) from None
    except ParseError as exc:
        raise DatasetError(f"{path}: not well-formed XML ({exc})") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None


#: a page of a PDF as htrkit names it (``scans.pdf#page=3``)
PDF_PAGE = re.compile(r"^(?P<pdf>.+\.pdf)#page=(?P<page>\d+)$", re.IGNORECASE)


def read_page_image(path: Path, where: str = "") -> Any:
    """The page image :func:`find_image` found: an image file, or a page of a PDF
    (``scans.pdf#page=3``, rendered as ``htrkit run scans.pdf`` renders it)."""

    if PDF_PAGE.match(path.name) and not path.is_file():
        from htrkit.errors import InputError
        from htrkit.loaders.pdf import PdfLoader

        try:
            return PdfLoader().load(path).image
        except InputError as exc:
            raise DatasetError(f"{where}{exc}") from None
    return load_image(path, where)


def find_image(xml: Path, name: str) -> Path | None:
    """The page image a layout file names: as written (relative to the file), its base
    name, then other extensions, then the layout file's own stem with image extensions.
    Folders named ``page`` or ``alto`` are looked through to their parent, where exports
    (Transkribus, eScriptorium) keep the images."""
    if "\0" in name:  # no file has such a name
        name = ""
    folders = [xml.parent]
    if xml.parent.name.lower() in ("page", "alto"):
        folders.append(xml.parent.parent)
    base = re.split(r"[\\/]", name)[-1] if name else ""
    page_of_pdf = PDF_PAGE.match(base) if base else None
    if page_of_pdf:  # htrkit's own output for a page of a PDF names it so: "x.pdf#page=2"
        for folder in folders:
            pdf = folder / page_of_pdf["pdf"]
            if pdf.is_file() and not pdf.is_symlink():
                return folder / base  # read_page_image renders that page
    stems = [s for s in dict.fromkeys((Path(base).stem if base else "", xml.stem)) if s]
    candidates = []
    for folder in folders:
        if name:
            candidates += [folder / name, folder / base]
        for stem in stems:
            for ext in IMAGE_EXTENSIONS:
                candidates += [folder / f"{stem}{ext}", folder / f"{stem}{ext.upper()}"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def crop(image: Any, line: LineRegion, straighten: bool = True) -> Any:
    """The line's bounding box, outside its polygon painted white and straightened along
    its baseline (:func:`htrkit.geometry.crop_line`), as its own array (no view into the
    page, so the page can be freed)."""
    from htrkit.geometry import crop_line

    # ground truth past the page is annotation slop: clipped, as the training cache has it
    out = crop_line(image, line, pad=False, straighten=straighten)
    return out.copy() if out.base is not None else out


class LayoutReader(ABC):
    """Reads one layout file, or every ``*.xml`` under a folder (recursively).

    Subclasses set :attr:`format` and :attr:`root_name` and implement :meth:`sniff` and
    :meth:`parse`.
    """

    format = ""  #: "ALTO" or "PAGE", for messages
    root_name = ""  #: local name of the root element: "alto" or "PcGts"

    def __init__(self, options: PageOptions):
        self.options = options
        self._exclude = re.compile(options.exclude_pattern) if options.exclude_pattern else None
        self._document = (
            re.compile(options.document_pattern)
            if options.group_by == "document" and options.document_pattern
            else None
        )
        self._types = {t.casefold() for t in options.line_types}

    @abstractmethod
    def sniff(self, head: bytes) -> bool:
        """Whether the first bytes of an XML file look like this format."""

    @abstractmethod
    def parse(self, root: Any, path: Path) -> PageTruth:
        """The page a parsed file describes; raises :class:`DatasetError` if it cannot."""

    def detect(self, path: Path) -> bool:
        if path.is_file():
            return path.suffix.lower() == ".xml" and self.sniff(read_head(path))
        if path.is_dir():
            first = _first_xml(path)
            return first is not None and self.sniff(read_head(first))
        return False

    def samples(self, path: Path, report: DatasetReport, skip_bad: bool) -> Iterator[Sample]:
        files, base = self._files(path)
        for xml in files:
            try:
                yield from self._page(xml, base, report, skip_bad, single=path.is_file())
            except DatasetError as exc:
                bad(report, skip_bad, "unreadable page", str(exc))

    def pages(self, path: Path, report: DatasetReport, skip_bad: bool) -> Iterator[Page]:
        """The pages under ``path``, each with its image, its true lines (after this
        reader's filters), its text regions, its name and its group, for evaluating and
        training segmentation; pages without lines come too."""
        files, base = self._files(path)
        for xml in files:
            try:
                page = self._load(xml, base, report, skip_bad, single=path.is_file())
            except DatasetError as exc:
                bad(report, skip_bad, "unreadable page", str(exc))
                continue
            if page is not None:
                yield page

    def _files(self, path: Path) -> tuple[list[Path], Path]:
        if path.is_file():
            return [path], path.parent
        files = list(sorted_files(path, "*.xml"))
        if not files:
            raise DatasetError(f"{path}: no .xml files")
        return files, path

    def _load(
        self, xml: Path, base: Path, report: DatasetReport, skip_bad: bool, single: bool,
        need_lines: bool = False,
    ) -> Page | None:  # fmt: skip
        root = parse_xml(xml)
        if local_name(root.tag) != self.root_name:
            if single:
                raise DatasetError(f"{xml}: not {self.format} XML (root <{root.tag}>)")
            report.drop(f"xml file not {self.format}")
            return None
        page = self.parse(root, xml)
        key = xml.relative_to(base).with_suffix("").as_posix()
        lines = []
        for line in page.lines:
            if isinstance(line, LineError):
                bad(report, skip_bad, "bad line", f"{xml}: {line}")
            elif self._types and not self._types & {t.casefold() for t in line.types}:
                report.drop("line type")
            elif not line.text:
                report.drop("empty")
            elif self._exclude is not None and self._exclude.search(line.text):
                report.drop("excluded")
            else:
                lines.append(line)
        if need_lines and not lines:
            return None
        image_path = find_image(xml, page.image)
        if image_path is None:
            named = f"image {page.image!r}" if page.image else "no image name"
            raise DatasetError(
                f"{xml}: {named} not found (also tried {xml.stem}"
                f"{'/'.join(IMAGE_EXTENSIONS)} beside it)"
            )
        roots = [base] + ([base.parent] if base.name.lower() in ("page", "alto") else [])
        if not self.options.allow_outside and outside(image_path, roots):
            raise DatasetError(
                f"{xml}: image {page.image!r} is outside {base}/, where the dataset was given "
                "(dataset option allow_outside=true reads it)"
            )
        image = read_page_image(image_path, f"{xml}: ")
        h, w = image.shape[:2]
        # geometry clipped to the page once, here: a 50,000-px box or 1e11 coordinates
        # cost every later step memory and time (or an overflow)
        kept = []
        for line in lines:
            clipped = clip_line(line, w, h)
            if clipped is None:
                bad(report, skip_bad, "line outside the page", f"{xml}: line {line.id!r} lies "
                    f"outside the {w}x{h} page")  # fmt: skip
            else:
                kept.append(clipped)
        if need_lines and not kept:
            return None
        regions = [clip_points(r, w, h) for r in page.regions]
        return Page(str(xml), image, kept, regions, key, self._group(xml, key))

    def _page(
        self, xml: Path, base: Path, report: DatasetReport, skip_bad: bool, single: bool
    ) -> Iterator[Sample]:
        page = self._load(xml, base, report, skip_bad, single, need_lines=True)
        if page is None:
            return
        image = page.image
        sample_base = xml.relative_to(base).as_posix()
        for line in page.lines:
            cut = crop(image, line, self.options.straighten)
            if cut.size == 0:
                h, w = image.shape[:2]
                bad(
                    report,
                    skip_bad,
                    "bad line",
                    f"{xml}: line {line.id!r} covers no pixel of the {w}x{h} page image",
                )
                continue
            yield Sample(f"{sample_base}#{line.id}", line.text, page.group, cut, str(xml))

    def _group(self, xml: Path, key: str) -> str:
        if self.options.group_by == "folder":
            # the sub-folder below the dataset folder; pages at its top are their own group
            parent = key.rpartition("/")[0]
            return parent or key
        if self._document is None:
            return key
        match = self._document.search(xml.stem)
        if match is None:
            return key
        return match.group(1) if self._document.groups else match.group(0)


def _first_xml(folder: Path) -> Path | None:
    """An ``.xml`` file in ``folder`` or one level down (cheap, for detection)."""
    for pattern in ("*.xml", "*/*.xml"):
        found = sorted(p for p in folder.glob(pattern) if not p.name.startswith("."))
        if found:
            return found[0]
    return None

"""``pdf``: each page of a PDF, rendered in grey at ``dpi`` (default 300) by pdfium
(``pypdfium2``, the extra ``htrkit[pdf]``).

A PDF of N pages is N inputs: ``htrkit run scans.pdf`` expands it into
``scans.pdf#page=1`` ... ``scans.pdf#page=N`` (:func:`page_sources`), and each page is
rendered only when it is read, so a 100-page PDF is never in memory at once. Outputs are
named after the page (``scans-p001.txt``) and results keep the page in their ``source``.
A page's pixel count is checked against the image limit (``HTRKIT_MAX_IMAGE_PIXELS``)
from its size in points before it is rendered.
"""

from __future__ import annotations

from pathlib import Path

from htrkit.errors import ImageError, InputError
from htrkit.loaders import PAGE_REF, page_refs, split_ref
from htrkit.loaders.options import PdfOptions
from htrkit.results import Page


def _open(path: Path):
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise InputError(
            f"{path}: reading PDF needs pypdfium2: pip install 'htrkit[pdf]'"
        ) from None
    if not path.is_file():
        from htrkit.imageio import missing

        raise InputError(missing(str(path)))
    try:
        return pdfium.PdfDocument(str(path))
    except Exception as exc:  # pdfium's PdfiumError and friends
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a readable PDF ({first[:160]})") from None


def page_count(path: Path) -> int:
    document = _open(path)
    try:
        return len(document)
    finally:
        document.close()


def page_sources(path: Path) -> list[str]:
    """The inputs a PDF stands for: one ``path#page=N`` per page (the path itself when it
    has a single page)."""
    count = page_count(path)
    if count == 0:
        raise InputError(f"{path}: the PDF has no pages")
    return page_refs(path, count)


class PdfLoader:
    def __init__(self, options: PdfOptions | None = None):
        self.options = options or PdfOptions()

    def sources(self, path: Path) -> list[str]:
        """The inputs this file stands for: one per page (see :func:`page_sources`)."""
        return page_sources(path)

    def load(self, path: Path) -> Page:
        """A page of a PDF: ``scans.pdf#page=3``, or ``scans.pdf`` when it has one page."""
        from htrkit.imageio import check_size

        file, index = split_ref(str(path))
        document = _open(file)
        try:
            count = len(document)
            if index is None:
                if count != 1:
                    raise InputError(
                        f"{file}: the PDF has {count} pages; read them as {file}#page=1 ... "
                        f"(htrkit run expands a PDF into its pages)"
                    )
                index = 0
            if index >= count:
                raise InputError(f"{path}: the PDF has {count} page(s)")
            page = document[index]
            try:
                scale = self.options.dpi / 72.0
                width, height = page.get_size()
                check_size(round(width * scale), round(height * scale), str(path))
                bitmap = page.render(scale=scale, grayscale=True)
                image = bitmap.to_numpy().copy()
                bitmap.close()
            finally:
                page.close()
        except ImageError:
            raise
        except InputError:
            raise
        except Exception as exc:  # a damaged page
            raise InputError(f"{path}: cannot render the page ({str(exc)[:160]})") from None
        finally:
            document.close()
        if image.ndim == 3:
            image = image[:, :, 0]
        source = str(path) if index is not None and PAGE_REF.match(str(path)) else str(file)
        return Page(source=source, image=image)

"""Built-in dataset readers.

The order matters: a dataset path with no format named goes to the first reader that
detects it, so specific formats come first and the folder of bare images last.
"""

from __future__ import annotations

from htrkit.datasets.options import (
    DigitsOptions,
    FolderLabelsOptions,
    GtPairsOptions,
    IamOptions,
    PageOptions,
    SynthOptions,
    TableOptions,
)
from htrkit.hookspecs import hookimpl
from htrkit.specs import DatasetSpec


def _alto(options: PageOptions):
    from htrkit.datasets.alto import AltoReader

    return AltoReader(options)


def _page(options: PageOptions):
    from htrkit.datasets.pagexml import PageXmlReader

    return PageXmlReader(options)


def _iam(options: IamOptions):
    from htrkit.datasets.iam import IamReader

    return IamReader(options)


def _table(options: TableOptions):
    from htrkit.datasets.table import TableReader

    return TableReader(options)


def _gt_pairs(options: GtPairsOptions):
    from htrkit.datasets.gtpairs import GtPairsReader

    return GtPairsReader(options)


def _folder_labels(options: FolderLabelsOptions):
    from htrkit.datasets.folder import FolderLabelsReader

    return FolderLabelsReader(options)


def _synth(options: SynthOptions):
    from htrkit.datasets.synthetic import SynthReader

    return SynthReader(options)


def _digits(options: DigitsOptions):
    from htrkit.datasets.digits import DigitsReader

    return DigitsReader(options)


@hookimpl
def htrkit_register_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec(
            "alto",
            _alto,
            "ALTO v2-v4 pages (an .xml file or a folder): line polygons and text",
            options=PageOptions,
        ),
        DatasetSpec(
            "page",
            _page,
            "PAGE-XML 2013/2019 pages (an .xml file or a folder): line polygons and text",
            options=PageOptions,
            aliases=("pagexml",),
        ),
        DatasetSpec(
            "iam",
            _iam,
            "the IAM database layout: ascii/words.txt or lines.txt and the image tree",
            options=IamOptions,
        ),
        DatasetSpec(
            "table",
            _table,
            "a CSV/TSV table of image paths and texts (Kaggle names, DHSD, ...)",
            options=TableOptions,
            aliases=("csv", "tsv"),
        ),
        DatasetSpec(
            "gt-pairs",
            _gt_pairs,
            "line images with name.gt.txt transcriptions beside them (kraken, ocropy)",
            options=GtPairsOptions,
        ),
        DatasetSpec(
            "folder-labels",
            _folder_labels,
            "a folder of images named after their labels (captchas): 3bnyf.png",
            options=FolderLabelsOptions,
        ),
        DatasetSpec(
            "digits",
            _digits,
            "handwritten digits in a .npz file (MNIST): alone or composed into strings",
            options=DigitsOptions,
            aliases=("mnist",),
        ),
        DatasetSpec(
            "synth",
            _synth,
            "synthetic lines rendered on the fly from a corpus file in handwriting fonts",
            options=SynthOptions,
        ),
    ]

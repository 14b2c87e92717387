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

DATASETS = [
    DatasetSpec(
        "alto",
        "htrkit.datasets.alto:AltoReader",
        "ALTO v2-v4 pages (an .xml file or a folder): line polygons and text",
        options=PageOptions,
    ),
    DatasetSpec(
        "page",
        "htrkit.datasets.pagexml:PageXmlReader",
        "PAGE-XML 2013/2019 pages (an .xml file or a folder): line polygons and text",
        options=PageOptions,
        aliases=("pagexml",),
    ),
    DatasetSpec(
        "iam",
        "htrkit.datasets.iam:IamReader",
        "the IAM database layout: ascii/words.txt or lines.txt and the image tree",
        options=IamOptions,
    ),
    DatasetSpec(
        "table",
        "htrkit.datasets.table:TableReader",
        "a CSV/TSV table of image paths and texts (Kaggle names, DHSD, ...)",
        options=TableOptions,
        aliases=("csv", "tsv"),
    ),
    DatasetSpec(
        "gt-pairs",
        "htrkit.datasets.gtpairs:GtPairsReader",
        "line images with name.gt.txt transcriptions beside them (kraken, ocropy)",
        options=GtPairsOptions,
    ),
    DatasetSpec(
        "folder-labels",
        "htrkit.datasets.folder:FolderLabelsReader",
        "a folder of images named after their labels (captchas): 3bnyf.png",
        options=FolderLabelsOptions,
    ),
    DatasetSpec(
        "digits",
        "htrkit.datasets.digits:DigitsReader",
        "handwritten digits in a .npz file (MNIST): alone or composed into strings",
        options=DigitsOptions,
        aliases=("mnist",),
    ),
    DatasetSpec(
        "synth",
        "htrkit.datasets.synthetic:SynthReader",
        "synthetic lines rendered on the fly from a corpus file in handwriting fonts",
        options=SynthOptions,
    ),
]


@hookimpl
def htrkit_register_datasets() -> list[DatasetSpec]:
    return DATASETS

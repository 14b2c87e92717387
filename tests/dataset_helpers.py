"""Helpers of the dataset tests: small page images, saving them, reading a dataset with
its report, and the layout namespaces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from htrkit.datasets import DatasetReport, read_dataset

ALTO4 = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO2 = "http://www.loc.gov/standards/alto/ns-v2#"
PAGE2013 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15"
PAGE2019 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"


def page_image(width: int = 400, height: int = 200) -> np.ndarray:
    """A page whose every pixel is below 255 and tells where it is, so that a crop's
    position can be checked and white can only come from polygon masking."""
    y, x = np.mgrid[0:height, 0:width]
    return ((x * 7 + y * 13) % 250).astype(np.uint8)


def save(array: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def read(path: Path, fmt: str | None = None, options=None, skip_bad: bool = False):
    report = DatasetReport()
    samples = list(read_dataset(path, fmt, options, skip_bad=skip_bad, report=report))
    return samples, report


def alto(lines: str, image: str = "page.png", ns: str = ALTO4, unit: str = "pixel") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="{ns}">
  <Description>
    <MeasurementUnit>{unit}</MeasurementUnit>
    <sourceImageInformation><fileName>{image}</fileName></sourceImageInformation>
  </Description>
  <Tags>
    <OtherTag ID="LT1" LABEL="DefaultLine"/><OtherTag ID="LT2" LABEL="InterlinearLine"/>
  </Tags>
  <Layout><Page WIDTH="400" HEIGHT="200"><PrintSpace>
    <TextBlock ID="b1">{lines}</TextBlock>
  </PrintSpace></Page></Layout>
</alto>
"""


ALTO_LINES = """
<TextLine ID="l1" TAGREFS="LT1" BASELINE="12 38 118 38" HPOS="10" VPOS="10" WIDTH="110" HEIGHT="30">
  <Shape><Polygon POINTS="20 10 120 10 110 40 10 40"/></Shape>
  <String CONTENT="Hello"/><SP/><String CONTENT="wor"/><HYP CONTENT="-"/>
</TextLine>
<TextLine ID="l2" TAGREFS="LT2" HPOS="10" VPOS="50" WIDTH="100" HEIGHT="20">
  <String CONTENT="two"/><String CONTENT="words"/>
</TextLine>
<TextLine ID="l3" TAGREFS="LT1" HPOS="10" VPOS="80" WIDTH="100" HEIGHT="20">
  <String CONTENT="  "/>
</TextLine>
"""


def page_xml(ns: str, image: str = "../scan.png") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="{ns}">
  <Metadata><Creator>test</Creator></Metadata>
  <Page imageFilename="{image}" imageWidth="400" imageHeight="200">
    <TextRegion id="r1"><Coords points="0,0 400,0 400,200 0,200"/>
      <TextLine id="t1" custom="readingOrder {{index:0;}} structure {{type:heading;}}">
        <Coords points="20,10 120,10 110,40 10,40"/>
        <Baseline points="12,38 118,38"/>
        <TextEquiv index="1"><Unicode>second choice</Unicode></TextEquiv>
        <TextEquiv index="0"><Unicode>first choice</Unicode></TextEquiv>
      </TextLine>
      <TextRegion id="r2"><Coords points="0,0 1,0 1,1"/>
        <TextLine id="t2">
          <Coords points="10,50 110,50 110,70 10,70"/>
          <Word id="w1"><Coords points="10,50 50,50 50,70"/>
            <TextEquiv><Unicode>nested</Unicode></TextEquiv></Word>
          <Word id="w2"><Coords points="60,50 110,50 110,70"/>
            <TextEquiv><Unicode>words</Unicode></TextEquiv></Word>
        </TextLine>
      </TextRegion>
      <TextLine id="t3"><Coords points="10,80 110,80 110,100 10,100"/>
        <TextEquiv><Unicode>plain   line </Unicode></TextEquiv>
        <TextEquiv><Unicode>ignored</Unicode></TextEquiv>
      </TextLine>
    </TextRegion>
  </Page>
</PcGts>
"""

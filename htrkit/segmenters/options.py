"""Options of the built-in segmenters."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class WholeImageOptions:
    trim: bool = field(
        default=True, metadata={"help": "crop blank margins around the ink before reading"}
    )
    margin: int = field(default=4, metadata={"help": "pixels kept around the ink", "min": 0})
    margin_share: float = field(
        default=0.0,
        metadata={"help": "more margin, as a share of the ink's height (a drawing scaled "
                  "like the training lines: MNIST keeps 0.2 around its digits)", "min": 0.0},
    )  # fmt: skip


@dataclass(frozen=True)
class ProjectionOptions:
    max_skew: float = field(
        default=5.0,
        metadata={
            "help": "largest page rotation searched, degrees either way",
            "min": 0,
            "max": 20,
        },
    )
    skew_step: float = field(
        default=0.25, metadata={"help": "angle step of the skew search, degrees", "min": 0.05}
    )
    min_ink: float = field(
        default=0.15,
        metadata={
            "help": "a band with less ink than this share of the median line's is merged "
            "into its neighbour (dots, accents, stray descenders)",
            "min": 0,
            "max": 1,
        },
    )
    margin: float = field(
        default=0.15,
        metadata={
            "help": "space added above and below each line (share of line spacing)",
            "min": 0,
        },
    )
    work_width: int = field(
        default=1600,
        metadata={"help": "pages wider than this are analysed at this width", "min": 200},
    )


@dataclass(frozen=True)
class AutoOptions:
    line_aspect: float = field(
        default=2.0,
        metadata={
            "help": "an image at least this many times wider than high is one line",
            "min": 0,
        },
    )
    line_height: int = field(
        default=160,
        metadata={"help": "an image at most this high (pixels) is one line", "min": 0},
    )
    trim: bool = field(
        default=True, metadata={"help": "a line image: crop blank margins around the ink"}
    )
    margin: int = field(
        default=4, metadata={"help": "a line image: pixels kept around the ink", "min": 0}
    )


@dataclass(frozen=True)
class AStarOptions(ProjectionOptions):
    near_ink: float = field(
        default=4.0,
        metadata={"help": "extra cost of a path step next to ink (fading over a fifth of "
                  "a line height)", "min": 0},
    )  # fmt: skip
    on_ink: float = field(
        default=50.0, metadata={"help": "extra cost of a path step on ink", "min": 0}
    )


@dataclass(frozen=True)
class LearnedOptions:
    model: str = field(
        default="default",
        metadata={"help": "segmenter model file; 'default': the bundled one"},
    )
    threshold: float = field(
        default=0.5,
        metadata={"help": "probability above which a pixel is a line's or a baseline's",
                  "min": 0.0, "max": 1.0},
    )  # fmt: skip
    min_length: float = field(
        default=0.06,
        metadata={"help": "shortest baseline kept, as a share of the page width", "min": 0.0},
    )
    join_gap: float = field(
        default=3.0,
        metadata={"help": "widest gap, in line spacings, across which pieces of one "
                  "baseline are joined", "min": 0.0},
    )  # fmt: skip
    remove_rules: bool = field(
        default=True,
        metadata={"help": "paint out ruled lines (thin straight runs) before the network "
                  "reads the page"},
    )  # fmt: skip
    gutter: float = field(
        default=1.0,
        metadata={"help": "a gap wider than this many line spacings is joined across only "
                  "where the line region runs on (not across a column gutter)", "min": 0.0},
    )  # fmt: skip

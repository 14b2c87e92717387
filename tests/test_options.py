"""Typed component options: unknown keys, coercion of command-line strings, bounds."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

import pytest

from htrkit.errors import HtrkitError, OptionsError
from htrkit.options import NoOptions, field_help, parse_key_values, validate_options

WHAT = "decoder 'beam'"


@dataclass(frozen=True)
class BeamOptions:
    beam_width: int = field(default=10, metadata={"help": "beams kept", "min": 1, "max": 512})
    char_prune: float = field(default=0.001, metadata={"min": 0.0, "max": 1.0})
    merge_repeats: bool = True
    mode: Literal["greedy", "beam", "word-beam"] = "beam"
    level: Literal[1, 2, 3] = 1
    lexicon: Optional[str] = None  # noqa: UP045 -- typing.Optional must keep working
    max_words: int | None = field(default=None, metadata={"min": 1})
    weights: tuple[float, ...] = (1.0,)
    stop_chars: tuple[str, ...] = ()
    extra: Any = None


@dataclass(frozen=True)
class NeedsLexicon:
    lexicon: str = field(metadata={"help": "word list file"})
    tags: list[str] = field(default_factory=lambda: ["a"])
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.scale == 0:
            raise ValueError("scale must not be 0")


def validate(values, schema=BeamOptions):
    return validate_options(schema, values, what=WHAT)


def error(values, schema=BeamOptions) -> str:
    with pytest.raises(OptionsError) as info:
        validate(values, schema)
    assert isinstance(info.value, HtrkitError) and isinstance(info.value, ValueError)
    assert info.value.exit_code == 2
    message = str(info.value)
    assert "\n" not in message
    return message


# -- defaults and pass-through ---------------------------------------------------------


def test_defaults():
    for empty in (None, {}):
        assert validate(empty) == BeamOptions()


def test_instance_passes_through():
    options = BeamOptions(beam_width=3)
    assert validate(options) is options


def test_python_values_kept():
    options = validate(
        {"beam_width": 16, "char_prune": 0.5, "merge_repeats": False, "mode": "greedy"}
    )
    assert options == BeamOptions(16, 0.5, False, "greedy")
    assert isinstance(options.char_prune, float)


def test_int_accepted_for_float():
    options = validate({"char_prune": 1})
    assert options.char_prune == 1.0 and type(options.char_prune) is float


def test_no_options():
    assert validate_options(NoOptions, None, what="metric 'cer'") == NoOptions()
    with pytest.raises(
        OptionsError, match=r"unknown option 'x' for metric 'cer'; valid options: none"
    ):
        validate_options(NoOptions, {"x": 1}, what="metric 'cer'")


# -- unknown keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("beam_widht", "beam_width"),
        ("beamwidth", "beam_width"),
        ("char_purne", "char_prune"),
        ("merge_repeat", "merge_repeats"),
        ("lexicn", "lexicon"),
    ],
)
def test_unknown_key_suggests_close_name(key, suggestion):
    message = error({key: 3})
    assert message.startswith(f"unknown option {key!r} for {WHAT}; did you mean {suggestion!r}?")
    assert "valid options: beam_width, char_prune, extra, level, lexicon" in message


def test_unknown_key_without_close_name():
    message = error({"zzzzzz": 1})
    assert message.startswith(f"unknown option 'zzzzzz' for {WHAT}; valid options: ")
    assert "did you mean" not in message


def test_unknown_key_reported_even_with_valid_ones():
    assert "'beam_widht'" in error({"beam_width": 3, "beam_widht": 4})


def test_unknown_key_on_real_component():
    from htrkit.plugins import registry

    with pytest.raises(OptionsError, match=r"did you mean 'beam_width'\?"):
        registry("decoder").get("beam").validate({"beam_widht": "8"})
    assert registry("decoder").get("beam").validate({"beam_width": "8"}).beam_width == 8


# -- strings from the command line -----------------------------------------------------


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("beam_width", "16", 16),
        ("beam_width", "  7 ", 7),
        ("beam_width", "+3", 3),
        ("char_prune", "0.25", 0.25),
        ("char_prune", "1e-3", 0.001),
        ("char_prune", "1", 1.0),
        ("merge_repeats", "yes", True),
        ("merge_repeats", "no", False),
        ("merge_repeats", "true", True),
        ("merge_repeats", "False", False),
        ("merge_repeats", "ON", True),
        ("merge_repeats", "off", False),
        ("merge_repeats", "1", True),
        ("merge_repeats", "0", False),
        ("mode", "word-beam", "word-beam"),
        ("level", "2", 2),
        ("lexicon", "words.txt", "words.txt"),
        ("lexicon", "none", None),
        ("lexicon", "None", None),
        ("lexicon", "null", None),
        ("max_words", "none", None),
        ("max_words", "12", 12),
        ("weights", "0.5, 1.5,2", (0.5, 1.5, 2.0)),
        ("weights", "3", (3.0,)),
        ("weights", "", ()),
        ("stop_chars", "., ;,!", (".", ";", "!")),
        ("extra", "anything", "anything"),
    ],
)
def test_string_coercion(key, text, value):
    got = getattr(validate({key: text}), key)
    assert got == value
    assert type(got) is type(value)


def test_tuple_from_python_list():
    options = validate({"weights": [1, 2.5], "stop_chars": ("a", "b")})
    assert options.weights == (1.0, 2.5) and type(options.weights) is tuple
    assert options.stop_chars == ("a", "b")


def test_all_strings_from_cli():
    values = parse_key_values(
        ["beam-width=32", "char_prune=0.01", "merge-repeats=no", "mode=greedy", "lexicon=none"]
    )
    assert validate(values) == BeamOptions(32, 0.01, False, "greedy", lexicon=None)


# -- wrong values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("beam_width", "abc", "expected an integer, got 'abc'"),
        ("beam_width", "3.0", "expected an integer, got '3.0'"),
        ("beam_width", 3.0, "expected an integer, got 3.0"),
        ("beam_width", True, "expected an integer, got True"),
        ("beam_width", "", "expected an integer, got ''"),
        ("beam_width", None, "expected an integer, got None"),
        ("char_prune", "fast", "expected a number, got 'fast'"),
        ("char_prune", False, "expected a number, got False"),
        ("merge_repeats", "maybe", "expected true or false, got 'maybe'"),
        ("merge_repeats", 1, "expected true or false, got 1"),
        ("mode", "bem", "expected one of 'greedy', 'beam', 'word-beam', got 'bem'"),
        ("level", "4", "expected one of 1, 2, 3, got '4'"),
        ("lexicon", 5, "expected a string, got 5"),
        ("max_words", "many", "expected an integer, got 'many'"),
        ("weights", "1,x", "expected a number, got 'x'"),
        ("weights", 5, "expected a list, got 5"),
    ],
)
def test_wrong_value(key, value, expected):
    assert error({key: value}) == f"option {key!r} of {WHAT}: {expected}"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("beam_width", "0", "must be >= 1, got 0"),
        ("beam_width", -5, "must be >= 1, got -5"),
        ("beam_width", "513", "must be <= 512, got 513"),
        ("char_prune", "-0.1", "must be >= 0.0, got -0.1"),
        ("char_prune", 1.5, "must be <= 1.0, got 1.5"),
        ("max_words", "0", "must be >= 1, got 0"),
        # integers without bounds of their own keep within a C int
        ("max_words", "99999999999999999999", "must be <= 2147483647, got 99999999999999999999"),
    ],
)
def test_bounds(key, value, expected):
    assert error({key: value}) == f"option {key!r} of {WHAT} {expected}"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", float("nan"), float("inf"), "1e999"])
def test_numbers_must_be_finite(value):
    # bounded or not: alpha=inf once read every line as empty text, with exit status 0
    for key in ("char_prune", "weights") if isinstance(value, str) else ("char_prune",):
        assert error({key: value}) == f"option {key!r} of {WHAT}: expected a finite number, " + (
            f"got {value!r}"
        )


def test_decoders_refuse_a_beam_too_wide_to_run():
    from htrkit.decoders.options import MAX_BEAM, KenLMOptions

    message = error({"beam_width": str(MAX_BEAM + 1)}, KenLMOptions)
    assert message.endswith(f"must be <= {MAX_BEAM}, got {MAX_BEAM + 1}")
    assert validate({"beam_width": str(MAX_BEAM)}, KenLMOptions).beam_width == MAX_BEAM


def test_bounds_are_inclusive():
    assert validate({"beam_width": "1"}).beam_width == 1
    assert validate({"beam_width": 512}).beam_width == 512
    assert validate({"char_prune": "0"}).char_prune == 0.0
    assert validate({"char_prune": "1.0"}).char_prune == 1.0
    assert validate({"max_words": None}).max_words is None  # no bound on None


def test_required_option_missing():
    assert error({"scale": 2}, NeedsLexicon) == f"{WHAT} needs option 'lexicon'"
    assert validate({"lexicon": "w.txt"}, NeedsLexicon) == NeedsLexicon("w.txt")


def test_post_init_check_becomes_options_error():
    assert error({"lexicon": "w", "scale": "0"}, NeedsLexicon) == f"{WHAT}: scale must not be 0"


def test_unsupported_field_type():
    message = error({"lexicon": "w", "tags": ["x"]}, NeedsLexicon)
    assert message.startswith(f"option 'tags' of {WHAT}: unsupported option type")


def test_real_backbone_post_init():
    from htrkit.plugins import registry

    spec = registry("backbone").get("crnn-small")
    with pytest.raises(OptionsError, match="height must be a multiple of 8, got 30"):
        spec.validate({"height": "30"})
    with pytest.raises(
        OptionsError, match=r"option 'hidden' of backbone 'crnn-small' must be >= 8"
    ):
        spec.validate({"hidden": 4})


# -- key=value pairs ---------------------------------------------------------------------


def test_parse_key_values():
    assert parse_key_values([]) == {}
    assert parse_key_values(["beam_width=16", "lexicon=words.txt"]) == {
        "beam_width": "16",
        "lexicon": "words.txt",
    }
    # dashes become underscores, the key is stripped, the value is kept as given
    assert parse_key_values([" beam-width =16", "sep= ,", "expr=a=b", "empty="]) == {
        "beam_width": "16",
        "sep": " ,",
        "expr": "a=b",
        "empty": "",
    }
    # a repeated key: the last one wins
    assert parse_key_values(["a=1", "a=2"]) == {"a": "2"}


@pytest.mark.parametrize("pair", ["beam_width", "=16", " =x", ""])
def test_parse_key_values_bad_pair(pair):
    with pytest.raises(OptionsError) as info:
        parse_key_values(["ok=1", pair])
    assert str(info.value) == f"option {pair!r} is not of the form key=value"


# -- help --------------------------------------------------------------------------------


def test_field_help():
    rows = {row["name"]: row for row in field_help(BeamOptions)}
    assert list(rows) == [f.name for f in dataclasses.fields(BeamOptions)]
    assert rows["beam_width"] == {
        "name": "beam_width",
        "type": "int",
        "default": 10,
        "required": False,
        "help": "beams kept",
        "min": 1,
        "max": 512,
    }
    assert rows["char_prune"]["type"] == "float"
    assert (rows["char_prune"]["min"], rows["char_prune"]["max"]) == (0.0, 1.0)
    assert "min" not in rows["merge_repeats"] and rows["merge_repeats"]["help"] == ""
    assert rows["merge_repeats"]["type"] == "bool"
    assert rows["mode"]["type"] == "'greedy' | 'beam' | 'word-beam'"
    assert rows["level"]["type"] == "1 | 2 | 3"
    assert rows["lexicon"]["type"] == "str | none"
    assert rows["max_words"]["type"] == "int | none"
    assert rows["max_words"]["min"] == 1
    assert rows["weights"]["type"] == "list[float]"
    assert rows["weights"]["default"] == (1.0,)
    assert rows["extra"]["type"] == "Any"


def test_field_help_required_and_factory():
    rows = {row["name"]: row for row in field_help(NeedsLexicon)}
    assert rows["lexicon"]["required"] is True
    assert rows["lexicon"]["default"] is None
    assert rows["lexicon"]["help"] == "word list file"
    assert rows["tags"]["required"] is False
    assert rows["tags"]["default"] == ["a"]


def test_field_help_no_options():
    assert field_help(NoOptions) == []


def test_literal_of_ints_refuses_bools():
    assert "expected one of 1, 2, 3" in error({"level": True})
    assert validate({"level": "2"}).level == 2


# -- the option() helper ------------------------------------------------------------------


def test_option_helper_is_the_field_it_abbreviates():
    from htrkit.options import option

    @dataclass(frozen=True)
    class Short:
        lexicon: str = option(help="word list file")
        beam_width: int = option(10, "beams kept", min=1, max=512)
        char_prune: float = option(0.001, min=0.0, max=1.0)
        tags: tuple[str, ...] = option(help="tags", factory=lambda: ("a",))

    rows = {row["name"]: row for row in field_help(Short)}
    long_rows = {row["name"]: row for row in field_help(BeamOptions)}
    assert rows["beam_width"] == long_rows["beam_width"]
    assert {k: rows["char_prune"][k] for k in ("min", "max", "default")} == {
        "min": 0.0,
        "max": 1.0,
        "default": 0.001,
    }
    assert rows["lexicon"]["required"] and rows["lexicon"]["help"] == "word list file"
    assert rows["tags"]["default"] == ("a",) and not rows["tags"]["required"]
    assert "needs option 'lexicon'" in error({}, Short)
    assert "must be <= 512, got 513" in error({"lexicon": "w", "beam_width": "513"}, Short)
    assert validate({"lexicon": "w", "beam_width": "7"}, Short).beam_width == 7

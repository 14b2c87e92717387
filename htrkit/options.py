"""Typed, validated component options.

A component's options schema is a frozen dataclass. Each field has a type (``int``,
``float``, ``bool``, ``str``, ``Literal[...]``, ``Optional[...]`` or a ``tuple`` of those), a
default, and optionally a help text and bounds, given with :func:`option`::

    @dataclass(frozen=True)
    class BeamOptions:
        beam_width: int = option(10, "beams kept", min=1)

:func:`validate_options` turns a mapping (from Python, TOML or ``--option key=value`` on the
command line, where every value is a string) into an instance, rejecting unknown keys with a
suggestion and coercing strings to the declared type.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from htrkit.errors import OptionsError, suggest

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """The schema of a component that takes no options."""


_REQUIRED: Any = dataclasses.MISSING


def option(
    default: Any = _REQUIRED,
    help: str = "",
    *,
    min: float | None = None,
    max: float | None = None,
    factory: Any = None,
) -> Any:
    """A field of an options dataclass: its ``default`` (leave it out for a required
    option; ``factory`` builds a mutable one), a one-line ``help`` shown by
    ``htrkit plugins`` and in the docs, and inclusive ``min``/``max`` bounds that
    :func:`validate_options` enforces."""
    metadata: dict[str, Any] = {"help": help}
    if min is not None:
        metadata["min"] = min
    if max is not None:
        metadata["max"] = max
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def field_help(schema: type) -> list[dict[str, Any]]:
    """Describe every option of ``schema``: name, type, default, help, bounds."""
    hints = typing.get_type_hints(schema)
    rows = []
    for f in dataclasses.fields(schema):
        default: Any = f.default
        if f.default is dataclasses.MISSING:
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        rows.append(
            {
                "name": f.name,
                "type": _type_name(hints[f.name]),
                "default": default,
                "required": f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING,
                "help": f.metadata.get("help", ""),
                **{k: f.metadata[k] for k in ("min", "max") if k in f.metadata},
            }
        )
    return rows


def validate_options(schema: type, values: Mapping[str, Any] | None, *, what: str) -> Any:
    """Build an instance of the dataclass ``schema`` from ``values``.

    :param schema: a dataclass type describing the options.
    :param values: option names to values; strings are coerced to the field's type.
    :param what: the component, for error messages (``"decoder 'beam'"``).
    :raises OptionsError: for an unknown key, a missing required key, or a bad value.
    """
    if isinstance(values, schema):
        return values
    if values is not None and not isinstance(values, Mapping):
        raise OptionsError(f"options of {what} must be a table of key = value, got {values!r}")
    values = dict(values or {})
    hints = typing.get_type_hints(schema)
    fields = {f.name: f for f in dataclasses.fields(schema)}
    unknown = [k for k in values if k not in fields]
    if unknown:
        key = unknown[0]
        hint = suggest(key, fields) or ";"
        valid = ", ".join(sorted(fields)) or "none"
        raise OptionsError(f"unknown option {key!r} for {what}{hint} valid options: {valid}")
    required = [
        f.name
        for f in fields.values()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in values]
    if missing:
        raise OptionsError(f"{what} needs option {missing[0]!r}")
    kwargs = {}
    for name, value in values.items():
        f = fields[name]
        try:
            value = _coerce(value, hints[name])
        except (TypeError, ValueError) as exc:
            raise OptionsError(f"option {name!r} of {what}: {exc}") from None
        bounds = {**_DEFAULT_BOUNDS.get(_base_type(hints[name]), {}), **f.metadata}
        for bound, ok in (("min", lambda v, b: v >= b), ("max", lambda v, b: v <= b)):
            if bound in bounds and value is not None and not ok(value, bounds[bound]):
                rel = ">=" if bound == "min" else "<="
                raise OptionsError(
                    f"option {name!r} of {what} must be {rel} {bounds[bound]}, got {value!r}"
                )
        kwargs[name] = value
    try:
        return schema(**kwargs)
    except TypeError as exc:  # a required option is missing
        raise OptionsError(f"{what}: {exc}") from None
    except ValueError as exc:  # __post_init__ checks
        raise OptionsError(f"{what}: {exc}") from None


#: bounds of every integer option that gives none of its own: what a C int holds (numba's
#: and OpenCV's arguments), so that no count or size reaches them as an overflow
_DEFAULT_BOUNDS: dict[Any, dict[str, int]] = {int: {"min": -(2**31), "max": 2**31 - 1}}


def _base_type(tp: Any) -> Any:
    """``int`` for ``int`` and ``Optional[int]``; the type itself otherwise."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    origin = typing.get_origin(tp)
    if (origin is Union or origin is types.UnionType) and len(args) == 1:
        return args[0]
    return tp


def parse_key_values(pairs: list[str]) -> dict[str, str]:
    """Parse ``["beam_width=16", "lexicon=words.txt"]`` into a dict of strings."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise OptionsError(f"option {pair!r} is not of the form key=value")
        out[key.strip().replace("-", "_")] = value
    return out


def _coerce(value: Any, tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if value is None or (isinstance(value, str) and value.lower() in {"none", "null"}):
            if type(None) in args:
                return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg)
            except (TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise ValueError("; ".join(errors))
    if origin is Literal:
        choices = typing.get_args(tp)
        for choice in choices:
            same = type(value) is type(choice) and value == choice
            if same or (isinstance(value, str) and str(choice) == value):
                return choice
        raise ValueError(f"expected one of {', '.join(map(repr, choices))}, got {value!r}")
    if origin is tuple:
        (item,) = typing.get_args(tp)[:1] or (str,)
        if isinstance(value, str):
            value = [v for v in (p.strip() for p in value.split(",")) if v]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"expected a list, got {value!r}")
        return tuple(_coerce(v, item) for v in value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ValueError(f"expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise ValueError(f"expected an integer, got {value!r}")
    if tp is float:
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
        if number is None:
            raise ValueError(f"expected a number, got {value!r}")
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {value!r}")
        return number
    if tp is str:
        if isinstance(value, str):
            return value
        raise ValueError(f"expected a string, got {value!r}")
    if tp is Any:
        return value
    raise TypeError(f"unsupported option type {tp!r}")


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if origin is tuple:
        return f"list[{_type_name(typing.get_args(tp)[0])}]"
    return "none" if tp is type(None) else getattr(tp, "__name__", str(tp))

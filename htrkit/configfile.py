"""Pipeline TOML files (``htrkit run --config``, ``Pipeline.from_config``, what
``htrkit tune-decoder`` writes): read with their keys checked, and written so that they
read back from any folder."""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from htrkit.errors import ConfigError, suggest
from htrkit.modelfile import is_model_path


def read_config(path: str | os.PathLike[str], keys: Collection[str]) -> dict[str, Any]:
    """Read a pipeline TOML file whose keys must be among ``keys``; a relative ``model``
    path, and an option's relative path to a file beside it, are taken from the file's
    folder."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    path = Path(path)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such pipeline configuration file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read pipeline configuration ({exc})") from None
    allowed = set(keys)
    unknown = sorted(set(config) - allowed)
    if unknown:
        hint = suggest(unknown[0], allowed) or ";"
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r}{hint} valid keys: {', '.join(sorted(allowed))}"
        )
    model = config.get("model")
    if isinstance(model, str) and is_model_path(model) and not Path(model).is_absolute():
        config["model"] = str(path.parent / model)
    for key, table in config.items():  # decoder_options, segmenter_options
        if key.endswith("_options") and isinstance(table, dict):
            for name, value in table.items():
                if isinstance(value, str) and _beside(path, value):
                    table[name] = str(path.parent / value)
    return config


def _beside(config: Path, value: str) -> bool:
    """Whether an option's ``value`` is a relative path to a file beside the configuration
    (an LM, a lexicon): it is taken from there, as the model is, whatever the working
    folder."""
    if not value or Path(value).is_absolute() or ("/" not in value and "." not in value):
        return False
    return (config.parent / value).is_file()


def write_config(
    path: str | os.PathLike[str], config: Mapping[str, Any], comment: Sequence[str] = ()
) -> None:
    """Write a pipeline TOML file that :func:`read_config` (and ``Pipeline.from_config``,
    ``htrkit run --config``) reads back: plain keys, then one table per mapping value
    (``decoder_options``). A model or an option naming an existing file is written as an
    absolute path, so the file works from any folder. ``comment`` lines come first."""
    plain = {k: v for k, v in config.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in config.items() if isinstance(v, Mapping)}
    lines = [f"# {c}" for c in comment]
    for key, value in plain.items():
        lines.append(f"{key} = {_toml(_absolute(value))}")
    for name, table in tables.items():
        lines += ["", f"[{name}]"]
        lines += [f"{key} = {_toml(_absolute(value))}" for key, value in table.items()]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from htrkit.atomic import write_text

    write_text(path, "\n".join(lines) + "\n")


def _absolute(value: Any) -> Any:
    if isinstance(value, str) and value and Path(value).is_file():
        return str(Path(value).resolve())  # a file named relative to here
    return value


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string

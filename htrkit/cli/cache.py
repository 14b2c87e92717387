"""``htrkit data cache``: preprocess a training configuration's lines into LMDB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def register(data_app: typer.Typer) -> None:
    data_app.command("cache")(cache)


def cache(
    config: Path = typer.Argument(..., help="Training TOML file whose [data] to cache."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Cache file [default: the config's data.cache]."
    ),
    set_: list[str] = typer.Option([], "--set", "-s", help="Override: section.key=value."),
) -> None:
    """Decode, crop and preprocess every line once and store them in an LMDB file, which
    `htrkit train` then reads (set data.cache in the training config)."""
    from htrkit.errors import ConfigError
    from htrkit.training.config import load_config
    from htrkit.training.loop import Trainer

    overrides = list(set_)
    if output is not None:
        overrides.append(f"data.cache={json.dumps(str(output.resolve()))}")
    cfg = load_config(config, overrides)
    if not cfg.data.cache:
        raise ConfigError("no cache file: set data.cache in the config or pass --output")
    target = cfg.resolve(cfg.data.cache)
    if target.exists():
        raise ConfigError(f"{target}: exists already; delete it to rebuild")
    trainer = Trainer(cfg, log=typer.echo)
    trainer.load_data()
    size = target.stat().st_size / 1e6
    typer.echo(f"wrote {target}: {len(trainer.store)} lines, {size:.1f} MB")

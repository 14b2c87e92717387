"""``htrkit model``: inspect and create model files."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer

model_app = typer.Typer(help="Inspect and create model files.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")


@model_app.command("info")
def info(
    model: str = typer.Argument(..., help="Model file or installed model name."),
    as_json: bool = typer.Option(False, "--json", help="Print the configuration as JSON."),
) -> None:
    """Show a model's configuration: backbone, alphabet, input height, preprocessing."""
    from htrkit.modelfile import read_config
    from htrkit.plugins import registry

    path = Path(model)
    if not path.exists() and model in registry("model"):
        path = Path(registry("model").create(model))
    config = read_config(path)
    if as_json:
        typer.echo(json.dumps(asdict(config), ensure_ascii=False, indent=1))
        return
    typer.echo(f"model:      {path}")
    typer.echo(f"backbone:   {config.backbone} {json.dumps(config.backbone_options)}")
    typer.echo(f"height:     {config.input_height}")
    typer.echo(f"alphabet:   {len(config.alphabet)} symbols: {''.join(config.alphabet)}")
    steps = ", ".join(s["name"] for s in config.preprocess) or "none"
    typer.echo(f"preprocess: {steps}")
    for key, value in config.metadata.items():
        typer.echo(f"{key + ':':<11} {value}")


@model_app.command("new")
def new(
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the model file."),
    alphabet: str = typer.Option(..., "--alphabet", help="The characters the model can output."),
    backbone: str = typer.Option("crnn-small", "--backbone", help="Backbone name."),
    option: list[str] = typer.Option([], "--option", "-O", help="Backbone option key=value."),
    height: int = typer.Option(32, "--height", help="Input height in pixels.", min=8),
    seed: Optional[int] = typer.Option(0, "--seed", help="Random seed for the initial weights."),
) -> None:
    """Write a new, untrained model file (a starting point for training, or for testing a
    plugin before any model is trained)."""
    from htrkit.modelfile import ModelConfig
    from htrkit.options import parse_key_values
    from htrkit.plugins import registry
    from htrkit.preprocess.chain import standard_steps
    from htrkit.recognizer import Recognizer

    chars = list(dict.fromkeys(alphabet))
    options = parse_key_values(option)
    schema = registry("backbone").get(backbone).options
    if "height" in schema.__dataclass_fields__:
        options.setdefault("height", str(height))
    config = ModelConfig(
        backbone=backbone,
        alphabet=chars,
        input_height=height,
        backbone_options=options,
        preprocess=standard_steps("line", height),
        metadata={"description": "untrained"},
    )
    Recognizer.create(config, seed=seed).save(output)
    typer.echo(f"wrote {output} ({backbone}, {len(chars)} symbols, height {height})")

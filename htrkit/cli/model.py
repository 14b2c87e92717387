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
    model: str = typer.Argument(
        ..., help="Model file, installed model name, or segmenter (the learned segmenter's)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the configuration as JSON."),
) -> None:
    """Show a model's configuration: backbone, alphabet, input height, preprocessing."""
    from htrkit.modelfile import read_config

    path = _model_path(model)
    if path.suffix != ".onnx" and _is_segmenter(path):
        _segmenter_info(path, as_json)
        return
    extra: dict = {}
    if path.suffix == ".onnx":
        from htrkit.onnxmodel import describe

        found = describe(path)
        config = found["config"]
        extra = {
            "format": "ONNX" + (" (int8 weights)" if found["int8"] else ""),
            "source": f"sha256 {found['source_sha256'][:16]}..." if found["source_sha256"] else "?",
        }
    else:
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
    for key, value in {**extra, **config.metadata}.items():
        typer.echo(f"{key + ':':<11} {value}")


@model_app.command("export")
def export(
    model: str = typer.Argument(
        ..., help="Model file, installed model name, or segmenter (the learned segmenter's)."
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="The .onnx file [default: beside the model file]."
    ),
    opset: int = typer.Option(17, "--opset", help="ONNX opset.", min=13, max=21),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
) -> None:
    """Export a model's network to ONNX for the onnxruntime backend (htrkit run --backend
    onnx). The file carries the model's configuration; beside the model file (the
    default) it is found by --backend auto and onnx."""
    from htrkit.atomic import check_target
    from htrkit.cache import sha256
    from htrkit.errors import ConfigError
    from htrkit.onnxmodel import export as write_onnx
    from htrkit.recognizer import Recognizer

    path = _model_path(model)
    if path.suffix == ".onnx":
        raise ConfigError(f"{path}: already an ONNX file; export the .safetensors model")
    target = output if output is not None else path.with_suffix(".onnx")
    check_target(target, ".onnx", overwrite, "--output")
    if _is_segmenter(path):
        from htrkit.segmenters.learned_net import export_onnx

        export_onnx(path, target, opset=opset)
    else:
        recognizer = Recognizer.load(path)
        write_onnx(recognizer, target, opset=opset, source_sha256=sha256(path))
    typer.echo(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB, opset {opset})")


def _is_segmenter(path: Path) -> bool:
    from htrkit.errors import InputError
    from htrkit.segmenters.learned_net import read_config

    try:
        read_config(path)
    except InputError:
        return False
    return True


def _model_path(model: str) -> Path:
    """A model file, an installed model's name, or ``segmenter`` (the bundled learned
    segmenter's)."""
    from htrkit.plugins import registry

    path = Path(model)
    if path.exists():
        return path
    if model in registry("model"):
        return Path(registry("model").create(model))
    if model == "segmenter":
        from htrkit.segmenters.learned_net import BUNDLED

        return BUNDLED
    return path


def _segmenter_info(path: Path, as_json: bool) -> None:
    """What ``model info`` shows of a learned segmenter's file."""
    from htrkit.segmenters.learned_net import read_config

    config = read_config(path)
    if as_json:
        typer.echo(json.dumps(config, ensure_ascii=False, indent=1))
        return
    typer.echo(f"model:      {path}")
    typer.echo("kind:       learned line segmenter (htrkit run --segmenter learned)")
    for key, value in config.items():
        shown = value if isinstance(value, (str, int, float)) else json.dumps(value)
        typer.echo(f"{key + ':':<11} {shown}")


@model_app.command("new")
def new(
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the model file."),
    alphabet: str = typer.Option(..., "--alphabet", help="The characters the model can output."),
    backbone: str = typer.Option("crnn-small", "--backbone", help="Backbone name."),
    option: list[str] = typer.Option([], "--option", "-O", help="Backbone option key=value."),
    height: int = typer.Option(32, "--height", help="Input height in pixels.", min=8),
    seed: Optional[int] = typer.Option(0, "--seed", help="Random seed for the initial weights."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
) -> None:
    """Write a new, untrained model file (a starting point for training, or for testing a
    plugin before any model is trained)."""
    from htrkit.atomic import check_output
    from htrkit.errors import ConfigError
    from htrkit.modelfile import ModelConfig
    from htrkit.options import parse_key_values
    from htrkit.plugins import registry
    from htrkit.preprocess.chain import standard_steps
    from htrkit.recognizer import Recognizer

    check_output(output, overwrite, "--output")
    chars = list(dict.fromkeys(alphabet))
    if not chars:
        raise ConfigError("--alphabet: give the characters the model can output (none given)")
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

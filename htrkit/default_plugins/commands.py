"""Built-in ``htrkit`` subcommands, added through the same hook as plugins' commands."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl


@hookimpl
def htrkit_register_commands(app) -> None:
    from htrkit.cli import evaluate, inspect, model, run

    run.register(app)
    evaluate.register(app)
    inspect.register(app)
    model.register(app)

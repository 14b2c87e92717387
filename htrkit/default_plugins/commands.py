"""Built-in ``htrkit`` subcommands, added through the same hook as plugins' commands."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl


@hookimpl
def htrkit_register_commands(app) -> None:
    from htrkit.cli import (
        adapt,
        data,
        evalseg,
        evaluate,
        lm,
        model,
        plugins,
        run,
        scaffold,
        serve,
        train,
        tune,
    )

    run.register(app)
    evaluate.register(app)
    evalseg.register(app)
    plugins.register(app)
    scaffold.register(app)
    model.register(app)
    data.register(app)
    train.register(app)
    adapt.register(app)
    lm.register(app)
    tune.register(app)
    serve.register(app)

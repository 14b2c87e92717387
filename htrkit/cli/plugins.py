"""``htrkit plugins``: what is installed, and who provides it."""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins)


def plugins(
    show_all: bool = typer.Option(
        False, "--all", help="Also show each component's description, aliases and options."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List plugins (built-in and installed), their packages and their components.

    Plugins that failed to load are listed with their error.
    """
    from htrkit.plugins import listing

    data = listing(show_all)
    if as_json:
        typer.echo(json.dumps(data, indent=1, default=str))
        return
    for d in data:
        origin = "built-in" if d["builtin"] else f"{d['distribution']} {d['version']}"
        typer.echo(f"{d['name']}  ({origin}; {d['module']})")
        if d["error"]:
            typer.echo(f"    error: {d['error']}")
        for kind, comps in d["components"].items():
            if show_all:
                for c in comps:
                    alias = f" (aliases: {', '.join(c['aliases'])})" if c["aliases"] else ""
                    typer.echo(f"    {kind} {c['name']}{alias}: {c['description']}")
                    for o in c["options"]:
                        typer.echo(
                            f"        {o['name']}: {o['type']} = {o['default']!r}{_bounds(o)}"
                            f"  {o['help']}".rstrip()
                        )
            else:
                typer.echo(f"    {kind}s: {', '.join(comps)}")
        if d["commands"]:
            typer.echo(f"    commands: {', '.join(d['commands'])}")


def _bounds(option: dict) -> str:
    """`` [1, 512]``, `` [>= 0]`` or nothing, for an option's declared bounds."""
    low, high = option.get("min"), option.get("max")
    if low is not None and high is not None:
        return f" [{low}, {high}]"
    if low is not None:
        return f" [>= {low}]"
    return f" [<= {high}]" if high is not None else ""

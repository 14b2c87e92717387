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
                            f"        {o['name']}: {o['type']} = {o['default']!r}"
                            f"  {o['help']}".rstrip()
                        )
            else:
                typer.echo(f"    {kind}s: {', '.join(comps)}")
        if d["hooks"] == ["htrkit_register_commands"] and not d["components"]:
            typer.echo("    commands")


def listing(details: bool = False) -> list[dict]:
    """The installed plugins as JSON-ready dicts (``htrkit plugins --json``, and the web
    server's ``/api/plugins``); ``details`` adds each component's description, aliases and
    options."""
    from htrkit.plugins import get_plugin_manager

    manager = get_plugin_manager()
    data = []
    for info in manager.plugins():
        d = info.to_dict()
        if details:
            d["components"] = {
                kind: [_describe(manager.registry(kind).entry(n).spec) for n in names]
                for kind, names in info.components.items()
            }
        data.append(d)
    return data


def _describe(spec) -> dict:  # noqa: ANN001
    from htrkit.options import field_help

    extra = {}
    for attr in ("suffixes", "suffix"):
        if hasattr(spec, attr):
            extra[attr] = getattr(spec, attr)
    return {
        "name": spec.name,
        "description": spec.description,
        "aliases": list(spec.aliases),
        "options": field_help(spec.options),
        **extra,
    }

"""Loading plugins and building the component registries.

Built-in components live in ``htrkit.default_plugins`` and are registered through the same
hooks as third-party packages, which are found through the entry-point group ``htrkit``.

Environment variables:

``HTRKIT_LOAD_PLUGINS``
    Comma-separated entry-point names of third-party plugins to load; empty loads none.
    Unset loads all.
``HTRKIT_STRICT_PLUGINS=1``
    A plugin that fails to load or register is an error rather than a warning.
"""

from __future__ import annotations

import importlib
import os
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from htrkit import hookspecs
from htrkit._version import __version__
from htrkit.errors import PluginError
from htrkit.registry import Registered, Registry
from htrkit.specs import SPEC_TYPES, ComponentSpec

ENTRY_POINT_GROUP = "htrkit"

DEFAULT_PLUGINS = (
    "htrkit.default_plugins.backbones",
    "htrkit.default_plugins.preprocessors",
    "htrkit.default_plugins.segmenters",
    "htrkit.default_plugins.decoders",
    "htrkit.default_plugins.postprocessors",
    "htrkit.default_plugins.metrics",
    "htrkit.default_plugins.loaders",
    "htrkit.default_plugins.datasets",
    "htrkit.default_plugins.models",
    "htrkit.default_plugins.writers",
    "htrkit.default_plugins.commands",
)

# kind -> name of its registration hook
HOOKS = {kind: f"htrkit_register_{kind}s" for kind in SPEC_TYPES}


class PluginWarning(UserWarning):
    """A plugin failed to load or register and was skipped."""


@dataclass
class PluginInfo:
    """What htrkit knows of one loaded (or failed) plugin."""

    name: str
    module: str
    distribution: str | None  # None for htrkit's own built-in plugins
    version: str | None
    builtin: bool
    components: dict[str, list[str]] = field(default_factory=dict)
    hooks: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # known once the CLI is built
    error: str | None = None

    @property
    def provider(self) -> str:
        if self.builtin:
            return f"htrkit {__version__} (built-in)"
        return f"{self.distribution} {self.version} (plugin {self.name!r})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution or "htrkit",
            "version": self.version or __version__,
            "builtin": self.builtin,
            "hooks": self.hooks,
            "components": self.components,
            "commands": self.commands,
            "error": self.error,
        }


class PluginManager:
    """Loads plugins once and hands out one :class:`Registry` per component kind."""

    def __init__(self, *, entry_points: bool = True, strict: bool | None = None):
        if strict is None:
            strict = os.environ.get("HTRKIT_STRICT_PLUGINS", "") not in ("", "0")
        self.strict = strict
        self.pm = pluggy.PluginManager("htrkit")
        self.pm.add_hookspecs(hookspecs)
        self._info: dict[str, PluginInfo] = {}
        self._registries: dict[str, Registry[Any]] = {}
        for module in DEFAULT_PLUGINS:
            self._register(importlib.import_module(module), module.rsplit(".", 1)[-1], None)
        if entry_points:
            self._load_entry_points()

    # -- loading ---------------------------------------------------------------------

    def _load_entry_points(self) -> None:
        wanted = os.environ.get("HTRKIT_LOAD_PLUGINS")
        allow = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
        seen = set()
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if (allow is not None and ep.name not in allow) or ep.name in seen:
                continue
            seen.add(ep.name)
            dist = getattr(ep, "dist", None)
            dist_info = (dist.metadata["Name"], dist.version) if dist else ("unknown", "?")
            try:
                plugin = ep.load()
            except Exception as exc:  # any import failure must not take htrkit down
                self._fail(ep.name, ep.value, dist_info, exc, "failed to load")
                continue
            self._register(plugin, ep.name, dist_info)

    def _register(self, plugin: Any, name: str, dist: tuple[str, str] | None) -> None:
        module = getattr(plugin, "__name__", repr(plugin))
        if self.pm.has_plugin(name) or name in self._info:
            self._fail(name, module, dist, None, f"duplicate plugin name {name!r}")
            return
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            if self.pm.has_plugin(name):
                self.pm.unregister(name=name)
            self._fail(name, module, dist, exc, "is invalid")
            return
        info = PluginInfo(
            name=name,
            module=module,
            distribution=dist[0] if dist else None,
            version=dist[1] if dist else None,
            builtin=dist is None,
        )
        info.hooks = sorted(c.name for c in self.pm.get_hookcallers(plugin) or ())
        self._info[name] = info

    def _fail(
        self,
        name: str,
        module: str,
        dist: tuple[str, str] | None,
        exc: BaseException | None,
        what: str,
    ) -> None:
        package = f"package {dist[0]} {dist[1]}" if dist else "htrkit"
        reason = f": {type(exc).__name__}: {exc}" if exc else ""
        message = f"plugin {name!r} from {package} {what}{reason}"
        if self.strict:
            raise PluginError(message) from exc
        self._info.setdefault(
            name,
            PluginInfo(
                name,
                module,
                dist[0] if dist else None,
                dist[1] if dist else None,
                dist is None,
                error=message,
            ),
        )
        warnings.warn(f"{message}; skipping it", PluginWarning, stacklevel=3)

    def register(self, plugin: Any, name: str) -> None:
        """Register a plugin object in this process, without an entry point (a notebook,
        a test, an application that embeds htrkit): its hook implementations count from
        the next lookup on."""
        self._register(plugin, name, ("<registered in process>", ""))
        self._registries.clear()

    # -- queries ---------------------------------------------------------------------

    def registry(self, kind: str) -> Registry[Any]:
        """The registry of one component kind (``"decoder"``, ``"metric"``, ...)."""
        if kind not in HOOKS:
            raise PluginError(f"unknown component kind {kind!r}; kinds: {', '.join(HOOKS)}")
        if kind not in self._registries:
            self._registries[kind] = Registry(kind, self._collect(kind))
        return self._registries[kind]

    def _collect(self, kind: str) -> list[Registered[Any]]:
        spec_type = SPEC_TYPES[kind]
        hook = getattr(self.pm.hook, HOOKS[kind])
        entries = []
        # Call each plugin's implementation on its own, so that one failing plugin is
        # reported and skipped rather than breaking the whole hook call.
        for impl in hook.get_hookimpls():
            info = self._info[impl.plugin_name]
            try:
                specs = list(impl.function() or ())
                bad = [s for s in specs if not isinstance(s, spec_type)]
                if bad:
                    raise PluginError(
                        f"{HOOKS[kind]} returned {type(bad[0]).__name__}, "
                        f"expected {spec_type.__name__}"
                    )
            except Exception as exc:
                dist = (info.distribution, info.version) if not info.builtin else None
                if info.builtin:
                    raise
                self._fail(impl.plugin_name, info.module, dist, exc, f"failed in {HOOKS[kind]}")
                continue
            info.components.setdefault(kind, []).extend(s.name for s in specs)
            entries += [Registered(s, impl.plugin_name, info.provider) for s in specs]
        return entries

    def plugins(self) -> list[PluginInfo]:
        """Every plugin, built-in first, with the components it registers."""
        for kind in HOOKS:
            for clash in self.registry(kind).clashes.values():  # flagged, with both names
                for info in self._info.values():
                    if not info.builtin and info.provider in clash and not info.error:
                        info.error = clash
        return sorted(self._info.values(), key=lambda i: (not i.builtin, i.name))

    def add_commands(self, app: Any) -> None:
        """Let every plugin add its subcommands to the typer ``app``."""
        for impl in self.pm.hook.htrkit_register_commands.get_hookimpls():
            info = self._info[impl.plugin_name]
            before = len(app.registered_commands), len(app.registered_groups)
            try:
                impl.function(app=app)
                added = app.registered_commands[before[0] :]
                groups = app.registered_groups[before[1] :]
                info.commands = [_command_name(c) for c in added] + [
                    g.name or g.typer_instance.info.name for g in groups
                ]
            except Exception as exc:
                if info.builtin:
                    raise
                dist = (info.distribution, info.version)
                self._fail(impl.plugin_name, info.module, dist, exc, "failed to add commands")


def _command_name(command: Any) -> str:
    """The name typer gives a registered command: its own, or its function's, dashed."""
    if command.name:
        return command.name
    return command.callback.__name__.lower().replace("_", "-")


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, loaded on first use."""
    global _manager
    if _manager is None:
        _manager = PluginManager()
    return _manager


def reset_plugin_manager() -> None:
    """Forget the loaded plugins, so that the next use discovers them afresh."""
    global _manager
    _manager = None


def registry(kind: str) -> Registry[Any]:
    """The registry of one component kind, e.g. ``registry("decoder").names()``."""
    return get_plugin_manager().registry(kind)


def create(kind: str, name: str, options: Any = None, /, *args: Any) -> Any:
    """Build a component by kind and name: ``create("decoder", "beam", {"beam_width": 8})``."""
    return registry(kind).create(name, options, *args)


def list_components(kind: str, pattern: str = "*") -> list[str]:
    """Names of the registered components of ``kind`` matching ``pattern``."""
    return registry(kind).names(pattern)


def listing(details: bool = False) -> list[dict]:
    """The installed plugins as JSON-ready dicts (``htrkit plugins --json``, and the web
    server's ``/api/plugins``); ``details`` adds each component's description, aliases and
    options."""
    manager = get_plugin_manager()
    plugins = manager.plugins()
    if not any(info.commands for info in plugins):  # no CLI built in this process yet
        import typer

        manager.add_commands(typer.Typer())  # to learn which plugin adds which command
    data = []
    for info in plugins:
        d = info.to_dict()
        if details:
            d["components"] = {
                kind: [_describe(manager.registry(kind).entry(n).spec) for n in names]
                for kind, names in info.components.items()
            }
        data.append(d)
    return data


def _describe(spec: ComponentSpec) -> dict:
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

"""One name registry for every component kind.

A :class:`Registry` maps names (and aliases) to registration records. A name two plugins
register is an error naming both providers, raised when that name is asked for (so that
installing a plugin changes no pipeline that does not use the name); lookups of unknown
names suggest close matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any, Generic, TypeVar

from htrkit.errors import PluginError, UnknownComponentError, suggest
from htrkit.specs import ComponentSpec

S = TypeVar("S", bound=ComponentSpec)


@dataclass(frozen=True)
class Registered(Generic[S]):
    """A record with the plugin that provided it."""

    spec: S
    plugin: str
    provider: str  # "htrkit 0.1.0 (built-in)" or "dist-name 1.2 (plugin 'x')"


class Registry(Generic[S]):
    """Components of one kind, by name."""

    def __init__(self, kind: str, entries: Iterable[Registered[S]]):
        self.kind = kind
        self._entries: dict[str, Registered[S]] = {}
        self._names: dict[str, str] = {}  # name or alias -> canonical name
        entries = list(entries)
        owners: dict[str, list[Registered[S]]] = {}
        for entry in entries:
            for key in dict.fromkeys((entry.spec.name, *entry.spec.aliases)):
                owners.setdefault(key, []).append(entry)
        #: name -> the error for a name that more than one plugin registers
        self.clashes: dict[str, str] = {
            key: f"{kind} name {key!r} is registered twice: by {found[0].provider} and by "
            f"{found[1].provider}; uninstall or disable one of them"
            for key, found in owners.items()
            if len(found) > 1
        }
        for entry in entries:
            if entry.spec.name in self.clashes:
                continue
            self._entries[entry.spec.name] = entry
            for key in (entry.spec.name, *entry.spec.aliases):
                if key not in self.clashes:
                    self._names[key] = entry.spec.name

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[S]:
        return (e.spec for e in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def names(self, pattern: str = "*") -> list[str]:
        """Canonical names matching a shell-style ``pattern``, sorted."""
        return sorted(n for n in self._entries if fnmatch(n, pattern))

    def entry(self, name: str) -> Registered[S]:
        """The record and provider for ``name`` (or one of its aliases)."""
        if isinstance(name, str) and name in self.clashes:
            raise PluginError(self.clashes[name])
        try:
            return self._entries[self._names[name]]
        except (KeyError, TypeError):
            available = ", ".join(self.names()) or "none"
            hint = ""
            if isinstance(name, str):
                hint = suggest(name, self._names, canonical=self._names)
            raise UnknownComponentError(
                f"unknown {self.kind} {name!r}{hint or ';'} available: {available}"
            ) from None

    def get(self, name: str) -> S:
        """The registration record for ``name`` (or one of its aliases)."""
        return self.entry(name).spec

    def create(self, name: str, options: Any = None, /, *args: Any) -> Any:
        """Build the component ``name`` with validated ``options``."""
        return self.get(name).create(options, *args)

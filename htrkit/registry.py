"""One name registry for every component kind.

A :class:`Registry` maps names (and aliases) to registration records. Duplicate names are
an error naming both providers; lookups of unknown names suggest close matches.
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
        for entry in entries:
            for key in (entry.spec.name, *entry.spec.aliases):
                if key in self._names:
                    other = self._entries[self._names[key]]
                    raise PluginError(
                        f"{kind} name {key!r} is registered twice: by {other.provider} "
                        f"and by {entry.provider}; uninstall or disable one of them"
                    )
                self._names[key] = entry.spec.name
            self._entries[entry.spec.name] = entry

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
        try:
            return self._entries[self._names[name]]
        except (KeyError, TypeError):
            available = ", ".join(self.names()) or "none"
            hint = suggest(name, self._names, self._names) if isinstance(name, str) else ""
            raise UnknownComponentError(
                f"unknown {self.kind} {name!r}{hint or ';'} available: {available}"
            ) from None

    def get(self, name: str) -> S:
        """The registration record for ``name`` (or one of its aliases)."""
        return self.entry(name).spec

    def create(self, name: str, options: Any = None, /, *args: Any) -> Any:
        """Build the component ``name`` with validated ``options``."""
        return self.get(name).create(options, *args)

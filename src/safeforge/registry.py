"""One small typed registry for every extension kind (targets, probe families, transforms,
judges, datasets).

Entries are factories registered by decorator under the function's name, or lazily as
``"module:attr"`` strings so heavy modules (torch, transformers) load only when used.
Third-party packages add entries through the ``safeforge`` entry-point group, named
``KIND.NAME`` (e.g. ``judge.my_judge = "pkg.mod:my_judge"``).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from safeforge.errors import SafeforgeError

T = TypeVar("T")
ENTRY_POINT_GROUP = "safeforge"


class Registry(Generic[T]):
    """Name -> factory map with lazy ``"module:attr"`` entries and typo hints."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T | str] = {}
        self._plugins_loaded = False

    def register(self, obj: T, name: str | None = None) -> T:
        """Register ``obj`` under ``name`` (default: its ``__name__``); usable as a decorator."""
        key = name or getattr(obj, "__name__", None)
        if not key:
            raise ValueError(f"cannot infer a {self.kind} name for {obj!r}; pass name=")
        existing = self._entries.get(key)
        # a lazy "module:attr" entry is replaced when that module registers the real object
        if existing is not None and existing is not obj and not isinstance(existing, str):
            raise ValueError(f"{self.kind} {key!r} is already registered")
        self._entries[key] = obj
        return obj

    def lazy(self, name: str, target: str) -> None:
        """Register ``"module:attr"`` to be imported on first use."""
        self._entries.setdefault(name, target)

    def get(self, name: str) -> T:
        """The entry called ``name``; a clear error with close matches when it does not exist."""
        self._load_plugins()
        if name not in self._entries:
            hint = difflib.get_close_matches(name, self._entries, n=3)
            extra = f"; did you mean {', '.join(hint)}?" if hint else ""
            known = ", ".join(sorted(self._entries)) or "none"
            raise SafeforgeError(f"unknown {self.kind} {name!r}{extra} (known: {known})")
        entry = self._entries[name]
        if isinstance(entry, str):
            module, _, attr = entry.partition(":")
            loaded: T = getattr(importlib.import_module(module), attr)
            # importing the module may have registered the real object already
            self._entries[name] = loaded
            return loaded
        return entry

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            kind, _, name = ep.name.partition(".")
            if kind == self.kind and name:
                self.lazy(name, ep.value)


def registrar(registry: Registry[T]) -> Callable[[T], T]:
    """A decorator that registers under the decorated object's own name."""

    def deco(obj: T) -> T:
        return registry.register(obj)

    return deco

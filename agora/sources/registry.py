"""Which class implements each source kind, and building sources from a wall's config.

:data:`SOURCE_CLASSES` maps ``kind`` to a :class:`~agora.sources.base.Source` subclass. The kinds
that need no network are registered here; a module ``agora.sources.<kind>`` that defines a
``Source`` subclass with that ``kind`` is found and registered on first use, so adding a connector
needs no change to this file (or call :func:`register`).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from agora.config.schema import WallConfig
from agora.sources.base import Source, SourceContext
from agora.sources.jsonl import JsonlSource
from agora.sources.simulator import SimulatorSource

__all__ = ["SOURCE_CLASSES", "UnknownSourceKindError", "build_source", "build_sources", "register"]

#: Source kind → implementing class.
SOURCE_CLASSES: dict[str, type[Source]] = {
    JsonlSource.kind: JsonlSource,
    SimulatorSource.kind: SimulatorSource,
}


class UnknownSourceKindError(LookupError):
    """No class implements this source kind."""


def register(cls: type[Source]) -> type[Source]:
    """Add a source class under its ``kind`` (usable as a class decorator)."""
    SOURCE_CLASSES[cls.kind] = cls
    return cls


def _discover(kind: str) -> type[Source] | None:
    if not kind.isidentifier():
        return None
    try:
        module = importlib.import_module(f"agora.sources.{kind}")
    except ModuleNotFoundError as exc:
        if exc.name == f"agora.sources.{kind}":
            return None
        raise
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if (
            issubclass(obj, Source)
            and obj is not Source
            and not inspect.isabstract(obj)
            and getattr(obj, "kind", None) == kind
        ):
            return register(obj)
    return None


def source_class(kind: str) -> type[Source]:
    """The class implementing ``kind``. Raises :class:`UnknownSourceKindError`."""
    cls = SOURCE_CLASSES.get(kind) or _discover(kind)
    if cls is None:
        raise UnknownSourceKindError(f"no source implements kind {kind!r}")
    return cls


def build_source(config_entry: Any, context: SourceContext) -> Source:
    """The run-time source for one ``[[sources]]`` entry."""
    return source_class(config_entry.kind)(config_entry, context)


def build_sources(wall: WallConfig, context: SourceContext) -> list[Source]:
    """Sources for every enabled entry of ``wall``, in config order."""
    return [build_source(entry, context) for entry in wall.sources if entry.enabled]

"""Bounded memories: answers remembered per token, hashtag or author, which strangers choose.

A wall runs for weeks and reads what anyone writes, so every memory of the core has a size it
never passes: :func:`remember` empties a memory that is full before it keeps one more answer (no
bookkeeping per entry; the answers come back at the cost of working them out again).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(memory: MutableMapping[K, V], key: K, value: V, cap: int) -> V:
    """Keep ``value`` under ``key`` in ``memory`` (emptied first when it holds ``cap`` answers);
    returns ``value``."""
    if len(memory) >= cap:
        memory.clear()
    memory[key] = value
    return value


def contains_any(text: str, parts: tuple[str, ...] | list[str]) -> bool:
    """True when one of ``parts`` is in ``text`` (substring searches in C: cheaper than ``any()``
    of a generator, or a regular expression of them)."""
    return any(map(text.__contains__, parts))


__all__ = ["contains_any", "remember"]

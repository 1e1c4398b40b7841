"""The per-minute counts the figures share, addressed by typed keys.

One ring of minute buckets per key (:class:`~agora.core.windows.MinuteSeries`) and an all-time
total per key. Figures never spell a key as a string: they build a :class:`Key` (its kind and its
parts, such as a topic and a label), and :attr:`Key.name` is the one place that turns it into the
name the ring is stored under. The spike detector reads the same rings by those names.

A batch's counts are gathered in a :class:`Tally` first and written in one go, one
:class:`~collections.Counter` per minute, so the cost per post is a few dictionary look-ups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from agora.core.windows import MinuteSeries


class Kind(StrEnum):
    """What a per-minute count counts; the value is the prefix of its ring's name."""

    ALL = "all"
    """Every post."""
    SOURCE = "source"
    """Posts from one source (part: the source's name)."""
    STATE = "state"
    """Posts in one moderation state (part: the state); follows later decisions."""
    TOPIC = "topic"
    """Posts about one topic (part: the topic's key)."""
    MULTI = "multi"
    """Posts about several topics."""
    REPOST = "repost"
    """Reposts."""
    LABEL = "label"
    """Posts with one sentiment label (part: the label, or ``unscored``)."""
    TOPIC_LABEL = "tl"
    """Posts about one topic with one label (parts: topic, label)."""
    TOPIC_SOURCE = "ts"
    """Posts about one topic from one source (parts: topic, source)."""
    OWNED = "own"
    """Engagement sums of the brand's own posts (part: posts, replies, reposts or likes)."""
    MENTIONS = "men"
    """Engagement sums of everyone else's posts (part: as for ``OWNED``)."""


@dataclass(frozen=True, slots=True)
class Key:
    """One per-minute count: its kind and what it is about (a topic, a label, a source…)."""

    kind: Kind
    parts: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The name of the ring this count is kept in (``"tl:lumen:negative"``)."""
        return ":".join((self.kind.value, *self.parts))


def names(keys: Iterable[Key]) -> tuple[str, ...]:
    """The ring names of ``keys``, in order (figures cache these per kind of post)."""
    return tuple(key.name for key in keys)


class Tally:
    """One batch's counts per minute, before they are written to :class:`Counts`."""

    __slots__ = ("amounts", "names")

    def __init__(self) -> None:
        self.names: dict[int, list[str]] = {}
        """Minute → ring names, one per post counted (a name given twice counts twice)."""
        self.amounts: dict[int, Counter[str]] = {}
        """Minute → sums to add (engagement: likes, replies…)."""

    def at(self, minute: int) -> list[str]:
        """The list of names counted at ``minute``, to extend."""
        found = self.names.get(minute)
        if found is None:
            found = self.names[minute] = []
        return found

    def sums_at(self, minute: int) -> Counter[str]:
        """The sums added at ``minute``, to update."""
        found = self.amounts.get(minute)
        if found is None:
            found = self.amounts[minute] = Counter()
        return found


class Counts:
    """Per-minute rings over ``minutes`` minutes, and all-time totals, of every key counted."""

    __slots__ = ("series", "totals")

    def __init__(self, minutes: int) -> None:
        self.series = MinuteSeries(minutes)
        """The rings, by name (the spike detector reads them)."""
        self.totals: Counter[str] = Counter()
        """All-time totals, by name."""

    def add(self, tally: Tally) -> None:
        """Write a batch's counts: one update per minute."""
        series = self.series
        totals = self.totals
        amounts = tally.amounts
        for minute, counted in tally.names.items():
            counts = Counter(counted)
            sums = amounts.get(minute)
            if sums:
                counts.update(sums)
            series.add_counts(minute, counts)
            totals.update(counts)
        for minute, sums in amounts.items():
            if minute not in tally.names:  # pragma: no cover - every engagement minute has posts
                series.add_counts(minute, sums)
                totals.update(sums)

    def move(self, minute: int, old: Key, new: Key) -> None:
        """Move one count at ``minute`` from ``old`` to ``new`` (a moderation decision)."""
        self.series.add(minute, (old.name,), -1)
        self.series.add(minute, (new.name,), 1)
        self.totals[old.name] -= 1
        self.totals[new.name] += 1

    def advance_to(self, minute: int) -> None:
        """Time passes: the rings move on to ``minute`` even when nothing was posted."""
        self.series.advance_to(minute)

    def count(self, key: Key, window: float | None, now_minute: int) -> int:
        """The count of ``key`` over the ``window`` seconds up to ``now_minute`` (``None``: all
        time)."""
        if window is None:
            return self.totals.get(key.name, 0)
        return self.series.total(key.name, now_minute, max(1, round(window / 60)))

    def per_minute(self, key: Key, now_minute: int, minutes: int) -> list[int]:
        """``minutes`` per-minute counts of ``key`` ending at ``now_minute``, oldest first."""
        return self.series.series(key.name, now_minute, minutes)

    def seen(self, kind: Kind, *, all_time: bool = False) -> list[str]:
        """The parts counted under ``kind`` (the source names seen), sorted: those the rings
        hold, or ``all_time`` those the totals hold."""
        keys = list(self.totals) if all_time else self.series.keys()
        prefix = f"{kind.value}:"
        return sorted({k.split(":", 1)[1] for k in keys if k.startswith(prefix)})

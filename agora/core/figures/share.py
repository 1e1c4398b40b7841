"""Share of voice: each topic's part of the topic mentions, overall and per source.

Counts each topic's posts per source per minute; a post about several topics counts once for
each (and once under ``multi``, which :mod:`~agora.core.figures.volume` keeps).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agora.core.figures.base import Counted, Signature, Window
from agora.core.figures.counts import Key, Kind
from agora.core.figures.volume import MULTI, topic_key


def topic_source_key(topic: str, source: str) -> Key:
    """Posts about ``topic`` from ``source``."""
    return Key(Kind.TOPIC_SOURCE, (topic, source))


@dataclass(frozen=True, slots=True)
class SharePart:
    """Share of voice over one window."""

    share: Mapping[str, float]
    """Fraction of topic mentions per topic; sums to 1 when any topic was mentioned."""
    counts: Mapping[str, int]
    """Mentions per topic."""
    multi_topic: int
    """Posts that mention several topics."""
    by_source: Mapping[str, Mapping[str, float]]
    """Per source (with any topic mention): the topics' fractions of its mentions."""


class Share(Counted[SharePart]):
    """Topic mentions per source per minute."""

    __slots__ = ()

    def keys(self, signature: Signature) -> list[Key]:
        source, _, _, topics, _ = signature
        return [topic_source_key(topic, source) for topic in topics]

    def part(self, window: Window) -> SharePart:
        count = window.count
        by_topic = {t: count(topic_key(t)) for t in self._topics}
        mentioned = sum(by_topic.values())
        by_source: dict[str, dict[str, float]] = {}
        for s in self._counts.seen(Kind.SOURCE, all_time=window.seconds is None):
            counts = {t: count(topic_source_key(t, s)) for t in self._topics}
            total = sum(counts.values())
            if total:
                by_source[s] = {t: n / total for t, n in counts.items()}
        return SharePart(
            share={t: (n / mentioned if mentioned else 0.0) for t, n in by_topic.items()},
            counts=by_topic,
            multi_topic=count(MULTI),
            by_source=by_source,
        )

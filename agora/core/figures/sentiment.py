"""Sentiment: how many posts were positive, neutral or negative, overall and per topic.

Counts every post per minute by its sentiment label (``unscored`` for languages the scorer
cannot handle), and each topic's posts by label; the part is the net score and the split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agora.core.figures.base import Counted, Signature, Window
from agora.core.figures.counts import Key, Kind
from agora.core.snapshot import SentimentSummary

LABELS = ("positive", "neutral", "negative")
#: the order :meth:`SentimentSummary.of` takes the counts in
_SUMMED = (*LABELS, "unscored")


def label_key(label: str) -> Key:
    """Posts with sentiment ``label`` (or ``"unscored"``)."""
    return Key(Kind.LABEL, (label,))


def topic_label_key(topic: str, label: str) -> Key:
    """Posts about ``topic`` with sentiment ``label``."""
    return Key(Kind.TOPIC_LABEL, (topic, label))


@dataclass(frozen=True, slots=True)
class SentimentPart:
    """Sentiment over one window: overall and per topic (config order)."""

    overall: SentimentSummary
    by_topic: Mapping[str, SentimentSummary]


class Sentiment(Counted[SentimentPart]):
    """Posts per minute by sentiment label, overall and per topic."""

    __slots__ = ()

    def keys(self, signature: Signature) -> list[Key]:
        _, label, _, topics, _ = signature
        return [label_key(label), *(topic_label_key(topic, label) for topic in topics)]

    def part(self, window: Window) -> SentimentPart:
        def summary(keys: Sequence[Key]) -> SentimentSummary:
            positive, neutral, negative, unscored = (window.count(key) for key in keys)
            return SentimentSummary.of(positive, neutral, negative, unscored)

        return SentimentPart(
            overall=summary([label_key(label) for label in _SUMMED]),
            by_topic={
                t: summary([topic_label_key(t, label) for label in _SUMMED]) for t in self._topics
            },
        )

"""Engagement: replies, reposts and likes per post, for the brand's own posts and for mentions.

Sums, per minute, each original post (not reposts) and its replies, reposts and likes, under
the brand's own accounts or everyone else's; the part is Kaushik's rates per post.
"""

from __future__ import annotations

from dataclasses import dataclass

from agora.core.figures.base import Batch, Figure, Window
from agora.core.figures.counts import Key, Kind, names
from agora.core.snapshot import Rates

#: what is summed, in the order of the names below
MEASURES = ("posts", "replies", "reposts", "likes")


def measure_key(kind: Kind, measure: str) -> Key:
    """The sum of ``measure`` (see :data:`MEASURES`) under ``kind`` (owned or mentions)."""
    return Key(kind, (measure,))


_OWNED = names(measure_key(Kind.OWNED, m) for m in MEASURES)
_MENTIONS = names(measure_key(Kind.MENTIONS, m) for m in MEASURES)


@dataclass(frozen=True, slots=True)
class EngagementPart:
    """Engagement rates over one window."""

    owned: Rates
    mentions: Rates


class Engagement(Figure[EngagementPart]):
    """Engagement sums per minute, owned and mentions."""

    __slots__ = ()

    def add(self, batch: Batch) -> None:
        tally = batch.tally
        minute: int | None = None
        sums = None
        for entry in batch.entries:
            post = entry.post
            if post.is_repost:
                continue
            if entry.minute != minute:  # a batch's posts are mostly of one or two minutes
                minute = entry.minute
                sums = tally.sums_at(minute)
            assert sums is not None
            m = post.metrics
            posts, replies, reposts, likes = _OWNED if entry.owned else _MENTIONS
            sums[posts] += 1
            if m.replies:
                sums[replies] += m.replies
            if m.reposts:
                sums[reposts] += m.reposts
            if m.likes:
                sums[likes] += m.likes

    def part(self, window: Window) -> EngagementPart:
        return EngagementPart(_rates(window, Kind.OWNED), _rates(window, Kind.MENTIONS))


def _rates(window: Window, kind: Kind) -> Rates:
    posts, replies, reposts, likes = (window.count(measure_key(kind, m)) for m in MEASURES)
    if not posts:
        return Rates()
    return Rates(
        posts=posts,
        conversation=round(replies / posts, 3),
        amplification=round(reposts / posts, 3),
        applause=round(likes / posts, 3),
    )

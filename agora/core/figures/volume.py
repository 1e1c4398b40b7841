"""Volume: how many posts came in, from where, about what, and what moderation made of them.

Counts every post (reposts, hidden and waiting ones too) per minute: all, by source, by
moderation state, by topic, posts about several topics, reposts. A decision taken later moves the
post's count from its old state to the new one (:meth:`Volume.restate`), so ``shown``, ``hidden``
and ``pending`` follow the operators. Also gives the per-minute series the volume chart draws.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agora.core.figures.base import Counted, Moment, Signature, Window
from agora.core.figures.counts import Key, Kind
from agora.core.figures.sentiment import LABELS, label_key
from agora.core.post import Post
from agora.core.snapshot import PostCounts, VolumeSeries

ALL = Key(Kind.ALL)
MULTI = Key(Kind.MULTI)
REPOST = Key(Kind.REPOST)


def source_key(source: str) -> Key:
    """Posts from ``source``."""
    return Key(Kind.SOURCE, (source,))


def state_key(state: str) -> Key:
    """Posts in moderation state ``state``."""
    return Key(Kind.STATE, (state,))


def topic_key(topic: str) -> Key:
    """Posts about ``topic``."""
    return Key(Kind.TOPIC, (topic,))


class Volume(Counted[PostCounts]):
    """Post counts per minute, and the volume chart's series."""

    __slots__ = ()

    def keys(self, signature: Signature) -> list[Key]:
        source, _, state, topics, is_repost = signature
        keys = [ALL, source_key(source), state_key(state)]
        keys += [topic_key(topic) for topic in topics]
        if len(topics) > 1:
            keys.append(MULTI)
        if is_repost:
            keys.append(REPOST)
        return keys

    def restate(self, post: Post, state: str) -> None:
        """Move the post's count from its moderation state to ``state``."""
        old = post.moderation.state
        if old != state:
            self._counts.move(int(post.timestamp // 60), state_key(old), state_key(state))

    def prune(self, moment: Moment) -> None:
        self._counts.advance_to(moment.minute)

    def part(self, window: Window) -> PostCounts:
        count = window.count
        sources = self._counts.seen(Kind.SOURCE, all_time=window.seconds is None)
        return PostCounts(
            total=count(ALL),
            shown=count(state_key("approved")) + count(state_key("pinned")),
            hidden=count(state_key("hidden")),
            pending=count(state_key("pending")),
            reposts=count(REPOST),
            by_source={s: n for s in sources if (n := count(source_key(s)))},
            by_topic={t: count(topic_key(t)) for t in self._topics},
        )

    def series(self, moment: Moment, minutes: int) -> VolumeSeries:
        """The last ``minutes`` per-minute counts up to ``moment``: all, by topic, by sentiment
        label and by source."""
        counts = self._counts
        now_minute = moment.minute

        def series(key: Key) -> tuple[int, ...]:
            return tuple(counts.per_minute(key, now_minute, minutes))

        return VolumeSeries(
            start=datetime.fromtimestamp((now_minute - minutes + 1) * 60, UTC),
            step_s=60,
            total=series(ALL),
            by_topic={t: series(topic_key(t)) for t in self._topics},
            by_sentiment={label: series(label_key(label)) for label in (*LABELS, "unscored")},
            by_source={s: series(source_key(s)) for s in counts.seen(Kind.SOURCE)},
        )

"""The immutable aggregate snapshot the wall reads (and ``agora analyse --json`` prints).

The ingest thread builds a new :class:`Snapshot` a few times a second and publishes it by swapping
one reference; the UI thread takes whatever reference is current. Nothing in a snapshot is ever
mutated after it is built, so no lock is needed to read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agora.core.health import SourceHealth
from agora.core.post import Post, format_time


def window_key(seconds: float | None) -> str:
    """``"all"``, ``"1h"``, ``"24h"``, ``"15m"``, ``"90s"``: the name of a window."""
    if seconds is None:
        return "all"
    s = round(seconds)
    if s % 86400 == 0 and s >= 86400 * 2:
        return f"{s // 86400}d"
    if s % 3600 == 0:
        return f"{s // 3600}h"
    if s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"


@dataclass(frozen=True, slots=True)
class PostCounts:
    """How many posts were ingested in a window and what became of them."""

    total: int = 0
    shown: int = 0
    hidden: int = 0
    pending: int = 0
    reposts: int = 0
    by_source: Mapping[str, int] = field(default_factory=dict)
    by_topic: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SentimentSummary:
    """Sentiment over a window. ``net`` = (positive − negative) / scored × 100, in −100…100.

    ``unscored`` posts (languages the scorer cannot handle) are left out of ``net`` and the split.
    """

    net: float | None = None
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    unscored: int = 0

    @property
    def scored(self) -> int:
        """Posts that have a sentiment."""
        return self.positive + self.neutral + self.negative

    @staticmethod
    def of(positive: int, neutral: int, negative: int, unscored: int) -> SentimentSummary:
        """Build a summary and compute ``net``."""
        scored = positive + neutral + negative
        net = round((positive - negative) * 100.0 / scored, 1) if scored else None
        return SentimentSummary(net, positive, neutral, negative, unscored)


@dataclass(frozen=True, slots=True)
class TermTrend:
    """A rising term: ``count`` in the window, ``baseline`` its expected count, ``score``."""

    term: str
    score: float
    count: int
    baseline: float
    label: str = ""
    """How people write it ("almoço", "#LumenX1", "Berlin"); ``term`` is the folded form
    counted. Empty when no recent post shows the term (then show ``term``)."""

    @property
    def shown(self) -> str:
        """What the wall shows: the label, else the folded term."""
        return self.label or self.term


@dataclass(frozen=True, slots=True)
class AuthorStat:
    """An author's activity in a window. ``reach`` is the largest follower count seen."""

    handle: str
    name: str
    posts: int
    reach: int | None
    source: str
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class Rates:
    """Kaushik's engagement rates per post: conversation (replies), amplification (reposts),
    applause (likes). ``None`` when there were no posts."""

    posts: int = 0
    conversation: float | None = None
    amplification: float | None = None
    applause: float | None = None


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """Every figure that depends on the time window."""

    window_s: float | None
    posts: PostCounts
    sentiment: SentimentSummary
    sentiment_by_topic: Mapping[str, SentimentSummary]
    share_of_voice: Mapping[str, float]
    """Fraction of topic mentions per topic; sums to 1 when any topic was mentioned."""
    share_counts: Mapping[str, int]
    multi_topic: int
    """Posts that mention several topics (counted once for each)."""
    share_by_source: Mapping[str, Mapping[str, float]]
    trending: tuple[TermTrend, ...]
    authors: tuple[AuthorStat, ...]
    owned: Rates
    mentions: Rates


@dataclass(frozen=True, slots=True)
class VolumeSeries:
    """Per-minute counts ending at the snapshot's ``now``: ``start`` is the first bucket."""

    start: datetime
    step_s: int
    total: tuple[int, ...]
    by_topic: Mapping[str, tuple[int, ...]]
    by_sentiment: Mapping[str, tuple[int, ...]]
    by_source: Mapping[str, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Featured:
    """A post chosen for the featured carousel, its ranking score and a human reason."""

    post: Post
    score: float
    why: str


@dataclass(frozen=True, slots=True)
class Care:
    """Questions and complaints about the brand that no owned account has answered yet."""

    open: tuple[Post, ...]
    answered: int
    total: int
    response_rate: float | None
    median_first_reply_s: float | None


@dataclass(frozen=True, slots=True)
class Alert:
    """A detected spike or surge. ``active`` until the figure falls back (hysteresis)."""

    kind: str
    topic: str | None
    started_at: datetime
    message: str
    active: bool = True
    ended_at: datetime | None = None
    value: float = 0.0
    baseline: float = 0.0


@dataclass(frozen=True, slots=True)
class Kpis:
    """Headline numbers."""

    mentions_today: int
    per_minute: float
    """Average mentions per minute over the last 10 minutes."""
    peak_per_minute: int
    """Busiest minute of the last 24 hours."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the wall shows, at one moment."""

    version: int
    now: datetime
    generated_at: datetime
    topics: Mapping[str, str]
    """Topic key → display label, in config order."""
    windows: Mapping[str, WindowSummary]
    """Summaries by window name (:func:`window_key`): at least ``"1h"``, ``"24h"`` and ``"all"``."""
    volume: VolumeSeries
    featured: tuple[Featured, ...]
    newest: tuple[Post, ...]
    """Newest visible posts, newest first (reposts of a post already listed are not repeated)."""
    care: Care
    alerts: tuple[Alert, ...]
    kpis: Kpis
    sources: Mapping[str, SourceHealth]
    store_status: str
    notes: tuple[str, ...] = ()
    """Discreet status-line messages ("store: memory only", "3 malformed items skipped")."""
    pending: tuple[Post, ...] = ()
    """Posts waiting for an operator's approval, newest first (bounded; the store has them all)."""
    withdrawn: frozenset[str] = frozenset()
    """Ids of posts taken off the wall lately (hidden, deleted at the source, blocked author):
    a panel showing one of them replaces it at once."""
    blocked_authors: tuple[str, ...] = ()
    """Handles blocked by an operator while the wall runs (canonical form)."""

    def summary(self, window_s: float | None) -> WindowSummary:
        """The summary for a window; the closest computed one when that exact window is missing."""
        key = window_key(window_s)
        if key in self.windows:
            return self.windows[key]
        if window_s is None:
            return self.windows["all"]
        finite = [w for w in self.windows.values() if w.window_s is not None]
        return min(finite, key=lambda w: abs((w.window_s or 0) - window_s))

    @property
    def active_alerts(self) -> tuple[Alert, ...]:
        """Alerts still in progress."""
        return tuple(a for a in self.alerts if a.active)

    def to_dict(self, window_s: float | None = None) -> dict[str, Any]:
        """The JSON object of ``agora analyse --json`` for one window."""
        summary = self.summary(window_s)
        minutes = len(self.volume.total)
        keep = minutes if window_s is None else min(minutes, max(1, round(window_s / 60)))
        cut = minutes - keep
        volume_start = self.volume.start.timestamp() + cut * self.volume.step_s
        return {
            "now": format_time(self.now),
            "window": window_key(window_s),
            "window_s": window_s,
            "topics": dict(self.topics),
            "posts": {
                "total": summary.posts.total,
                "shown": summary.posts.shown,
                "hidden": summary.posts.hidden,
                "pending": summary.posts.pending,
                "reposts": summary.posts.reposts,
                "by_source": dict(summary.posts.by_source),
                "by_topic": dict(summary.posts.by_topic),
            },
            "sentiment": {
                "net": summary.sentiment.net,
                "positive": summary.sentiment.positive,
                "neutral": summary.sentiment.neutral,
                "negative": summary.sentiment.negative,
                "unscored": summary.sentiment.unscored,
                "by_topic": {
                    k: {
                        "net": s.net,
                        "positive": s.positive,
                        "neutral": s.neutral,
                        "negative": s.negative,
                        "unscored": s.unscored,
                    }
                    for k, s in summary.sentiment_by_topic.items()
                },
            },
            "share_of_voice": dict(summary.share_of_voice),
            "share_counts": dict(summary.share_counts),
            "share_multi_topic": summary.multi_topic,
            "share_by_source": {k: dict(v) for k, v in summary.share_by_source.items()},
            "volume": {
                "start": format_time(datetime.fromtimestamp(volume_start, self.now.tzinfo)),
                "step_s": self.volume.step_s,
                "total": list(self.volume.total[cut:]),
                "topics": {k: list(v[cut:]) for k, v in self.volume.by_topic.items()},
                "sentiment": {k: list(v[cut:]) for k, v in self.volume.by_sentiment.items()},
                "sources": {k: list(v[cut:]) for k, v in self.volume.by_source.items()},
            },
            "trending": [
                {
                    "term": t.term,
                    "label": t.shown,
                    "score": t.score,
                    "count": t.count,
                    "baseline": t.baseline,
                }
                for t in summary.trending
            ],
            "authors": [
                {
                    "handle": a.handle,
                    "name": a.name,
                    "posts": a.posts,
                    "reach": a.reach,
                    "source": a.source,
                }
                for a in summary.authors
            ],
            "featured": [
                {"id": f.post.id, "score": round(f.score, 4), "why": f.why}
                for f in self.featured
                if window_s is None or f.post.timestamp >= self.now.timestamp() - window_s
            ],
            "engagement": {
                "conversation": summary.mentions.conversation,
                "amplification": summary.mentions.amplification,
                "applause": summary.mentions.applause,
                "posts": summary.mentions.posts,
                "owned": {
                    "posts": summary.owned.posts,
                    "conversation": summary.owned.conversation,
                    "amplification": summary.owned.amplification,
                    "applause": summary.owned.applause,
                },
            },
            "care": {
                "open": [p.id for p in self.care.open],
                "answered": self.care.answered,
                "total": self.care.total,
                "response_rate": self.care.response_rate,
                "median_first_reply_s": self.care.median_first_reply_s,
            },
            "alerts": [
                {
                    "kind": a.kind,
                    "topic": a.topic,
                    "started_at": format_time(a.started_at),
                    "message": a.message,
                    "active": a.active,
                    "ended_at": format_time(a.ended_at) if a.ended_at else None,
                }
                for a in self.alerts
            ],
            "kpis": {
                "mentions_today": self.kpis.mentions_today,
                "per_minute": self.kpis.per_minute,
                "peak_per_minute": self.kpis.peak_per_minute,
            },
            "sources": {name: h.to_dict() for name, h in self.sources.items()},
            "moderation": {
                "pending": [p.id for p in self.pending],
                "blocked_authors": list(self.blocked_authors),
            },
            "store": self.store_status,
            "notes": list(self.notes),
        }

"""The immutable aggregate snapshot the wall reads (and ``agora analyse --json`` prints).

The ingest thread builds a new :class:`Snapshot` a few times a second and publishes it by swapping
one reference; the UI thread takes whatever reference is current. Nothing in a snapshot is ever
mutated after it is built, so no lock is needed to read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AliasPath, BaseModel, BeforeValidator, ConfigDict, Field

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
        """The JSON object of ``agora analyse --json`` for one window (see :class:`SnapshotJson`)."""
        return SnapshotJson.of(self, window_s).model_dump()


# -- the JSON form ---------------------------------------------------------------------------------
#
# Declared once, field by field in the order printed; each field says where it is read from (its
# alias: an attribute, or a path of attributes, of the snapshot's parts). Numbers keep their type:
# a count is an int, a rate a float, a window given in whole seconds stays an int.

Number = int | float


def _time(value: object) -> object:
    return format_time(value) if isinstance(value, datetime) else value


def _ids(posts: object) -> object:
    return [p.id for p in posts] if isinstance(posts, tuple) else posts


Time = Annotated[str, BeforeValidator(_time)]
"""A moment, written in ISO-8601 UTC (:func:`~agora.core.post.format_time`)."""
PostIds = Annotated[list[str], BeforeValidator(_ids)]
"""Posts, written as their ids."""


def _from(*path: str) -> Any:
    """A field read from an attribute path of the object validated."""
    return Field(validation_alias=AliasPath(*path) if len(path) > 1 else path[0])


class _Json(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class PostCountsJson(_Json):
    """``posts``: :class:`PostCounts`."""

    total: int
    shown: int
    hidden: int
    pending: int
    reposts: int
    by_source: dict[str, int]
    by_topic: dict[str, int]


class SentimentJson(_Json):
    """One :class:`SentimentSummary`."""

    net: Number | None
    positive: int
    neutral: int
    negative: int
    unscored: int


class WindowSentimentJson(_Json):
    """``sentiment``: a :class:`WindowSummary`'s overall sentiment and its split by topic."""

    net: Number | None = _from("sentiment", "net")
    positive: int = _from("sentiment", "positive")
    neutral: int = _from("sentiment", "neutral")
    negative: int = _from("sentiment", "negative")
    unscored: int = _from("sentiment", "unscored")
    by_topic: dict[str, SentimentJson] = _from("sentiment_by_topic")


class VolumeJson(_Json):
    """``volume``: a :class:`VolumeSeries`."""

    start: Time
    step_s: int
    total: list[int]
    topics: dict[str, list[int]] = _from("by_topic")
    sentiment: dict[str, list[int]] = _from("by_sentiment")
    sources: dict[str, list[int]] = _from("by_source")


class TermTrendJson(_Json):
    """One of ``trending``: a :class:`TermTrend`, ``label`` as shown."""

    term: str
    label: str = _from("shown")
    score: Number
    count: int
    baseline: Number


class AuthorJson(_Json):
    """One of ``authors``: an :class:`AuthorStat`."""

    handle: str
    name: str
    posts: int
    reach: int | None
    source: str


class FeaturedJson(_Json):
    """One of ``featured``: a :class:`Featured`, by post id, the score to four places."""

    id: str = _from("post", "id")
    score: Annotated[Number, AfterValidator(lambda score: round(score, 4))]
    why: str


class RatesJson(_Json):
    """A :class:`Rates`."""

    posts: int
    conversation: Number | None
    amplification: Number | None
    applause: Number | None


class EngagementJson(_Json):
    """``engagement``: a :class:`WindowSummary`'s rates of mentions, and of the owned posts."""

    conversation: Number | None = _from("mentions", "conversation")
    amplification: Number | None = _from("mentions", "amplification")
    applause: Number | None = _from("mentions", "applause")
    posts: int = _from("mentions", "posts")
    owned: RatesJson


class CareJson(_Json):
    """``care``: :class:`Care`, the open items as post ids."""

    open: PostIds
    answered: int
    total: int
    response_rate: Number | None
    median_first_reply_s: Number | None


class AlertJson(_Json):
    """One of ``alerts``: an :class:`Alert`."""

    kind: str
    topic: str | None
    started_at: Time
    message: str
    active: bool
    ended_at: Time | None


class KpisJson(_Json):
    """``kpis``: :class:`Kpis`."""

    mentions_today: int
    per_minute: Number
    peak_per_minute: int


class ModerationJson(_Json):
    """``moderation``: the posts waiting (ids) and the authors blocked."""

    pending: PostIds
    blocked_authors: list[str]


@dataclass(frozen=True, slots=True)
class _OneWindow:
    """What the JSON of one window is read from."""

    snapshot: Snapshot
    summary: WindowSummary
    window: str
    window_s: float | None
    volume: VolumeSeries
    featured: tuple[Featured, ...]
    sources: dict[str, dict[str, object]]


class SnapshotJson(_Json):
    """The JSON object of ``agora analyse --json``: a snapshot seen through one window."""

    now: Time = _from("snapshot", "now")
    window: str
    window_s: Number | None
    topics: dict[str, str] = _from("snapshot", "topics")
    posts: PostCountsJson = _from("summary", "posts")
    sentiment: WindowSentimentJson = _from("summary")
    share_of_voice: dict[str, Number] = _from("summary", "share_of_voice")
    share_counts: dict[str, int] = _from("summary", "share_counts")
    share_multi_topic: int = _from("summary", "multi_topic")
    share_by_source: dict[str, dict[str, Number]] = _from("summary", "share_by_source")
    volume: VolumeJson
    trending: list[TermTrendJson] = _from("summary", "trending")
    authors: list[AuthorJson] = _from("summary", "authors")
    featured: list[FeaturedJson]
    engagement: EngagementJson = _from("summary")
    care: CareJson = _from("snapshot", "care")
    alerts: list[AlertJson] = _from("snapshot", "alerts")
    kpis: KpisJson = _from("snapshot", "kpis")
    sources: dict[str, dict[str, Any]]
    moderation: ModerationJson = _from("snapshot")
    store: str = _from("snapshot", "store_status")
    notes: list[str] = _from("snapshot", "notes")

    @classmethod
    def of(cls, snapshot: Snapshot, window_s: float | None) -> SnapshotJson:
        """The JSON of ``snapshot`` for the window of ``window_s`` seconds (``None``: all time):
        the window's summary, the volume series cut to the window (whole series for all time)
        and the featured posts published inside it."""
        volume = snapshot.volume
        minutes = len(volume.total)
        keep = minutes if window_s is None else min(minutes, max(1, round(window_s / 60)))
        cut = minutes - keep
        start = volume.start.timestamp() + cut * volume.step_s
        since = None if window_s is None else snapshot.now.timestamp() - window_s
        source = _OneWindow(
            snapshot=snapshot,
            summary=snapshot.summary(window_s),
            window=window_key(window_s),
            window_s=window_s,
            volume=VolumeSeries(
                start=datetime.fromtimestamp(start, snapshot.now.tzinfo),
                step_s=volume.step_s,
                total=volume.total[cut:],
                by_topic={k: v[cut:] for k, v in volume.by_topic.items()},
                by_sentiment={k: v[cut:] for k, v in volume.by_sentiment.items()},
                by_source={k: v[cut:] for k, v in volume.by_source.items()},
            ),
            featured=tuple(
                f for f in snapshot.featured if since is None or f.post.timestamp >= since
            ),
            sources={name: health.to_dict() for name, health in snapshot.sources.items()},
        )
        return cls.model_validate(source)

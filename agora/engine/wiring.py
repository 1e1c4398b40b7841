"""How a config becomes a pipeline: topics, moderation, sentiment and figures, wired together.

:func:`build_pipeline` is what every command and the wall use to turn a :class:`WallConfig`
into a :class:`~agora.core.pipeline.Pipeline`; :func:`reenrich` runs stored posts through a new
config's rules (a hot reload, a restart); :func:`pipeline_changed` tells whether a reload needs a
new pipeline at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agora.config.schema import WallConfig
from agora.core.aggregates import Aggregates
from agora.core.moderation import RuleModeration
from agora.core.pipeline import Pipeline
from agora.core.post import APPROVED, Post, Sentiment
from agora.core.sentiment import SCORER_NAMES, make_scorer
from agora.core.sentiment_base import Scorer
from agora.core.text import fold
from agora.core.topics import TopicMatcher
from agora.store.base import Store

log = logging.getLogger("agora.engine")


def utcnow() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def panel_windows(config: WallConfig) -> list[float | None]:
    """Every time window some panel of the config asks for, plus the standard ones."""
    windows: list[float | None] = [3600.0, 86400.0, None]
    for screen in config.screens:
        for page in screen.pages:
            for panel in page.panels:
                if panel.window and panel.window not in windows:
                    windows.append(panel.window)
    return windows


def wall_timezone(config: WallConfig) -> ZoneInfo | None:
    """The configured IANA zone, or ``None`` for the machine's own."""
    if not config.wall.timezone:
        return None
    try:
        return ZoneInfo(config.wall.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("wall.timezone %r is unknown; using the machine's zone", config.wall.timezone)
        return None


class LazyScorer:
    """The scorer ``[analytics] sentiment`` names, built the first time it scores.

    The learnt model's weights (and numpy under them) take a tenth of a second or more to load:
    a wall builds its engine before its first frame, and this way the ingest thread pays for
    them with its first batch instead of the GUI thread before anything is on screen. An unknown
    name is still refused at once."""

    def __init__(
        self,
        kind: str = "social",
        neutral_band: float | None = None,
        lexicon: Mapping[str, float] | None = None,
    ) -> None:
        if kind not in SCORER_NAMES:
            make_scorer(kind)  # raises the usual error
        self.name = kind
        self._options = (kind, neutral_band, lexicon)
        self._scorer: Scorer | None = None
        self._lock = threading.Lock()

    def scorer(self) -> Scorer:
        """The real scorer (built on the first call, once, whichever thread asks)."""
        scorer = self._scorer
        if scorer is None:
            with self._lock:
                if self._scorer is None:
                    self._scorer = make_scorer(*self._options)
                scorer = self._scorer
        return scorer

    def score(self, text: str, lang: str | None) -> Sentiment | None:
        """The real scorer's score of one text."""
        return self.scorer().score(text, lang)

    def score_many(
        self, texts: Sequence[str], langs: Sequence[str | None]
    ) -> list[Sentiment | None]:
        """The real scorer's scores of a batch."""
        return self.scorer().score_many(texts, langs)


def build_pipeline(config: WallConfig, store: Store | None, *, lazy: bool = False) -> Pipeline:
    """The pipeline and aggregates a config describes (``lazy``: the sentiment scorer is built
    when it first scores, see :class:`LazyScorer`)."""
    topic_terms = {key: topic.terms for key, topic in config.topics.items()}
    relays = config.relays()
    moderation = RuleModeration(config.moderation, relays=relays)
    blocked_words = [t for t in config.moderation.block_terms if " " not in t.strip()]
    aggregates = Aggregates(
        {key: config.topic_label(key) for key in config.topics},
        owned_accounts=config.analytics.owned_accounts,
        relays=relays,
        topic_terms=topic_terms,
        stopwords=[*config.analytics.stopwords, *blocked_words],
        timezone=wall_timezone(config),
        term_filter=moderation.blocks_term,
    )
    return Pipeline(
        matcher=TopicMatcher(topic_terms),
        scorer=(LazyScorer if lazy else make_scorer)(
            config.analytics.sentiment, config.analytics.neutral_band, config.analytics.lexicon
        ),
        aggregates=aggregates,
        store=store,
        moderation=moderation,
    )


def pipeline_changed(old: WallConfig, new: WallConfig) -> bool:
    """True when the figures must be rebuilt for ``new``: topics, analytics, moderation rules or
    the wall's time zone differ."""
    return (
        old.topics != new.topics
        or old.analytics != new.analytics
        or old.moderation != new.moderation
        or old.wall.timezone != new.wall.timezone
    )


def what_changed(old: WallConfig, new: WallConfig) -> list[str]:
    """The parts of the config whose change rebuilds the figures, in words."""
    return [
        name
        for name, differs in (
            ("topics", old.topics != new.topics),
            ("analytics", old.analytics != new.analytics),
            ("moderation", old.moderation != new.moderation),
            ("timezone", old.wall.timezone != new.wall.timezone),
        )
        if differs
    ]


#: Stored posts scored at once when the scorer changed (:func:`reenrich`).
RESCORE_BATCH = 500


def reenrich(pipeline: Pipeline, posts: Iterable[Post], *, rescore: bool) -> Iterator[Post]:
    """Stored posts enriched again by ``pipeline`` (its topics and moderation rules, and, with
    ``rescore``, its sentiment scorer) before they are warmed into its aggregates."""
    chunk: list[Post] = []
    for post in posts:
        folded = fold(post.text)
        post.topics = pipeline.topics.matcher.match(folded)
        post.moderation = pipeline.moderate(replace(post, moderation=APPROVED), folded)
        if not rescore:
            yield post
            continue
        # scored a batch at a time, as new posts are (the learnt scorer is several times faster
        # on a batch than on one post at a time)
        chunk.append(post)
        if len(chunk) == RESCORE_BATCH:
            pipeline.sentiment.score_all(chunk)
            yield from chunk
            chunk = []
    if chunk:
        pipeline.sentiment.score_all(chunk)
        yield from chunk

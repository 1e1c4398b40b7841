"""The enrichment pipeline: normalise → dedupe → moderate → sentiment → topics → store → aggregates.

Each stage is a small class with one job, testable on its own. :class:`Pipeline` runs a batch of
posts through all of them. It is not thread-safe: the wall runs it on one ingest thread and
publishes :class:`~agora.core.snapshot.Snapshot` objects for the UI thread to read.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from agora.core.aggregates import Aggregates, owned_handle
from agora.core.post import (
    EARLIEST_PLAUSIBLE,
    FUTURE_TOLERANCE,
    Moderation,
    Post,
    format_time,
)
from agora.core.problems import ProblemLog
from agora.core.sentiment import Scorer
from agora.core.text import MAX_TEXT_CHARS, clean_name, clean_text, fold
from agora.core.topics import TopicMatcher
from agora.store.base import Store

log = logging.getLogger("agora.pipeline")


# ---------------------------------------------------------------------------------------------
# stages


class Normaliser:
    """Enforces the post contract on whatever a source produced: ids prefixed with the source kind,
    the feed name set, text plain and bounded, timestamps plausible. Returns ``None`` to skip."""

    def __init__(self, problems: ProblemLog) -> None:
        self._problems = problems

    def __call__(self, post: Post, now: datetime) -> Post | None:
        """Repair ``post`` in place where possible; ``None`` when it must be skipped."""
        if not post.id or not post.text:
            self._problems.report("empty-post", f"skipped a post without id or text ({post.id!r})")
            return None
        if ":" not in post.id:
            post.id = f"{post.source}:{post.id}"
        if len(post.text) > MAX_TEXT_CHARS or not post.text.isprintable():
            cleaned = clean_text(post.text)
            if not cleaned:
                self._problems.report("empty-post", f"skipped {post.id}: no printable text")
                return None
            post.text = cleaned
        created = post.created_at
        if created.tzinfo is None:
            created = post.created_at = created.replace(tzinfo=UTC)
        if created < EARLIEST_PLAUSIBLE:
            self._problems.report(
                "implausible-time", f"skipped {post.id}: dated {format_time(created)}, before 2000"
            )
            return None
        if created > now + FUTURE_TOLERANCE:
            self._problems.report(
                "future-time",
                f"{post.id}: dated {format_time(created)} in the future; using the arrival time",
                level=logging.INFO,
            )
            post.created_at = now
        if not (post.author.handle.isprintable() and post.author.name.isprintable()):
            self._problems.report("author-name", f"{post.id}: cleaned the author's name")
            author = post.author
            post.author = type(author)(
                clean_name(author.handle) or "unknown",
                clean_name(author.name),
                author.url,
                author.avatar_url,
                author.followers,
            )
        return post


class Deduper:
    """Recognises posts seen before by id.

    A bounded LRU of recent ids answers most questions in memory. The store is asked (one query
    per batch) only about posts it could hold that the LRU may not know: posts dated at or before
    the newest post the store held when the wall started (a restart), and posts more than
    :attr:`LOOKBACK_S` older than the newest post seen since (the LRU may have forgotten them).
    Fresh posts of a running wall never cost a query. A post seen again is an *update* (fresh
    metrics), not a new mention.
    """

    #: posts this much older than the newest one seen are checked against the store
    LOOKBACK_S = 3600.0

    def __init__(self, store: Store | None, capacity: int = 50_000) -> None:
        self._store = store
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        newest = store.newest_time() if store is not None else None
        self._horizon = newest.timestamp() if newest is not None else float("-inf")
        self._latest = float("-inf")

    def split(self, posts: Sequence[Post]) -> tuple[list[Post], list[Post]]:
        """``(new, seen_before)``; duplicates inside the batch keep the last copy as an update."""
        seen = self._seen
        if posts:
            self._latest = max(self._latest, *(p.timestamp for p in posts))
        limit = max(self._horizon, self._latest - self.LOOKBACK_S)
        unknown = [p.id for p in posts if p.id not in seen and p.timestamp <= limit]
        stored: set[str] = set()
        if unknown and self._store is not None:
            stored = self._store.has_posts(unknown)
        new: list[Post] = []
        updates: list[Post] = []
        for post in posts:
            pid = post.id
            if pid in seen or pid in stored:
                seen.move_to_end(pid)
                updates.append(post)
                continue
            seen[pid] = None
            new.append(post)
        while len(seen) > self._capacity:
            seen.popitem(last=False)
        return new, updates

    def remember(self, post_id: str) -> None:
        """Mark an id as seen without asking the store (warming up from the store itself)."""
        self._seen[post_id] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)

    def forget(self, post_id: str) -> None:
        """A deleted post may come back (e.g. undeleted); forget that it was seen."""
        self._seen.pop(post_id, None)


class ModerationHook(Protocol):
    """Decides whether a new post may be shown (:class:`agora.core.moderation.RuleModeration`
    for a wall's ``[moderation]``)."""

    def __call__(self, post: Post, folded: str) -> Moderation:
        """The moderation state of ``post`` (``folded`` is its case/accent-folded text)."""
        ...


class ApproveAll:
    """The default moderation hook: every post is approved."""

    def __call__(self, post: Post, folded: str) -> Moderation:
        """Keep whatever state the post came with (approved unless a source said otherwise)."""
        return post.moderation


class SentimentStage:
    """Scores new posts; ``None`` for languages the scorer cannot handle."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer

    def __call__(self, post: Post) -> None:
        """Set ``post.sentiment`` in place."""
        post.sentiment = self.scorer.score(post.text, post.lang)


class TopicStage:
    """Sets ``post.topics`` from the configured terms."""

    def __init__(self, matcher: TopicMatcher) -> None:
        self.matcher = matcher

    def __call__(self, post: Post, folded: str) -> None:
        """Set ``post.topics`` in place."""
        post.topics = self.matcher.match(folded)


@dataclass(slots=True)
class IngestResult:
    """What one call to :meth:`Pipeline.ingest` did."""

    new: int = 0
    updated: int = 0
    skipped: int = 0
    stored: int = 0
    posts: list[Post] = field(default_factory=list)
    """The new posts, enriched (for ``agora fetch``)."""


class Pipeline:
    """Runs batches of posts through every stage into the store and the aggregates."""

    def __init__(
        self,
        *,
        matcher: TopicMatcher,
        scorer: Scorer,
        aggregates: Aggregates,
        store: Store | None = None,
        moderation: ModerationHook | None = None,
        owned_accounts: Iterable[str] = (),
        problems: ProblemLog | None = None,
    ) -> None:
        self.problems = problems or ProblemLog(log)
        self.normalise = Normaliser(self.problems)
        self.dedupe = Deduper(store)
        self.moderate: ModerationHook = moderation or ApproveAll()
        self.sentiment = SentimentStage(scorer)
        self.topics = TopicStage(matcher)
        self.store = store
        self.aggregates = aggregates
        self._owned = frozenset(owned_handle(h) for h in owned_accounts)

    def ingest(
        self, posts: Sequence[Post], *, now: datetime | None = None, keep: bool = False
    ) -> IngestResult:
        """Run a batch through the pipeline. ``keep=True`` returns the enriched new posts."""
        result = IngestResult()
        moment = now or datetime.now(UTC)
        normalised: list[Post] = []
        for post in posts:
            fixed = self.normalise(post, moment)
            if fixed is None:
                result.skipped += 1
            else:
                normalised.append(fixed)
        new, updates = self.dedupe.split(normalised)
        folded_texts: list[str] = []
        for post in new:
            folded = fold(post.text)
            folded_texts.append(folded)
            post.moderation = self.moderate(post, folded)
            self.sentiment(post)
            self.topics(post, folded)
        aggregates = self.aggregates
        for post in updates:
            # an update carries fresh metrics (or an edited text): enriched again; a decision
            # taken meanwhile stays unless the edit now trips a filter
            folded = fold(post.text)
            verdict = self.moderate(post, folded)
            known = aggregates.state_of(post.id)
            hidden_now = verdict.state == "hidden"
            post.moderation = known if known is not None and not hidden_now else verdict
            self.sentiment(post)
            self.topics(post, folded)
        if self.store is not None and (new or updates):
            result.stored = self.store.add_posts(new + updates)
        aggregates.add_many(new, folded_texts)
        for post in updates:
            aggregates.update(post)
        result.new = len(new)
        result.updated = len(updates)
        if keep:
            result.posts = new
        return result

    def delete(self, post_ids: Iterable[str]) -> int:
        """Posts deleted at the source: removed from the store and from the wall."""
        ids = list(post_ids)
        for post_id in ids:
            self.aggregates.remove(post_id)
            self.dedupe.forget(post_id)
        return self.store.delete_posts(ids) if self.store is not None else 0

    def warm(self, posts: Iterable[Post]) -> int:
        """Feed stored posts back into the aggregates after a restart (no re-scoring, no store)."""
        count = 0
        batch: list[Post] = []
        for post in posts:
            self.dedupe.remember(post.id)
            batch.append(post)
            if len(batch) == 1_000:
                self.aggregates.add_many(batch)
                count += len(batch)
                batch = []
        self.aggregates.add_many(batch)
        return count + len(batch)

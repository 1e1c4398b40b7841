"""The enrichment pipeline: normalise → dedupe → moderate → sentiment → topics → store → aggregates.

Each stage is a small class with one job, testable on its own. :class:`Pipeline` runs a batch of
posts through all of them. It is not thread-safe: the wall runs it on one ingest thread and
publishes :class:`~agora.core.snapshot.Snapshot` objects for the UI thread to read.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from agora.core.aggregates import Aggregates
from agora.core.post import (
    EARLIEST_PLAUSIBLE,
    FUTURE_TOLERANCE,
    MAX_COUNT,
    Metrics,
    Moderation,
    Post,
    count_of,
    format_time,
)
from agora.core.problems import ProblemLog
from agora.core.redact import redact_post
from agora.core.sentiment import Scorer
from agora.core.storage import PostStore, StoreUnavailableError
from agora.core.text import MAX_TEXT_CHARS, clean_name, clean_text
from agora.core.tokens import SHARED, read
from agora.core.topics import TopicMatcher

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
        metrics = post.metrics
        counts = (metrics.likes, metrics.reposts, metrics.replies, metrics.quotes)
        if not all(c is None or 0 <= c <= MAX_COUNT for c in counts):
            self._problems.report("bad-count", f"{post.id}: a count out of range was clamped")
            post.metrics = Metrics(*(count_of(c) for c in counts))
        followers = post.author.followers
        if followers is not None and not 0 <= followers <= MAX_COUNT:
            self._problems.report("bad-count", f"{post.id}: a count out of range was clamped")
            post.author = replace(post.author, followers=count_of(followers))
        # --- secrets (issue 13): a server that echoes the configured token into a post (its
        # text, author, links) must not get it stored, printed or drawn
        if redact_post(post):
            self._problems.report("secret-in-post", f"{post.id}: hid a configured secret in it")
        return post


def content_key(post: Post) -> int:
    """A fingerprint of what a reader sees of a post (text, pictures, the author's name and
    avatar): an edit at the source changes it, fresh metrics do not."""
    author = post.author
    media = tuple((m.kind, m.url, m.preview_url) for m in post.media) if post.media else ()
    return hash((post.text, author.name, author.avatar_url, media))


@dataclass(slots=True, frozen=True)
class Seen:
    """What the deduper remembers of a post: when it was made, which source entry delivered it,
    and a fingerprint of its content (:func:`content_key`)."""

    ts: float
    feed: str
    content: int


@dataclass(slots=True)
class Split:
    """A batch sorted by the deduper."""

    new: list[Post] = field(default_factory=list)
    updates: list[Post] = field(default_factory=list)
    """Posts seen before, from the entry that delivered them first (fresh metrics, or an edit)."""
    edited: set[str] = field(default_factory=set)
    """Ids among :attr:`updates` whose content changed (an edit at the source)."""
    foreign: list[Post] = field(default_factory=list)
    """Posts whose id another source entry delivered first: only that entry may update them
    (a feed that republishes another's item ids must not rewrite what it showed)."""


class Deduper:
    """Recognises posts seen before by id, and who delivered them.

    A bounded LRU of recent ids answers most questions in memory. The store is asked (one query
    per batch) only about posts it could hold that the LRU may not know: posts dated at or before
    the newest post the store held when the wall started (a restart), posts at or before the
    newest post the LRU has forgotten, and posts more than :attr:`LOOKBACK_S` older than the
    newest post seen since. Fresh posts of a running wall never cost a query. A post seen again
    is an *update* (fresh metrics, or an edit), not a new mention, when it comes from the source
    entry that delivered it first; from another entry it is left out.
    """

    #: posts this much older than the newest one seen are checked against the store
    LOOKBACK_S = 3600.0

    def __init__(self, store: PostStore | None, capacity: int = 50_000) -> None:
        self._store = store
        self._seen: OrderedDict[str, Seen] = OrderedDict()
        self._capacity = capacity
        newest = store.newest_time() if store is not None else None
        self._horizon = newest.timestamp() if newest is not None else float("-inf")
        self._latest = float("-inf")
        self._forgotten = float("-inf")
        """The newest time of a post the LRU has let go: older posts may be in the store."""

    def split(self, posts: Sequence[Post]) -> Split:
        """Sort a batch; duplicates inside it keep the last copy as an update."""
        seen = self._seen
        stamps = [p.timestamp for p in posts]  # a property that converts: read once a post
        if posts:
            self._latest = max(self._latest, *stamps)
        limit = max(self._horizon, self._forgotten, self._latest - self.LOOKBACK_S)
        unknown = [
            p.id for p, ts in zip(posts, stamps, strict=True) if p.id not in seen and ts <= limit
        ]
        stored: dict[str, Post | None] = {}
        if unknown and self._store is not None:
            stored = self._store.get_posts(unknown)
        out = Split()
        for post, ts in zip(posts, stamps, strict=True):
            pid = post.id
            known = seen.get(pid)
            if known is None and pid in stored:
                old = stored[pid]
                # an unreadable stored row is replaced by the update
                known = Seen(ts, post.feed, 0) if old is None else self.note(old)
            content = content_key(post)
            if known is None:
                seen[pid] = Seen(ts, post.feed, content)
                out.new.append(post)
            elif known.feed != post.feed:
                out.foreign.append(post)
            else:
                if known.content != content and known.content:
                    out.edited.add(pid)
                seen[pid] = Seen(known.ts, known.feed, content)
                seen.move_to_end(pid)
                out.updates.append(post)
        self._trim()
        return out

    def note(self, post: Post) -> Seen:
        """What the deduper remembers of ``post`` (without keeping it)."""
        return Seen(post.timestamp, post.feed, content_key(post))

    def remember(self, post: Post) -> None:
        """Mark a post as seen without asking the store (warming up from the store itself)."""
        self._seen[post.id] = self.note(post)
        self._trim()

    def forget(self, post_id: str) -> None:
        """A deleted post may come back (e.g. undeleted), and a post that could not be stored
        is not known: forget that it was seen."""
        self._seen.pop(post_id, None)

    def _trim(self) -> None:
        seen = self._seen
        while len(seen) > self._capacity:
            _, known = seen.popitem(last=False)
            self._forgotten = max(self._forgotten, known.ts)


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

    def score_all(self, posts: Sequence[Post]) -> None:
        """Set ``sentiment`` of every post of a batch in place, in one call of the scorer's
        ``score_many`` (the learnt model scores a batch several times faster than one by one)."""
        if not posts:
            return
        results = self.scorer.score_many([p.text for p in posts], [p.lang for p in posts])
        for post, result in zip(posts, results, strict=True):
            post.sentiment = result


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
    """Posts left out: invalid, or a stage failed on them (each logged with its id)."""
    stored: int = 0
    store_failed: bool = False
    """The store could not take the batch: its posts are counted, but not kept (a source's
    saved place must not move past them)."""
    unstored: list[Post] = field(default_factory=list)
    """With :attr:`store_failed`: the enriched posts the store did not take (to write again)."""
    posts: list[Post] = field(default_factory=list)
    """The new posts, enriched (for ``agora fetch``)."""


class Pipeline:
    """Runs batches of posts through every stage into the store and the aggregates.

    A failure on one post costs that post only: it is logged with its id and left out (and
    forgotten by the deduper, so a later copy counts as new); the rest of the batch goes on.
    """

    def __init__(
        self,
        *,
        matcher: TopicMatcher,
        scorer: Scorer,
        aggregates: Aggregates,
        store: PostStore | None = None,
        moderation: ModerationHook | None = None,
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

    def ingest(
        self, posts: Sequence[Post], *, now: datetime | None = None, keep: bool = False
    ) -> IngestResult:
        """Run a batch through the pipeline. ``keep=True`` returns the enriched new posts."""
        result = IngestResult()
        moment = now or datetime.now(UTC)
        normalised: list[Post] = []
        for post in posts:
            try:
                fixed = self.normalise(post, moment)
            except Exception as exc:
                self._failed(post, "could not be read", exc)
                fixed = None
            if fixed is None:
                result.skipped += 1
            else:
                normalised.append(fixed)
        split = self.dedupe.split(normalised)
        if split.foreign:
            result.skipped += len(split.foreign)
            for post in split.foreign:
                self.problems.report(
                    "foreign-id",
                    f"{post.feed} delivered {post.id[:120]}, which another source entry showed "
                    "first; only that entry may change it",
                    level=logging.INFO,
                )
        new, folded_texts = self._enrich(split.new, result, updating=False)
        updates, _ = self._enrich(split.updates, result, updating=True, edited=split.edited)
        if self.store is not None and (new or updates):
            refused = self._store(new + updates, result)
            if refused:
                kept = [
                    (p, f) for p, f in zip(new, folded_texts, strict=True) if p.id not in refused
                ]
                new, folded_texts = [p for p, _ in kept], [f for _, f in kept]
                updates = [p for p in updates if p.id not in refused]
        self._count(new, folded_texts, result)
        for post in updates:
            try:
                self.aggregates.update(post)
            except Exception as exc:
                self._failed(post, "could not be counted again", exc, forget=False)
        result.new = len(new)
        result.updated = len(updates)
        if keep:
            result.posts = new
        # the batch's readings are not needed again; kept across batches they would reach the
        # garbage collector's oldest generation and bring its full passes sooner (a reading
        # another thread still wants is simply made again)
        SHARED.clear()
        return result

    # -- the stages of a batch, each failing one post at a time -----------------------------------

    def _failed(self, post: Post, what: str, exc: BaseException, *, forget: bool = True) -> None:
        """One log line for a post a stage failed on (with the post's id, never its text)."""
        pid = str(getattr(post, "id", "?"))[:120]
        log.error("post %s %s and was left out: %s: %s", pid, what, type(exc).__name__, exc)
        if forget:
            self.dedupe.forget(pid)

    def _enrich(
        self,
        posts: list[Post],
        result: IngestResult,
        *,
        updating: bool,
        edited: set[str] | None = None,
    ) -> tuple[list[Post], list[str]]:
        """Moderation, topics and sentiment for new posts (or updates of known ones)."""
        kept: list[Post] = []
        folded_texts: list[str] = []
        for post in posts:
            try:
                # the post's shared reading (agora.core.tokens): every stage reads the same
                folded = read(post.text).folded
                verdict = self.moderate(post, folded)
                if updating:
                    verdict, folded = self._update_state(post, verdict, folded, edited or set())
                post.moderation = verdict
                self.topics(post, folded)
            except Exception as exc:
                self._failed(post, "could not be enriched", exc, forget=not updating)
                result.skipped += 1
                continue
            kept.append(post)
            folded_texts.append(folded)
        try:
            self.sentiment.score_all(kept)
        except Exception:  # find the post at fault; the others are scored
            scored: list[Post] = []
            scored_texts: list[str] = []
            for post, folded in zip(kept, folded_texts, strict=True):
                try:
                    self.sentiment(post)
                except Exception as exc:
                    self._failed(post, "could not be scored", exc, forget=not updating)
                    result.skipped += 1
                    continue
                scored.append(post)
                scored_texts.append(folded)
            kept, folded_texts = scored, scored_texts
        return kept, folded_texts

    def _update_state(
        self, post: Post, verdict: Moderation, folded: str, edited: set[str]
    ) -> tuple[Moderation, str]:
        """The state of a post seen again, and its folded text.

        Fresh metrics keep the state it had (an operator's decision stays). An edit that now
        trips a filter hides it. An edit of a post an operator pinned, or approved on a wall that
        waits for approval, is not shown: the wall keeps the version the operator saw (its
        metrics still update), so an approval cannot be turned into approval of other words.
        """
        known = self.aggregates.state_of(post.id)
        if known is None or verdict.state == "hidden":
            return verdict, folded
        approved_by_hand = known.state == "pinned" or (
            known.state == "approved" and verdict.state == "pending"
        )
        if post.id not in edited or not approved_by_hand:
            return known, folded
        old = self.store.get_post(post.id) if self.store is not None else None
        if old is None:  # the approved version is gone: the edit waits like a new post
            return Moderation("pending", ("edited at the source after it was approved",)), folded
        post.text = old.text
        post.media = old.media
        post.author = replace(post.author, name=old.author.name, avatar_url=old.author.avatar_url)
        self.dedupe.remember(post)  # the approved version is what the next copy is compared to
        self.problems.report(
            "edited-after-approval",
            f"{post.id[:120]}: edited at the source after an operator approved it; the wall "
            "keeps the approved version",
            level=logging.INFO,
        )
        return known, read(post.text).folded

    def _store(self, posts: list[Post], result: IngestResult) -> set[str]:
        """Keep a batch in the store; a post the store refuses is left out alone. Returns the
        ids of the posts left out. A store that cannot write at all (:class:`StoreUnavailableError`)
        is not the posts' fault: the batch is marked :attr:`IngestResult.store_failed` and every
        post stays (shown, and retried by the caller)."""
        assert self.store is not None
        try:
            result.stored = self.store.add_posts(posts)
            return set()
        except StoreUnavailableError as exc:
            self._store_down(posts, exc, result)
            return set()
        except Exception as exc:
            first_error: Exception = exc
        refused: set[str] = set()
        stored = 0
        for post in posts:
            try:
                stored += self.store.add_posts([post])
            except StoreUnavailableError as exc:
                self._store_down(posts, exc, result)
                return set()
            except Exception as exc:
                refused.add(post.id)
                first_error = exc
        if refused and len(refused) == len({p.id for p in posts}):
            # nothing could be written: the store is at fault, not the posts
            self._store_down(posts, first_error, result)
            return set()
        for post in posts:
            if post.id in refused:
                self._failed(post, "could not be stored", first_error)
        result.skipped += len(refused)
        result.stored = stored
        return refused

    @staticmethod
    def _store_down(posts: list[Post], exc: BaseException, result: IngestResult) -> None:
        log.error("store: could not keep %d post(s): %s: %s", len(posts), type(exc).__name__, exc)
        result.store_failed = True
        result.unstored = list(posts)

    def _count(self, new: list[Post], folded_texts: list[str], result: IngestResult) -> None:
        """Count new posts in the figures (one at a time when the batch fails)."""
        try:
            self.aggregates.add_many(new, folded_texts)
            return
        except Exception:
            log.exception("aggregates: a batch of %d posts failed; counting one by one", len(new))
        for post, folded in zip(new, folded_texts, strict=True):
            try:
                self.aggregates.add_many([post], [folded])
            except Exception as exc:
                self._failed(post, "could not be counted", exc, forget=False)

    def delete(self, post_ids: Iterable[str]) -> int:
        """Posts deleted at the source: removed from the store and from the wall."""
        ids = list(post_ids)
        for post_id in ids:
            self.aggregates.remove(post_id)
            self.dedupe.forget(post_id)
        return self.store.delete_posts(ids) if self.store is not None else 0

    def warm(self, posts: Iterable[Post]) -> int:
        """Feed stored posts back into the aggregates after a restart (no re-scoring, no store).
        A stored post the figures cannot take is left out with a log line; the others count."""
        count = 0
        batch: list[Post] = []
        for post in posts:
            self.dedupe.remember(post)
            batch.append(post)
            if len(batch) == 1_000:
                count += self._warm_batch(batch)
                batch = []
        return count + self._warm_batch(batch)

    def _warm_batch(self, batch: list[Post]) -> int:
        try:
            self.aggregates.add_many(batch)
            return len(batch)
        except Exception:
            log.exception("aggregates: %d stored posts failed; counting one by one", len(batch))
        count = 0
        for post in batch:
            try:
                self.aggregates.add_many([post])
                count += 1
            except Exception as exc:
                self._failed(post, "(stored) could not be counted", exc, forget=False)
        return count

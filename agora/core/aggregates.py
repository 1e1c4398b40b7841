"""Incremental, bounded aggregates over the enriched post stream, and the snapshot built from them.

Every figure of the snapshot is a small accumulator of its own in :mod:`agora.core.figures` (one
module each: volume, sentiment, share, trending, authors, engagement, care, KPIs, featured, the
newest posts). :class:`Aggregates` reads each batch once (:class:`~agora.core.figures.base.Entry`:
its minute, whether the brand posted it, whether it is shown), hands it to every figure, and
assembles the :class:`~agora.core.snapshot.Snapshot` from their parts.

Memory is bounded whatever the ingest rate or uptime: per-minute series are 56 h ring buffers,
the author and term counters are slotted and capacity-bounded, and every pool has a size.

Moderation decisions taken after ingest (:meth:`Aggregates.set_moderation`,
:meth:`Aggregates.block_author`) move a post between shown and not shown everywhere at once: the
pools, the per-minute state counts, the author and term counters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo

from agora.core.accounts import AccountSet
from agora.core.alerts import SpikeDetector
from agora.core.figures.authors import Authors
from agora.core.figures.base import Batch, Entry, Figure, Moment, Signature, Window
from agora.core.figures.care import HELP_PHRASES, QUESTION_OPENERS, Care
from agora.core.figures.counts import Counts
from agora.core.figures.engagement import Engagement
from agora.core.figures.featured import SOURCE_DIVERSITY, Featured, featured_score
from agora.core.figures.kpis import Kpis
from agora.core.figures.posts import Newest, Pending, Withdrawn
from agora.core.figures.sentiment import LABELS, Sentiment
from agora.core.figures.share import Share
from agora.core.figures.trending import Trending, never_trending
from agora.core.figures.volume import Volume
from agora.core.health import SourceHealth
from agora.core.post import Moderation, Post
from agora.core.snapshot import Snapshot, WindowSummary, window_key
from agora.core.text import fold

__all__ = [
    "HELP_PHRASES",
    "HORIZON_MINUTES",
    "LABELS",
    "QUESTION_OPENERS",
    "SLOT_S",
    "SOURCE_DIVERSITY",
    "Aggregates",
    "featured_score",
    "owned_handle",
]

#: how far back the figures reach: two days, plus the hours the seasonal spike baseline compares
HORIZON_MINUTES = 56 * 60
#: the author and term counters' slot: 10 minutes
SLOT_S = 600
_VISIBLE = frozenset({"approved", "pinned"})


def owned_handle(handle: str) -> str:
    """The form blocks compare handles in: folded (a block is broad on purpose), without
    leading ``@`` or Reddit's ``u/`` (a block of ``@troll`` also holds for ``u/troll``)."""
    key = fold(handle.strip()).lstrip("@")
    return key[2:] if key.startswith("u/") else key


class Aggregates:
    """All incremental figures of one wall.

    ``topics`` maps topic keys to labels (config order). ``brand`` is the topic whose questions and
    complaints feed the care queue (default: the first topic). ``owned_accounts`` are the brand's
    own handles: their replies answer care items, their posts feed the "owned" engagement rates.
    """

    def __init__(
        self,
        topics: Mapping[str, str],
        *,
        brand: str | None = None,
        owned_accounts: Iterable[str] = (),
        relays: Mapping[str, Iterable[str]] | None = None,
        topic_terms: Mapping[str, Sequence[str]] | None = None,
        stopwords: Iterable[str] = (),
        timezone: tzinfo | None = None,
        featured_pool: int = 2_000,
        newest_size: int = 300,
        care_size: int = 1_000,
        author_capacity: int = 4_000,
        term_capacity: int = 6_000,
        pending_size: int = 1_000,
        term_filter: Callable[[str], bool] | None = None,
    ) -> None:
        self.topics = dict(topics)
        self.brand = brand if brand is not None else next(iter(self.topics), None)
        self.owned = AccountSet(owned_accounts, relays=relays)
        """The brand's own accounts, each on the source it belongs to (see
        :mod:`agora.core.accounts`)."""
        self._owned_authors: dict[tuple[str, str, str], bool] = {}
        """(source, feed, handle) → whether :attr:`owned` holds that author (asked once)."""
        self.version = 0
        self.newest_ts = 0.0
        """Newest ``created_at`` ingested (POSIX seconds)."""
        slots = HORIZON_MINUTES * 60 // SLOT_S
        stop = never_trending(topic_terms or {}, self.owned.handles, stopwords)

        self.counts = Counts(HORIZON_MINUTES)
        """The per-minute counts volume, sentiment, share, engagement and KPIs share."""
        self.pinned: dict[str, Post] = {}
        """Posts pinned by an operator, by id."""
        self.volume = Volume(self.counts, self.topics)
        self.sentiment = Sentiment(self.counts, self.topics)
        self.share = Share(self.counts, self.topics)
        self.engagement = Engagement()
        self.kpis = Kpis(self.counts, timezone)
        self.authors = Authors(SLOT_S, slots, author_capacity)
        self.trending = Trending(SLOT_S, slots, term_capacity, stop=stop, term_filter=term_filter)
        self.care = Care(self.brand, self.owned.handles, care_size)
        self.featured = Featured(featured_pool, self.pinned)
        self.newest = Newest(newest_size)
        self.pending = Pending(pending_size)
        self.withdrawn = Withdrawn()
        self._blocked: set[str] = set()
        self.detector = SpikeDetector(self.topics)
        #: every figure that reads new posts, in the order they are handed a batch
        self._figures: tuple[Figure[object], ...] = (
            self.volume,
            self.sentiment,
            self.share,
            self.engagement,
            self.authors,
            self.trending,
            self.care,
            self.featured,
            self.newest,
        )
        #: the figures that count what people say, which a post taken off gives back
        self._said: tuple[Figure[object], ...] = (self.authors, self.trending)

    # -- ingest ------------------------------------------------------------------------------------

    def add(self, post: Post, folded: str | None = None) -> None:
        """Count one new post (already enriched with topics, sentiment and moderation)."""
        self.add_many((post,), (folded,))

    def add_many(self, posts: Sequence[Post], folded: Sequence[str | None] | None = None) -> None:
        """Count a batch of new posts; ``folded`` holds their folded texts where known.

        Each post is looked at once here (its minute, whether the brand posted it, whether it is
        shown); then every figure takes the batch, and the per-minute counts are written once
        per minute, so the cost per post is a few dictionary look-ups and the figures' own work.
        """
        if not posts:
            return
        self.version += 1
        entries: list[Entry] = []
        shown_entries: list[Entry] = []
        said_entries: list[Entry] = []
        minutes: dict[int, list[Signature]] = {}
        owned = self.owned
        asks_owned = bool(owned)  # asked once a batch, not once a post
        is_ours = self._owned_authors
        pinned = self.pinned
        newest = self.newest_ts
        texts = folded if folded is not None else (None,) * len(posts)
        for post, folded_text in zip(posts, texts, strict=True):
            ts = post.created_at.timestamp()
            newest = max(newest, ts)
            minute = int(ts // 60)
            state = post.moderation.state
            sentiment = post.sentiment
            label = sentiment.label if sentiment is not None else "unscored"
            signature = (post.source, label, state, tuple(post.topics), post.is_repost)
            found = minutes.get(minute)
            if found is None:
                minutes[minute] = [signature]
            else:
                found.append(signature)
            if asks_owned:
                # the same few authors post again and again: each is asked once
                author = (post.source, post.feed, post.author.handle)
                is_owned = is_ours.get(author)
                if is_owned is None:
                    if len(is_ours) >= 20_000:
                        is_ours.clear()
                    is_owned = is_ours[author] = owned.matches(post)
            else:
                is_owned = False
            if state == "pinned":
                pinned[post.id] = post
            shown = state in _VISIBLE and not post.is_repost
            said: str | None = None
            if shown and not is_owned:
                # the leaderboard and trending are about what people say: the brand's own
                # accounts (announcements, care replies) are counted in volume and rates only
                said = fold(post.text) if folded_text is None else folded_text
            entry = Entry(post, ts, minute, signature, is_owned, shown, said)
            entries.append(entry)
            if shown:
                shown_entries.append(entry)
                if said is not None:
                    said_entries.append(entry)
        self.newest_ts = newest
        batch = Batch(entries, minutes, shown_entries, said_entries)
        for figure in self._figures:
            figure.add(batch)
        self.pending.add(batch)
        self.counts.add(batch.tally)

    def update(self, post: Post) -> None:
        """A post seen before came again (new metrics, edited text): refresh the copies the wall
        shows. A decision taken meanwhile (approved, pinned) is kept; a post the moderation hook
        now hides is withdrawn."""
        self.version += 1
        post_id = post.id
        if not post.moderation.visible and post.moderation.state != "pending":
            self._withdraw(post_id, post.moderation)
            return
        current = self.state_of(post_id)
        if current is not None and current != post.moderation:
            post = post.with_moderation(current)
        self.featured.replace(post, keep_time=False)
        if post_id in self.newest.posts:
            self.newest.posts[post_id] = post
        if post_id in self.care.open:
            self.care.open[post_id] = post
        if post_id in self.pinned:
            self.pinned[post_id] = post
        if post_id in self.pending.posts:
            self.pending.posts[post_id] = post

    def remove(self, post_id: str) -> None:
        """A post deleted at the source disappears from everything the wall shows."""
        self.version += 1
        self._withdraw(post_id, None)

    def state_of(self, post_id: str) -> Moderation | None:
        """The moderation state of a post the aggregates still hold (pools), else ``None``."""
        found = self._find(post_id)
        return found.moderation if found is not None else None

    def post(self, post_id: str) -> Post | None:
        """The post with this id, when a pool holds it (shown, pinned, waiting or in care)."""
        return self._find(post_id)

    def was_withdrawn(self, post_id: str) -> bool:
        """True when the post was taken off the wall lately (hidden, deleted, blocked)."""
        return post_id in self.withdrawn

    def knows(self, post_id: str) -> bool:
        """True when the post is in one of the pools (shown, pinned or waiting)."""
        return self._find(post_id) is not None

    def _find(self, post_id: str) -> Post | None:
        return (
            self.pinned.get(post_id)
            or self.newest.posts.get(post_id)
            or self.featured.get(post_id)
            or self.care.open.get(post_id)
            or self.pending.posts.get(post_id)
        )

    def set_moderation(
        self, post_id: str, moderation: Moderation, post: Post | None = None
    ) -> bool:
        """Apply a decision taken after ingest (hide, approve, pin, unpin) to everything the wall
        shows. ``post`` is the stored post, for one the pools no longer hold. Returns ``False``
        when nothing could change (an unknown post, or a post of a blocked author to show)."""
        known = self._find(post_id)
        original = known if known is not None else post
        if original is None:
            if not moderation.visible:  # nothing to take away, but remember it was withdrawn
                self.withdrawn.mark(post_id)
            return False
        self.version += 1
        was_visible = original.moderation.visible
        if not moderation.visible:
            if known is not None or was_visible:
                self._withdraw(post_id, moderation, original)
            return True
        if self._blocked and owned_handle(original.author.handle) in self._blocked:
            return False
        updated = original.with_moderation(moderation)
        if was_visible:  # approve ↔ pin: the copies change, the counts stay
            self._replace_copies(updated)
            self.volume.restate(original, moderation.state)
        else:
            self.pending.posts.pop(post_id, None)
            self.volume.restate(original, moderation.state)
            self._reveal(updated)
        if moderation.state == "pinned":
            self.pinned[post_id] = updated
        else:
            self.pinned.pop(post_id, None)
        return True

    def block_author(self, handle: str) -> int:
        """Withdraw every post of an author (any form of the handle) from everything the wall
        shows, the leaderboard included; posts that arrive later are the moderation hook's job.
        Returns how many held posts were withdrawn."""
        key = owned_handle(handle)
        self._blocked.add(key)
        self.version += 1
        posts: dict[str, Post] = {}
        for pool in (
            self.pinned.values(),
            self.newest.posts.values(),
            (c.post for c in self.featured.candidates.values()),
            self.care.open.values(),
            self.pending.posts.values(),
        ):
            for post in pool:
                posts[post.id] = post
        hidden = Moderation("hidden", ("blocked author",))
        count = 0
        for post in posts.values():
            if owned_handle(post.author.handle) == key:
                self._withdraw(post.id, hidden, post)
                count += 1
        self.authors.forget(lambda raw: owned_handle(raw) == key)
        return count

    def unblock_author(self, handle: str) -> None:
        """Posts of this author may be shown again (those withdrawn stay withdrawn)."""
        self._blocked.discard(owned_handle(handle))
        self.version += 1

    @property
    def blocked_authors(self) -> frozenset[str]:
        """Handles (canonical form) withdrawn by :meth:`block_author`."""
        return frozenset(self._blocked)

    # -- moving posts between shown and not shown ------------------------------------------------

    def _withdraw(
        self, post_id: str, moderation: Moderation | None, post: Post | None = None
    ) -> None:
        """Take a post off the wall: every pool, its counts in the author and term counters, and
        (``moderation`` given: a decision, not a deletion) its state in the per-minute counts."""
        found = self._find(post_id) or post
        self.featured.discard(post_id)
        self.care.discard(post_id)
        self.pinned.pop(post_id, None)
        self.pending.posts.pop(post_id, None)
        self.newest.discard(post_id)
        self.withdrawn.mark(post_id)
        if found is None:
            return
        if found.moderation.visible and not found.is_repost and not self.owned.matches(found):
            for figure in self._said:  # the brand's own posts are not in them (see add_many)
                figure.remove(found)
        if moderation is not None:
            self.volume.restate(found, moderation.state)

    def _replace_copies(self, post: Post) -> None:
        post_id = post.id
        self.featured.replace(post, keep_time=True)
        if post_id in self.care.open:
            self.care.open[post_id] = post
        if post_id in self.newest.posts:
            self.newest.posts[post_id] = post

    def _reveal(self, post: Post) -> None:
        """Count and place a post that becomes visible after ingest (approved while pending, or
        hidden by mistake): what :meth:`add_many` does for a visible post."""
        self.withdrawn.discard(post.id)
        if post.is_repost:
            return
        if not self.owned.matches(post):
            batch = Batch.shown_late(post)
            for figure in self._said:
                figure.add(batch)
            self.featured.add(batch)
            self.care.add(batch)
        self.newest.push(post)

    # -- snapshot ---------------------------------------------------------------------------------

    def snapshot(
        self,
        now: datetime | None = None,
        *,
        windows: Iterable[float | None] = (3600.0, 86400.0, None),
        sources: Mapping[str, SourceHealth] | None = None,
        store_status: str = "",
        notes: Sequence[str] = (),
        featured: int = 24,
        care: int = 50,
        pending: int = 100,
    ) -> Snapshot:
        """Build the immutable snapshot at ``now`` (default: the newest post ingested)."""
        if now is None:
            now = (
                datetime.fromtimestamp(self.newest_ts, UTC) if self.newest_ts else datetime.now(UTC)
            )
        moment = Moment.at(now)
        for figure in self._figures:
            figure.prune(moment)
        self.detector.evaluate(self.counts.series, moment.minute)
        summaries: dict[str, WindowSummary] = {}
        for seconds in dict.fromkeys([*windows, 3600.0, 86400.0, None]):
            summaries[window_key(seconds)] = self._summary(Window(moment, seconds, self.counts))
        at = Window(moment, None, self.counts)
        self.featured.limit = featured
        self.care.limit = care
        return Snapshot(
            version=self.version,
            now=now,
            topics=dict(self.topics),
            windows=summaries,
            volume=self.volume.series(moment, 24 * 60),
            featured=self.featured.part(at),
            newest=self.newest.part(at),
            care=self.care.part(at),
            alerts=self.detector.alerts(),
            kpis=self.kpis.part(at),
            pending=self.pending.newest(pending),
            withdrawn=frozenset(self.withdrawn.ids),
            blocked_authors=tuple(sorted(self._blocked)),
            sources=dict(sources or {}),
            store_status=store_status,
            notes=tuple(notes),
        )

    def _summary(self, window: Window) -> WindowSummary:
        sentiment = self.sentiment.part(window)
        share = self.share.part(window)
        engagement = self.engagement.part(window)
        return WindowSummary(
            window_s=window.seconds,
            posts=self.volume.part(window),
            sentiment=sentiment.overall,
            sentiment_by_topic=sentiment.by_topic,
            share_of_voice=share.share,
            share_counts=share.counts,
            multi_topic=share.multi_topic,
            share_by_source=share.by_source,
            trending=self.trending.part(window),
            authors=self.authors.part(window),
            owned=engagement.owned,
            mentions=engagement.mentions,
        )

"""Incremental, bounded aggregates over the enriched post stream, and the snapshot built from them.

Every post updates a fixed set of structures in O(terms) time; nothing is recomputed from all posts.
Memory is bounded whatever the ingest rate or uptime:

* per-minute series (48 h ring buffers) by topic, source, sentiment label and moderation state,
  plus engagement sums for owned accounts and for mentions;
* slotted top-k counters (10-minute slots, capacity-bounded) for authors and terms;
* bounded pools: featured candidates, newest posts, the open care queue, recent reply times,
  posts waiting for approval (so an operator can approve them later), recently withdrawn ids.

Moderation decisions taken after ingest (:meth:`Aggregates.set_moderation`,
:meth:`Aggregates.block_author`) move a post between shown and not shown everywhere at once: the
pools, the per-minute state counts, the author and term counters.

:meth:`Aggregates.snapshot` turns these into an immutable :class:`~agora.core.snapshot.Snapshot`.
"""

from __future__ import annotations

import math
import re
import statistics
from bisect import insort
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from itertools import chain

from agora.core.accounts import AccountSet
from agora.core.alerts import SpikeDetector
from agora.core.health import SourceHealth
from agora.core.post import Moderation, Post
from agora.core.snapshot import (
    AuthorStat,
    Care,
    Featured,
    Kpis,
    PostCounts,
    Rates,
    SentimentSummary,
    Snapshot,
    TermTrend,
    VolumeSeries,
    WindowSummary,
    window_key,
)
from agora.core.terms import scan as term_scan
from agora.core.terms import stopword_set
from agora.core.text import fold
from agora.core.windows import MinuteSeries, SlottedCounter

#: how far back the figures reach: two days, plus the hours the seasonal spike baseline compares
HORIZON_MINUTES = 56 * 60
SLOT_S = 600
LABELS = ("positive", "neutral", "negative")
_VISIBLE = frozenset({"approved", "pinned"})
#: each featured post from a source already featured above counts this much less (per repeat)
SOURCE_DIVERSITY = 0.85
#: series keys of the engagement sums: posts, replies, reposts, likes (owned accounts / mentions)
_OWNED_KEYS = ("own:posts", "own:replies", "own:reposts", "own:likes")
_MENTION_KEYS = ("men:posts", "men:replies", "men:reposts", "men:likes")
QUESTION_OPENERS = (
    "how ",
    "why ",
    "what ",
    "where ",
    "when ",
    "anyone ",
    "any idea",
    "can someone",
    "can anyone",
    "does anyone",
    "is there",
    "help",
    "please help",
    "who ",
)
HELP_PHRASES = (
    "help",
    "support",
    "not working",
    "doesn't work",
    "does not work",
    "won't",
    "broken",
    "broke",
    "refund",
    "replacement",
    "can't",
    "cannot",
    "stuck",
    "crash",
    "error",
    "fix",
)

_HELP_RE = re.compile("|".join(re.escape(p) for p in HELP_PHRASES))
#: words as people write them, to find how a trending (folded) term is written
_WORD_RE = re.compile(r"#?[^\W_]+(?:['’\-][^\W_]+)*")
#: labels remembered (folded word → how it is written) before the memory is cleared
_LABELS_CAP = 5_000
#: how many recent texts labels are learnt from
_LABEL_TEXTS = 2_000
#: where a sentence starts: its first word's capital says nothing about how the word is written
_SENTENCE_END = frozenset(".!?…\n")


def owned_handle(handle: str) -> str:
    """The form blocks compare handles in: folded (a block is broad on purpose), without
    leading ``@`` or Reddit's ``u/`` (a block of ``@troll`` also holds for ``u/troll``)."""
    key = fold(handle.strip()).lstrip("@")
    return key[2:] if key.startswith("u/") else key


@dataclass(slots=True)
class _AuthorInfo:
    name: str
    followers: int | None
    source: str
    avatar_url: str | None


@dataclass(slots=True)
class _Candidate:
    post: Post
    ts: float


def _without_repeats(trends: list[TermTrend]) -> list[TermTrend]:
    """The trends without a word that a rising phrase already says: "overheats" goes when
    "overheats charging" rises with (nearly) every one of its mentions."""
    phrases = [t for t in trends if " " in t.term]
    if not phrases:
        return trends
    covered: dict[str, int] = {}
    for phrase in phrases:
        for word in phrase.term.split(" "):
            covered[word] = max(covered.get(word, 0), phrase.count)
    return [t for t in trends if " " in t.term or covered.get(t.term, 0) < 0.8 * t.count]


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
        excluded = _topic_words(topic_terms or {}) | set(self.owned.handles)
        #: words that never trend: built-in stopwords, the config's, and the topics' own terms
        self._term_stop = stopword_set(excluded | {fold(w).lstrip("#") for w in stopwords})
        self._owned_mentions = tuple(f"@{h}" for h in sorted(self.owned.handles))
        self._keys_for: dict[tuple[str, str, str, tuple[str, ...], bool], tuple[str, ...]] = {}
        self._tz = timezone
        self.version = 0
        self.newest_ts = 0.0
        """Newest ``created_at`` ingested (POSIX seconds)."""

        self.series = MinuteSeries(HORIZON_MINUTES)
        self.totals: Counter[str] = Counter()
        self.authors = SlottedCounter(
            SLOT_S, HORIZON_MINUTES * 60 // SLOT_S, author_capacity, budget=author_capacity * 4
        )
        self.terms = SlottedCounter(SLOT_S, HORIZON_MINUTES * 60 // SLOT_S, term_capacity)
        self._author_info: OrderedDict[str, _AuthorInfo] = OrderedDict()
        self._author_info_cap = author_capacity * 4

        self._featured: OrderedDict[str, _Candidate] = OrderedDict()
        self._featured_cap = featured_pool
        self._newest: list[tuple[float, str]] = []
        self._newest_posts: dict[str, Post] = {}
        self._labels: dict[str, str] = {}
        """How trending words are written (folded word → label), learnt from recent posts."""
        self._recent_texts: deque[str] = deque(maxlen=_LABEL_TEXTS)
        """The texts of the latest shown posts (cut to 500 characters), to learn labels from."""
        self._texts_added = 0
        self._label_misses: dict[str, int] = {}
        """Words no recent text showed, and ``_texts_added`` then: looked for again later."""
        self._newest_cap = newest_size
        self._care_open: OrderedDict[str, Post] = OrderedDict()
        self._care_cap = care_size
        self._care_total = 0
        self._care_answered = 0
        self._answered_ids: OrderedDict[str, float] = OrderedDict()
        self._reply_times: deque[float] = deque(maxlen=2_000)
        self._pinned: dict[str, Post] = {}
        self._pending: OrderedDict[str, tuple[Post, str | None]] = OrderedDict()
        self._pending_cap = pending_size
        self._blocked: set[str] = set()
        self._withdrawn: OrderedDict[str, None] = OrderedDict()
        self.term_filter = term_filter
        """Tells which terms may never trend (blocked words, profanity); ``None``: all may."""
        self.detector = SpikeDetector(self.topics)

    # -- ingest ------------------------------------------------------------------------------------

    def add(self, post: Post, folded: str | None = None) -> None:
        """Count one new post (already enriched with topics, sentiment and moderation)."""
        self.add_many((post,), (folded,))

    def add_many(self, posts: Sequence[Post], folded: Sequence[str | None] | None = None) -> None:
        """Count a batch of new posts; ``folded`` holds their folded texts where known.

        The per-minute series and the slotted counters are updated once per batch (counted in C
        with :class:`~collections.Counter`), so the cost per post is a few dictionary look-ups.
        """
        if not posts:
            return
        self.version += 1
        by_minute: dict[int, list[tuple[str, ...]]] = {}
        engagement: dict[int, Counter[str]] = {}
        slot_s = self.terms.slot_s
        terms_by_slot: dict[int, list[str]] = {}
        authors_by_slot: dict[int, list[str]] = {}
        keys_for = self._keys_for
        owned = self.owned
        stop = self._term_stop
        newest = self.newest_ts
        texts = folded if folded is not None else (None,) * len(posts)
        for post, folded_text in zip(posts, texts, strict=True):
            ts = post.timestamp
            newest = max(newest, ts)
            minute = int(ts // 60)
            state = post.moderation.state
            sentiment = post.sentiment
            label = sentiment.label if sentiment is not None else "unscored"
            signature = (post.source, label, state, tuple(post.topics), post.is_repost)
            keys = keys_for.get(signature)
            if keys is None:
                keys = self._make_keys(signature)
            bucket = by_minute.get(minute)
            if bucket is None:
                by_minute[minute] = [keys]
            else:
                bucket.append(keys)
            is_owned = owned.matches(post) if owned else False
            if not post.is_repost:
                m = post.metrics
                eng = engagement.get(minute)
                if eng is None:
                    eng = engagement[minute] = Counter()
                names = _OWNED_KEYS if is_owned else _MENTION_KEYS
                eng[names[0]] += 1
                if m.replies:
                    eng[names[1]] += m.replies
                if m.reposts:
                    eng[names[2]] += m.reposts
                if m.likes:
                    eng[names[3]] += m.likes
            if is_owned and post.reply_to:
                self._answer(post.reply_to, ts)
            if state == "pinned":
                self._pinned[post.id] = post
            if post.is_repost or state not in _VISIBLE:
                if state == "pending" and not post.is_repost:
                    self._hold(post, folded_text)
                continue

            if not is_owned:
                # the leaderboard and trending are about what people say: the brand's own
                # accounts (announcements, care replies) are counted in volume and rates only
                text = fold(post.text) if folded_text is None else folded_text
                slot = int(ts // slot_s)
                handle = post.author.handle
                authors = authors_by_slot.get(slot)
                if authors is None:
                    authors_by_slot[slot] = [handle]
                else:
                    authors.append(handle)
                self._remember_author(post, handle)
                found = term_scan(text, stop)
                if found:
                    bucket_terms = terms_by_slot.get(slot)
                    if bucket_terms is None:
                        terms_by_slot[slot] = list(set(found))
                    else:
                        bucket_terms.extend(set(found))
                self._feature(post, ts)
                self._care(post, text, ts)
                self._recent_texts.append(post.text[:500])
                self._texts_added += 1
            self._push_newest(post, ts)
        self.newest_ts = newest

        series = self.series
        totals = self.totals
        for minute, key_lists in by_minute.items():
            counts = Counter(chain.from_iterable(key_lists))
            eng = engagement.get(minute)
            if eng:
                counts.update(eng)
            series.add_counts(minute, counts)
            totals.update(counts)
        for minute, eng in engagement.items():
            if minute not in by_minute:  # pragma: no cover - every engagement minute has posts
                series.add_counts(minute, eng)
                totals.update(eng)
        for slot, handles in authors_by_slot.items():
            self.authors.add_slot(slot, handles)
        for slot, found_terms in terms_by_slot.items():
            self.terms.add_slot(slot, found_terms)

    def _make_keys(self, signature: tuple[str, str, str, tuple[str, ...], bool]) -> tuple[str, ...]:
        """The series keys one post counts under (cached per combination of its properties)."""
        source, label, state, topics, is_repost = signature
        keys = ["all", f"source:{source}", f"label:{label}", f"state:{state}"]
        for topic in topics:
            keys.append(f"topic:{topic}")
            keys.append(f"tl:{topic}:{label}")
            keys.append(f"ts:{topic}:{source}")
        if len(topics) > 1:
            keys.append("multi")
        if is_repost:
            keys.append("repost")
        result = tuple(keys)
        if len(self._keys_for) < 10_000:
            self._keys_for[signature] = result
        return result

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
        if post_id in self._featured:
            self._featured[post_id] = _Candidate(post, post.timestamp)
        if post_id in self._newest_posts:
            self._newest_posts[post_id] = post
        if post_id in self._care_open:
            self._care_open[post_id] = post
        if post_id in self._pinned:
            self._pinned[post_id] = post
        held = self._pending.get(post_id)
        if held is not None:
            self._pending[post_id] = (post, None)

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
        return post_id in self._withdrawn

    def knows(self, post_id: str) -> bool:
        """True when the post is in one of the pools (shown, pinned or waiting)."""
        return self._find(post_id) is not None

    def _find(self, post_id: str) -> Post | None:
        post = self._pinned.get(post_id) or self._newest_posts.get(post_id)
        if post is not None:
            return post
        candidate = self._featured.get(post_id)
        if candidate is not None:
            return candidate.post
        post = self._care_open.get(post_id)
        if post is not None:
            return post
        held = self._pending.get(post_id)
        return held[0] if held is not None else None

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
                self._mark_withdrawn(post_id)
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
            self._replace_copies(post_id, updated)
            self._shift_state(original, moderation.state)
        else:
            self._pending.pop(post_id, None)
            self._shift_state(original, moderation.state)
            self._reveal(updated)
        if moderation.state == "pinned":
            self._pinned[post_id] = updated
        else:
            self._pinned.pop(post_id, None)
        return True

    def block_author(self, handle: str) -> int:
        """Withdraw every post of an author (any form of the handle) from everything the wall
        shows, the leaderboard included; posts that arrive later are the moderation hook's job.
        Returns how many held posts were withdrawn."""
        key = owned_handle(handle)
        self._blocked.add(key)
        self.version += 1
        posts: dict[str, Post] = {}
        for post in self._pinned.values():
            posts[post.id] = post
        for post in self._newest_posts.values():
            posts[post.id] = post
        for candidate in self._featured.values():
            posts[candidate.post.id] = candidate.post
        for post in self._care_open.values():
            posts[post.id] = post
        for held, _ in self._pending.values():
            posts[held.id] = held
        hidden = Moderation("hidden", ("blocked author",))
        count = 0
        for post in posts.values():
            if owned_handle(post.author.handle) == key:
                self._withdraw(post.id, hidden, post)
                count += 1
        for raw in [h for h in self.authors.all_keys() if owned_handle(h) == key]:
            self.authors.discard(raw)
        for raw in [h for h in self._author_info if owned_handle(h) == key]:
            del self._author_info[raw]
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

    def _hold(self, post: Post, folded: str | None) -> None:
        """Keep a post waiting for approval (the oldest waiting post goes when the pool is full:
        it can still be approved from the store)."""
        self._pending[post.id] = (post, folded)
        if len(self._pending) > self._pending_cap:
            self._pending.popitem(last=False)

    def _withdraw(
        self, post_id: str, moderation: Moderation | None, post: Post | None = None
    ) -> None:
        """Take a post off the wall: every pool, its counts in the author and term counters, and
        (``moderation`` given: a decision, not a deletion) its state in the per-minute counts."""
        found = self._find(post_id) or post
        self._featured.pop(post_id, None)
        self._care_open.pop(post_id, None)
        self._pinned.pop(post_id, None)
        self._pending.pop(post_id, None)
        if self._newest_posts.pop(post_id, None) is not None:
            self._newest = [item for item in self._newest if item[1] != post_id]
        self._mark_withdrawn(post_id)
        if found is None:
            return
        if found.moderation.visible and not found.is_repost:
            self._uncount(found)
        if moderation is not None:
            self._shift_state(found, moderation.state)

    def _mark_withdrawn(self, post_id: str) -> None:
        self._withdrawn[post_id] = None
        self._withdrawn.move_to_end(post_id)
        while len(self._withdrawn) > 512:
            self._withdrawn.popitem(last=False)

    def _uncount(self, post: Post) -> None:
        """Take back what a shown post added to the author and term counters."""
        if self.owned.matches(post):
            return  # the brand's own posts are not in them (see add_many)
        slot = int(post.timestamp // self.terms.slot_s)
        self.authors.remove(slot, (post.author.handle,))
        found = term_scan(fold(post.text), self._term_stop)
        if found:
            self.terms.remove(slot, set(found))

    def _shift_state(self, post: Post, state: str) -> None:
        """Move one count from the post's old moderation state to ``state`` (per minute and in
        the totals), so ``shown``, ``hidden`` and ``pending`` follow the decisions."""
        old = post.moderation.state
        if old == state:
            return
        minute = int(post.timestamp // 60)
        self.series.add(minute, (f"state:{old}",), -1)
        self.series.add(minute, (f"state:{state}",), 1)
        self.totals[f"state:{old}"] -= 1
        self.totals[f"state:{state}"] += 1

    def _replace_copies(self, post_id: str, post: Post) -> None:
        candidate = self._featured.get(post_id)
        if candidate is not None:
            self._featured[post_id] = _Candidate(post, candidate.ts)
        if post_id in self._care_open:
            self._care_open[post_id] = post
        if post_id in self._newest_posts:
            self._newest_posts[post_id] = post

    def _reveal(self, post: Post) -> None:
        """Count and place a post that becomes visible after ingest (approved while pending, or
        hidden by mistake): what :meth:`add_many` does for a visible post."""
        self._withdrawn.pop(post.id, None)
        if post.is_repost:
            return
        ts = post.timestamp
        handle = post.author.handle
        if not self.owned.matches(post):
            slot = int(ts // self.terms.slot_s)
            self.authors.add_slot(slot, [handle])
            self._remember_author(post, handle)
            text = fold(post.text)
            found = term_scan(text, self._term_stop)
            if found:
                self.terms.add_slot(slot, list(set(found)))
            self._feature(post, ts)
            self._care(post, text, ts)
        self._push_newest(post, ts)

    def _remember_author(self, post: Post, handle: str) -> None:
        info = self._author_info.get(handle)
        followers = post.author.followers
        if info is None:
            self._author_info[handle] = _AuthorInfo(
                post.author.name, followers, post.source, post.author.avatar_url
            )
            if len(self._author_info) > self._author_info_cap:
                self._author_info.popitem(last=False)
        else:
            self._author_info.move_to_end(handle)
            if followers is not None and (info.followers is None or followers > info.followers):
                info.followers = followers
            info.name = post.author.name or info.name

    def _feature(self, post: Post, ts: float) -> None:
        if len(post.text) < 12:
            return
        self._featured[post.id] = _Candidate(post, ts)
        if len(self._featured) > self._featured_cap:
            # drop the oldest candidate by publication time among the first few inserted
            self._featured.popitem(last=False)

    def _push_newest(self, post: Post, ts: float) -> None:
        if len(self._newest) >= self._newest_cap and ts <= self._newest[0][0]:
            return
        insort(self._newest, (ts, post.id))
        self._newest_posts[post.id] = post
        if len(self._newest) > self._newest_cap:
            _, old = self._newest.pop(0)
            self._newest_posts.pop(old, None)

    def _care(self, post: Post, folded: str, ts: float) -> None:
        if self.brand is None:
            return
        mentions_owned = any(m in folded for m in self._owned_mentions)
        if self.brand not in post.topics and not mentions_owned:
            return
        question = "?" in folded or folded.startswith(QUESTION_OPENERS)
        negative = post.sentiment is not None and post.sentiment.label == "negative"
        asks_help = _HELP_RE.search(folded) is not None
        if not (question and (asks_help or mentions_owned or negative)) and not (
            negative and (asks_help or mentions_owned)
        ):
            return
        self._care_total += 1
        self.totals["care"] += 1
        if post.id in self._answered_ids:
            reply_ts = self._answered_ids.pop(post.id)
            self._record_answer(reply_ts - ts)
            return
        self._care_open[post.id] = post
        if len(self._care_open) > self._care_cap:
            self._care_open.popitem(last=False)

    def _answer(self, post_id: str, reply_ts: float) -> None:
        question = self._care_open.pop(post_id, None)
        if question is not None:
            self._record_answer(reply_ts - question.timestamp)
            return
        self._answered_ids[post_id] = reply_ts
        if len(self._answered_ids) > self._care_cap * 4:
            self._answered_ids.popitem(last=False)

    def _record_answer(self, seconds: float) -> None:
        self._care_answered += 1
        self._reply_times.append(max(0.0, seconds))

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
        now_ts = now.timestamp()
        now_minute = int(now_ts // 60)
        self.series.advance_to(now_minute)
        self.detector.evaluate(self.series, now_minute)
        summaries: dict[str, WindowSummary] = {}
        for window in dict.fromkeys([*windows, 3600.0, 86400.0, None]):
            summaries[window_key(window)] = self._summary(window, now_ts, now_minute)
        return Snapshot(
            version=self.version,
            now=now,
            generated_at=datetime.now(UTC),
            topics=dict(self.topics),
            windows=summaries,
            volume=self._volume(now_minute, 24 * 60),
            featured=self._rank_featured(now_ts, featured),
            newest=self._newest_list(),
            care=self._care_summary(care),
            alerts=self.detector.alerts(),
            kpis=self._kpis(now, now_minute),
            pending=tuple(p for p, _ in reversed(self._pending.values()))[:pending],
            withdrawn=frozenset(self._withdrawn),
            blocked_authors=tuple(sorted(self._blocked)),
            sources=dict(sources or {}),
            store_status=store_status,
            notes=tuple(notes),
        )

    def _count(self, key: str, window: float | None, now_minute: int) -> int:
        if window is None:
            return self.totals.get(key, 0)
        return self.series.total(key, now_minute, max(1, round(window / 60)))

    def _summary(self, window: float | None, now_ts: float, now_minute: int) -> WindowSummary:
        def count(key: str) -> int:
            return self._count(key, window, now_minute)

        keys = self.series.keys() if window is not None else list(self.totals)
        sources = sorted({k.split(":", 1)[1] for k in keys if k.startswith("source:")})
        by_source = {s: n for s in sources if (n := count(f"source:{s}"))}
        by_topic = {t: count(f"topic:{t}") for t in self.topics}
        posts = PostCounts(
            total=count("all"),
            shown=count("state:approved") + count("state:pinned"),
            hidden=count("state:hidden"),
            pending=count("state:pending"),
            reposts=count("repost"),
            by_source=by_source,
            by_topic=by_topic,
        )
        sentiment = SentimentSummary.of(
            count("label:positive"),
            count("label:neutral"),
            count("label:negative"),
            count("label:unscored"),
        )
        by_topic_sentiment = {
            t: SentimentSummary.of(
                count(f"tl:{t}:positive"),
                count(f"tl:{t}:neutral"),
                count(f"tl:{t}:negative"),
                count(f"tl:{t}:unscored"),
            )
            for t in self.topics
        }
        mentioned = sum(by_topic.values())
        share = {t: (n / mentioned if mentioned else 0.0) for t, n in by_topic.items()}
        share_by_source: dict[str, dict[str, float]] = {}
        for s in sources:
            counts = {t: count(f"ts:{t}:{s}") for t in self.topics}
            total = sum(counts.values())
            if total:
                share_by_source[s] = {t: n / total for t, n in counts.items()}
        return WindowSummary(
            window_s=window,
            posts=posts,
            sentiment=sentiment,
            sentiment_by_topic=by_topic_sentiment,
            share_of_voice=share,
            share_counts=by_topic,
            multi_topic=count("multi"),
            share_by_source=share_by_source,
            trending=self._trending(window, now_ts),
            authors=self._top_authors(window, now_ts),
            owned=self._rates("own", count),
            mentions=self._rates("men", count),
        )

    @staticmethod
    def _rates(prefix: str, count: Callable[[str], int]) -> Rates:
        posts = count(f"{prefix}:posts")
        if not posts:
            return Rates()
        return Rates(
            posts=posts,
            conversation=round(count(f"{prefix}:replies") / posts, 3),
            amplification=round(count(f"{prefix}:reposts") / posts, 3),
            applause=round(count(f"{prefix}:likes") / posts, 3),
        )

    def _trending(
        self, window: float | None, now_ts: float, limit: int = 30
    ) -> tuple[TermTrend, ...]:
        """Terms whose share of the conversation rose against the six windows before.

        The expectation is the term's count before scaled by how much the whole conversation
        grew or shrank (all terms counted), so a busy morning lifts no term by itself; the score
        is the excess over that in Poisson standard deviations. Without history every term is
        new, and the most used ones come first.
        """
        span = window if window is not None else 3600.0
        recent = self.terms.window(now_ts, span)
        if not recent:
            return ()
        before = self.terms.window(now_ts - span, span * 6)
        before_mass = sum(before.values())
        scale = sum(recent.values()) / before_mass if before_mass else 0.0
        trends: list[TermTrend] = []
        blocked = self.term_filter
        for term, n in recent.items():
            if n < 3 or (blocked is not None and blocked(term)):
                continue
            expected = before.get(term, 0) * scale
            score = (n - expected) / math.sqrt(expected + 1.0)
            if score <= 0:
                continue
            trends.append(TermTrend(term, round(score, 3), n, round(expected, 2)))
        trends.sort(key=lambda t: (-t.score, -t.count, t.term))
        return self._labelled(_without_repeats(trends)[:limit])

    def _labelled(self, trends: Sequence[TermTrend]) -> tuple[TermTrend, ...]:
        """The trends with the words written as people write them (see :meth:`_learn_labels`)."""
        labels = self._labels
        words = {w for t in trends for w in t.term.split(" ")}
        misses = self._label_misses
        fresh = self._texts_added - _LABEL_TEXTS // 4
        missing = {w for w in words - labels.keys() if misses.get(w, fresh) <= fresh}
        if missing:
            self._learn_labels(missing)
            for word in missing - labels.keys():  # looked for again after 500 more posts
                misses[word] = self._texts_added
            if len(misses) > _LABELS_CAP:
                misses.clear()
        out: list[TermTrend] = []
        for trend in trends:
            parts = trend.term.split(" ")
            if all(w in labels for w in parts):
                out.append(replace(trend, label=" ".join(labels[w] for w in parts)))
            else:
                out.append(trend)
        return tuple(out)

    def _learn_labels(self, wanted: set[str]) -> None:
        """Find how recent posts write each folded word of ``wanted``: the commonest lower-case
        spelling when there is one ("almoço" for *almoco*), else the commonest capitalised one
        inside a sentence ("Berlin"), else the first-word-of-a-sentence spelling without its
        capital; for a hashtag, its commonest spelling ("#LumenX1")."""
        inside: dict[str, Counter[str]] = {}
        initial: dict[str, Counter[str]] = {}
        for text in self._recent_texts:
            for match in _WORD_RE.finditer(text):
                token = match.group()
                key = fold(token)
                if key not in wanted:
                    continue
                start = match.start()
                before = text[:start].rstrip()
                if key[0] != "#" and (not before or before[-1] in _SENTENCE_END):
                    counts = initial.setdefault(key, Counter())
                    counts[token[:1].lower() + token[1:]] += 1
                else:
                    inside.setdefault(key, Counter())[token] += 1
        if len(self._labels) + len(wanted) > _LABELS_CAP:
            self._labels.clear()
        for key in wanted:
            seen = inside.get(key)
            if seen and key.startswith("#"):  # capitals help read a hashtag
                self._labels[key] = max((n, f != f.lower(), f) for f, n in seen.items())[2]
            elif seen:
                lower = [(n, form) for form, n in seen.items() if form == form.lower()]
                self._labels[key] = max(lower or [(n, f) for f, n in seen.items()])[1]
            elif key in initial:
                self._labels[key] = max((n, f) for f, n in initial[key].items())[1]

    def _top_authors(
        self, window: float | None, now_ts: float, limit: int = 20
    ) -> tuple[AuthorStat, ...]:
        counts = self.authors.window(now_ts, window)
        out: list[AuthorStat] = []
        for handle, n in counts.most_common(limit * 2):
            info = self._author_info.get(handle)
            if info is None:
                continue
            out.append(
                AuthorStat(handle, info.name, n, info.followers, info.source, info.avatar_url)
            )
            if len(out) == limit:
                break
        return tuple(out)

    def _volume(self, now_minute: int, minutes: int) -> VolumeSeries:
        def series(key: str) -> tuple[int, ...]:
            return tuple(self.series.series(key, now_minute, minutes))

        keys = self.series.keys()
        start = datetime.fromtimestamp((now_minute - minutes + 1) * 60, UTC)
        return VolumeSeries(
            start=start,
            step_s=60,
            total=series("all"),
            by_topic={t: series(f"topic:{t}") for t in self.topics},
            by_sentiment={lab: series(f"label:{lab}") for lab in (*LABELS, "unscored")},
            by_source={
                k.split(":", 1)[1]: series(k) for k in sorted(keys) if k.startswith("source:")
            },
        )

    def _rank_featured(self, now_ts: float, limit: int) -> tuple[Featured, ...]:
        scored: list[tuple[float, Post, str]] = []
        for candidate in self._featured.values():
            post = candidate.post
            age_h = max(0.0, (now_ts - candidate.ts) / 3600.0)
            if candidate.ts > now_ts + 60:
                continue
            score, why = featured_score(post, age_h)
            scored.append((score, post, why))
        scored.sort(key=lambda item: -item[0])
        chosen: list[Featured] = [
            Featured(p, math.inf, "pinned by an operator") for p in self._pinned.values()
        ]
        authors = {f.post.author.handle for f in chosen}
        per_source = Counter(f.post.source for f in chosen)
        # greedy diversity: one post per author (the carousel never shows the same author twice
        # in a row), and each further post from a source already chosen counts a little less;
        # each source's candidates stay in score order, so a step compares one per source
        by_source: dict[str, deque[tuple[float, Post, str]]] = {}
        for item in scored[: limit * 8]:
            if item[1].id not in self._pinned:
                by_source.setdefault(item[1].source, deque()).append(item)
        while by_source and len(chosen) < limit:
            source = max(
                by_source,
                key=lambda s: by_source[s][0][0] * SOURCE_DIVERSITY ** per_source[s],
            )
            queue = by_source[source]
            score, post, why = queue.popleft()
            if not queue:
                del by_source[source]
            if post.author.handle in authors:
                continue
            repeats = per_source[source]
            if repeats:
                why = f"{why} · {repeats} from {source} above"
            chosen.append(Featured(post, round(score * SOURCE_DIVERSITY**repeats, 4), why))
            authors.add(post.author.handle)
            per_source[source] += 1
        return tuple(chosen[:limit])

    def _newest_list(self) -> tuple[Post, ...]:
        posts = [self._newest_posts[pid] for _, pid in reversed(self._newest)]
        return tuple(p for p in posts if p.moderation.visible)

    def _care_summary(self, limit: int) -> Care:
        open_posts = sorted(self._care_open.values(), key=lambda p: p.timestamp)[:limit]
        total = self._care_total
        rate = round(self._care_answered / total, 3) if total else None
        median = round(statistics.median(self._reply_times), 1) if self._reply_times else None
        return Care(tuple(open_posts), self._care_answered, total, rate, median)

    def _kpis(self, now: datetime, now_minute: int) -> Kpis:
        local = now.astimezone(self._tz) if self._tz else now.astimezone()
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        minutes_today = max(1, int((now - midnight).total_seconds() // 60) + 1)
        day = self.series.series("all", now_minute, 24 * 60)
        today = sum(day[-minutes_today:]) if minutes_today <= len(day) else sum(day)
        last10 = day[-10:]
        return Kpis(
            mentions_today=today,
            per_minute=round(sum(last10) / 10.0, 2),
            peak_per_minute=max(day) if day else 0,
        )


def featured_score(post: Post, age_h: float) -> tuple[float, str]:
    """Ranking score of a featured candidate and a short human reason.

    Engagement (likes, reposts ×2, replies ×1.5, quotes) on a log scale, dampened by the author's
    reach so a modest account's well-received post can beat a celebrity's routine one, halved every
    three hours of age, with a small bonus for an image.
    """
    m = post.metrics
    engagement = (m.likes or 0) + 2 * (m.reposts or 0) + 1.5 * (m.replies or 0) + (m.quotes or 0)
    reach = post.author.followers or 0
    base = (1.0 + math.log1p(engagement)) / (1.0 + 0.12 * math.log1p(reach))
    has_image = any(x.kind == "image" for x in post.media)
    score = base * (0.5 ** (age_h / 3.0)) * (1.25 if has_image else 1.0)
    if post.sentiment is not None and post.sentiment.label == "negative":
        score *= 0.8
    parts = []
    if m.likes:
        parts.append(f"{m.likes} likes")
    if m.reposts:
        parts.append(f"{m.reposts} reposts")
    if m.replies:
        parts.append(f"{m.replies} replies")
    parts.append(_age_text(age_h))
    if has_image:
        parts.append("image")
    return score, " · ".join(parts)


def _age_text(age_h: float) -> str:
    minutes = int(age_h * 60)
    if minutes < 60:
        return f"{minutes} min old"
    if age_h < 48:
        return f"{int(age_h)} h old"
    return f"{int(age_h // 24)} d old"


def _topic_words(topic_terms: Mapping[str, Sequence[str]]) -> set[str]:
    words: set[str] = set()
    for terms in topic_terms.values():
        for term in terms:
            for word in fold(term).strip("*").split():
                words.add(word.lstrip("#@").rstrip("*"))
    return words

"""Featured: the posts the carousel shows, ranked by engagement, reach, age and variety.

Keeps a bounded pool of candidates (shown posts of someone other than the brand, long enough to
read); the part ranks them, puts pinned posts first, shows one post per author and lets a source
already shown count a little less each time, so one network does not fill the carousel.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass

from agora.core.figures.base import Batch, Figure, Window
from agora.core.post import Post
from agora.core.snapshot import Featured as FeaturedPost

#: each featured post from a source already featured above counts this much less (per repeat)
SOURCE_DIVERSITY = 0.85


@dataclass(slots=True)
class _Candidate:
    post: Post
    ts: float


class Featured(Figure[tuple[FeaturedPost, ...]]):
    """The candidates for the carousel (bounded: the first inserted go first)."""

    __slots__ = ("_cap", "candidates", "limit", "pinned")

    def __init__(self, size: int, pinned: Mapping[str, Post], limit: int = 24) -> None:
        self.candidates: OrderedDict[str, _Candidate] = OrderedDict()
        self._cap = size
        self.pinned = pinned
        """Posts pinned by an operator (kept by the aggregates): always first."""
        self.limit = limit

    def add(self, batch: Batch) -> None:
        candidates = self.candidates
        cap = self._cap
        for entry in batch.said:
            post = entry.post
            if len(post.text) >= 12:
                candidates[post.id] = _Candidate(post, entry.ts)
                if len(candidates) > cap:
                    # drop the oldest candidate by publication time among the first few inserted
                    candidates.popitem(last=False)

    def get(self, post_id: str) -> Post | None:
        """The candidate with this id, if any."""
        candidate = self.candidates.get(post_id)
        return candidate.post if candidate is not None else None

    def replace(self, post: Post, *, keep_time: bool) -> None:
        """Put a new copy of a candidate in its place (new metrics, another decision);
        ``keep_time``: ranked by the age it had, else by the copy's ``created_at``."""
        candidate = self.candidates.get(post.id)
        if candidate is not None:
            ts = candidate.ts if keep_time else post.timestamp
            self.candidates[post.id] = _Candidate(post, ts)

    def discard(self, post_id: str) -> None:
        """Drop a candidate (its post left the wall)."""
        self.candidates.pop(post_id, None)

    def part(self, window: Window) -> tuple[FeaturedPost, ...]:
        """The same whatever the window: the carousel at the window's moment."""
        now_ts = window.moment.ts
        limit = self.limit
        scored: list[tuple[float, Post, str]] = []
        for candidate in self.candidates.values():
            post = candidate.post
            age_h = max(0.0, (now_ts - candidate.ts) / 3600.0)
            if candidate.ts > now_ts + 60:
                continue
            score, why = featured_score(post, age_h)
            scored.append((score, post, why))
        scored.sort(key=lambda item: -item[0])
        chosen: list[FeaturedPost] = [
            FeaturedPost(p, math.inf, "pinned by an operator") for p in self.pinned.values()
        ]
        authors = {f.post.author.handle for f in chosen}
        per_source = Counter(f.post.source for f in chosen)
        # greedy diversity: one post per author (the carousel never shows the same author twice
        # in a row), and each further post from a source already chosen counts a little less;
        # each source's candidates stay in score order, so a step compares one per source
        by_source: dict[str, deque[tuple[float, Post, str]]] = {}
        for item in scored[: limit * 8]:
            if item[1].id not in self.pinned:
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
            chosen.append(FeaturedPost(post, round(score * SOURCE_DIVERSITY**repeats, 4), why))
            authors.add(post.author.handle)
            per_source[source] += 1
        return tuple(chosen[:limit])


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

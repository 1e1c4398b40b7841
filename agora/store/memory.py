"""A store that lives in memory: used when the database cannot be opened, and by commands that must
not touch the wall's database (``agora fetch``, ``agora analyse``). Bounded: past ``max_posts`` the
oldest posts are dropped, so a wall running in memory for weeks keeps a flat footprint."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from agora.core.post import Moderation, ModerationState, Post
from agora.store.base import AUTHOR_DECISIONS, Decision, Store


class MemoryStore(Store):
    """Everything in dictionaries, guarded by a lock."""

    kind = "memory"

    def __init__(self, *, max_posts: int = 200_000, status: str = "memory") -> None:
        self.status = status
        self.max_posts = max_posts
        self._lock = threading.RLock()
        self._posts: dict[str, Post] = {}
        self._cursors: dict[str, str] = {}
        self._decisions: list[Decision] = []
        self._last_seq = 0
        self._state: dict[str, str] = {}

    def add_posts(self, posts: Sequence[Post]) -> int:
        new = 0
        with self._lock:
            for post in posts:
                if post.id not in self._posts:
                    new += 1
                self._posts[post.id] = post
            overflow = len(self._posts) - self.max_posts
            if overflow > 0:
                oldest = heapq.nsmallest(overflow, self._posts.values(), key=lambda p: p.created_at)
                for post in oldest:
                    del self._posts[post.id]
        return new

    def get_post(self, post_id: str) -> Post | None:
        with self._lock:
            return self._posts.get(post_id)

    def get_posts(self, post_ids: Iterable[str]) -> dict[str, Post | None]:
        with self._lock:
            return {i: self._posts[i] for i in post_ids if i in self._posts}

    def delete_posts(self, post_ids: Iterable[str]) -> int:
        removed = 0
        with self._lock:
            for post_id in post_ids:
                if self._posts.pop(post_id, None) is not None:
                    removed += 1
        return removed

    def iter_posts(self, since: datetime | None = None) -> Iterator[Post]:
        with self._lock:
            posts = [p for p in self._posts.values() if since is None or p.created_at >= since]
        posts.sort(key=lambda p: (p.created_at, p.id))
        yield from posts

    def newest_time(self) -> datetime | None:
        with self._lock:
            return max((p.created_at for p in self._posts.values()), default=None)

    def count_posts(self) -> int:
        with self._lock:
            return len(self._posts)

    def prune(self, before: datetime, batch: int = 2_000) -> int:
        with self._lock:
            old = [pid for pid, p in self._posts.items() if p.created_at < before][:batch]
            for post_id in old:
                del self._posts[post_id]
        return len(old)

    def set_moderation(self, post_id: str, moderation: Moderation) -> bool:
        with self._lock:
            post = self._posts.get(post_id)
            if post is None:
                return False
            self._posts[post_id] = post.with_moderation(moderation)
        return True

    def posts_in_state(self, state: ModerationState, limit: int = 100) -> list[Post]:
        with self._lock:
            posts = [p for p in self._posts.values() if p.moderation.state == state]
        posts.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        return posts[:limit]

    def get_cursor(self, source: str) -> str | None:
        with self._lock:
            return self._cursors.get(source)

    def set_cursor(self, source: str, value: str | None) -> None:
        with self._lock:
            if value is None:
                self._cursors.pop(source, None)
            else:
                self._cursors[source] = value

    def add_decision(self, decision: Decision) -> Decision:
        with self._lock:
            saved = Decision(
                decision.action,
                decision.target,
                decision.actor,
                decision.at,
                decision.reason,
                self._last_seq + 1,
            )
            self._last_seq = saved.seq
            self._decisions.append(saved)
        return saved

    def decisions(self, after_seq: int = 0) -> list[Decision]:
        with self._lock:
            return [d for d in self._decisions if d.seq > after_seq]

    def prune_decisions(self, before: datetime) -> int:
        with self._lock:
            kept = [
                d
                for d in self._decisions
                if d.action in AUTHOR_DECISIONS or d.at >= before or d.target in self._posts
            ]
            removed = len(self._decisions) - len(kept)
            self._decisions = kept
        return removed

    def get_state(self, key: str) -> str | None:
        with self._lock:
            return self._state.get(key)

    def set_state(self, key: str, value: str) -> None:
        with self._lock:
            self._state[key] = value

    def close(self) -> None:
        """Nothing to flush."""

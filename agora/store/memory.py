"""A store that lives in memory: used when the database cannot be opened, and by commands that must
not touch the wall's database (``agora fetch``, ``agora analyse``). Bounded: past ``max_posts`` the
oldest posts are dropped, so a wall running in memory for weeks keeps a flat footprint.

It numbers changes and keeps leases like the shared stores, so followers and collectors can be
tested without a database (the leases of one process, on this process's clock)."""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from agora.core.post import Moderation, ModerationState, Post
from agora.store.base import AUTHOR_DECISIONS, Change, Decision, Store


class MemoryStore(Store):
    """Everything in dictionaries, guarded by a lock."""

    kind = "memory"

    def __init__(
        self,
        *,
        max_posts: int = 200_000,
        status: str = "memory",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.status = status
        self.max_posts = max_posts
        self._clock = clock
        self._lock = threading.RLock()
        self._posts: dict[str, Post] = {}
        self._cursors: dict[str, str] = {}
        self._decisions: list[Decision] = []
        self._by_uid: dict[str, Decision] = {}
        self._last_seq = 0
        self._state: dict[str, str] = {}
        # changes: each post's latest change number, and a log of (number, post id, deleted) in
        # order; a post's older entries are stale (skipped, and compacted away now and then)
        self._change = 0
        self._post_change: dict[str, int] = {}
        self._log: list[tuple[int, str, bool]] = []
        self._leases: dict[str, tuple[str, float]] = {}

    def _bump(self, post_id: str, deleted: bool = False) -> None:
        self._change += 1
        if deleted:
            self._post_change.pop(post_id, None)
        else:
            self._post_change[post_id] = self._change
        self._log.append((self._change, post_id, deleted))
        if len(self._log) > 2 * self.max_posts + 1_000:
            self._compact()

    def _compact(self) -> None:
        # drop the stale entries; deletions are kept, the newest max_posts of them
        live = [e for e in self._log if e[2] or self._post_change.get(e[1]) == e[0]]
        tombstones = [e for e in live if e[2]]
        if len(tombstones) > self.max_posts:
            cut = tombstones[-self.max_posts][0]
            live = [e for e in live if not e[2] or e[0] >= cut]
        self._log = live

    def _drop(self, post_id: str) -> None:
        del self._posts[post_id]
        self._post_change.pop(post_id, None)

    def add_posts(self, posts: Sequence[Post]) -> int:
        new = 0
        with self._lock:
            for post in posts:
                if post.id not in self._posts:
                    new += 1
                self._posts[post.id] = post
                self._bump(post.id)
            overflow = len(self._posts) - self.max_posts
            if overflow > 0:
                oldest = heapq.nsmallest(overflow, self._posts.values(), key=lambda p: p.created_at)
                for post in oldest:
                    self._drop(post.id)
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
                if post_id in self._posts:
                    del self._posts[post_id]
                    self._bump(post_id, deleted=True)
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
                self._drop(post_id)
        return len(old)

    def set_moderation(self, post_id: str, moderation: Moderation) -> bool:
        with self._lock:
            post = self._posts.get(post_id)
            if post is None:
                return False
            self._posts[post_id] = post.with_moderation(moderation)
            self._bump(post_id)
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
            known = self._by_uid.get(decision.uid) if decision.uid else None
            if known is not None:
                return known
            saved = dataclasses.replace(decision, seq=self._last_seq + 1)
            self._last_seq = saved.seq
            self._decisions.append(saved)
            if saved.uid:
                self._by_uid[saved.uid] = saved
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
            self._by_uid = {d.uid: d for d in kept if d.uid}
        return removed

    def changes(self, after_seq: int = 0, limit: int = 1_000) -> list[Change]:
        found: list[Change] = []
        with self._lock:
            start = bisect.bisect_right(self._log, (after_seq, "\U0010ffff", True))
            for seq, post_id, deleted in self._log[start:]:
                if deleted:
                    found.append(Change(seq, post_id, None, True))
                elif self._post_change.get(post_id) == seq:
                    found.append(Change(seq, post_id, self._posts[post_id]))
                if len(found) >= limit:
                    break
        return found

    def newest_change(self) -> int:
        with self._lock:
            return self._change

    def acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        with self._lock:
            now = self._clock()
            held = self._leases.get(name)
            if held is not None and held[0] != holder and held[1] > now:
                return False
            self._leases[name] = (holder, now + ttl_s)
        return True

    def release_lease(self, name: str, holder: str) -> None:
        with self._lock:
            held = self._leases.get(name)
            if held is not None and held[0] == holder:
                del self._leases[name]

    def lease_holder(self, name: str) -> str | None:
        with self._lock:
            held = self._leases.get(name)
            return held[0] if held is not None and held[1] > self._clock() else None

    def get_state(self, key: str) -> str | None:
        with self._lock:
            return self._state.get(key)

    def states(self, prefix: str) -> dict[str, str]:
        with self._lock:
            return {k: v for k, v in self._state.items() if k.startswith(prefix)}

    def set_state(self, key: str, value: str) -> None:
        with self._lock:
            self._state[key] = value

    def close(self) -> None:
        """Nothing to flush."""

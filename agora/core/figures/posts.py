"""The posts the wall holds: the newest shown, those waiting for approval, those taken off.

Bounded pools, each answering :meth:`get` and :meth:`discard` by post id, so a decision taken
after ingest can find a post and take it off everywhere at once (see
:class:`~agora.core.aggregates.Aggregates`).
"""

from __future__ import annotations

from bisect import insort
from collections import OrderedDict

from agora.core.figures.base import Batch, Figure, Window
from agora.core.post import Post


class Newest(Figure[tuple[Post, ...]]):
    """The newest shown posts (bounded), by publication time."""

    __slots__ = ("_cap", "_order", "posts")

    def __init__(self, size: int) -> None:
        self._cap = size
        self._order: list[tuple[float, str]] = []
        """(``created_at``, id), oldest first."""
        self.posts: dict[str, Post] = {}

    def __len__(self) -> int:
        return len(self._order)

    def add(self, batch: Batch) -> None:
        order = self._order
        posts = self.posts
        cap = self._cap
        for entry in batch.shown:
            ts = entry.ts
            # the list is trimmed once per batch, not with one shift of it per post: until
            # then, the posts kept are its last ``cap``
            held = len(order)
            if held >= cap and ts <= order[held - cap][0]:
                continue
            post = entry.post
            insort(order, (ts, post.id))
            posts[post.id] = post
        excess = len(order) - cap
        if excess > 0:
            for _, old in order[:excess]:
                posts.pop(old, None)
            del order[:excess]

    def push(self, post: Post) -> None:
        """Place one shown post (a late one only when it is newer than the oldest kept)."""
        order = self._order
        ts = post.timestamp
        if len(order) >= self._cap and ts <= order[0][0]:
            return
        insort(order, (ts, post.id))
        self.posts[post.id] = post
        if len(order) > self._cap:
            _, old = order.pop(0)
            self.posts.pop(old, None)

    def discard(self, post_id: str) -> None:
        """Take a post off the list."""
        if self.posts.pop(post_id, None) is not None:
            self._order = [item for item in self._order if item[1] != post_id]

    def part(self, window: Window) -> tuple[Post, ...]:
        """The same whatever the window: the visible posts, newest first."""
        posts = [self.posts[pid] for _, pid in reversed(self._order)]
        return tuple(p for p in posts if p.moderation.visible)


class Pending:
    """Posts waiting for an operator's approval (bounded: the oldest waiting post goes when the
    pool is full; it can still be approved from the store)."""

    __slots__ = ("cap", "posts")

    def __init__(self, size: int) -> None:
        self.cap = size
        self.posts: OrderedDict[str, Post] = OrderedDict()

    def add(self, batch: Batch) -> None:
        """Hold the batch's waiting posts (reposts are never asked about)."""
        for entry in batch.entries:
            post = entry.post
            if post.moderation.state == "pending" and not post.is_repost:
                self.posts[post.id] = post
                if len(self.posts) > self.cap:
                    self.posts.popitem(last=False)

    def newest(self, limit: int) -> tuple[Post, ...]:
        """Up to ``limit`` waiting posts, newest first."""
        return tuple(reversed(self.posts.values()))[:limit]


class Withdrawn:
    """Ids of posts taken off the wall lately (the last 512), so a panel can drop them."""

    __slots__ = ("ids",)

    def __init__(self) -> None:
        self.ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, post_id: object) -> bool:
        return post_id in self.ids

    def mark(self, post_id: str) -> None:
        """Remember that ``post_id`` was taken off."""
        self.ids[post_id] = None
        self.ids.move_to_end(post_id)
        while len(self.ids) > 512:
            self.ids.popitem(last=False)

    def discard(self, post_id: str) -> None:
        """The post is shown again."""
        self.ids.pop(post_id, None)

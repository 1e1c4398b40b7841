"""What the ingest thread works through: posts, decisions, deletions and new configs, in order.

The inbox is bounded by the posts it holds, and pushes back instead of growing: past
:attr:`Inbox.limit` waiting posts it is *full*, and sources wait (:meth:`Inbox.room`, awaited
by every source before its next round or stream event) until the ingest thread has worked it
down to half; the webhook answers ``503`` with ``Retry-After`` meanwhile. Nothing is dropped:
a source that is already mid-round still hands its posts over, so the inbox may hold one round
more than the limit. Decisions, deletions and reloads are never held back.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from agora.config.schema import WallConfig
from agora.core.post import Post
from agora.store.base import Decision

#: Posts waiting for the ingest thread past which sources are asked to wait.
DEFAULT_LIMIT = 20_000
#: How often a waiting source looks whether there is room again, in seconds.
ROOM_POLL_S = 0.05


@dataclass(slots=True, frozen=True)
class Batch:
    """Posts a source delivered, and the saved places (cursors) that cover them: written to the
    store only once the posts are stored, so a restart never skips a post that was not kept.
    A ``receipt`` is resolved once the batch is handled: ``True`` when its posts are stored (a
    webhook answers its caller only then)."""

    posts: list[Post]
    cursors: dict[str, str | None]
    receipt: Future[bool] | None = None


@dataclass(slots=True, frozen=True)
class Deletion:
    """Ids of posts deleted at the source."""

    ids: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class Reconfigure:
    """A new config for the pipeline (hot reload)."""

    config: WallConfig


@dataclass(slots=True, frozen=True)
class Followed:
    """Changes read from the shared store, for the ingest thread: posts to count (new or
    updated; already stored, never written again) and ids deleted at their source."""

    posts: list[Post]
    deleted: list[str]
    seq: int
    """The change number handled with these (where to read on from)."""


@dataclass(slots=True, frozen=True)
class Poke:
    """Something in the store changed that is not a post (a decision): look now."""


#: One thing for the ingest thread; ``None`` wakes it to stop.
Item = Batch | Decision | Deletion | Reconfigure | Followed | Poke | None


class Inbox:
    """A queue of :data:`Item` that knows how many posts it holds (thread-safe)."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._posts = 0

    # -- producers ---------------------------------------------------------------------------

    def put(self, item: Item) -> None:
        """Queue ``item`` (never blocks)."""
        if isinstance(item, Batch) and item.posts:
            with self._lock:
                self._posts += len(item.posts)
        self._queue.put(item)

    @property
    def waiting(self) -> int:
        """Posts queued and not yet taken by the ingest thread."""
        return self._posts

    @property
    def full(self) -> bool:
        """True while sources should wait before delivering more."""
        return self._posts >= self.limit

    async def room(self) -> None:
        """Return once the inbox has room (at once when it is not full; after a full inbox,
        once the ingest thread has worked it down to half its limit)."""
        if self._posts < self.limit:
            return
        while self._posts > self.limit // 2:
            await asyncio.sleep(ROOM_POLL_S)

    # -- the ingest thread -------------------------------------------------------------------

    def get(self, timeout: float) -> Item:
        """The next item, waiting up to ``timeout`` seconds (raises :class:`queue.Empty`)."""
        return self._counted(self._queue.get(timeout=timeout))

    def get_nowait(self) -> Item:
        """The next item if there is one (raises :class:`queue.Empty`)."""
        return self._counted(self._queue.get_nowait())

    def _counted(self, item: Item) -> Item:
        if isinstance(item, Batch) and item.posts:
            with self._lock:
                self._posts -= len(item.posts)
        return item

"""Authors: who posted most in a window (the leaderboard).

Counts each shown post of someone other than the brand under its author's handle, in 10-minute
slots (bounded: rarely seen handles are evicted first), and remembers each author's name, reach,
source and avatar for the leaderboard. A blocked author leaves the leaderboard at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from agora.core.figures.base import Batch, Figure, Window
from agora.core.post import Post
from agora.core.snapshot import AuthorStat
from agora.core.windows import SlottedCounter


@dataclass(slots=True)
class _AuthorInfo:
    name: str
    followers: int | None
    source: str
    avatar_url: str | None


class Authors(Figure[tuple[AuthorStat, ...]]):
    """Posts per author per slot, and what the leaderboard shows of each author."""

    __slots__ = ("_cap", "counter", "info", "limit")

    def __init__(self, slot_s: int, slots: int, capacity: int, limit: int = 20) -> None:
        self.counter = SlottedCounter(slot_s, slots, capacity, budget=capacity * 4)
        self.info: OrderedDict[str, _AuthorInfo] = OrderedDict()
        """Handle → what the leaderboard shows of the author (bounded, least recent first)."""
        self._cap = capacity * 4
        self.limit = limit

    def add(self, batch: Batch) -> None:
        slot_s = self.counter.slot_s
        by_slot: dict[int, list[str]] = {}
        info = self.info
        for entry in batch.said:
            post = entry.post
            author = post.author
            handle = author.handle
            slot = int(entry.ts // slot_s)
            handles = by_slot.get(slot)
            if handles is None:
                by_slot[slot] = [handle]
            else:
                handles.append(handle)
            known = info.get(handle)
            if known is None:
                self._remember(post, handle)
            else:  # the common case, inline: an author seen before
                info.move_to_end(handle)
                followers = author.followers
                if followers is not None and (
                    known.followers is None or followers > known.followers
                ):
                    known.followers = followers
                known.name = author.name or known.name
        for slot, handles in by_slot.items():
            self.counter.add_slot(slot, handles)

    def remove(self, post: Post) -> None:
        self.counter.remove(int(post.timestamp // self.counter.slot_s), (post.author.handle,))

    def forget(self, same: Callable[[str], bool]) -> None:
        """Drop every handle for which ``same`` is true (a blocked author, in any form)."""
        for raw in [h for h in self.counter.all_keys() if same(h)]:
            self.counter.discard(raw)
        for raw in [h for h in self.info if same(h)]:
            del self.info[raw]

    def part(self, window: Window) -> tuple[AuthorStat, ...]:
        counts = self.counter.window(window.moment.ts, window.seconds)
        out: list[AuthorStat] = []
        for handle, n in counts.most_common(self.limit * 2):
            info = self.info.get(handle)
            if info is None:
                continue
            out.append(
                AuthorStat(handle, info.name, n, info.followers, info.source, info.avatar_url)
            )
            if len(out) == self.limit:
                break
        return tuple(out)

    def _remember(self, post: Post, handle: str) -> None:
        """A new author: what the leaderboard shows of them."""
        author = post.author
        self.info[handle] = _AuthorInfo(
            author.name, author.followers, post.source, author.avatar_url
        )
        if len(self.info) > self._cap:
            self.info.popitem(last=False)

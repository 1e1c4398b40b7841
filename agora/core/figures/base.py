"""What every figure shares: the batch it reads, the moment and window it reports on, and the
four methods it answers to.

A figure is a small accumulator for one part of the snapshot (volume, sentiment, share of voice,
trending terms, authors, engagement, care, KPIs). The aggregates hand each new batch to every
figure's :meth:`Figure.add`; a post taken off the wall goes to :meth:`Figure.remove`; before a
snapshot, :meth:`Figure.prune` lets time pass; :meth:`Figure.part` gives the figure's part of the
snapshot. Figures that count per minute write into the shared
:class:`~agora.core.figures.counts.Counts` through the batch's tally.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from agora.core.figures.counts import Counts, Key, Tally, names
from agora.core.post import Post
from agora.core.text import fold

PartT_co = TypeVar("PartT_co", covariant=True)

#: what sorts posts for the per-minute counts: source, sentiment label, moderation state, topics,
#: repost; posts alike in these count under the same keys (figures cache their keys by it)
Signature = tuple[str, str, str, tuple[str, ...], bool]
_UNCOUNTED: Signature = ("", "", "", (), False)


@dataclass(slots=True)
class Entry:
    """One post of a batch, with what the aggregates found out about it once for every figure."""

    post: Post
    ts: float
    """``created_at`` in POSIX seconds, read once for every figure (``Post.timestamp`` works
    it out again at each call)."""
    minute: int
    """``created_at`` in whole minutes (POSIX seconds // 60)."""
    signature: Signature
    owned: bool
    """Posted by one of the brand's own accounts."""
    shown: bool
    """Shown on the wall (approved or pinned) and not a repost."""
    said: str | None
    """The folded text of a post shown on the wall from someone other than the brand (not a
    repost): what people say, which the leaderboard, trending, featured and care are about.
    ``None`` for every other post."""


@dataclass(slots=True)
class Batch:
    """A batch of new posts, in arrival order, and the per-minute counts it adds."""

    entries: list[Entry]
    minutes: dict[int, list[Signature]]
    """Minute → the signature of each post of that minute (the per-minute counts' input)."""
    shown: list[Entry]
    """The entries shown on the wall (:attr:`Entry.shown`), in order."""
    said: list[Entry]
    """The entries of what people say (:attr:`Entry.said` set), in order."""
    tally: Tally = field(default_factory=Tally)
    late: bool = False
    """Posts shown after ingest (approved while waiting, or hidden by mistake): counted as if
    new, but their texts were already seen when they arrived."""

    @classmethod
    def shown_late(cls, post: Post) -> Batch:
        """A batch of one post of someone other than the brand, shown after ingest. It has no
        per-minute signatures: the post was counted per minute when it came in."""
        ts = post.timestamp
        entry = Entry(post, ts, int(ts // 60), _UNCOUNTED, False, True, fold(post.text))
        return cls([entry], {}, [entry], [entry], late=True)


@dataclass(frozen=True, slots=True)
class Moment:
    """The time a snapshot describes."""

    now: datetime
    ts: float
    """``now`` in POSIX seconds."""
    minute: int
    """``now`` in whole minutes."""

    @classmethod
    def at(cls, now: datetime) -> Moment:
        """The moment of ``now``."""
        ts = now.timestamp()
        return cls(now, ts, int(ts // 60))


@dataclass(frozen=True, slots=True)
class Window:
    """A time window ending at a moment: ``seconds`` back from it, ``None`` for all time."""

    moment: Moment
    seconds: float | None
    counts: Counts

    def count(self, key: Key) -> int:
        """The per-minute count ``key`` summed over this window."""
        return self.counts.count(key, self.seconds, self.moment.minute)


class Figure(Generic[PartT_co]):
    """One figure of the snapshot. Subclasses override what applies to them."""

    __slots__ = ()

    def add(self, batch: Batch) -> None:
        """Count a batch of new posts."""

    def remove(self, post: Post) -> None:
        """Take back what a shown post added (it was hidden, deleted or its author blocked). Only
        posts people say (see :attr:`Entry.said`) come here; per-minute history stays counted."""

    def prune(self, moment: Moment) -> None:
        """Let time pass up to ``moment`` (before a snapshot)."""

    def part(self, window: Window) -> PartT_co:
        """This figure's part of the snapshot for ``window``."""
        raise NotImplementedError


class Counted(Figure[PartT_co]):
    """A figure that counts every post per minute (in ``counts``) under keys that depend only on
    the post's :data:`Signature`; subclasses say which (:meth:`keys`). ``topics`` maps topic keys
    to labels, in config order."""

    __slots__ = ("_counts", "_names", "_topics")

    def __init__(self, counts: Counts, topics: Mapping[str, str]) -> None:
        self._counts = counts
        self._topics = topics
        self._names: dict[Signature, tuple[str, ...]] = {}

    def keys(self, signature: Signature) -> list[Key]:
        """The keys a post with ``signature`` counts under."""
        raise NotImplementedError

    def add(self, batch: Batch) -> None:
        cached = self._names
        tally = batch.tally
        for minute, signatures in batch.minutes.items():
            at = tally.at(minute)
            for signature in signatures:
                found = cached.get(signature)
                if found is None:
                    found = names(self.keys(signature))
                    if len(cached) < 10_000:  # rare combinations are not kept
                        cached[signature] = found
                at.extend(found)

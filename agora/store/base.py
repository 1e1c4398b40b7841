"""What the wall remembers across restarts: the store interface.

Three implementations: :class:`agora.store.sqlite.SqliteStore` (one wall's own database, SQLite in
WAL mode), :class:`agora.store.postgres.PostgresStore` (one database shared by collectors and
walls in many offices) and :class:`agora.store.memory.MemoryStore` (used when the database cannot
be opened or written; the wall carries on and says so). All are safe to call from several threads.

A follower (a wall reading what a collector writes) keeps two numbers: the newest change it has
seen (:meth:`Store.changes`: posts inserted, updated or deleted) and the newest decision
(:meth:`Store.decisions`). Both only grow, and a number is never visible before every smaller
one is, so reading "everything after my number" misses nothing, whatever happened in between.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from agora.core.post import Moderation, ModerationState, Post, PostError

DecisionAction = Literal["approve", "hide", "pin", "unpin", "block", "unblock"]
#: The decisions about an author rather than a post: kept for as long as the store lives.
AUTHOR_DECISIONS: frozenset[str] = frozenset({"block", "unblock"})


@dataclass(slots=True, frozen=True)
class Decision:
    """A moderation decision: who did what to which post or author, when and why.

    ``target`` is a post id for approve / hide / pin / unpin, an author handle for block / unblock.
    """

    action: DecisionAction
    target: str
    actor: str
    at: datetime
    reason: str = ""
    seq: int = 0
    """Order of the decision in the store (assigned by the store; 0 before it is saved)."""
    origin: str = ""
    """Which wall, console or command made it (a wall's name, ``"agora moderation"``); empty
    when not known (decisions saved before stores kept it)."""
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Made once by whoever creates the decision and kept by the store: saving the same decision
    again (a retry after the answer to the first attempt was lost) returns the saved one instead
    of adding a second. Empty for decisions saved before stores kept it."""


class Notifications(Protocol):
    """Waiting for a store's notifications (PostgreSQL's LISTEN)."""

    def wait(self, timeout: float) -> set[str]:
        """The channels notified within ``timeout`` seconds (empty when none); every channel
        after a (re)connection, since notifications sent meanwhile are gone."""
        ...

    def close(self) -> None:
        """Stop listening."""
        ...


@dataclass(slots=True, frozen=True)
class Change:
    """One change to the stored posts, as a follower reads it: a post inserted or updated (the
    post as stored now), or deleted at its source (``deleted``; ``post`` is ``None``).

    ``post`` is also ``None`` for a stored row that cannot be read back; the follower skips it
    but still moves past its ``seq``."""

    seq: int
    post_id: str
    post: Post | None = None
    deleted: bool = False


class Store(ABC):
    """Persistence for posts, source cursors, moderation decisions and small named state blobs."""

    #: ``"sqlite"``, ``"postgres"`` or ``"memory"``.
    kind: str
    #: One line describing where data lives and, for a fallback, why ("memory: /x is read-only").
    status: str

    # -- posts -----------------------------------------------------------------------------------

    @abstractmethod
    def add_posts(self, posts: Sequence[Post]) -> int:
        """Insert posts not stored yet (by id) and update the metrics and enrichment of those that
        are. Returns how many were new. One transaction per call."""

    @abstractmethod
    def get_post(self, post_id: str) -> Post | None:
        """The stored post with this id."""

    @abstractmethod
    def get_posts(self, post_ids: Iterable[str]) -> dict[str, Post | None]:
        """The stored posts among these ids (``None`` for a stored row that cannot be read
        back). One query per call (in chunks)."""

    @abstractmethod
    def delete_posts(self, post_ids: Iterable[str]) -> int:
        """Remove posts (deleted at the source). Returns how many were removed."""

    @abstractmethod
    def iter_posts(self, since: datetime | None = None) -> Iterator[Post]:
        """Stored posts created at or after ``since``, oldest first (to warm the aggregates)."""

    @abstractmethod
    def newest_time(self) -> datetime | None:
        """Creation time of the newest stored post (``None`` when there is none)."""

    @abstractmethod
    def count_posts(self) -> int:
        """Number of stored posts."""

    @abstractmethod
    def prune(self, before: datetime, batch: int = 2_000) -> int:
        """Delete at most ``batch`` posts created before ``before``; returns how many. Called
        repeatedly in small steps so retention never stalls ingest."""

    @abstractmethod
    def set_moderation(self, post_id: str, moderation: Moderation) -> bool:
        """Record a post's moderation state (a decision); ``False`` when it is not stored."""

    @abstractmethod
    def posts_in_state(self, state: ModerationState, limit: int = 100) -> list[Post]:
        """Stored posts in a moderation state (``pending``: the approval queue), newest first."""

    # -- source cursors ----------------------------------------------------------------------------

    @abstractmethod
    def get_cursor(self, source: str) -> str | None:
        """The saved resume point of a source (``min_id``, ``time_us``, an ETag…)."""

    @abstractmethod
    def set_cursor(self, source: str, value: str | None) -> None:
        """Save (or, with ``None``, forget) the resume point of a source."""

    # -- moderation decisions ------------------------------------------------------------------

    @abstractmethod
    def add_decision(self, decision: Decision) -> Decision:
        """Persist a decision; returns it with its ``seq``. A decision whose ``uid`` is stored
        already is not added again: the stored one is returned."""

    @abstractmethod
    def decisions(self, after_seq: int = 0) -> list[Decision]:
        """Decisions with ``seq > after_seq`` in the order they were made."""

    @abstractmethod
    def prune_decisions(self, before: datetime) -> int:
        """Forget post decisions made before ``before`` about posts no longer stored (retention
        removed them); author decisions (block, unblock) are kept. Returns how many."""

    # -- following changes -----------------------------------------------------------------------

    @abstractmethod
    def changes(self, after_seq: int = 0, limit: int = 1_000) -> list[Change]:
        """Posts inserted or updated and posts deleted at their source since ``after_seq``, in
        order, at most ``limit``. A post changed several times appears once, as stored now.
        Posts removed by retention (:meth:`prune`) are not reported: every reader ages its own."""

    @abstractmethod
    def newest_change(self) -> int:
        """The newest change's number visible now (0 when there is none): where a follower that
        has just read everything starts following (it misses nothing made after it). Never a
        number still being written; after retention it may be below numbers handed out before."""

    # -- source leases ---------------------------------------------------------------------------

    @abstractmethod
    def acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take or renew the lease ``name`` (a source entry) for ``holder`` for ``ttl_s`` seconds.
        ``True`` when ``holder`` has it now: nobody had it, it was ``holder``'s own (renewed), or
        its holder stopped renewing it and it ran out (taken over)."""

    @abstractmethod
    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (only ``holder``'s own), so another holder may take it at once."""

    @abstractmethod
    def lease_holder(self, name: str) -> str | None:
        """Who holds the lease now (``None`` when nobody does or it ran out)."""

    def listener(self) -> Notifications | None:
        """Notifications of this store's changes for a follower, or ``None`` when it has none
        (a follower then reads the changes from time to time)."""
        return None

    # -- named state ---------------------------------------------------------------------------

    @abstractmethod
    def get_state(self, key: str) -> str | None:
        """A small named JSON blob (e.g. aggregate state)."""

    @abstractmethod
    def set_state(self, key: str, value: str) -> None:
        """Save a small named JSON blob."""

    @abstractmethod
    def states(self, prefix: str) -> dict[str, str]:
        """Every named blob whose key starts with ``prefix`` (the reports of several writers:
        ``sources.health:<collector>``)."""

    @abstractmethod
    def close(self) -> None:
        """Flush and release the database. Idempotent."""


def decode_post(body: str | bytes) -> Post | None:
    """A stored post read back, or ``None`` when the row cannot be read (it is skipped)."""
    try:
        return Post.from_row(body, now=datetime.now(UTC))
    except (PostError, ValueError, TypeError):
        return None

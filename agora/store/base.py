"""What the wall remembers across restarts: the store interface.

Two implementations: :class:`agora.store.sqlite.SqliteStore` (the real one, SQLite in WAL mode) and
:class:`agora.store.memory.MemoryStore` (used when the database cannot be opened or written; the
wall carries on and says so). Both are safe to call from several threads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from agora.core.post import Moderation, ModerationState, Post

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


class Store(ABC):
    """Persistence for posts, source cursors, moderation decisions and small named state blobs."""

    #: ``"sqlite"`` or ``"memory"``.
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
        """Persist a decision; returns it with its ``seq``."""

    @abstractmethod
    def decisions(self, after_seq: int = 0) -> list[Decision]:
        """Decisions with ``seq > after_seq`` in the order they were made."""

    @abstractmethod
    def prune_decisions(self, before: datetime) -> int:
        """Forget post decisions made before ``before`` about posts no longer stored (retention
        removed them); author decisions (block, unblock) are kept. Returns how many."""

    # -- named state ---------------------------------------------------------------------------

    @abstractmethod
    def get_state(self, key: str) -> str | None:
        """A small named JSON blob (e.g. aggregate state)."""

    @abstractmethod
    def set_state(self, key: str, value: str) -> None:
        """Save a small named JSON blob."""

    @abstractmethod
    def close(self) -> None:
        """Flush and release the database. Idempotent."""

"""What the core expects of a store, whatever the store is (SQLite, PostgreSQL, memory).

:class:`PostStore` is the little the pipeline uses: the stores in :mod:`agora.store` have it
(and much more). A store raises :class:`StoreUnavailableError` when it cannot keep anything right
now (the disk is full, an I/O error, the database is locked or gone): the pipeline then holds the
batch back as a whole instead of blaming its posts one by one, and the engine neither moves a
source's saved place past those posts nor tells a webhook caller they were taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from agora.core.post import Post


class PostStore(Protocol):
    """The posts of a store, as the pipeline reads and writes them."""

    def add_posts(self, posts: Sequence[Post]) -> int:
        """Insert new posts and update known ones; how many were new (one transaction)."""
        ...

    def get_post(self, post_id: str) -> Post | None:
        """The stored post with this id."""
        ...

    def get_posts(self, post_ids: Iterable[str]) -> dict[str, Post | None]:
        """The stored posts among these ids (``None``: stored but unreadable)."""
        ...

    def delete_posts(self, post_ids: Iterable[str]) -> int:
        """Remove posts; how many were removed."""
        ...

    def newest_time(self) -> datetime | None:
        """When the newest stored post was made."""
        ...


class StoreUnavailableError(Exception):
    """The store cannot write now; the data offered is not at fault."""

"""What the wall remembers across restarts (no Qt).

:func:`open_store` is the one way the wall gets its store: the SQLite database of the wall under the
platform data directory (or ``--data-dir``), or, when that cannot be used, memory, with one clear log
line saying why. A database that fails while the wall runs (disk full, file removed) is dropped the
same way: :class:`FallbackStore` switches to memory and the wall carries on.

With ``[store] url`` it is the PostgreSQL database that collectors and walls share
(:class:`~agora.store.postgres.PostgresStore`). That one is never swapped for memory while it runs:
a wall away from it would drift from every other wall. While the server is away its calls raise
:class:`~agora.core.storage.StoreUnavailableError`, and it reconnects by itself.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

from agora.core.post import Moderation, ModerationState, Post
from agora.core.storage import StoreUnavailableError
from agora.store.base import Change, Decision, Store
from agora.store.memory import MemoryStore
from agora.store.sqlite import SqliteStore, StoreOpenError, describe_failure

T = TypeVar("T")

_LOST = "running in memory; posts and decisions from now on are not kept after a restart"


def default_data_dir() -> Path:
    """The platform's data directory for Agora (``~/.local/share/agora`` on Linux)."""
    from platformdirs import user_data_path

    return user_data_path("agora", appauthor=False)


def database_path(data_dir: Path | None, wall_name: str) -> Path:
    """Where a wall's database lives: one file per wall name inside the data directory."""
    slug = re.sub(r"[^a-z0-9]+", "-", wall_name.lower()).strip("-") or "wall"
    return (data_dir or default_data_dir()) / f"{slug}.sqlite3"


class StorePlace(Protocol):
    """Where a config says the store is (``[store]``: ``url`` and ``password``)."""

    @property
    def url(self) -> str | None: ...
    @property
    def password(self) -> Secret | None: ...


class Secret(Protocol):
    """A secret read from the environment (``env:NAME``)."""

    def get(self) -> str:
        """The secret's value."""
        ...


def wall_store(
    place: StorePlace, data_dir: Path | None, wall_name: str, logger: logging.Logger | None = None
) -> Store:
    """The store a wall or collector runs on: :func:`open_store` with the config's ``[store]``."""
    password = place.password.get() if place.password is not None else None
    return open_store(data_dir, wall_name, logger, url=place.url, password=password)


def store_exists(place: StorePlace, data_dir: Path | None, wall_name: str) -> bool:
    """Whether there is a store to read: a shared database always is; a wall's own SQLite file
    once the wall has run with this data directory."""
    return bool(place.url) or database_path(data_dir, wall_name).is_file()


def open_for_commands(
    place: StorePlace, data_dir: Path | None, wall_name: str, *, readonly: bool = False
) -> Store:
    """The wall's store for a command or the console, connected now: the shared database with
    ``[store] url``, else the wall's SQLite file (``readonly``: opened read-only, never
    created). Raises :class:`StoreOpenError` in plain words when it cannot be used."""
    if place.url:
        from agora.store.postgres import PostgresStore

        password = place.password.get() if place.password is not None else None
        return PostgresStore(place.url, password=password)
    path = database_path(data_dir, wall_name)
    if not path.is_file():
        raise StoreOpenError(
            f"no store at {path} yet (the wall has not run with this data directory)"
        )
    return SqliteStore(path, readonly=readonly)


def open_store(
    data_dir: Path | None,
    wall_name: str,
    logger: logging.Logger | None = None,
    *,
    url: str | None = None,
    password: str | None = None,
) -> Store:
    """The wall's store; never raises. ``url`` (``[store] url``) selects the shared PostgreSQL
    database (``password``: the secret's value), else the wall's SQLite file under ``data_dir``.
    Falls back to memory with one log line when the database cannot be used at all (a newer
    Agora's schema, a damaged file); a PostgreSQL server that is down is waited for instead."""
    log = logger or logging.getLogger("agora.store")
    if url:
        return _open_shared(url, password, log)
    path = database_path(data_dir, wall_name)
    try:
        primary = SqliteStore(path)
    except StoreOpenError as exc:
        log.error("store: %s; %s", exc, _LOST)
        return MemoryStore(status=f"memory ({exc})")
    except Exception as exc:  # anything else: still never stop the wall
        log.error("store: cannot open %s (%s); %s", path, exc, _LOST)
        return MemoryStore(status=f"memory (cannot open {path})")
    log.info("store: %s", path)
    return FallbackStore(primary, log)


def _open_shared(url: str, password: str | None, log: logging.Logger) -> Store:
    from agora.store.postgres import PostgresStore, safe_url

    try:
        store = PostgresStore(url, password=password, lazy=True, logger=log)
    except StoreOpenError as exc:
        log.error("store: %s; %s", exc, _LOST)
        return MemoryStore(status=f"memory ({exc})")
    except Exception as exc:  # a URL libpq cannot read…: still never stop the wall
        why = f"cannot use {safe_url(url)} ({type(exc).__name__})"
        log.error("store: %s; %s", why, _LOST)
        return MemoryStore(status=f"memory ({why})")
    log.info("store: %s", store.url)
    return store


class FallbackStore(Store):
    """A SQLite store that turns into a memory store the first time the database fails."""

    #: how often writes check that the database file is still there, in seconds
    FILE_CHECK_S = 5.0

    def __init__(self, primary: SqliteStore, logger: logging.Logger) -> None:
        self._active: Store = primary
        self._log = logger
        self._switch_lock = threading.Lock()
        self._checked = time.monotonic()

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self._active.kind

    @property
    def status(self) -> str:  # type: ignore[override]
        return self._active.status

    @property
    def active(self) -> Store:
        """The store in use now."""
        return self._active

    def _call(self, operation: Callable[[Store], T]) -> T:
        store = self._active
        try:
            return operation(store)
        except (sqlite3.Error, OSError, StoreUnavailableError) as exc:
            with self._switch_lock:
                if self._active is store and isinstance(store, SqliteStore):
                    cause = exc.__cause__ if isinstance(exc, StoreUnavailableError) else None
                    why = str(exc) if cause is not None else describe_failure(exc, store.path)
                    self._log.error("store: %s; %s", why, _LOST)
                    self._active = MemoryStore(status=f"memory ({why})")
                    with contextlib.suppress(Exception):
                        store.close()
            return operation(self._active)

    def _write_posts(self, store: Store, posts: Sequence[Post]) -> int:
        if isinstance(store, SqliteStore) and time.monotonic() - self._checked >= self.FILE_CHECK_S:
            self._checked = time.monotonic()
            store.check_file()
        return store.add_posts(posts)

    def add_posts(self, posts: Sequence[Post]) -> int:
        return self._call(lambda s: self._write_posts(s, posts))

    def get_post(self, post_id: str) -> Post | None:
        return self._call(lambda s: s.get_post(post_id))

    def get_posts(self, post_ids: Iterable[str]) -> dict[str, Post | None]:
        ids = list(post_ids)
        return self._call(lambda s: s.get_posts(ids))

    def delete_posts(self, post_ids: Iterable[str]) -> int:
        ids = list(post_ids)
        return self._call(lambda s: s.delete_posts(ids))

    def iter_posts(self, since: datetime | None = None) -> Iterator[Post]:
        try:
            yield from self._active.iter_posts(since)
        except (sqlite3.Error, OSError) as exc:
            self._log.error(
                "store: reading stored posts failed (%s); starting from what was read", exc
            )

    def newest_time(self) -> datetime | None:
        return self._call(lambda s: s.newest_time())

    def count_posts(self) -> int:
        return self._call(lambda s: s.count_posts())

    def prune(self, before: datetime, batch: int = 2_000) -> int:
        return self._call(lambda s: s.prune(before, batch))

    def set_moderation(self, post_id: str, moderation: Moderation) -> bool:
        return self._call(lambda s: s.set_moderation(post_id, moderation))

    def posts_in_state(self, state: ModerationState, limit: int = 100) -> list[Post]:
        return self._call(lambda s: s.posts_in_state(state, limit))

    def get_cursor(self, source: str) -> str | None:
        return self._call(lambda s: s.get_cursor(source))

    def set_cursor(self, source: str, value: str | None) -> None:
        self._call(lambda s: s.set_cursor(source, value))

    def add_decision(self, decision: Decision) -> Decision:
        return self._call(lambda s: s.add_decision(decision))

    def decisions(self, after_seq: int = 0) -> list[Decision]:
        return self._call(lambda s: s.decisions(after_seq))

    def prune_decisions(self, before: datetime) -> int:
        return self._call(lambda s: s.prune_decisions(before))

    def changes(self, after_seq: int = 0, limit: int = 1_000) -> list[Change]:
        return self._call(lambda s: s.changes(after_seq, limit))

    def newest_change(self) -> int:
        return self._call(lambda s: s.newest_change())

    def acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        return self._call(lambda s: s.acquire_lease(name, holder, ttl_s))

    def release_lease(self, name: str, holder: str) -> None:
        self._call(lambda s: s.release_lease(name, holder))

    def lease_holder(self, name: str) -> str | None:
        return self._call(lambda s: s.lease_holder(name))

    def get_state(self, key: str) -> str | None:
        return self._call(lambda s: s.get_state(key))

    def set_state(self, key: str, value: str) -> None:
        self._call(lambda s: s.set_state(key, value))

    def states(self, prefix: str) -> dict[str, str]:
        return self._call(lambda s: s.states(prefix))

    def close(self) -> None:
        self._active.close()


__all__ = [
    "Change",
    "Decision",
    "FallbackStore",
    "MemoryStore",
    "SqliteStore",
    "Store",
    "StoreOpenError",
    "database_path",
    "default_data_dir",
    "open_store",
]

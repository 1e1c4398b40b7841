"""A source's saved place never moves past posts that were not stored (issue 13).

Sources save their place at the end of a round, then hand over its posts; the engine stores them
later, on its ingest thread. These tests hold the store back (or make it fail) and look at the
saved place meanwhile, on a real SQLite file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from agora.config.schema import WallConfig
from agora.core.post import Author, Post
from agora.core.storage import StoreUnavailableError
from agora.engine import Engine
from agora.sources.base import Source, SourceContext
from agora.store.sqlite import SqliteStore

NOW = datetime.now(UTC).replace(microsecond=0)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class OneRound(Source):
    """A source that saves its place, then hands over one post (as every source does)."""

    kind: ClassVar[str] = "hackernews"

    def __init__(self, context: SourceContext) -> None:
        class Entry:
            name = "hn"

        super().__init__(Entry(), context)

    @property
    def live(self) -> bool:
        return False

    async def fetch(self, limit: int | None = None) -> list[Post]:
        self.context.set_cursor(self.name, "after-post-1")
        return [
            Post(
                id="hackernews:1",
                source="hackernews",
                feed="hn",
                text="Lumen on the front page",
                created_at=NOW,
                author=Author("pg"),
            )
        ]


class HeldStore(SqliteStore):
    """A store whose writes wait for ``go`` (a slow disk), or fail (a dead one)."""

    def __init__(self, path: Path, *, fail: bool = False) -> None:
        super().__init__(path)
        self.go = threading.Event()
        self.writing = threading.Event()
        self.fail = fail

    def add_posts(self, posts: Sequence[Post]) -> int:
        self.writing.set()
        if self.fail:
            raise OSError("the disk went away")
        self.go.wait(60)
        return super().add_posts(posts)


def engine_with(store: SqliteStore, tmp_path: Path) -> Engine:
    config = WallConfig.model_validate({"topics": {"lumen": {"terms": ["lumen"]}}})
    engine = Engine(config, store, config_dir=tmp_path, sources=[])
    engine.sources = [OneRound(engine.source_context)]
    return engine


def test_the_place_is_saved_only_once_the_posts_before_it_are_stored(tmp_path: Path) -> None:
    store = HeldStore(tmp_path / "wall.sqlite")
    engine = engine_with(store, tmp_path)
    engine.start()
    try:
        wait_until(store.writing.is_set, "the ingest thread to write")
        # the write is held: a crash now must not find the place moved past the post
        assert store.get_cursor("hn") is None
        assert engine.cursors.get("hn") == "after-post-1"  # the source itself knows it
        store.go.set()
        wait_until(lambda: store.get_cursor("hn") == "after-post-1", "the saved place")
        assert store.get_post("hackernews:1") is not None
    finally:
        store.go.set()
        engine.stop(timeout=60.0)  # returns once the threads end; a safety net
        store.close()


def test_a_store_that_cannot_write_never_gets_the_place(tmp_path: Path) -> None:
    store = HeldStore(tmp_path / "wall.sqlite", fail=True)
    engine = engine_with(store, tmp_path)
    engine.start()
    try:
        wait_until(lambda: engine.ingested >= 1, "the batch")
        wait_until(lambda: engine.snapshot.summary(None).posts.total == 1, "the figures")
    finally:
        engine.stop(timeout=60.0)  # returns once the threads end; a safety net
    # the post is on the wall (kept in memory), but a restart fetches it again
    assert store.get_cursor("hn") is None
    store.close()


def test_a_place_saved_without_posts_is_written_too(tmp_path: Path) -> None:
    """A round with nothing new still moves the place (validators, a stream's resume point):
    flushed within about a second, behind whatever the source delivered before."""
    store = SqliteStore(tmp_path / "wall.sqlite")
    config = WallConfig.model_validate({"topics": {"lumen": {"terms": ["lumen"]}}})
    engine = Engine(config, store, config_dir=tmp_path, sources=[])

    class Quiet(OneRound):
        async def fetch(self, limit: int | None = None) -> list[Any]:
            self.context.set_cursor(self.name, "etag-2")
            return []

    engine.sources = [Quiet(engine.source_context)]
    engine.start()
    try:
        wait_until(lambda: store.get_cursor("hn") == "etag-2", "the saved place")
    finally:
        engine.stop(timeout=60.0)  # returns once the threads end; a safety net
        store.close()


class UnaskableStore(SqliteStore):
    """A shared store gone away: it cannot even be asked which posts it holds, until ``back``."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.back = threading.Event()
        self.asked = threading.Event()

    def get_posts(self, ids: Sequence[str]) -> dict[str, Post | None]:
        self.asked.set()
        if not self.back.is_set():
            raise StoreUnavailableError("cannot reach the shared store")
        return super().get_posts(ids)


def test_a_batch_the_store_could_not_be_asked_about_is_not_lost(tmp_path: Path) -> None:
    """The deduper asks the store about posts older than the newest it holds (a restart's
    replay); when it cannot be asked, the batch is run through again later, and the place is
    held until then: no post dropped, none counted twice."""
    store = UnaskableStore(tmp_path / "wall.sqlite")
    later = Post(
        id="hackernews:2",
        source="hackernews",
        feed="hn",
        text="Lumen again, later",
        created_at=NOW,
        author=Author("dang"),
    )
    store.add_posts([later])  # stored before: the source's post is older than what is kept
    engine = engine_with(store, tmp_path)
    old = engine.sources[0]
    old_fetch = old.fetch

    async def older(limit: int | None = None) -> list[Post]:
        posts = await old_fetch(limit)
        return [replace(p, created_at=NOW - timedelta(days=1)) for p in posts]

    old.fetch = older  # type: ignore[method-assign]
    engine.start()
    try:
        wait_until(store.asked.is_set, "the deduper to ask the store")
        assert store.get_cursor("hn") is None
        assert store.get_post("hackernews:1") is None
        store.back.set()  # the store answers again; no new posts come
        wait_until(lambda: store.get_post("hackernews:1") is not None, "the post to be kept")
        wait_until(lambda: store.get_cursor("hn") == "after-post-1", "the saved place")
        assert engine.ingested == 1  # counted once
    finally:
        store.back.set()
        engine.stop(timeout=60.0)  # returns once the threads end; a safety net
        store.close()

"""The engine's inbox is bounded and pushes back: while ingest is behind, sources wait instead of
piling posts up, the webhook answers 503, and nothing is lost once ingest catches up."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from agora.config.schema import WallConfig
from agora.core.post import Author, Post
from agora.core.storage import StoreUnavailableError
from agora.engine import Engine, Inbox
from agora.engine.inbox import Batch
from agora.sources.base import Source, SourceContext
from agora.store.sqlite import SqliteStore

NOW = datetime.now(UTC).replace(microsecond=0)
ROUND = 300


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def post(n: int) -> Post:
    return Post(
        id=f"hackernews:{n}",
        source="hackernews",
        feed="fast",
        text=f"Lumen comment {n}",
        created_at=NOW,
        author=Author(f"u{n % 50}"),
    )


def test_the_inbox_counts_posts_and_makes_room_at_half() -> None:
    inbox = Inbox(limit=1_000)
    inbox.put(Batch([post(n) for n in range(700)], {}))
    assert not inbox.full
    inbox.put(Batch([post(n) for n in range(700, 1_100)], {"hn": "c1"}))
    assert inbox.full and inbox.waiting == 1_100

    async def wait_for_room() -> float:
        started = time.monotonic()
        await inbox.room()
        return time.monotonic() - started

    def drain_slowly() -> None:
        time.sleep(0.3)  # the ingest thread is busy for a while
        taken = inbox.get(timeout=5)
        assert isinstance(taken, Batch) and len(taken.posts) == 700

    worker = threading.Thread(target=drain_slowly)
    worker.start()
    waited = asyncio.run(wait_for_room())
    worker.join()
    assert waited >= 0.25  # it waited for the ingest thread…
    assert inbox.waiting == 400 <= inbox.limit // 2  # …to work the inbox down to half


class Fast(Source):
    """A source with a new round of posts every time it is asked (a busy hashtag)."""

    kind: ClassVar[str] = "hackernews"

    def __init__(self, context: SourceContext) -> None:
        class Entry:
            name = "fast"

        super().__init__(Entry(), context)
        self.rounds = 0

    @property
    def every(self) -> float:
        return 0.0

    async def fetch(self, limit: int | None = None) -> list[Post]:
        start = self.rounds * ROUND
        self.rounds += 1
        self.context.set_cursor(self.name, str(self.rounds))
        return [post(n) for n in range(start, start + ROUND)]


class SlowStore(SqliteStore):
    """A store whose writes wait for ``go``: ingest falls behind the source."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.go = threading.Event()
        self.writing = threading.Event()

    def add_posts(self, posts: Sequence[Post]) -> int:
        self.writing.set()
        self.go.wait(120)
        return super().add_posts(posts)


def test_a_source_waits_while_ingest_is_behind_and_nothing_is_lost(tmp_path: Path) -> None:
    store = SlowStore(tmp_path / "wall.sqlite")
    config = WallConfig.model_validate({"topics": {"lumen": {"terms": ["lumen"]}}})
    engine = Engine(config, store, config_dir=tmp_path, sources=[], inbox_limit=1_000)
    source = Fast(engine.source_context)
    engine.sources = [source]
    engine.start()
    try:
        # the ingest thread is stuck in its write (it took what the inbox held before), and the
        # inbox has filled up behind it
        wait_until(lambda: store.writing.is_set() and engine.inbox.full, "the inbox to fill")
        rounds = source.rounds
        held = engine.inbox.waiting
        # the store is stuck: the source must stop asking for more, not pile posts up
        wait_until(lambda: engine.inbox.full, "a second look", timeout=1)
        time.sleep(0.5)  # rounds run back to back when nothing holds them back
        assert source.rounds <= rounds + 1
        assert engine.inbox.waiting <= max(held, 1_000 + ROUND)
        store.go.set()
        wait_until(lambda: store.count_posts() >= 10 * ROUND, "ingest to catch up and go on")
    finally:
        store.go.set()
        engine.stop(timeout=2.0)
    numbers = sorted(int(p.id.split(":")[1]) for p in store.iter_posts())
    # stored in the order delivered, none twice, no gap (what was still queued at the stop is
    # the newest, fetched again at the next start since its place was not saved)
    assert numbers == list(range(len(numbers)))
    store.close()


def test_the_webhook_answers_202_once_stored_and_503_while_the_wall_is_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGORA_INBOX_TOKEN", "inbox-token-0c1f")
    store = SlowStore(tmp_path / "wall.sqlite")
    config = WallConfig.model_validate(
        {
            "sources": [
                {"name": "push", "kind": "webhook", "port": 0, "token": "env:AGORA_INBOX_TOKEN"}
            ]
        }
    )
    engine = Engine(config, store, config_dir=tmp_path, inbox_limit=10)
    engine.start()
    hook = engine.sources[0]
    try:
        wait_until(lambda: getattr(hook, "port", None) is not None, "the webhook")
        port: Any = getattr(hook, "port", None)
        first = Answer(port, "one")
        # the store is stuck: the first request is not answered while its posts are not stored
        wait_until(store.writing.is_set, "the ingest thread to write")
        assert first.result is None
        second = Answer(port, "two")  # the ingest thread is busy: this batch waits in the inbox
        wait_until(lambda: engine.inbox.waiting >= 20, "the inbox")
        third = Answer(port, "three")
        third.done.wait(60)
        assert third.result == (503, "5")  # the inbox is full: nothing taken, send again later
        store.go.set()
        first.done.wait(60)
        second.done.wait(60)
        assert first.result is not None and first.result[0] == 202
        assert second.result is not None and second.result[0] == 202
        assert store.count_posts() == 40  # a 202 means stored
    finally:
        store.go.set()
        engine.stop(timeout=2.0)
        store.close()


class Answer:
    """One POST /ingest of 20 posts, answered on a thread of its own."""

    def __init__(self, port: int, name: str) -> None:
        self.result: tuple[int, str | None] | None = None
        self.done = threading.Event()
        body = [
            {"id": f"{name}-{i}", "text": "Lumen", "created_at": NOW.isoformat()} for i in range(20)
        ]
        threading.Thread(target=self._send, args=(port, body), daemon=True).start()

    def _send(self, port: int, body: list[dict[str, Any]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.request(
                "POST",
                "/ingest",
                body=json.dumps(body).encode(),
                headers={"Authorization": "Bearer inbox-token-0c1f"},
            )
            reply = conn.getresponse()
            reply.read()
            self.result = (reply.status, reply.getheader("Retry-After"))
        finally:
            conn.close()
            self.done.set()


def test_the_webhook_answers_503_when_the_posts_cannot_be_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk: the caller hears 503 (not 202) and sends again; nothing is counted twice and
    no place is saved past posts that were not kept."""
    monkeypatch.setenv("AGORA_INBOX_TOKEN", "inbox-token-0c1f")
    store = FullStore(tmp_path / "wall.sqlite")
    config = WallConfig.model_validate(
        {
            "sources": [
                {"name": "push", "kind": "webhook", "port": 0, "token": "env:AGORA_INBOX_TOKEN"}
            ]
        }
    )
    engine = Engine(config, store, config_dir=tmp_path)
    engine.start()
    hook = engine.sources[0]
    try:
        wait_until(lambda: getattr(hook, "port", None) is not None, "the webhook")
        port: Any = getattr(hook, "port", None)
        first = Answer(port, "full")
        first.done.wait(60)
        assert first.result is not None and first.result[0] == 503
        assert store.count_posts() == 0
        store.full = False  # space again: the posts held back are written before the next
        again = Answer(port, "full")
        again.done.wait(60)
        assert again.result is not None and again.result[0] == 202
        wait_until(lambda: store.count_posts() == 20, "the posts, once")
        wait_until(lambda: engine.snapshot.summary(None).posts.total == 20, "the figures")
        assert engine.publish(force=True).summary(None).posts.total == 20  # not counted twice
    finally:
        engine.stop(timeout=2.0)
        store.close()


class FullStore(SqliteStore):
    """A store on a full disk (until ``full`` is cleared)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.full = True

    def add_posts(self, posts: Sequence[Post]) -> int:
        if self.full:
            raise StoreUnavailableError(f"the disk is full: {self.path} cannot grow")
        return super().add_posts(posts)


def test_closing_lets_a_slow_write_finish_before_the_store_closes(tmp_path: Path) -> None:
    store = SlowStore(tmp_path / "wall.sqlite")
    config = WallConfig.model_validate({"topics": {"lumen": {"terms": ["lumen"]}}})
    engine = Engine(config, store, config_dir=tmp_path, sources=[], inbox_limit=1_000)
    source = Fast(engine.source_context)
    engine.sources = [source]
    engine.start()
    wait_until(store.writing.is_set, "the ingest thread to write")

    def slow_disk() -> None:
        time.sleep(2.5)  # the write takes longer than a stop's usual second
        store.go.set()

    threading.Thread(target=slow_disk, daemon=True).start()
    engine.close()  # a wall being quit in the middle of a write
    assert not engine.running
    reopened = SqliteStore(tmp_path / "wall.sqlite")
    try:
        assert reopened.count_posts() >= ROUND  # the batch being written was written
    finally:
        reopened.close()

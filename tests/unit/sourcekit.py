"""Shared pieces of the live-source tests: cursors, contexts, quick settings, local servers.

Every server here listens on 127.0.0.1 only and is stopped by the fixture that started it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agora.config.schema import WallConfig
from agora.core.post import Post
from agora.sources.base import SourceContext
from agora.sources.http import Backoff
from agora.sources.live import LiveSource

DATA = Path(__file__).parent / "data" / "sources"
SHARED_FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"


def load(name: str) -> Any:
    """A JSON file of ``tests/unit/data/sources``."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


class Cursors(dict[str, str | None]):
    """An in-memory cursor store with the context's get/set signature (survives a "restart")."""

    def get_cursor(self, name: str) -> str | None:
        return self.get(name)

    def set_cursor(self, name: str, value: str | None) -> None:
        self[name] = value

    def state(self, name: str) -> dict[str, Any]:
        raw = self.get(name)
        return json.loads(raw) if raw else {}


class Recorder:
    """Collects what a source hands to the engine: posts and deletions."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.deleted: list[str] = []
        self.lock = threading.Lock()

    def sink(self, posts: Sequence[Post]) -> None:
        with self.lock:
            self.posts.extend(posts)

    def delete(self, ids: Sequence[str]) -> None:
        with self.lock:
            self.deleted.extend(ids)


def context(
    cursors: Cursors | None = None,
    recorder: Recorder | None = None,
    *,
    wall: WallConfig | None = None,
    listen_seconds: float = 2.0,
    tmp: Path | None = None,
) -> SourceContext:
    """A source context over in-memory cursors."""
    cursors = cursors if cursors is not None else Cursors()
    recorder = recorder or Recorder()
    return SourceContext(
        wall=wall or WallConfig(),
        config_dir=tmp or Path("."),
        get_cursor=cursors.get_cursor,
        set_cursor=cursors.set_cursor,
        delete=recorder.delete,
        listen_seconds=listen_seconds,
    )


def quick(source: LiveSource, timeout: float = 30.0) -> LiveSource:
    """Test pacing: no polite floor, tiny deterministic backoff; requests time out after
    ``timeout`` (long by default: a busy machine may answer slowly, and only tests of timeouts
    want them short)."""
    source.min_every = 0.0
    source.timeout = timeout
    source.backoff = Backoff(base=0.01, cap=0.04, rand=lambda: 0.5)
    source.auth_retry = 0.05
    source.disabled_retry = 0.05
    source.min_retry = 0.0
    return source


def run(coro: Any) -> Any:
    """Run a coroutine on a fresh event loop."""
    return asyncio.run(coro)


async def run_until(
    source: LiveSource,
    recorder: Recorder,
    done: Callable[[], bool],
    *,
    timeout: float = 60.0,
) -> float:
    """Run ``source`` until ``done()`` holds (``timeout`` is only a safety net), then stop it;
    returns how long stopping took (the caller judges it)."""
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(recorder.sink, stop))
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline and not task.done():
        await asyncio.sleep(0.01)
    if task.done():
        task.result()  # surface an error
    assert done(), "the source did not produce what was expected in time"
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, timeout=60.0)
    return time.monotonic() - started


def check_post(post: Post, kind: str) -> None:
    """Every normalised field has the contract's type."""
    assert post.id.startswith(f"{kind}:"), post.id
    assert post.source == kind
    assert post.feed
    assert post.text and post.text == post.text.strip()
    assert post.created_at.tzinfo is not None
    assert post.created_at.utcoffset() == UTC.utcoffset(None)
    assert post.created_at > datetime(2000, 1, 1, tzinfo=UTC)
    assert post.author.handle
    for value in (post.author.followers, *vars_of(post.metrics)):
        assert value is None or (isinstance(value, int) and value >= 0)
    for media in post.media:
        assert media.kind in ("image", "video", "link")
        assert media.url.startswith(("http://", "https://"))
    if post.url is not None:
        assert post.url.startswith(("http://", "https://"))
    assert isinstance(post.is_repost, bool)
    post.to_json()


def vars_of(metrics: Any) -> list[Any]:
    return [metrics.likes, metrics.reposts, metrics.replies, metrics.quotes]

"""Live sources inside the engine: built from the config, deletions reach the wall, stop in 1 s."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from agora.config.schema import WallConfig
from agora.engine import Engine
from agora.sources.http import describe_url
from agora.sources.mastodon import MastodonSource
from agora.sources.registry import build_sources, source_class
from agora.store.memory import MemoryStore
from tests.unit.sourcekit import context, load

KINDS = ("mastodon", "bluesky", "hackernews", "reddit", "rss", "x", "youtube", "webhook")


def wait_for(check: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_found_by_the_registry(kind: str) -> None:
    cls = source_class(kind)
    assert cls.kind == kind
    assert cls.__module__ == f"agora.sources.{kind}"


def test_sources_are_built_from_a_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_TEST_TOKEN", "zz-secret-value-42")
    wall = WallConfig.model_validate(
        {
            "sources": [
                {"name": "fedi", "kind": "mastodon", "hashtags": ["lumen"]},
                {"name": "sky", "kind": "bluesky", "keywords": ["lumen"]},
                {"name": "hn", "kind": "hackernews", "query": "lumen"},
                {"name": "rd", "kind": "reddit", "query": "lumen"},
                {"name": "news", "kind": "rss", "url": "https://news.example/rss"},
                {
                    "name": "xs",
                    "kind": "x",
                    "query": "lumen",
                    "bearer_token": "env:AGORA_TEST_TOKEN",
                },
                {
                    "name": "yt",
                    "kind": "youtube",
                    "query": "lumen",
                    "api_key": "env:AGORA_TEST_TOKEN",
                },
                {"name": "push", "kind": "webhook", "token": "env:AGORA_TEST_TOKEN"},
            ]
        }
    )
    sources = build_sources(wall, context(wall=wall))
    assert [s.kind for s in sources] == list(KINDS)
    assert all(not s.offline for s in sources)
    assert "zz-secret-value-42" not in repr(wall.sources[5])


def test_a_deletion_at_the_source_removes_the_post_from_the_wall(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, held: threading.Event
) -> None:
    monkeypatch.setenv("AGORA_TEST_MASTODON_TOKEN", "mastodon-test-token")
    base = server.url_for("/").rstrip("/")
    status = load("mastodon_tag_timeline.json")[0]
    # a post of today: the recorded one is older than the store's retention, which would remove
    # it (and so "delete" it) as soon as retention first runs
    status["created_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    host = describe_url(server.url_for("/"))
    post_id = f"mastodon:{host}:{status['id']}"
    server.expect_request("/api/v2/instance").respond_with_json(
        {"configuration": {"urls": {"streaming": base}}}
    )
    server.expect_request("/api/v1/timelines/tag/lumen").respond_with_json([])
    deleted = {"go": False}

    def stream(_request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield f"event: update\ndata: {json.dumps(status)}\n\n".encode()
            deadline = time.monotonic() + 90  # the test says when (a busy machine is slow)
            while not deleted["go"] and time.monotonic() < deadline:
                time.sleep(0.02)
                yield b":thump\n"
            yield f"event: delete\ndata: {status['id']}\n\n".encode()
            # open till the test ends: a stream that closed would be reconnected and send the
            # post again, however long the wall took to act on the deletion
            held.wait(120)

        return Response(body(), content_type="text/event-stream")

    server.expect_request("/api/v1/streaming/hashtag").respond_with_handler(stream)
    wall = WallConfig.model_validate(
        {
            "sources": [
                {
                    "name": "fedi",
                    "kind": "mastodon",
                    "base_url": base,
                    "hashtags": ["lumen"],
                    "token": "env:AGORA_TEST_MASTODON_TOKEN",
                    "streaming": True,
                }
            ]
        }
    )
    store = MemoryStore()
    engine = Engine(wall, store, config_dir=tmp_path)
    assert isinstance(engine.sources[0], MastodonSource)
    engine.start()
    try:
        wait_for(lambda: store.get_post(post_id) is not None)
        deleted["go"] = True
        wait_for(lambda: store.get_post(post_id) is None)
    finally:
        started = time.monotonic()
        engine.stop(timeout=1.0)
        took = time.monotonic() - started
    assert took < 3.0  # stop waits 1 s at most; the rest is slack for a busy machine
    assert all(not t.is_alive() for t in engine.threads)
    assert engine.health()["fedi"].posts == 1

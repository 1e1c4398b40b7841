"""A wall restarted on its store shows the new posts of every polled source, and not the old
ones twice, even when the server hands the old ones back (an RSS feed keeps its items; an API
that ignores the cursor). The wall here is the real engine on a real SQLite file, its sources
built from the config and polling a real server on 127.0.0.1."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from agora.config.schema import WallConfig
from agora.engine import Engine
from agora.store.sqlite import SqliteStore
from tests.unit.sourcekit import DATA, load

#: the recorded payloads are of the morning of 2026-11-22: the wall's clock says noon that day
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def run_wall(
    config: WallConfig, path: Path, expected: int, at: datetime = NOON, figures: int | None = None
) -> tuple[int, int]:
    """Start the wall on ``path`` at ``at``, wait until its store holds ``expected`` posts, the
    sources' places are saved and the figures count ``figures`` (default: ``expected``), stop
    it. Returns (stored, counted in the figures)."""
    store = SqliteStore(path)
    engine = Engine(config, store, config_dir=path.parent, clock=lambda: at)
    engine.start()
    try:
        wait_until(lambda: store.count_posts() >= expected, f"{expected} stored posts")
        name = config.sources[0].name
        wait_until(lambda: store.get_cursor(name) is not None, "the saved place")
        want = expected if figures is None else figures
        wait_until(lambda: engine.snapshot.summary(None).posts.total >= want, "the figures")
        counted = engine.snapshot.summary(None).posts.total
    finally:
        engine.stop(timeout=60.0)  # returns once the threads end; a safety net
        stored = store.count_posts()
        store.close()
    return stored, counted


def newest_removed_xml(data: str, tag: str) -> str:
    """The feed without its first (newest) ``<item>`` / ``<entry>``."""
    return re.sub(rf"<{tag}>.*?</{tag}>", "", data, count=1, flags=re.DOTALL)


def by_time(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item[key], reverse=True)


class Replaying:
    """A server answer that first leaves out the newest item, then gives everything: old
    items come back in the second round (as they do from a feed, or an API that ignores the
    cursor)."""

    def __init__(self, first: bytes, later: bytes, content_type: str) -> None:
        self.first, self.later, self.content_type = first, later, content_type
        self.full = False

    def __call__(self, _request: Request) -> Response:
        return Response(self.later if self.full else self.first, content_type=self.content_type)


def rss_case(server: HTTPServer) -> tuple[dict[str, Any], Replaying, int]:
    # without its <ttl>: a restarted wall rightly leaves a feed alone while its ttl runs
    feed = re.sub(r"<ttl>\d+</ttl>", "", (DATA / "rss_google_news.xml").read_text("utf-8"))
    answer = Replaying(
        newest_removed_xml(feed, "item").encode(), feed.encode(), "application/rss+xml"
    )
    server.expect_request("/feed.xml").respond_with_handler(answer)
    return {"name": "news", "kind": "rss", "url": server.url_for("/feed.xml")}, answer, 2


def reddit_case(server: HTTPServer) -> tuple[dict[str, Any], Replaying, int]:
    feed = (DATA / "reddit_search.atom").read_text(encoding="utf-8")
    answer = Replaying(
        newest_removed_xml(feed, "entry").encode(), feed.encode(), "application/atom+xml"
    )
    server.expect_request("/r/phones/new.rss").respond_with_handler(answer)
    entry = {"name": "rd", "kind": "reddit", "base_url": server.url_for("/")}
    return {**entry, "subreddits": ["phones"]}, answer, feed.count("<entry>")


def hackernews_case(server: HTTPServer) -> tuple[dict[str, Any], Replaying, int]:
    page = load("hackernews_search_by_date.json")
    hits = by_time(page["hits"], "created_at_i")
    first = copy.deepcopy(page)
    first["hits"] = hits[1:]
    answer = Replaying(json.dumps(first).encode(), json.dumps(page).encode(), "application/json")
    server.expect_request("/api/v1/search_by_date").respond_with_handler(answer)
    entry = {"name": "hn", "kind": "hackernews", "base_url": server.url_for("/")}
    return {**entry, "query": "lumen"}, answer, len(hits)


def mastodon_case(server: HTTPServer) -> tuple[dict[str, Any], Replaying, int]:
    statuses = load("mastodon_tag_timeline.json")
    ordered = sorted(statuses, key=lambda s: int(s["id"]), reverse=True)
    answer = Replaying(
        json.dumps(ordered[1:]).encode(), json.dumps(ordered).encode(), "application/json"
    )
    server.expect_request("/api/v2/instance").respond_with_json(
        {"domain": "mastodon.test", "version": "4.5.0", "configuration": {"urls": {}}}
    )
    server.expect_request("/api/v1/timelines/tag/lumen").respond_with_handler(answer)
    entry = {"name": "fedi", "kind": "mastodon", "base_url": server.url_for("/").rstrip("/")}
    return {**entry, "hashtags": ["lumen"]}, answer, len(statuses)


CASES = {
    "rss": rss_case,
    "reddit": reddit_case,
    "hackernews": hackernews_case,
    "mastodon": mastodon_case,
}


@pytest.mark.parametrize("kind", list(CASES))
def test_a_restarted_wall_shows_the_new_posts_and_not_the_old_ones_twice(
    kind: str, server: HTTPServer, tmp_path: Path
) -> None:
    entry, answer, total = CASES[kind](server)
    config = WallConfig.model_validate(
        {
            "topics": {"brand": {"label": "Lumen", "terms": ["lumen"]}},
            "sources": [entry],
            "store": {"retention": "30d"},
        }
    )
    path = tmp_path / "wall.sqlite"
    stored, counted = run_wall(config, path, total - 1)
    assert (stored, counted) == (total - 1, total - 1)
    answer.full = True  # the server now gives the new item and every old one again
    stored, counted = run_wall(config, path, total, at=NOON + timedelta(hours=1))
    assert (stored, counted) == (total, total)
    store = SqliteStore(path, readonly=True)
    try:
        ids = [p.id for p in store.iter_posts()]
    finally:
        store.close()
    assert len(ids) == len(set(ids)) == total
    assert all(i.startswith(f"{kind}:") for i in ids)


def test_a_replayed_old_post_beside_a_new_one_loses_nothing(tmp_path: Path) -> None:
    """The reproduction of issue 13: after a restart, a file holds a post the store already
    keeps (older than what a restart loads back into memory) and a new one. The old one is an
    update; the new one must be stored and counted (the deduper used to raise on the old one and
    drop the whole batch)."""

    def line(n: int, at: datetime) -> str:
        return json.dumps(
            {
                "id": f"jsonl:{n}",
                "text": f"Lumen post {n}",
                "created_at": at.isoformat(),
                "author": {"handle": f"@a{n}"},
            }
        )

    old_at = NOON - timedelta(days=4)  # kept (30 d) but beyond the 56 h loaded back at start
    (tmp_path / "a.jsonl").write_text(line(1, old_at) + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(
        line(1, old_at) + "\n" + line(2, NOON) + "\n", encoding="utf-8"
    )

    def config(name: str, file: str) -> WallConfig:
        return WallConfig.model_validate(
            {
                "topics": {"brand": {"label": "Lumen", "terms": ["lumen"]}},
                "sources": [{"name": name, "kind": "jsonl", "path": file}],
                "store": {"retention": "30d"},
            }
        )

    path = tmp_path / "wall.sqlite"
    assert run_wall(config("first", "a.jsonl"), path, 1, figures=0)[0] == 1
    stored, counted = run_wall(config("second", "b.jsonl"), path, 2, figures=1)
    assert (stored, counted) == (2, 1)  # the old post is outside the figures' 56 hours

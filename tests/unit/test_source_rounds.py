"""A round that fails or is cancelled half-way loses nothing; a burst larger than a round is read
whole (issue 13).

Each source talks to a fake of its server on 127.0.0.1 that keeps real posts and answers by the
API's own rules (``min_id``, ``since_id``/``until_id``/``next_token``, ``numericFilters``, the
search ``cursor``, ETags). Around the source, :class:`Wall` does what the engine does, on a real
SQLite file: a place the source saves is staged (:class:`~agora.engine.CursorBook`), written once
the posts handed over with or before it are stored, and — for a place staged without posts — by a
flush, which here runs after every round (the worst case: the engine's runs every second). After
every write the test looks whether the store's place covers a post the store does not hold.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from agora.config.schema import BlueskySource as BlueskyConfig
from agora.config.schema import HackerNewsSource as HackerNewsConfig
from agora.config.schema import MastodonSource as MastodonConfig
from agora.config.schema import RssSource as RssConfig
from agora.config.schema import WallConfig
from agora.config.schema import XSource as XConfig
from agora.config.schema import YouTubeSource as YouTubeConfig
from agora.core.post import Post, format_time
from agora.engine import CursorBook
from agora.sources.base import SourceContext
from agora.sources.bluesky import BlueskySource
from agora.sources.fields import id_order
from agora.sources.hackernews import HackerNewsSource
from agora.sources.http import host_of
from agora.sources.live import LiveSource
from agora.sources.mastodon import MastodonSource
from agora.sources.rss import RssSource
from agora.sources.x import XSource
from agora.sources.youtube import YouTubeSource
from agora.store.sqlite import SqliteStore
from tests.unit.sourcekit import quick

BASE = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
#: Covers: does the saved state (of the source named) say this post was read?
Covers = Callable[[dict[str, Any], str], bool]


class Wall:
    """The engine's order of things around one source, on a real SQLite file (see above)."""

    def __init__(self, path: Path, name: str, covers: Covers) -> None:
        self.store = SqliteStore(path)
        self.book = CursorBook(self.store)
        self.name = name
        self.covers = covers
        self.offered: set[str] = set()
        """Every post id the fake servers hold (filled by the test)."""
        self.delivered: list[str] = []
        self.writes = 0

    def context(self) -> SourceContext:
        return SourceContext(
            wall=WallConfig(),
            config_dir=Path("."),
            get_cursor=self.book.get,
            set_cursor=self.book.stage,
        )

    def sink(self, posts: Sequence[Post]) -> None:
        """The ingest thread: the places staged with or before the batch, written after it."""
        staged = self.book.take()
        self.store.add_posts(posts)
        self.delivered.extend(p.id for p in posts)
        self.write(staged)

    def flush(self) -> None:
        """The engine's flush of places staged without posts."""
        self.write(self.book.take())

    def write(self, staged: dict[str, str | None]) -> None:
        self.book.write(staged)
        if self.name in staged:
            self.writes += 1
        raw = self.store.get_cursor(self.name)
        state = json.loads(raw) if raw else {}
        for post_id in sorted(self.offered):
            if self.covers(state, post_id):
                assert self.store.get_post(post_id) is not None, (
                    f"the stored place {raw} is past {post_id}, which was never stored"
                )

    def assert_each_once(self) -> None:
        counts = Counter(self.delivered)
        assert set(counts) == self.offered, sorted(self.offered - set(counts))[:10]
        assert max(counts.values()) == 1, [i for i, n in counts.items() if n > 1][:10]


async def rounds(source: LiveSource, wall: Wall, count: int) -> None:
    """``count`` rounds as the wall runs them (failures are the source's to record)."""
    async with source.session():
        for _ in range(count):
            await source.poll_round(wall.sink)
            wall.flush()


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    kind = "application/json" if not isinstance(body, bytes | str) else "application/atom+xml"
    return Response(data, status=status, headers=headers or {}, content_type=kind)


@dataclass
class Failing:
    """Answers 503 to the ``nth`` request whose path ends with ``suffix`` (once)."""

    suffix: str
    nth: int = 1
    seen: int = 0
    failed: bool = False

    def now(self, request: Request) -> bool:
        if not request.path.endswith(self.suffix) or self.failed:
            return False
        self.seen += 1
        if self.seen == self.nth:
            self.failed = True
            return True
        return False


# ------------------------------------------------------------------------------------------------
# Mastodon: two hashtags, the second answers 503 once


@dataclass
class Timelines:
    """Hashtag timelines by Mastodon's rules: newest first; ``min_id`` gives the page just
    after it (oldest first, returned newest first); ``limit`` at most."""

    tags: dict[str, list[int]] = field(default_factory=dict)
    failing: Failing | None = None

    def status(self, native: int) -> dict[str, Any]:
        return {
            "id": str(native),
            "created_at": format_time(BASE + timedelta(seconds=native % 10_000)),
            "visibility": "public",
            "content": f"<p>lumen {native}</p>",
            "account": {"acct": "ana", "username": "ana", "display_name": "Ana"},
        }

    def __call__(self, request: Request) -> Response:
        if self.failing is not None and self.failing.now(request):
            return reply({"error": "busy"}, 503)
        tag = request.path.rsplit("/", 1)[1]
        ids = sorted(self.tags.get(tag, []))
        limit = int(request.args.get("limit", "20"))
        if "min_id" in request.args:
            page = [i for i in ids if i > int(request.args["min_id"])][:limit]
        else:
            page = ids[-limit:]
        return reply([self.status(i) for i in reversed(page)])


def mastodon_covers(server: HTTPServer, tags: dict[str, list[int]]) -> Covers:
    host = host_of(server.url_for("/"))
    where = {f"mastodon:{host}:{i}": (tag, str(i)) for tag, ids in tags.items() for i in ids}

    def covers(state: dict[str, Any], post_id: str) -> bool:
        tag, native = where[post_id]
        place = (state.get("tags") or {}).get(tag)
        return isinstance(place, str) and id_order(native) <= id_order(place)

    return covers


def mastodon(server: HTTPServer, wall: Wall, hashtags: list[str]) -> MastodonSource:
    config = MastodonConfig(
        name="fedi", kind="mastodon", base_url=server.url_for("/").rstrip("/"), hashtags=hashtags
    )
    source = MastodonSource(config, wall.context())
    quick(source)
    source.page_limit = 2
    return source


def test_mastodon_a_failed_second_hashtag_loses_nothing_of_the_first(
    server: HTTPServer, tmp_path: Path
) -> None:
    tags = {"lumen": [110, 111], "lumenx1": [120]}
    timelines = Timelines(tags, Failing("/lumenx1"))
    server.expect_request("/api/v2/instance").respond_with_json({"configuration": {}})
    server.expect_request("/api/v1/timelines/tag/lumen").respond_with_handler(timelines)
    server.expect_request("/api/v1/timelines/tag/lumenx1").respond_with_handler(timelines)
    wall = Wall(tmp_path / "wall.db", "fedi", mastodon_covers(server, tags))
    wall.offered = {f"mastodon:{host_of(server.url_for('/'))}:{i}" for i in (110, 111, 120)}
    source = mastodon(server, wall, ["#lumen", "#lumenx1"])
    asyncio.run(rounds(source, wall, 1))
    assert timelines.failing is not None and timelines.failing.failed
    assert source.health.state in ("degraded", "failing") and wall.delivered == []
    asyncio.run(rounds(source, wall, 2))
    wall.assert_each_once()
    assert json.loads(wall.store.get_cursor("fedi") or "{}")["tags"] == {
        "lumen": "111",
        "lumenx1": "120",
    }


def test_mastodon_a_round_cancelled_by_a_reload_loses_nothing(
    server: HTTPServer, tmp_path: Path, held: threading.Event
) -> None:
    """A hot reload cancels the round while the second hashtag's answer is on its way; the
    reloaded source (a new object over the same places) reads it all again."""
    tags = {"lumen": [555], "lumenx1": [556]}
    timelines = Timelines(tags)
    asked = threading.Event()

    def slow(request: Request) -> Response:
        asked.set()
        held.wait(120)  # until the test ends: the reload comes first
        return timelines(request)

    server.expect_request("/api/v2/instance").respond_with_json({"configuration": {}})
    server.expect_request("/api/v1/timelines/tag/lumen").respond_with_handler(timelines)
    server.expect_oneshot_request("/api/v1/timelines/tag/lumenx1").respond_with_handler(slow)
    server.expect_request("/api/v1/timelines/tag/lumenx1").respond_with_handler(timelines)
    wall = Wall(tmp_path / "wall.db", "fedi", mastodon_covers(server, tags))
    wall.offered = {f"mastodon:{host_of(server.url_for('/'))}:{i}" for i in (555, 556)}

    async def reload_mid_round() -> None:
        source = mastodon(server, wall, ["#lumen", "#lumenx1"])
        stop = asyncio.Event()
        task = asyncio.create_task(source.run(wall.sink, stop))
        while not asked.is_set():
            await asyncio.sleep(0.01)
        task.cancel()  # what a reload does to the old source's task
        with pytest.raises(asyncio.CancelledError):
            await task
        wall.flush()
        reloaded = mastodon(server, wall, ["#lumen", "#lumenx1"])
        await rounds(reloaded, wall, 1)

    asyncio.run(reload_mid_round())
    wall.assert_each_once()


def test_mastodon_stream_catches_up_a_long_disconnection_whole(
    server: HTTPServer, tmp_path: Path, held: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before (re)connecting, a stream reads the timeline from its place page after page until
    it is read whole: a stream event must not move the place past statuses not read yet."""
    monkeypatch.setenv("AGORA_TEST_MASTODON_TOKEN", "mstdn-token")
    tags = {"lumen": list(range(101, 202))}
    timelines = Timelines({"lumen": list(range(101, 201))})  # 201 comes by the stream
    base = server.url_for("/").rstrip("/")
    server.expect_request("/api/v2/instance").respond_with_json(
        {"configuration": {"urls": {"streaming": base}}}
    )
    server.expect_request("/api/v1/timelines/tag/lumen").respond_with_handler(timelines)

    def stream(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            status = json.dumps(timelines.status(201))
            yield f"event: update\ndata: {status}\n\n".encode()
            held.wait(120)

        return Response(body(), content_type="text/event-stream")

    server.expect_request("/api/v1/streaming/hashtag").respond_with_handler(stream)
    wall = Wall(tmp_path / "wall.db", "fedi", mastodon_covers(server, tags))
    wall.book.stage("fedi", json.dumps({"tags": {"lumen": "100"}}))
    wall.flush()
    host = host_of(server.url_for("/"))
    wall.offered = {f"mastodon:{host}:{i}" for i in tags["lumen"]}
    config = MastodonConfig(
        name="fedi",
        kind="mastodon",
        base_url=base,
        hashtags=["#lumen"],
        streaming=True,
        token="env:AGORA_TEST_MASTODON_TOKEN",
    )
    source = MastodonSource(config, wall.context())
    quick(source)
    source.page_limit = 5  # four pages of five a read: five reads to catch up

    async def stream_until_201() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(source.run(wall.sink, stop))
        for _ in range(6000):
            if f"mastodon:{host}:201" in wall.delivered or task.done():
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 60)

    asyncio.run(stream_until_201())
    wall.flush()
    wall.assert_each_once()


# ------------------------------------------------------------------------------------------------
# RSS: several feeds with ETags


@dataclass
class Feeds:
    """Atom feeds that honour ``If-None-Match`` (``304`` while nothing changed)."""

    entries: dict[str, list[int]]
    failing: Failing | None = None
    hold: Callable[[Request], None] | None = None

    def body(self, name: str) -> str:
        items = "".join(
            f"<entry><id>urn:{name}:{i}</id><title>lumen {name} {i}</title>"
            f"<updated>{format_time(BASE + timedelta(minutes=i))}</updated></entry>"
            for i in self.entries[name]
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{name}</title><id>urn:{name}</id>{items}</feed>"
        )

    def __call__(self, request: Request) -> Response:
        if self.failing is not None and self.failing.now(request):
            return reply({"error": "busy"}, 503)
        if self.hold is not None:
            self.hold(request)
        name = request.path.rsplit("/", 1)[1]
        tag = f'"{name}-{len(self.entries[name])}"'
        if request.headers.get("If-None-Match") == tag:
            return Response(status=304, headers={"ETag": tag})
        return reply(self.body(name), headers={"ETag": tag})


def rss_covers(state: dict[str, Any], post_id: str) -> bool:
    feeds = state.get("feeds") or {}
    return any(post_id in (feed.get("seen") or ()) for feed in feeds.values())


def rss(server: HTTPServer, wall: Wall) -> RssSource:
    config = RssConfig(
        name="news",
        kind="rss",
        urls=[server.url_for("/feeds/a"), server.url_for("/feeds/b")],
    )
    source = RssSource(config, wall.context())
    quick(source)
    return source


def test_rss_a_failed_feed_costs_nothing_and_the_others_are_not_lost(
    server: HTTPServer, tmp_path: Path
) -> None:
    feeds = Feeds({"a": [1, 2], "b": [3]}, Failing("/b"))
    server.expect_request("/feeds/a").respond_with_handler(feeds)
    server.expect_request("/feeds/b").respond_with_handler(feeds)
    wall = Wall(tmp_path / "wall.db", "news", rss_covers)
    wall.offered = {f"rss:urn:{n}:{i}" for n, ids in feeds.entries.items() for i in ids}
    source = rss(server, wall)
    asyncio.run(rounds(source, wall, 1))
    assert sorted(wall.delivered) == ["rss:urn:a:1", "rss:urn:a:2"]
    feeds.entries["a"].append(4)
    wall.offered.add("rss:urn:a:4")
    asyncio.run(rounds(source, wall, 2))
    wall.assert_each_once()


def test_rss_a_cancelled_round_is_not_answered_304_next_time(
    server: HTTPServer, tmp_path: Path, held: threading.Event
) -> None:
    """Feed a is read (and its ETag known) when the round is cancelled on feed b: feed a must
    be read whole again, not answered "not modified"."""
    asked = threading.Event()

    def hold(request: Request) -> None:
        if request.path.endswith("/b") and not asked.is_set():
            asked.set()
            held.wait(120)

    feeds = Feeds({"a": [1, 2], "b": [3]}, hold=hold)
    server.expect_request("/feeds/a").respond_with_handler(feeds)
    server.expect_request("/feeds/b").respond_with_handler(feeds)
    wall = Wall(tmp_path / "wall.db", "news", rss_covers)
    wall.offered = {"rss:urn:a:1", "rss:urn:a:2", "rss:urn:b:3"}

    async def cancelled_then_again() -> None:
        source = rss(server, wall)
        async with source.session():
            task = asyncio.create_task(source.poll_round(wall.sink))
            while not asked.is_set():
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            wall.flush()
            # the same source and client go on (the round's ETag for feed a is forgotten too)
            await source.poll_round(wall.sink)
            wall.flush()

    asyncio.run(cancelled_then_again())
    wall.assert_each_once()
    asked_a = [r for r, _ in server.log if r.path.endswith("/a")]
    assert len(asked_a) == 2 and "If-None-Match" not in asked_a[1].headers


# ------------------------------------------------------------------------------------------------
# YouTube: two videos, the second video's comments answer 503 once


def test_youtube_a_failed_video_loses_nothing_and_keeps_the_units_spent(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGORA_TEST_YT_KEY", "yt-api-key-for-tests")
    comments = {"LumenX1aaaa": [1, 2], "LumenX1bbbb": [3]}
    failing = Failing("/commentThreads", nth=2)

    def threads(request: Request) -> Response:
        if failing.now(request):
            return reply({"error": {"code": 503, "message": "busy"}}, 503)
        video = request.args["videoId"]
        items = [
            {
                "id": f"c{i}",
                "snippet": {
                    "videoId": video,
                    "topLevelComment": {
                        "id": f"c{i}",
                        "snippet": {
                            "textOriginal": f"lumen {i}",
                            "authorDisplayName": "@ana",
                            "authorChannelId": {"value": "UCana0000000000000000001"},
                            "publishedAt": format_time(BASE + timedelta(minutes=i)),
                        },
                    },
                },
            }
            for i in reversed(comments[video])
        ]
        return reply({"items": items})

    server.expect_request("/youtube/v3/commentThreads").respond_with_handler(threads)
    by_id = {f"youtube:c{i}": (v, i) for v, ids in comments.items() for i in ids}

    def covers(state: dict[str, Any], post_id: str) -> bool:
        video, i = by_id[post_id]
        place = (state.get("videos") or {}).get(video) or {}
        since = place.get("since")
        stamp = format_time(BASE + timedelta(minutes=i))
        return isinstance(since, str) and (stamp < since or post_id in place.get("seen", ()))

    wall = Wall(tmp_path / "wall.db", "yt", covers)
    wall.offered = set(by_id)
    config = YouTubeConfig(
        name="yt",
        kind="youtube",
        base_url=server.url_for("/youtube/v3"),
        video_ids=["LumenX1aaaa", "LumenX1bbbb"],
        api_key="env:AGORA_TEST_YT_KEY",
    )
    source = YouTubeSource(config, wall.context())
    quick(source)
    asyncio.run(rounds(source, wall, 1))
    assert failing.failed and wall.delivered == []
    asyncio.run(rounds(source, wall, 1))
    wall.assert_each_once()
    # the failed round's two requests are counted all the same (quota is spent, not a place)
    assert json.loads(wall.store.get_cursor("yt") or "{}")["quota"]["units"] == 4


# ------------------------------------------------------------------------------------------------
# X recent search: since_id / until_id / next_token, newest first


@dataclass
class Tweets:
    """Recent search by X's rules: newest first, ``since_id`` and ``until_id`` exclusive,
    ``max_results`` a page, ``next_token`` a position (the last id given)."""

    ids: list[int]
    failing: Failing | None = None
    first_seen: int = 1

    def __call__(self, request: Request) -> Response:
        if self.failing is not None and self.failing.now(request):
            return reply({"title": "Service Unavailable"}, 503)
        args = request.args
        found = sorted(self.ids, reverse=True)
        if "since_id" in args:
            found = [i for i in found if i > int(args["since_id"])]
        else:
            found = found[: self.first_seen]
        if "until_id" in args:
            found = [i for i in found if i < int(args["until_id"])]
        if "pagination_token" in args:
            found = [i for i in found if i < int(args["pagination_token"])]
        size = int(args.get("max_results", "10"))
        chunk = found[:size]
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if len(found) > size:
            meta["next_token"] = str(chunk[-1])
        data = [
            {
                "id": str(i),
                "text": f"lumen {i}",
                "author_id": "1",
                "created_at": format_time(BASE + timedelta(seconds=i % 100_000)),
            }
            for i in chunk
        ]
        return reply(
            {"data": data, "includes": {"users": [{"id": "1", "username": "ana"}]}, "meta": meta}
        )


def x_covers(state: dict[str, Any], post_id: str) -> bool:
    native = post_id.split(":", 1)[1]
    since = state.get("since_id")
    if isinstance(since, str) and id_order(native) <= id_order(since):
        return True
    gap = state.get("gap") or {}
    low, top = gap.get("until_id"), gap.get("top")
    return (
        isinstance(low, str)
        and isinstance(top, str)
        and id_order(low) <= id_order(native) <= id_order(top)
    )


def x_source(
    server: HTTPServer, wall: Wall, monkeypatch: pytest.MonkeyPatch, **extra: Any
) -> XSource:
    monkeypatch.setenv("AGORA_TEST_X_BEARER", "x-bearer-for-tests")
    config = XConfig(
        name="xs",
        kind="x",
        base_url=server.url_for("/"),
        query="lumen",
        bearer_token="env:AGORA_TEST_X_BEARER",
        max_results=25,
        **extra,
    )
    source = XSource(config, wall.context())
    quick(source)
    return source


def test_x_a_failed_page_loses_nothing(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tweets = Tweets([1000])
    server.expect_request("/2/tweets/search/recent").respond_with_handler(tweets)
    wall = Wall(tmp_path / "wall.db", "xs", x_covers)
    source = x_source(server, wall, monkeypatch)
    asyncio.run(rounds(source, wall, 1))  # the first round: the newest page only (1000)
    tweets.ids += range(1001, 1061)  # 60: three pages of 25
    wall.offered = {f"x:{i}" for i in tweets.ids}
    tweets.failing = Failing("/recent", nth=2)
    asyncio.run(rounds(source, wall, 1))
    assert tweets.failing.failed and wall.delivered == ["x:1000"]
    asyncio.run(rounds(source, wall, 1))
    wall.assert_each_once()


@pytest.mark.parametrize("token_refused", [False, True])
def test_x_a_burst_larger_than_a_round_is_read_whole(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token_refused: bool
) -> None:
    """250 posts arrive between two rounds (three pages of 25 a round); more arrive while the
    burst is read. Every one is read once, over a few rounds, and the place only moves past a
    post once it is stored. With ``token_refused`` the server no longer takes the saved
    ``next_token`` (400): the rest of the burst is asked by ``until_id``."""
    tweets = Tweets([1000])
    refused = {"done": False}

    def answer(request: Request) -> Response:
        stale = request.args.get("pagination_token")
        if token_refused and stale and stale in tweets_tokens and not refused["done"]:
            refused["done"] = True
            return reply({"title": "Invalid Request"}, 400)
        return tweets(request)

    tweets_tokens: set[str] = set()
    server.expect_request("/2/tweets/search/recent").respond_with_handler(answer)
    wall = Wall(tmp_path / "wall.db", "xs", x_covers)
    source = x_source(server, wall, monkeypatch)
    asyncio.run(rounds(source, wall, 1))
    tweets.ids += range(1001, 1251)
    for _ in range(2):
        asyncio.run(rounds(source, wall, 1))
        gap = json.loads(wall.store.get_cursor("xs") or "{}").get("gap")
        assert gap, "a burst larger than a round is still being read"
        tweets_tokens.add(gap["token"])  # the token saved between rounds
        tweets.ids.append(max(tweets.ids) + 1)  # and new posts meanwhile
    asyncio.run(rounds(source, wall, 4))
    wall.offered = {f"x:{i}" for i in tweets.ids}
    wall.assert_each_once()
    saved = json.loads(wall.store.get_cursor("xs") or "{}")
    assert saved["since_id"] == str(max(tweets.ids)) and "gap" not in saved
    assert refused["done"] is token_refused


def test_x_stream_catches_up_a_long_disconnection_whole(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before reconnecting, the stream reads everything posted while it was away, however
    many rounds of pages that takes."""
    tweets = Tweets(list(range(1000, 1200)))
    server.expect_request("/2/tweets/search/recent").respond_with_handler(tweets)
    wall = Wall(tmp_path / "wall.db", "xs", x_covers)
    wall.book.stage("xs", json.dumps({"since_id": "999"}))
    wall.flush()
    wall.offered = {f"x:{i}" for i in tweets.ids}
    source = x_source(server, wall, monkeypatch, mode="stream")

    async def catch_up() -> None:
        async with source.session() as client:
            await source._catch_up(client, wall.sink, asyncio.Event())
        wall.flush()

    asyncio.run(catch_up())
    wall.assert_each_once()
    assert json.loads(wall.store.get_cursor("xs") or "{}") == {"since_id": "1199", "read": 200}


# ------------------------------------------------------------------------------------------------
# Hacker News: numericFilters windows, pages from 0


@dataclass
class Hits:
    """Algolia's search_by_date: newest first, ``numericFilters`` on ``created_at_i``
    (``>=``, ``<=``, ``>``, ``<``), ``page`` and ``hitsPerPage``, at most 1,000 results."""

    stamps: dict[int, int]  # objectID → created_at_i
    failing: Failing | None = None

    def __call__(self, request: Request) -> Response:
        if self.failing is not None and self.failing.now(request):
            return reply({"message": "busy"}, 503)
        found = sorted(self.stamps.items(), key=lambda kv: (-kv[1], -kv[0]))
        for rule in filter(None, request.args.get("numericFilters", "").split(",")):
            for op, test in (
                (">=", lambda a, b: a >= b),
                ("<=", lambda a, b: a <= b),
                (">", lambda a, b: a > b),
                ("<", lambda a, b: a < b),
            ):
                if op in rule:
                    bound = int(rule.split(op, 1)[1])
                    found = [kv for kv in found if test(kv[1], bound)]
                    break
        found = found[:1000]
        size = int(request.args.get("hitsPerPage", "20"))
        page = int(request.args.get("page", "0"))
        chunk = found[page * size : (page + 1) * size]
        hits = [
            {"objectID": str(i), "created_at_i": t, "title": f"lumen {i}", "author": "pg"}
            for i, t in chunk
        ]
        pages = -(-len(found) // size)
        return reply({"hits": hits, "nbPages": pages, "page": page, "hitsPerPage": size})


def hn_covers(stamps: dict[int, int]) -> Covers:
    def covers(state: dict[str, Any], post_id: str) -> bool:
        native = post_id.split(":", 1)[1]
        stamp = stamps[int(native)]
        since = state.get("since")
        if isinstance(since, int) and (
            stamp < since or (stamp == since and native in state["seen"])
        ):
            return True
        gap = state.get("gap") or {}
        floor, top = gap.get("floor"), gap.get("top")
        if not isinstance(floor, int) or not isinstance(top, int):
            return False
        return floor < stamp <= top or (stamp == floor and native in gap["floor_seen"])

    return covers


def hn_source(server: HTTPServer, wall: Wall) -> HackerNewsSource:
    config = HackerNewsConfig(
        name="hn", kind="hackernews", base_url=server.url_for("/"), query="lumen"
    )
    source = HackerNewsSource(config, wall.context())
    quick(source)
    source.hits_per_page = 10
    source.pages_per_round = 2
    return source


def test_hackernews_a_failed_page_loses_nothing(server: HTTPServer, tmp_path: Path) -> None:
    start = int(BASE.timestamp())
    hits = Hits({1: start})
    server.expect_request("/api/v1/search_by_date").respond_with_handler(hits)
    wall = Wall(tmp_path / "wall.db", "hn", hn_covers(hits.stamps))
    source = hn_source(server, wall)
    asyncio.run(rounds(source, wall, 1))
    hits.stamps.update({i: start + i for i in range(2, 17)})
    wall.offered = {f"hackernews:{i}" for i in hits.stamps}
    hits.failing = Failing("/search_by_date", nth=2)
    asyncio.run(rounds(source, wall, 1))
    assert hits.failing.failed and wall.delivered == ["hackernews:1"]
    asyncio.run(rounds(source, wall, 1))
    wall.assert_each_once()


def test_hackernews_a_burst_larger_than_a_round_is_read_whole(
    server: HTTPServer, tmp_path: Path
) -> None:
    """75 items in one burst, 20 a round (two pages of ten), several in the same second, and
    more posted while the burst is read."""
    start = int(BASE.timestamp())
    hits = Hits({1: start})
    server.expect_request("/api/v1/search_by_date").respond_with_handler(hits)
    wall = Wall(tmp_path / "wall.db", "hn", hn_covers(hits.stamps))
    source = hn_source(server, wall)
    asyncio.run(rounds(source, wall, 1))
    hits.stamps.update({i: start + 1 + i // 3 for i in range(2, 77)})  # three a second
    asyncio.run(rounds(source, wall, 1))
    assert json.loads(wall.store.get_cursor("hn") or "{}").get("gap")
    hits.stamps.update({100: start + 500, 101: start + 500})
    asyncio.run(rounds(source, wall, 6))
    wall.offered = {f"hackernews:{i}" for i in hits.stamps}
    wall.assert_each_once()
    saved = json.loads(wall.store.get_cursor("hn") or "{}")
    assert saved["since"] == start + 500 and "gap" not in saved


# ------------------------------------------------------------------------------------------------
# Bluesky searchPosts: since, an offset cursor, newest first


@dataclass
class Search:
    """searchPosts by its rules: newest first, ``since`` inclusive, ``limit`` a page, the
    ``cursor`` an offset into the answer (new posts shift it)."""

    stamps: dict[int, str]  # rkey number → indexedAt
    failing: Failing | None = None
    generation: int = 0
    """Cursors carry it; one of another generation is refused (a server that forgot them)."""

    def __call__(self, request: Request) -> Response:
        if self.failing is not None and self.failing.now(request):
            return reply({"error": "busy"}, 503)
        found = sorted(self.stamps.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        if "since" in request.args:
            found = [kv for kv in found if kv[1] >= request.args["since"]]
        size = int(request.args.get("limit", "25"))
        offset, _, generation = request.args.get("cursor", "0").partition("g")
        if "cursor" in request.args and int(generation or 0) != self.generation:
            return reply({"error": "InvalidRequest", "message": "bad cursor"}, 400)
        start = int(offset)
        chunk = found[start : start + size]
        posts = [
            {
                "uri": f"at://did:plc:ana/app.bsky.feed.post/3k{i}",
                "cid": f"bafy{i}",
                "author": {"did": "did:plc:ana", "handle": "ana.bsky.social"},
                "record": {"text": f"lumen {i}", "createdAt": stamp},
                "indexedAt": stamp,
            }
            for i, stamp in chunk
        ]
        answer: dict[str, Any] = {"posts": posts}
        if start + size < len(found):
            answer["cursor"] = f"{start + size}g{self.generation}"
        return reply(answer)


def bluesky_covers(stamps: dict[int, str]) -> Covers:
    def covers(state: dict[str, Any], post_id: str) -> bool:
        stamp = stamps[int(post_id.rsplit("/3k", 1)[1])]
        since = state.get("since")
        if isinstance(since, str) and (
            stamp < since or (stamp == since and post_id in state["seen"])
        ):
            return True
        gap = state.get("gap") or {}
        floor, top = gap.get("floor"), gap.get("top")
        if not isinstance(floor, str) or not isinstance(top, str):
            return False
        return floor < stamp <= top or (stamp == floor and post_id in gap["floor_seen"])

    return covers


def bluesky_source(server: HTTPServer, wall: Wall) -> BlueskySource:
    config = BlueskyConfig(
        name="sky", kind="bluesky", mode="search", query="lumen", base_url=server.url_for("/")
    )
    source = BlueskySource(config, wall.context())
    quick(source)
    return source


def sky_id(i: int) -> str:
    return f"bluesky:at://did:plc:ana/app.bsky.feed.post/3k{i}"


def at(seconds: int) -> str:
    return format_time(BASE + timedelta(seconds=seconds)).replace("Z", ".000Z")


def test_bluesky_search_a_failed_page_loses_nothing(server: HTTPServer, tmp_path: Path) -> None:
    search = Search({1: at(1)})
    server.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_handler(search)
    wall = Wall(tmp_path / "wall.db", "sky", bluesky_covers(search.stamps))
    source = bluesky_source(server, wall)
    asyncio.run(rounds(source, wall, 1))
    search.stamps.update({i: at(i) for i in range(2, 202)})  # two full pages and a bit
    wall.offered = {sky_id(i) for i in search.stamps}
    search.failing = Failing("/app.bsky.feed.searchPosts", nth=2)
    asyncio.run(rounds(source, wall, 1))
    assert search.failing.failed and wall.delivered == [sky_id(1)]
    asyncio.run(rounds(source, wall, 1))
    wall.assert_each_once()


def test_bluesky_search_a_burst_larger_than_a_round_is_read_whole(
    server: HTTPServer, tmp_path: Path
) -> None:
    """450 posts in one burst, 300 a round (three pages of 100); new posts shift the offset
    cursor while the burst is read."""
    search = Search({1: at(1)})
    server.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_handler(search)
    wall = Wall(tmp_path / "wall.db", "sky", bluesky_covers(search.stamps))
    source = bluesky_source(server, wall)
    asyncio.run(rounds(source, wall, 1))
    search.stamps.update({i: at(10 + i // 2) for i in range(2, 452)})  # two a second
    asyncio.run(rounds(source, wall, 1))
    assert json.loads(wall.store.get_cursor("sky") or "{}").get("gap")
    search.stamps.update({i: at(1000 + i) for i in range(500, 530)})  # meanwhile
    asyncio.run(rounds(source, wall, 4))
    wall.offered = {sky_id(i) for i in search.stamps}
    wall.assert_each_once()
    saved = json.loads(wall.store.get_cursor("sky") or "{}")
    assert saved["since"] == at(1529) and "gap" not in saved


def test_bluesky_search_a_refused_page_cursor_reads_the_burst_again(
    server: HTTPServer, tmp_path: Path
) -> None:
    """Should the server forget the page cursor saved between rounds (400 for good), the burst
    is read again from the saved place instead of failing every round: nothing is missing (what
    comes twice, the wall's dedupe counts once)."""
    search = Search({1: at(1)})
    server.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_handler(search)
    wall = Wall(tmp_path / "wall.db", "sky", bluesky_covers(search.stamps))
    source = bluesky_source(server, wall)
    asyncio.run(rounds(source, wall, 1))
    search.stamps.update({i: at(10 + i) for i in range(2, 452)})
    asyncio.run(rounds(source, wall, 1))
    assert json.loads(wall.store.get_cursor("sky") or "{}").get("gap")
    search.generation = 1  # the cursor saved in the gap is refused from now on
    asyncio.run(rounds(source, wall, 4))
    wall.offered = {sky_id(i) for i in search.stamps}
    assert set(wall.delivered) == wall.offered
    assert source.health.state == "ok"
    saved = json.loads(wall.store.get_cursor("sky") or "{}")
    assert saved["since"] == at(461) and "gap" not in saved

"""The Bluesky source: Jetstream from a local WebSocket server, searchPosts from a local HTTP one."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from types import TracebackType
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from websockets.asyncio.server import Server, ServerConnection, serve

from agora.config.schema import BlueskySource as BlueskyConfig
from agora.config.schema import TopicConfig, WallConfig
from agora.sources.bluesky import BlueskySource, postview_to_post, record_to_post
from tests.unit.sourcekit import (
    DATA,
    Cursors,
    Recorder,
    check_post,
    context,
    load,
    quick,
    run,
    run_until,
)

EVENTS = (DATA / "jetstream_events.jsonl").read_text(encoding="utf-8").splitlines()
PASSWORD = "abcd-efgh-ijkl-mnop"
DID1 = "did:plc:aaaaaaaaaaaaaaaaaaaaaaa1"
DID4 = "did:plc:aaaaaaaaaaaaaaaaaaaaaaa4"


class Jetstream:
    """A local Jetstream: connection ``n`` is sent ``scripts[n]`` (the last one again for later
    connections); every connection but the last is closed after its script."""

    def __init__(self, *scripts: list[str]) -> None:
        self.scripts = list(scripts)
        self.paths: list[str] = []
        self.server: Server | None = None
        self.url = ""

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.paths.append(ws.request.path)
        index = len(self.paths) - 1
        for line in self.scripts[min(index, len(self.scripts) - 1)]:
            await ws.send(line)
        if index < len(self.scripts) - 1:
            return
        await ws.wait_closed()

    async def __aenter__(self) -> Jetstream:
        self.server = await serve(self.handler, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/subscribe"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.server is not None
        self.server.close()
        await asyncio.wait_for(self.server.wait_closed(), 60.0)


def make(
    server: HTTPServer,
    jetstream_url: str = "ws://127.0.0.1:9/subscribe",
    cursors: Cursors | None = None,
    recorder: Recorder | None = None,
    wall: WallConfig | None = None,
    **extra: Any,
) -> BlueskySource:
    values: dict[str, Any] = {"keywords": ["lumen"]}
    values.update(extra)
    config = BlueskyConfig(
        name="sky",
        kind="bluesky",
        base_url=server.url_for("/"),
        jetstream_url=jetstream_url,
        **values,
    )
    source = BlueskySource(config, context(cursors, recorder, wall=wall))
    quick(source)
    source.batch_wait = 0.02
    return source


def profiles(*dids: str) -> dict[str, Any]:
    return {
        "profiles": [
            {
                "did": did,
                "handle": f"user{did[-1]}.bsky.social",
                "displayName": f"User {did[-1]}",
                "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkreiav@jpeg",
                "followersCount": int(did[-1]) * 100,
                "followsCount": 10,
                "postsCount": 50,
            }
            for did in dids
        ]
    }


def serve_lookups(server: HTTPServer, views: list[dict[str, Any]] | None = None) -> None:
    def answer_profiles(request: Any) -> Any:
        from werkzeug import Response

        return Response(
            json.dumps(profiles(*request.args.getlist("actors"))), content_type="application/json"
        )

    server.expect_request("/xrpc/app.bsky.actor.getProfiles").respond_with_handler(answer_profiles)
    server.expect_request("/xrpc/app.bsky.feed.getPosts").respond_with_json({"posts": views or []})


# ---------------------------------------------------------------------------------------------
# Jetstream


def test_jetstream_matches_completes_deletes_and_stops_quickly(server: HTTPServer) -> None:
    view = copy.deepcopy(load("bluesky_search_posts.json")["posts"][0])
    view["uri"] = f"at://{DID4}/app.bsky.feed.post/3lumen00002"
    view["author"]["did"] = DID4
    view["record"] = json.loads(EVENTS[3])["commit"]["record"]
    serve_lookups(server, [view])
    cursors = Cursors()
    recorder = Recorder()

    async def scenario() -> float:
        async with Jetstream(EVENTS) as js:
            source = make(server, js.url, cursors, recorder)
            took = await run_until(
                source, recorder, lambda: len(recorder.posts) == 4 and bool(recorder.deleted)
            )
            assert js.paths == ["/subscribe?wantedCollections=app.bsky.feed.post"]
            assert source.events == len(EVENTS) and source.matched == 4
            assert source.problems.counts == {"not-an-object": 1}
            return took

    # stops within a second (the Jetstream would stay open); 3x that is slack for a busy machine
    assert run(scenario()) < 3.0
    by_rkey = {p.id.rsplit("/", 1)[1]: p for p in recorder.posts}
    assert set(by_rkey) == {"3lumen00001", "3lumen00002", "3lumen00003", "3lumen00005"}
    for post in recorder.posts:
        check_post(post, "bluesky")
    first = by_rkey["3lumen00001"]
    assert first.id == f"bluesky:at://{DID1}/app.bsky.feed.post/3lumen00001"
    assert first.author.handle == "user1.bsky.social" and first.author.followers == 100
    assert first.url == "https://bsky.app/profile/user1.bsky.social/post/3lumen00001"
    assert first.lang == "en"
    reply = by_rkey["3lumen00002"]  # completed from the AppView's post view
    assert reply.metrics.likes == 40 and reply.author.followers == 400
    assert reply.reply_to == f"bluesky:at://{DID1}/app.bsky.feed.post/3lumen00001"
    card = by_rkey["3lumen00003"]  # matched through its link card
    assert card.media[0].kind == "link" and card.media[0].url == "https://lumen.example/x1"
    assert by_rkey["3lumen00005"].sensitive
    # only the delete of a post the wall showed is passed on
    assert recorder.deleted == [f"bluesky:at://{DID1}/app.bsky.feed.post/3lumen00001"]
    assert cursors.state("sky")["time_us"] == 1795341600000011
    lookups = [req for req, _ in server.log if req.path.endswith("getProfiles")]
    assert sum(len(r.args.getlist("actors")) for r in lookups) == 4


def test_a_dropped_connection_resumes_a_little_before_the_cursor(server: HTTPServer) -> None:
    serve_lookups(server)
    recorder = Recorder()
    newer = json.loads(EVENTS[0])
    newer["time_us"] += 10_000_000
    newer["commit"]["rkey"] = "3lumen00099"

    async def scenario() -> list[str]:
        # the second connection replays what came before the drop, then something new
        async with Jetstream(EVENTS[:1], [*EVENTS[:1], json.dumps(newer)]) as js:
            source = make(server, js.url, recorder=recorder)
            await run_until(source, recorder, lambda: len(recorder.posts) == 2)
            return js.paths

    paths = run(scenario())
    assert paths[1].endswith(f"&cursor={1795341600000001 - 5_000_000}")
    assert [p.id.rsplit("/", 1)[1] for p in recorder.posts] == ["3lumen00001", "3lumen00099"]


def test_a_restart_resumes_from_the_saved_cursor(server: HTTPServer) -> None:
    serve_lookups(server)
    cursors = Cursors()
    cursors.set_cursor("sky", json.dumps({"time_us": 1795341600000004}))
    recorder = Recorder()

    async def scenario() -> list[str]:
        async with Jetstream(EVENTS[6:7]) as js:
            source = make(server, js.url, cursors, recorder)
            await run_until(source, recorder, lambda: len(recorder.posts) == 1)
            return js.paths

    assert run(scenario())[0].endswith(f"cursor={1795341600000004 - 5_000_000}")
    assert cursors.state("sky")["time_us"] == 1795341600000007


def test_deletions_of_posts_shown_before_a_restart_still_arrive(server: HTTPServer) -> None:
    serve_lookups(server)
    cursors = Cursors()
    first = Recorder()

    async def before() -> None:
        async with Jetstream(EVENTS[:1]) as js:
            source = make(server, js.url, cursors, first)
            await run_until(source, first, lambda: len(first.posts) == 1)

    run(before())
    assert json.loads(cursors["sky:emitted"] or "[]") == [
        f"at://{DID1}/app.bsky.feed.post/3lumen00001"
    ]
    second = Recorder()

    async def after() -> None:
        async with Jetstream(EVENTS[7:8]) as js:  # the delete of that post
            source = make(server, js.url, cursors, second)
            await run_until(source, second, lambda: bool(second.deleted))

    run(after())
    assert second.deleted == [f"bluesky:at://{DID1}/app.bsky.feed.post/3lumen00001"]


def test_failing_lookups_still_show_the_posts(
    server: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agora")
    server.expect_request("/xrpc/app.bsky.actor.getProfiles").respond_with_data("down", 503)
    recorder = Recorder()

    async def scenario() -> BlueskySource:
        async with Jetstream(EVENTS[:1]) as js:
            source = make(server, js.url, recorder=recorder)
            await run_until(source, recorder, lambda: len(recorder.posts) == 1)
            return source

    source = run(scenario())
    post = recorder.posts[0]
    assert post.author.handle == DID1
    assert post.url == f"https://bsky.app/profile/{DID1}/post/3lumen00001"
    assert source.problems.counts["lookup-failed"] == 1
    assert caplog.text.count("look-ups failed") == 1


def test_keywords_default_to_the_topic_terms(server: HTTPServer) -> None:
    wall = WallConfig(topics={"x1": TopicConfig(terms=["#lumen"])})
    source = make(server, wall=wall, keywords=[])
    record = json.loads(EVENTS[3])["commit"]["record"]
    assert source.matches(record)  # "#LUMEN"
    assert not source.matches(json.loads(EVENTS[0])["commit"]["record"])  # "Lumen", no hashtag


def test_a_refused_connection_is_retried(server: HTTPServer) -> None:
    recorder = Recorder()
    source = make(server, "ws://127.0.0.1:9/subscribe", recorder=recorder)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(source.run(recorder.sink, stop))
        deadline = time.monotonic() + 60  # a safety net: the test goes on at the second retry
        while source.failures < 2 and not task.done():
            assert time.monotonic() < deadline, "the refused connection was not retried"
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 60)

    run(scenario())
    assert source.health.state == "failing"
    assert source.health.last_error == "127.0.0.1:9: cannot connect"
    assert source.failures >= 2


def test_record_media_uses_the_cdn() -> None:
    event = json.loads(EVENTS[3])
    post = record_to_post(DID4, "3lumen00002", event["commit"]["record"], feed="f")
    image = post.media[0]
    assert image.url == f"https://cdn.bsky.app/img/feed_fullsize/plain/{DID4}/bafkreiimage0001@jpeg"
    assert image.alt == "Kuva puhelimesta"
    assert post.lang == "fi"


# ---------------------------------------------------------------------------------------------
# searchPosts


@pytest.fixture
def login(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("AGORA_TEST_BSKY_PASSWORD", PASSWORD)
    return {"handle": "wall.bsky.social", "app_password": "env:AGORA_TEST_BSKY_PASSWORD"}


def search_page() -> dict[str, Any]:
    return copy.deepcopy(load("bluesky_search_posts.json"))


def test_search_logs_in_and_resumes(
    server: HTTPServer, login: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.expect_request(
        "/xrpc/com.atproto.server.createSession",
        method="POST",
        json={"identifier": "wall.bsky.social", "password": PASSWORD},
    ).respond_with_json(
        {
            "did": "did:plc:wall",
            "handle": "wall.bsky.social",
            "accessJwt": "acc-1",
            "refreshJwt": "ref-1",
            "active": True,
        }
    )
    server.expect_request(
        "/xrpc/app.bsky.feed.searchPosts", headers={"Authorization": "Bearer acc-1"}
    ).respond_with_json(
        search_page(),
        headers={
            "RateLimit-Limit": "3000",
            "RateLimit-Remaining": "2983",
            "RateLimit-Reset": "1795341900",
            "RateLimit-Policy": "3000;w=300",
        },
    )
    cursors = Cursors()
    source = make(server, cursors=cursors, mode="search", query="lumen", **login)
    posts = run(source.fetch())
    assert [p.id.rsplit("/", 1)[1] for p in posts] == ["3lsearch0002", "3lsearch0001"]
    for post in posts:
        check_post(post, "bluesky")
    link, image = posts
    assert image.author.handle == "ana.bsky.social" and image.author.name == "Ana"
    assert image.metrics.likes == 40 and image.metrics.quotes == 1
    assert image.media[0].kind == "image" and image.media[0].alt == "The X1 in blue"
    assert link.author.name == "news.example.com"
    assert link.media[0].kind == "link"
    args = [r for r, _ in server.log if r.path.endswith("searchPosts")][-1].args
    assert (args["q"], args["sort"]) == ("lumen", "latest")
    state = cursors.state("sky")
    assert state["since"] == "2026-11-22T10:01:00.500Z"
    assert PASSWORD not in caplog.text

    # a restart with the same store: "since" is sent, what was seen is not shown again
    again = make(server, cursors=cursors, mode="search", query="lumen", **login)
    assert run(again.fetch()) == []
    searches = [r for r, _ in server.log if r.path.endswith("searchPosts")]
    assert searches[-1].args["since"] == "2026-11-22T10:01:00.500Z"


def test_an_expired_session_is_refreshed(server: HTTPServer, login: dict[str, str]) -> None:
    server.expect_oneshot_request(
        "/xrpc/com.atproto.server.createSession", method="POST"
    ).respond_with_json({"accessJwt": "old", "refreshJwt": "ref-1"})
    server.expect_request(
        "/xrpc/app.bsky.feed.searchPosts", headers={"Authorization": "Bearer old"}
    ).respond_with_json({"error": "ExpiredToken", "message": "Token has expired"}, 400)
    server.expect_request(
        "/xrpc/com.atproto.server.refreshSession",
        method="POST",
        headers={"Authorization": "Bearer ref-1"},
    ).respond_with_json({"accessJwt": "new", "refreshJwt": "ref-2"})
    server.expect_request(
        "/xrpc/app.bsky.feed.searchPosts", headers={"Authorization": "Bearer new"}
    ).respond_with_json(search_page())
    source = make(server, mode="search", query="lumen", **login)
    assert len(run(source.fetch())) == 2
    assert sum(1 for r, _ in server.log if r.path.endswith("createSession")) == 1


def test_a_refused_app_password_is_needs_auth(server: HTTPServer, login: dict[str, str]) -> None:
    server.expect_request(
        "/xrpc/com.atproto.server.createSession", method="POST"
    ).respond_with_json(
        {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, 401
    )
    source = make(server, mode="search", query="lumen", **login)
    run(source.fetch())
    assert source.health.state == "needs-auth"
    assert "handle or app password was refused" in (source.health.last_error or "")


def test_search_without_a_login_says_it_needs_one(server: HTTPServer) -> None:
    server.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_json(
        {"error": "Forbidden", "message": "Forbidden"}, 403
    )
    source = make(server, mode="search", query="lumen")
    run(source.fetch())
    assert source.health.state == "needs-auth"
    assert (
        source.health.last_error
        == f"{source.host}: searchPosts needs a login (handle and app_password)"
    )


def test_postview_without_author_is_malformed() -> None:
    view = search_page()["posts"][0]
    del view["author"]
    with pytest.raises(ValueError, match="has no author"):
        postview_to_post(view, feed="f")


def test_search_needs_a_query() -> None:
    with pytest.raises(ValueError, match="needs a query"):
        BlueskyConfig(name="s", kind="bluesky", mode="search")


def test_a_hostile_record_costs_its_post_only_and_the_stream_goes_on(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """One crafted record used to stop the source: ``"images": true`` or a self-label that is a
    list raised outside PostError, the task that completes and hands over matched posts died,
    and every later post piled up in memory while health said ``ok`` (issue 13). Now such a
    record is read as far as it makes sense, a reader's oversight costs one post (one log line),
    and an unexpected failure of the hand-over is shown in health while the task carries on."""
    serve_lookups(server)
    template = json.loads(EVENTS[0])

    def event(n: int, record_extra: dict[str, Any], text: str | None = None) -> str:
        item = copy.deepcopy(template)
        item["time_us"] = 1795341700000000 + n
        item["commit"]["rkey"] = f"3hostile{n:04d}"
        item["commit"]["record"]["text"] = text or f"lumen post {n}"
        item["commit"]["record"].update(record_extra)
        return json.dumps(item)

    images_true = {"embed": {"$type": "app.bsky.embed.images", "images": True}}
    label_list = {"labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": []}]}}
    script = [
        event(1, {}),
        event(2, images_true),
        event(3, label_list),
        event(4, {}, text="lumen trap"),  # the reader below fails on this one
        *(event(n, {}) for n in range(5, 40)),
    ]

    real = record_to_post

    def oversight(did: str, rkey: str, record: Any, **kwargs: Any) -> Any:
        if record.get("text") == "lumen trap":
            raise TypeError("unhashable type: 'list'")  # what a reader's oversight looks like
        return real(did, rkey, record, **kwargs)

    monkeypatch.setattr("agora.sources.bluesky.record_to_post", oversight)
    recorder = Recorder()
    refused: list[str] = []

    def sink(posts: Any) -> None:
        if not refused:  # the first hand-over fails unexpectedly
            refused.extend(p.id for p in posts)
            raise RuntimeError("the wall's queue is gone")
        recorder.sink(posts)

    cursors = Cursors()
    wanted = {f"3hostile{n:04d}" for n in range(1, 40) if n != 4}

    async def scenario() -> BlueskySource:
        async with Jetstream(script) as js:
            source = make(server, js.url, cursors, recorder)
            stop = asyncio.Event()
            task = asyncio.create_task(source.run(sink, stop))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not task.done():
                got = {p.id.rsplit("/", 1)[1] for p in recorder.posts}
                refused_keys = {i.rsplit("/", 1)[1] for i in refused}
                if got | refused_keys >= wanted:
                    break
                await asyncio.sleep(0.02)
            assert not task.done(), "the source stopped"
            stop.set()
            await asyncio.wait_for(task, 60)
            return source

    with caplog.at_level(logging.WARNING, logger="agora.sources"):
        source = run(scenario())
    got = {p.id.rsplit("/", 1)[1] for p in recorder.posts}
    refused_keys = {i.rsplit("/", 1)[1] for i in refused}
    assert refused and got | refused_keys == wanted and not got & refused_keys
    by_rkey = {p.id.rsplit("/", 1)[1]: p for p in recorder.posts}
    if "3hostile0002" in by_rkey:
        assert by_rkey["3hostile0002"].media == ()
    if "3hostile0003" in by_rkey:
        assert not by_rkey["3hostile0003"].sensitive
    assert source.problems.counts == {"unreadable-TypeError": 1}
    assert source._pending == []
    assert source.health.state == "degraded"
    assert "unexpected error handing over matched posts" in (source.health.last_error or "")
    assert sum("could not handle" in r.getMessage() for r in caplog.records) == 1
    # the place moved on to the last event: nothing is waiting behind it
    assert cursors.state("sky")["time_us"] == 1795341700000039

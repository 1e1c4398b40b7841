"""The X (Twitter) v2 source against a local server: recent search and the filtered stream."""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from agora.config.schema import XSource as XConfig
from agora.sources.x import XSource
from tests.unit.sourcekit import Cursors, Recorder, check_post, context, load, quick, run, run_until

BEARER = "AAAAAAAAAAAAAAAAAAAAAx-bearer-s3cr3t"
SEARCH = "/2/tweets/search/recent"
STREAM = "/2/tweets/search/stream"
RULES = "/2/tweets/search/stream/rules"


@pytest.fixture
def bearer(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AGORA_TEST_X_BEARER", BEARER)
    return "env:AGORA_TEST_X_BEARER"


def make(
    server: HTTPServer,
    bearer: str,
    cursors: Cursors | None = None,
    recorder: Recorder | None = None,
    **extra: Any,
) -> XSource:
    config = XConfig(
        name="xs",
        kind="x",
        base_url=server.url_for("/"),
        query="lumen -is:retweet",
        bearer_token=bearer,
        **extra,
    )
    source = XSource(config, context(cursors, recorder))
    quick(source)
    return source


def page() -> dict[str, Any]:
    return copy.deepcopy(load("x_search_recent.json"))


def test_recent_search_joins_authors_and_media(
    server: HTTPServer, bearer: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.expect_request(SEARCH, headers={"Authorization": f"Bearer {BEARER}"}).respond_with_json(
        page(),
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "449",
            "x-rate-limit-reset": str(int(time.time()) + 900),
        },
    )
    cursors = Cursors()
    source = make(server, bearer, cursors)
    posts = run(source.fetch())
    assert [p.id for p in posts] == [
        "x:1860000000000000001",
        "x:1860000000000000002",
        "x:1860000000000000003",
    ]
    for post in posts:
        check_post(post, "x")
    unbox, complaint, retweet = posts
    assert unbox.lang is None  # "und"
    assert unbox.author.handle == "@unboxdaily" and unbox.author.followers == 91000
    assert unbox.media[0].kind == "image" and unbox.media[0].alt == "A white box on a table"
    assert unbox.url == "https://x.com/unboxdaily/status/1860000000000000001"
    assert (unbox.metrics.likes, unbox.metrics.reposts, unbox.metrics.quotes) == (11, 2, 1)
    assert complaint.reply_to == "x:1859999999999998000"
    assert complaint.media[0].kind == "video"
    assert complaint.media[0].url.endswith("1280x720/b.mp4")  # the best mp4
    assert complaint.author.name == "Jo 🌧"
    assert retweet.is_repost and retweet.repost_of == "x:1859999999999999000"
    assert retweet.text.endswith("a screen we are proud of.")  # the full original, not "…"
    assert retweet.author.handle == "@ravi_k"
    assert retweet.metrics.likes == 2100
    request = next(req for req, _ in server.log if req.path == SEARCH)
    assert request.args["query"] == "lumen -is:retweet"
    assert request.args["max_results"] == "25"
    assert "author_id" in request.args["expansions"]
    state = cursors.state("xs")
    assert state["since_id"] == "1860000000000000003" and state["read"] == 3
    assert "3 in all (X bills each post read)" in caplog.text
    assert BEARER not in caplog.text


def test_since_id_and_next_token_after_a_restart(server: HTTPServer, bearer: str) -> None:
    cursors = Cursors()
    cursors.set_cursor("xs", json.dumps({"since_id": "1859000000000000000", "read": 10}))
    first = page()
    first["data"] = first["data"][:1]
    first["meta"]["next_token"] = "b26v89c19zqg8o3fpz"
    second = page()
    second["data"] = second["data"][1:]
    second["meta"].pop("next_token", None)
    server.expect_oneshot_request(SEARCH, query_string=None).respond_with_json(first)
    server.expect_oneshot_request(SEARCH).respond_with_json(second)
    source = make(server, bearer, cursors)
    assert len(run(source.fetch())) == 3
    args = [req.args for req, _ in server.log]
    assert args[0]["since_id"] == "1859000000000000000" and "pagination_token" not in args[0]
    assert args[1]["pagination_token"] == "b26v89c19zqg8o3fpz"
    assert cursors.state("xs") == {"since_id": "1860000000000000003", "read": 13}


def test_nothing_new_is_an_empty_answer(server: HTTPServer, bearer: str) -> None:
    server.expect_request(SEARCH).respond_with_json({"meta": {"result_count": 0}})
    source = make(server, bearer)
    assert run(source.fetch()) == []
    assert source.health.state == "ok"


def test_a_refused_token_is_needs_auth(server: HTTPServer, bearer: str) -> None:
    server.expect_request(SEARCH).respond_with_json(
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
        401,
    )
    source = make(server, bearer)
    run(source.fetch())
    assert source.health.state == "needs-auth"
    assert source.health.last_error == f"{source.host}: the bearer token was refused: Unauthorized"


def test_429_waits_for_the_reset(server: HTTPServer, bearer: str) -> None:
    reset = int(time.time()) + 300
    server.expect_request(SEARCH).respond_with_json(
        {"title": "Too Many Requests", "status": 429},
        429,
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
    )
    recorder = Recorder()
    source = make(server, bearer, recorder=recorder)

    async def one() -> float:
        async with source.session():
            return await source.poll_round(recorder.sink)

    assert 290 < run(one()) <= 300
    assert source.health.state == "degraded"


def test_malformed_tweets_are_skipped_but_move_the_cursor(server: HTTPServer, bearer: str) -> None:
    data = page()
    data["data"].append({"id": "1860000000000000009", "author_id": "2001"})  # no text
    data["data"].append("nonsense")
    server.expect_request(SEARCH).respond_with_json(data)
    cursors = Cursors()
    source = make(server, bearer, cursors)
    assert len(run(source.fetch())) == 3
    assert source.problems.counts == {"missing-text": 1, "not-an-object": 1}
    assert cursors.state("xs")["since_id"] == "1860000000000000009"


# ---------------------------------------------------------------------------------------------
# filtered stream


def stream_lines(*payloads: dict[str, Any]) -> Iterator[bytes]:
    for payload in payloads:
        yield json.dumps(payload).encode() + b"\r\n"
        yield b"\r\n"  # keep-alive


def test_the_stream_keeps_one_rule_and_reads_posts(
    server: HTTPServer, bearer: str, held: threading.Event
) -> None:
    data = page()
    tweets = data["data"]
    server.expect_oneshot_request(RULES, method="GET").respond_with_json(
        {
            "data": [
                {"id": "1", "value": "old query", "tag": "agora:xs"},
                {"id": "2", "value": "theirs", "tag": "other"},
            ],
            "meta": {"sent": "now"},
        }
    )
    server.expect_oneshot_request(
        RULES, method="POST", json={"delete": {"ids": ["1"]}}
    ).respond_with_json({"meta": {"summary": {"deleted": 1}}})
    server.expect_oneshot_request(
        RULES, method="POST", json={"add": [{"value": "lumen -is:retweet", "tag": "agora:xs"}]}
    ).respond_with_json(
        {
            "data": [{"id": "3", "value": "lumen -is:retweet", "tag": "agora:xs"}],
            "meta": {"summary": {"created": 1}},
        }
    )

    def stream(_request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield from stream_lines(
                {
                    "data": tweets[2],
                    "includes": data["includes"],
                    "matching_rules": [{"id": "3", "tag": "agora:xs"}],
                },
            )
            yield b'{"data": {"id": "186000000000000'  # cut off: a malformed line
            yield b"\r\n"
            yield from stream_lines({"data": tweets[1], "includes": data["includes"]})
            held.wait(120)  # the stream stays open till the test ends; the client stops first

        return Response(body(), content_type="application/json")

    server.expect_request(STREAM).respond_with_handler(stream)
    cursors = Cursors()
    recorder = Recorder()
    source = make(server, bearer, cursors, recorder, mode="stream")
    took = run(run_until(source, recorder, lambda: len(recorder.posts) == 2))
    assert took < 3.0  # within a second; 3x that is slack for a busy machine
    assert [p.id for p in recorder.posts] == ["x:1860000000000000001", "x:1860000000000000002"]
    assert recorder.posts[0].author.handle == "@unboxdaily"
    assert source.problems.counts == {"invalid-json": 1}
    assert cursors.state("xs")["since_id"] == "1860000000000000002"


def test_a_dropped_stream_catches_up_by_search_and_reconnects(
    server: HTTPServer, bearer: str
) -> None:
    data = page()
    server.expect_request(RULES, method="GET").respond_with_json(
        {"data": [{"id": "3", "value": "lumen -is:retweet", "tag": "agora:xs"}]}
    )
    one = {"data": data["data"][2], "includes": data["includes"]}
    server.expect_oneshot_request(STREAM).respond_with_data(b"".join(stream_lines(one)))
    caught = page()
    caught["data"] = caught["data"][:1]
    server.expect_oneshot_request(SEARCH, query_string=None).respond_with_json(caught)
    server.expect_request(STREAM).respond_with_data(b"\r\n")
    recorder = Recorder()
    source = make(server, bearer, Cursors(), recorder, mode="stream")
    run(run_until(source, recorder, lambda: len(recorder.posts) == 2))
    search = next(req for req, _ in server.log if req.path == SEARCH)
    assert search.args["since_id"] == "1860000000000000001"
    assert [p.id for p in recorder.posts] == ["x:1860000000000000001", "x:1860000000000000003"]


def test_a_stream_answering_429_backs_off(server: HTTPServer, bearer: str) -> None:
    server.expect_request(RULES, method="GET").respond_with_json(
        {"data": [{"id": "3", "value": "lumen -is:retweet", "tag": "agora:xs"}]}
    )
    server.expect_request(STREAM).respond_with_json(
        {
            "title": "ConnectionException",
            "detail": "This stream is currently at the maximum allowed connection limit.",
        },
        429,
        headers={"Retry-After": "0.05"},
    )
    recorder = Recorder()
    source = make(server, bearer, recorder=recorder, mode="stream")
    run(run_until(source, recorder, lambda: sum(1 for r, _ in server.log if r.path == STREAM) >= 2))
    assert source.health.state == "degraded"
    assert "rate limited" in (source.health.last_error or "")


def test_tweets_of_protected_accounts_are_marked_protected() -> None:
    from agora.sources.x import tweet_to_post

    tweet = {
        "id": "123",
        "text": "Lumen is great",
        "created_at": "2026-11-20T10:00:00Z",
        "author_id": "9",
    }
    users = {"9": {"username": "kim", "name": "Kim", "protected": True}}
    assert tweet_to_post(tweet, users, {}, {}, feed="x").protected
    users["9"]["protected"] = False
    assert not tweet_to_post(tweet, users, {}, {}, feed="x").protected

"""The polite HTTP client shared by the live sources, against a local server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from agora.sources.http import (
    USER_AGENT,
    AuthError,
    Backoff,
    PayloadError,
    PoliteClient,
    RateLimitedError,
    RequestError,
    SourceError,
    TransientError,
    describe_url,
    iter_sse,
    parse_rate_limit,
    parse_retry_after,
    wait_or_stop,
)


async def get(url: str, **kwargs: object) -> object:
    async with PoliteClient(timeout=30) as client:  # the local server answers; a busy one slowly
        data, _ = await client.get_json(url, **kwargs)  # type: ignore[arg-type]
        return data


def error_of(url: str) -> SourceError:
    with pytest.raises(SourceError) as info:
        asyncio.run(get(url))
    return info.value


# ---------------------------------------------------------------------------------------------
# headers


def test_rate_limit_headers_in_every_spelling() -> None:
    now = 1_795_000_000.0
    mastodon = parse_rate_limit(
        {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "12",
            "X-RateLimit-Reset": "2026-11-19T08:30:00.916474Z",
        },
        now,
    )
    assert mastodon is not None
    assert (mastodon.limit, mastodon.remaining) == (300, 12)
    assert mastodon.reset_at == pytest.approx(1_795_077_000.916474)
    bluesky = parse_rate_limit(
        {"RateLimit-Limit": "3000", "RateLimit-Remaining": "2983", "RateLimit-Reset": "1795000300"},
        now,
    )
    assert bluesky is not None and bluesky.reset_at == 1_795_000_300
    x = parse_rate_limit({"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1795000900"}, now)
    assert x is not None and x.remaining == 0 and x.reset_at == 1_795_000_900
    reddit = parse_rate_limit(
        {"x-ratelimit-used": "2", "x-ratelimit-remaining": "598.0", "x-ratelimit-reset": "523"},
        now,
    )
    assert reddit is not None
    assert (reddit.limit, reddit.remaining, reddit.reset_at) == (600, 598, now + 523)
    assert parse_rate_limit({"Content-Type": "application/json"}, now) is None


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = time.time()
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after(formatdate(now + 90, usegmt=True), now) == pytest.approx(90, abs=1)
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_messages_never_show_queries_or_credentials() -> None:
    url = "https://user:pw@api.example.com:8443/v3/search?key=SECRET&q=lumen"
    assert describe_url(url) == "api.example.com:8443/v3/search"


# ---------------------------------------------------------------------------------------------
# answers


def test_user_agent_and_json(server: HTTPServer) -> None:
    server.expect_request("/ok", headers={"User-Agent": USER_AGENT}).respond_with_json({"a": 1})
    assert asyncio.run(get(server.url_for("/ok"))) == {"a": 1}
    assert USER_AGENT.startswith("Agora/") and "(+http" in USER_AGENT


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"x-rate-limit-reset": "{reset}"}, 120.0),
        ({"RateLimit-Reset": "{reset}", "RateLimit-Remaining": "0"}, 120.0),
        ({"X-RateLimit-Reset": "{iso}"}, 120.0),
        ({}, 60.0),
    ],
    ids=["retry-after", "x-rate-limit-reset", "ratelimit-reset", "mastodon-iso-reset", "none"],
)
def test_429_says_how_long_to_wait(
    server: HTTPServer, headers: dict[str, str], wait: float
) -> None:
    reset = time.time() + 120
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(reset)) + f".{int(reset % 1 * 1e6):06d}Z"
    filled = {k: v.format(reset=f"{reset:.3f}", iso=iso) for k, v in headers.items()}
    server.expect_request("/limited").respond_with_data("slow down", 429, headers=filled)
    error = error_of(server.url_for("/limited"))
    assert isinstance(error, RateLimitedError)
    # the reset was fixed before the request: on a busy machine the time it took comes off
    assert error.retry_after == pytest.approx(wait, abs=5)
    assert error.state == "degraded"


def test_retry_after_as_an_http_date(server: HTTPServer) -> None:
    server.expect_request("/limited").respond_with_data(
        "", 429, headers={"Retry-After": formatdate(time.time() + 30, usegmt=True)}
    )
    error = error_of(server.url_for("/limited"))
    assert error.retry_after == pytest.approx(30, abs=5)  # whole seconds, and the request's time


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthError),
        (403, AuthError),
        (404, RequestError),
        (500, TransientError),
        (503, TransientError),
    ],
)
def test_statuses_map_to_errors(server: HTTPServer, status: int, kind: type[SourceError]) -> None:
    server.expect_request("/s").respond_with_json({"error": "x"}, status)
    error = error_of(server.url_for("/s") + "?key=SECRET")
    assert type(error) is kind
    assert error.status == status
    assert "SECRET" not in str(error)
    assert str(error).startswith(describe_url(server.url_for("/s")))


def test_an_html_error_page_with_status_200(server: HTTPServer) -> None:
    server.expect_request("/html").respond_with_data(
        "<!DOCTYPE html><html><body>Maintenance</body></html>", content_type="text/html"
    )
    error = error_of(server.url_for("/html"))
    assert isinstance(error, PayloadError)
    assert "HTML page instead of JSON (status 200)" in str(error)


def test_html_served_as_json(server: HTTPServer) -> None:
    server.expect_request("/html").respond_with_data(
        "<html><body>Login</body></html>", content_type="application/json"
    )
    assert "HTML page" in str(error_of(server.url_for("/html")))


def test_wrong_content_type(server: HTTPServer) -> None:
    server.expect_request("/xml").respond_with_data("<a/>", content_type="application/xml")
    error = error_of(server.url_for("/xml"))
    assert isinstance(error, PayloadError)
    assert "application/xml instead of JSON" in str(error)


def test_truncated_json(server: HTTPServer) -> None:
    server.expect_request("/cut").respond_with_data(
        '{"hits": [{"objectID": "1", "title": "Lum', content_type="application/json"
    )
    error = error_of(server.url_for("/cut"))
    assert isinstance(error, PayloadError)
    assert "truncated or invalid JSON" in str(error)


def test_empty_body(server: HTTPServer) -> None:
    server.expect_request("/empty").respond_with_data("", content_type="application/json")
    assert "empty body" in str(error_of(server.url_for("/empty")))


def test_connection_reset_mid_body(server: HTTPServer) -> None:
    def cut(_request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b'{"posts": ['

        return Response(body(), content_type="application/json", headers={"Content-Length": "5000"})

    server.expect_request("/reset").respond_with_handler(cut)
    error = error_of(server.url_for("/reset"))
    assert isinstance(error, TransientError)
    assert "closed in the middle of the answer" in str(error)


def test_a_slow_server_times_out(server: HTTPServer, held: threading.Event) -> None:
    def slow(_request: Request) -> Response:
        held.wait(120)  # answers only when the test is over
        return Response("{}", content_type="application/json")

    server.expect_request("/slow").respond_with_handler(slow)

    async def go() -> None:
        async with PoliteClient(timeout=0.1) as client:
            await client.get_json(server.url_for("/slow"))

    with pytest.raises(TransientError, match=r"no answer within 0\.1 s"):
        asyncio.run(go())


def test_nobody_listening() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = error_of(f"http://127.0.0.1:{port}/x")
    assert isinstance(error, TransientError)
    assert "cannot connect" in str(error)


def test_answers_past_the_size_cap_are_refused(server: HTTPServer) -> None:
    server.expect_request("/big").respond_with_data(b"[" + b"1," * 5000 + b"1]")

    async def go() -> None:
        async with PoliteClient(timeout=30, max_bytes=1000) as client:
            await client.request("GET", server.url_for("/big"))

    with pytest.raises(PayloadError, match="larger than 1000 bytes"):
        asyncio.run(go())


def test_conditional_get_sends_validators_back(server: HTTPServer) -> None:
    server.expect_oneshot_request("/feed").respond_with_data(
        "<rss/>", headers={"ETag": '"v1"', "Last-Modified": "Sun, 22 Nov 2026 10:00:00 GMT"}
    )
    server.expect_oneshot_request(
        "/feed",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Sun, 22 Nov 2026 10:00:00 GMT"},
    ).respond_with_data("", 304)

    async def go() -> tuple[bool, bool]:
        async with PoliteClient(timeout=30) as client:
            first = await client.request("GET", server.url_for("/feed"), conditional=True)
            second = await client.request("GET", server.url_for("/feed"), conditional=True)
            return first.not_modified, second.not_modified

    assert asyncio.run(go()) == (False, True)


def test_a_used_up_budget_is_not_spent_again(server: HTTPServer) -> None:
    server.expect_request("/api").respond_with_json(
        [],
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(time.time()) + 60)},
    )

    async def go() -> float | None:
        async with PoliteClient(timeout=30) as client:
            await client.get_json(server.url_for("/api"))
            try:
                await client.get_json(server.url_for("/api"))
            except RateLimitedError as exc:
                return exc.retry_after
            return None

    wait = asyncio.run(go())
    assert wait is not None and 55 < wait <= 60
    assert sum(1 for req, _ in server.log if req.path == "/api") == 1


# ---------------------------------------------------------------------------------------------
# backoff, waiting, server-sent events


def test_backoff_grows_to_a_cap_with_jitter() -> None:
    backoff = Backoff(base=1.0, cap=10.0, rand=lambda: 1.0)
    assert [round(backoff.next(), 2) for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    backoff.reset()
    backoff.rand = lambda: 0.0
    assert backoff.next() == 0.5


def test_wait_or_stop_returns_at_once_when_stopped() -> None:
    async def go() -> float:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.05, stop.set)
        started = time.monotonic()
        assert await wait_or_stop(stop, 60.0)
        return time.monotonic() - started

    assert asyncio.run(go()) < 3.0  # not the minute; the rest is slack for a busy machine


def test_server_sent_events_are_parsed() -> None:
    async def lines() -> AsyncIterator[str]:
        for line in [
            ":)",
            "event: update",
            'data: {"a":',
            "data: 1}",
            "",
            ":thump",
            "",
            "event: delete",
            "data: 42",
            "",
            "data: tail",
        ]:
            yield line

    async def go() -> list[tuple[str, str]]:
        return [pair async for pair in iter_sse(lines())]

    assert asyncio.run(go()) == [("update", '{"a":\n1}'), ("delete", "42"), ("message", "tail")]

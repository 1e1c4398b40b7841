"""``agora fetch`` on live sources (a local server) and ``agora bench sources``."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from agora.bench.sources import make_events, run_sources_bench
from agora.cli import main
from agora.config.schema import WallConfig
from agora.sources.base import SourceContext
from agora.sources.http import RateLimitedError
from agora.sources.live import LiveSource
from agora.sources.registry import build_source
from tests.unit.sourcekit import DATA


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """``main`` configures the root logger; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def write_config(tmp_path: Path, sources: str) -> Path:
    path = tmp_path / "wall.toml"
    path.write_text(
        '[wall]\nname = "Test"\n\n[topics.lumen]\nterms = ["lumen"]\n\n' + sources,
        encoding="utf-8",
    )
    return path


def test_fetch_prints_posts_and_health(
    server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.expect_request("/feed").respond_with_data(
        (DATA / "rss_google_news.xml").read_bytes(), content_type="application/rss+xml"
    )
    server.expect_request("/broken").respond_with_data("<html>oops</html>", 502)
    config = write_config(
        tmp_path,
        f'[[sources]]\nname = "news"\nkind = "rss"\nurl = "{server.url_for("/feed")}"\n\n'
        f'[[sources]]\nname = "down"\nkind = "rss"\nurl = "{server.url_for("/broken")}"\n',
    )
    assert main(["fetch", str(config), "--data-dir", str(tmp_path / "data")]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2
    assert {line["source"] for line in lines} == {"rss"}
    assert lines[0]["topics"] == ["lumen"]
    assert "news (rss): ok, 2 posts" in err
    assert "down (rss): failing, 0 posts, last error: 127.0.0.1" in err
    assert "server error 502" in err


def test_fetch_listens_to_a_stream_for_the_given_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGORA_TEST_HOOK", "hook-test-token-0123")
    config = write_config(
        tmp_path,
        '[[sources]]\nname = "push"\nkind = "webhook"\nport = 0\ntoken = "env:AGORA_TEST_HOOK"\n',
    )
    started = time.monotonic()
    assert main(["fetch", str(config), "--seconds", "0.3"]) == 0
    # the 0.3 s asked for, not the 10 s a fetch listens by default; slack for a busy machine
    assert time.monotonic() - started < 5.0
    _, err = capsys.readouterr()
    assert "push (webhook): ok, 0 posts" in err


def test_bench_sources_replays_jetstream() -> None:
    report = run_sources_bench(events=2_000, match_rate=0.5)
    assert report["events"] == 2_000
    assert 800 < report["matched"] < 1_200
    assert report["posts"] == report["matched"]
    assert report["events_per_s"] > 0


def test_bench_events_are_jetstream_shaped() -> None:
    event = json.loads(make_events(1, 1.0)[0])
    assert event["kind"] == "commit" and event["commit"]["collection"] == "app.bsky.feed.post"
    assert "lumen" in event["commit"]["record"]["text"].lower()


def hackernews_config(tmp_path: Path, server: HTTPServer) -> Path:
    return write_config(
        tmp_path,
        f'[[sources]]\nname = "hn"\nkind = "hackernews"\nbase_url = "{server.url_for("/")}"\n'
        'query = "lumen"\n',
    )


def test_fetch_waits_out_a_short_retry_after_and_prints_the_posts(
    server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 429 with ``Retry-After: 1`` is not an empty feed: one round waits and asks again."""
    asked: list[float] = []

    def answer(status: int, body: bytes, headers: dict[str, str]) -> Callable[..., Response]:
        def handler(_request: object) -> Response:
            asked.append(time.monotonic())
            return Response(body, status=status, headers=headers)

        return handler

    hits = (DATA / "hackernews_search_by_date.json").read_bytes()
    search = "/api/v1/search_by_date"
    server.expect_ordered_request(search).respond_with_handler(
        answer(429, b"slow down", {"Retry-After": "1"})
    )
    server.expect_ordered_request(search).respond_with_handler(
        answer(200, hits, {"Content-Type": "application/json"})
    )
    assert main(["fetch", str(hackernews_config(tmp_path, server))]) == 0
    out, err = capsys.readouterr()
    posts = [json.loads(line) for line in out.splitlines()]
    assert len(posts) == 3 and {p["source"] for p in posts} == {"hackernews"}
    assert "hn (hackernews): ok, 3 posts" in err
    assert len(asked) == 2
    assert asked[1] - asked[0] >= 0.9  # it waited as asked before asking again


def test_fetch_ends_the_round_on_a_long_retry_after_and_says_so(
    server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.expect_request("/api/v1/search_by_date").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "3600"}
    )
    started = time.monotonic()
    assert main(["fetch", str(hackernews_config(tmp_path, server))]) == 1
    assert time.monotonic() - started < 60  # it did not wait the hour
    out, err = capsys.readouterr()
    assert out == ""
    assert "hn (hackernews): degraded, 0 posts, last error: 127.0.0.1:" in err
    assert (
        "rate limited (429); the server asks to wait 3600 s, longer than one fetch waits "
        "(60 s): try again later" in err
    )
    assert len(server.log) == 1


def test_fetch_seconds_bounds_the_wait_for_a_retry_after(
    server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.expect_request("/api/v1/search_by_date").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "5"}
    )
    assert main(["fetch", str(hackernews_config(tmp_path, server)), "--seconds", "2"]) == 1
    _, err = capsys.readouterr()
    assert "the server asks to wait 5 s, longer than one fetch waits (2 s)" in err
    assert len(server.log) == 1


@pytest.mark.parametrize(
    "retry_after",
    [
        pytest.param("0", id="zero"),
        pytest.param("-5", id="negative"),
        pytest.param(email.utils.formatdate(time.time() - 3600, usegmt=True), id="past-date"),
    ],
)
def test_fetch_reads_retry_after_now_as_now(
    server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], retry_after: str
) -> None:
    """``Retry-After: 0``, a negative value and a past date mean "now": one fetch asks again
    after the least wait (1 s), not after the 60 s of a 429 that names no time."""
    asked: list[float] = []

    def answer(status: int, body: bytes, headers: dict[str, str]) -> Callable[..., Response]:
        def handler(_request: object) -> Response:
            asked.append(time.monotonic())
            return Response(body, status=status, headers=headers)

        return handler

    search = "/api/v1/search_by_date"
    server.expect_ordered_request(search).respond_with_handler(
        answer(429, b"slow down", {"Retry-After": retry_after})
    )
    server.expect_ordered_request(search).respond_with_handler(
        answer(200, (DATA / "hackernews_search_by_date.json").read_bytes(), {})
    )
    assert main(["fetch", str(hackernews_config(tmp_path, server))]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 3
    assert "hn (hackernews): ok, 3 posts" in err
    assert len(asked) == 2
    assert asked[1] - asked[0] >= 0.9  # the least wait between two requests
    assert asked[1] - asked[0] < 30  # slack for a busy machine; the bug waited 60 s (or gave up)


def test_fetch_says_how_often_it_asked_when_short_waits_never_end(
    server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server that answers ``Retry-After: 1`` to every request: the round ends when one fetch
    has waited long enough, and says so without claiming that 1 s is longer than 2 s."""
    server.expect_request("/api/v1/search_by_date").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    assert main(["fetch", str(hackernews_config(tmp_path, server)), "--seconds", "2"]) == 1
    _, err = capsys.readouterr()
    tries = len(server.log)
    assert tries >= 2
    assert (
        f"rate limited (429); asked {tries} times in 2 s (as long as one fetch waits) and still "
        "limited: try again later" in err
    ), err
    assert "longer than one fetch waits" not in err


@pytest.mark.parametrize(
    ("retry_after", "wait"), [(0.0, 1.0), (-5.0, 1.0), (7.0, 7.0), (None, 60.0)]
)
def test_a_running_source_waits_what_the_server_asked_after_a_429(
    tmp_path: Path, retry_after: float | None, wait: float
) -> None:
    config = hackernews_wall(tmp_path)
    source = build_source(config.sources[0], SourceContext(config, tmp_path))
    assert isinstance(source, LiveSource)
    assert source.min_retry == 1.0
    limited = RateLimitedError("h: rate limited (429)", status=429, retry_after=retry_after)
    assert source.fail(limited) == wait
    assert source.health.state == "degraded"


def hackernews_wall(tmp_path: Path) -> WallConfig:
    return WallConfig.model_validate(
        {"sources": [{"name": "hn", "kind": "hackernews", "query": "lumen"}]}
    )

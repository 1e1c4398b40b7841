"""The Reddit source against a local server: Atom feeds by default, the OAuth API with keys."""

from __future__ import annotations

import base64
import copy
import logging
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from agora.config.schema import RedditSource as RedditConfig
from agora.sources.reddit import RedditSource
from tests.unit.sourcekit import DATA, Cursors, check_post, context, load, quick, run

ATOM = (DATA / "reddit_search.atom").read_bytes()
CLIENT_ID = "reddit-client-id-123"
SECRET = "reddit-client-s3cr3t-456"


def make(server: HTTPServer, cursors: Cursors | None = None, **extra: Any) -> RedditSource:
    config = RedditConfig(
        name="rd",
        kind="reddit",
        base_url=server.url_for("/"),
        query="lumen",
        subreddits=["phones", "r/android"],
        **extra,
    )
    source = RedditSource(config, context(cursors))
    quick(source)
    return source


def test_atom_search_feed(server: HTTPServer) -> None:
    server.expect_request(
        "/r/phones+android/search.rss",
        query_string={
            "q": "lumen",
            "restrict_sr": "1",
            "sort": "new",
            "include_over_18": "off",
            "limit": "100",
        },
    ).respond_with_data(ATOM, content_type="application/atom+xml; charset=UTF-8")
    cursors = Cursors()
    source = make(server, cursors)
    assert source.every == 120.0  # no faster than Reddit tolerates for feeds
    posts = run(source.fetch())
    assert [p.id for p in posts] == ["reddit:t3_1abcdf", "reddit:t3_1abcde"]
    for post in posts:
        check_post(post, "reddit")
    night, battery = posts
    assert battery.text == (
        "Lumen X1 battery after a week Two days per charge with the Lumen X1. Not bad at all."
    )
    assert night.text == "Lumen X1 night shot"
    assert battery.author.handle == "u/ana_k"
    assert battery.author.url == "https://www.reddit.com/user/ana_k"
    assert (
        battery.url
        == "https://www.reddit.com/r/phones/comments/1abcde/lumen_x1_battery_after_a_week/"
    )
    assert night.media[0].url == "https://b.thumbs.redditmedia.com/night.jpg"
    # a restart: nothing new in the same feed
    again = make(server, cursors)
    assert run(again.fetch()) == []
    assert again.health.state == "ok"


def test_subreddits_only_read_the_new_feed(server: HTTPServer) -> None:
    server.expect_request("/r/phones/new.rss").respond_with_data(
        ATOM, content_type="application/atom+xml"
    )
    config = RedditConfig(
        name="rd", kind="reddit", base_url=server.url_for("/"), subreddits=["phones"]
    )
    source = quick(RedditSource(config, context()))
    assert len(run(source.fetch())) == 2


def test_query_or_subreddits_are_required() -> None:
    with pytest.raises(ValueError, match="give a query, subreddits, or both"):
        RedditConfig(name="rd", kind="reddit")
    with pytest.raises(ValueError, match="not a subreddit"):
        RedditConfig(name="rd", kind="reddit", subreddits=["no spaces"])


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("AGORA_TEST_REDDIT_ID", CLIENT_ID)
    monkeypatch.setenv("AGORA_TEST_REDDIT_SECRET", SECRET)
    return {
        "client_id": "env:AGORA_TEST_REDDIT_ID",
        "client_secret": "env:AGORA_TEST_REDDIT_SECRET",
    }


def test_oauth_api_with_a_token(
    server: HTTPServer, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    server.expect_request(
        "/api/v1/access_token", method="POST", headers={"Authorization": f"Basic {basic}"}
    ).respond_with_json({"access_token": "tok-1", "token_type": "bearer", "expires_in": 86400})
    server.expect_request(
        "/r/phones+android/search", headers={"Authorization": "bearer tok-1"}
    ).respond_with_json(
        load("reddit_listing.json"),
        headers={
            "x-ratelimit-remaining": "599.0",
            "x-ratelimit-used": "1",
            "x-ratelimit-reset": "525",
        },
    )
    cursors = Cursors()
    source = make(server, cursors, username="lumenwall", **keys)
    assert source.every == 120.0
    posts = run(source.fetch())
    assert [p.id for p in posts] == ["reddit:t3_1abcdf", "reddit:t3_1abcde"]  # NSFW left out
    for post in posts:
        check_post(post, "reddit")
    night, battery = posts
    assert battery.metrics.likes == 57 and battery.metrics.replies == 14
    assert night.media[0].kind == "image"
    request = next(req for req, _ in server.log if req.path.endswith("/search"))
    assert request.headers["User-Agent"].startswith("python:agora-wall:")
    assert request.headers["User-Agent"].endswith("(by /u/lumenwall)")
    assert request.args["raw_json"] == "1"
    assert SECRET not in caplog.text and CLIENT_ID not in caplog.text
    assert cursors.state("rd")["since"] == 1795341660.0


def test_refused_keys_are_needs_auth(server: HTTPServer, keys: dict[str, str]) -> None:
    server.expect_request("/api/v1/access_token", method="POST").respond_with_json(
        {"message": "Unauthorized", "error": 401}, 401
    )
    source = make(server, **keys)
    run(source.fetch())
    assert source.health.state == "needs-auth"
    assert "client id or secret was refused" in (source.health.last_error or "")
    assert SECRET not in (source.health.last_error or "")


def test_an_expired_token_is_renewed_once(server: HTTPServer, keys: dict[str, str]) -> None:
    server.expect_oneshot_request("/api/v1/access_token", method="POST").respond_with_json(
        {"access_token": "old", "expires_in": 3600}
    )
    server.expect_oneshot_request("/api/v1/access_token", method="POST").respond_with_json(
        {"access_token": "new", "expires_in": 3600}
    )
    server.expect_request(
        "/r/phones+android/search", headers={"Authorization": "bearer old"}
    ).respond_with_json({}, 401)
    listing = copy.deepcopy(load("reddit_listing.json"))
    server.expect_request(
        "/r/phones+android/search", headers={"Authorization": "bearer new"}
    ).respond_with_json(listing)
    source = make(server, **keys)
    assert len(run(source.fetch())) == 2
    assert source.health.state == "ok"


def test_a_listing_with_broken_children(server: HTTPServer, keys: dict[str, str]) -> None:
    server.expect_request("/api/v1/access_token", method="POST").respond_with_json(
        {"access_token": "t", "expires_in": 3600}
    )
    listing = copy.deepcopy(load("reddit_listing.json"))
    listing["data"]["children"] += [
        {"kind": "t3"},
        {"kind": "t3", "data": {"name": "t3_zz", "title": "x"}},
    ]
    server.expect_request("/r/phones+android/search").respond_with_json(listing)
    source = make(server, **keys)
    assert len(run(source.fetch())) == 2
    assert source.problems.counts == {"not-an-object": 1, "bad-time": 1}


@pytest.mark.parametrize(
    ("query", "subreddits", "feed_path", "api_path", "extra"),
    [
        (
            "lumen",
            ["phones", "android"],
            "/r/phones+android/search.rss",
            "/r/phones+android/search",
            {"q": "lumen", "sort": "new", "include_over_18": "off", "restrict_sr": "1"},
        ),
        (
            "lumen",
            [],
            "/search.rss",
            "/search",
            {"q": "lumen", "sort": "new", "include_over_18": "off"},
        ),
        (None, ["phones"], "/r/phones/new.rss", "/r/phones/new", {}),
    ],
)
def test_the_same_listing_is_asked_of_the_feeds_and_the_api(
    query: str | None,
    subreddits: list[str],
    feed_path: str,
    api_path: str,
    extra: dict[str, str],
) -> None:
    config = RedditConfig(
        name="r",
        kind="reddit",
        base_url="https://feeds.example",
        api_url="https://api.example",
        query=query,
        subreddits=subreddits,
    )
    source = RedditSource(config, context())
    assert source.feed_url() == (f"https://feeds.example{feed_path}", {"limit": "100", **extra})
    assert source.api_request() == (
        f"https://api.example{api_path}",
        {"limit": "100", "raw_json": "1", **extra},
    )

"""The YouTube Data API source against a local server: search, comments, quota, keys."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from agora.config.schema import ModerationConfig
from agora.config.schema import YouTubeSource as YouTubeConfig
from agora.core.accounts import AccountSet
from agora.core.moderation import RuleModeration
from agora.sources.youtube import YouTubeSource, thread_to_post, video_to_post
from tests.unit.sourcekit import Cursors, check_post, context, load, quick, run

KEY = "AIzaSy-youtube-s3cr3t-key"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AGORA_TEST_YT_KEY", KEY)
    return "env:AGORA_TEST_YT_KEY"


def make(
    server: HTTPServer, key: str, cursors: Cursors | None = None, **extra: Any
) -> YouTubeSource:
    values: dict[str, Any] = {"query": "lumen x1"}
    values.update(extra)
    config = YouTubeConfig(
        name="yt", kind="youtube", base_url=server.url_for("/youtube/v3"), api_key=key, **values
    )
    return quick(YouTubeSource(config, context(cursors)))  # type: ignore[return-value]


def google_error(code: int, reason: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": f"The request failed: {reason}.",
            "errors": [{"message": "x", "domain": "youtube.commentThread", "reason": reason}],
        }
    }


def threads() -> dict[str, Any]:
    return copy.deepcopy(load("youtube_comment_threads.json"))


def test_search_then_comments_of_the_videos_found(
    server: HTTPServer, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.expect_request("/youtube/v3/search", headers={"X-Goog-Api-Key": KEY}).respond_with_json(
        load("youtube_search.json")
    )
    server.expect_request(
        "/youtube/v3/commentThreads",
        query_string={
            "part": "snippet",
            "videoId": "LumenX1aaaa",
            "order": "time",
            "maxResults": "100",
            "textFormat": "plainText",
        },
    ).respond_with_json(threads())
    cursors = Cursors()
    source = make(server, key, cursors)
    posts = run(source.fetch())
    assert [p.id for p in posts] == [
        "youtube:LumenX1aaaa",
        "youtube:UgzLumenComment0000001",
        "youtube:UgzLumenComment0000002",
    ]
    for post in posts:
        check_post(post, "youtube")
    video, first, second = posts
    assert video.text.startswith("Lumen X1 review: camera & battery tested We spent a week")
    # the channel id is who wrote it (titles are not unique); the title is what is shown
    assert video.author.handle == "UCreviewchannel0000000001"
    assert video.author.name == "Phone Lab"
    assert video.author.url == "https://www.youtube.com/channel/UCreviewchannel0000000001"
    assert video.media[0].preview_url == "https://i.ytimg.com/vi/LumenX1aaaa/hqdefault.jpg"
    assert second.text == "Does the X1 really last two days?"
    assert second.author.handle == "UCmika000000000000000001"
    assert second.author.name == "@mika-k"  # the @handle, for display only
    assert second.author.url == "http://www.youtube.com/@mika-k"
    assert second.metrics.likes == 4 and second.metrics.replies == 1
    assert second.url == "https://www.youtube.com/watch?v=LumenX1aaaa&lc=UgzLumenComment0000002"
    assert first.author.followers is None
    for request, _ in server.log:
        assert "key" not in request.args and KEY not in request.url
    state = cursors.state("yt")
    assert state["found"] == ["LumenX1aaaa"]
    assert state["quota"]["units"] == 101
    assert state["videos"]["LumenX1aaaa"]["since"] == "2026-11-22T10:02:00Z"
    assert "101 of 10000 quota units used today" in caplog.text
    assert KEY not in caplog.text


def test_search_waits_for_search_every_and_comments_resume(server: HTTPServer, key: str) -> None:
    cursors = Cursors()
    server.expect_oneshot_request("/youtube/v3/search").respond_with_json(
        load("youtube_search.json")
    )
    server.expect_oneshot_request("/youtube/v3/commentThreads").respond_with_json(threads())
    run(make(server, key, cursors).fetch())
    newer = threads()
    newer["items"][0]["snippet"]["topLevelComment"]["id"] = "UgzLumenComment0000003"
    newer["items"][0]["snippet"]["topLevelComment"]["snippet"]["publishedAt"] = (
        "2026-11-22T10:05:00Z"
    )
    newer["nextPageToken"] = "QURTSl9p"
    server.expect_oneshot_request("/youtube/v3/commentThreads").respond_with_json(newer)
    again = make(server, key, cursors)  # a restart: no new search within 30 minutes
    posts = run(again.fetch())
    assert [p.id for p in posts] == ["youtube:UgzLumenComment0000003"]
    paths = [req.path for req, _ in server.log]
    assert paths.count("/youtube/v3/search") == 1
    assert len(paths) == 3  # older comments on the page: no second page asked for


def test_comments_turned_off_drop_the_video(server: HTTPServer, key: str) -> None:
    server.expect_request("/youtube/v3/commentThreads").respond_with_json(
        google_error(403, "commentsDisabled"), 403
    )
    cursors = Cursors()
    source = make(server, key, cursors, query=None, video_ids=["NoComments1"])
    assert run(source.fetch()) == []
    assert source.health.state == "degraded"
    assert "comments are turned off for video NoComments1" in (source.health.last_error or "")
    assert cursors.state("yt")["dropped"] == ["NoComments1"]
    run(source.fetch())
    assert sum(1 for req, _ in server.log if req.path.endswith("/commentThreads")) == 1


def test_used_up_quota_waits_for_midnight_pacific(server: HTTPServer, key: str) -> None:
    server.expect_request("/youtube/v3/search").respond_with_json(
        google_error(403, "quotaExceeded"), 403
    )
    source = make(server, key)

    async def one() -> float:
        async with source.session():
            return await source.poll_round(lambda _posts: None)

    wait = run(one())
    assert 0 < wait <= 86_400
    assert source.health.state == "degraded"
    assert "daily quota is used up" in (source.health.last_error or "")


def test_a_bad_key_is_needs_auth(server: HTTPServer, key: str) -> None:
    server.expect_request("/youtube/v3/search").respond_with_json(
        {
            "error": {
                "code": 400,
                "message": "API key not valid. Please pass a valid API key.",
                "errors": [{"reason": "badRequest"}],
                "details": [{"reason": "API_KEY_INVALID"}],
            }
        },
        400,
    )
    source = make(server, key)
    run(source.fetch())
    assert source.health.state == "needs-auth"
    assert KEY not in (source.health.last_error or "")


def test_malformed_threads_are_skipped(server: HTTPServer, key: str) -> None:
    data = threads()
    data["items"].append({"kind": "youtube#commentThread", "id": "UgzBad"})
    data["items"].append(json.loads('"just a string"'))
    server.expect_request("/youtube/v3/commentThreads").respond_with_json(data)
    source = make(server, key, query=None, video_ids=["LumenX1aaaa"])
    assert len(run(source.fetch())) == 2
    assert source.problems.counts == {"missing-snippet": 1, "not-an-object": 1}


def test_query_or_videos_are_required(key: str) -> None:
    with pytest.raises(ValueError, match="give a query, video_ids, or both"):
        YouTubeConfig(name="yt", kind="youtube", api_key=key)


def test_a_channel_titled_like_the_brand_is_not_the_brands_account() -> None:
    """Channel titles and display names are not unique: anybody can title a channel "Nokia" or
    call themselves "@nokia". Who wrote a video or a comment is its channel id (issue 13)."""
    brand = "UCnokia00000000000000001"  # UC and 22 characters, as every channel id
    allowed = AccountSet([f"youtube:{brand}"])
    manual = RuleModeration(ModerationConfig(approval="manual", allow_authors=[f"youtube:{brand}"]))

    def video(channel_id: str, title: str) -> Any:
        return video_to_post(
            {
                "id": {"kind": "youtube#video", "videoId": f"v{channel_id[-3:]}"},
                "snippet": {
                    "publishedAt": "2026-11-22T10:00:00Z",
                    "channelId": channel_id,
                    "title": "Unboxing the new phone",
                    "channelTitle": title,
                },
            },
            feed="yt",
        )

    def comment(channel_id: str | None, shown: str) -> Any:
        snippet: dict[str, Any] = {
            "textOriginal": "Love it",
            "authorDisplayName": shown,
            "publishedAt": "2026-11-22T10:00:00Z",
        }
        if channel_id is not None:
            snippet["authorChannelId"] = {"value": channel_id}
        return thread_to_post(
            {
                "id": f"c{shown}",
                "snippet": {"topLevelComment": {"id": f"c{shown}", "snippet": snippet}},
            },
            feed="yt",
        )

    impostors = [
        video("UCimpostor00000000000000001", "Nokia"),
        comment("UCimpostor00000000000000002", "@nokia"),
        comment(None, "@nokia"),  # no channel id at all: nobody in particular
    ]
    for post in impostors:
        assert post.author.handle != "Nokia" and "nokia" not in post.author.handle.lower()
        assert not allowed.matches(post), post.author
        assert manual(post, post.text.lower()).state == "pending", post.author
    assert impostors[0].author.name == "Nokia"  # still shown by its title
    assert impostors[1].author.name == "@nokia"
    real = [video(brand, "Nokia"), comment(brand, "@nokia")]
    for post in real:
        assert post.author.handle == brand
        assert allowed.matches(post)
        assert manual(post, post.text.lower()).state == "approved"
    # a comment payload without authorChannelId still names its channel in the channel link
    linked = thread_to_post(
        {
            "id": "c9",
            "snippet": {
                "topLevelComment": {
                    "id": "c9",
                    "snippet": {
                        "textOriginal": "Hello",
                        "authorDisplayName": "@nokia",
                        "authorChannelUrl": f"http://www.youtube.com/channel/{brand}",
                        "publishedAt": "2026-11-22T10:00:00Z",
                    },
                }
            },
        },
        feed="yt",
    )
    assert linked.author.handle == brand

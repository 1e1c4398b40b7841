"""Conformance: the real recorded payloads in ``../shared/fixtures`` through every source's parser.

The recordings are not part of the project (their content belongs to the platforms' users); when
the folder is absent, or ``AGORA_SHARED_FIXTURES`` points nowhere, these tests skip with a reason so
a fresh clone still passes. Every post produced is checked field by field against the normalised
contract; malformed items must be refused with a :class:`~agora.core.post.PostError`, never crash.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agora.config.schema import BlueskySource as BlueskyConfig
from agora.config.schema import MastodonSource as MastodonConfig
from agora.core.post import Post, PostError
from agora.sources.bluesky import BlueskySource, postview_to_post, profile_to_author
from agora.sources.hackernews import hit_to_post
from agora.sources.http import Reply
from agora.sources.mastodon import MastodonSource, status_to_post
from agora.sources.reddit import listing_item_to_post
from agora.sources.rss import entry_to_post, parse_feed
from agora.sources.x import tweets_to_posts
from agora.sources.youtube import thread_to_post, video_to_post
from tests.unit.sourcekit import SHARED_FIXTURES, Recorder, check_post, context

ROOT = Path(os.environ.get("AGORA_SHARED_FIXTURES") or SHARED_FIXTURES)
#: Markup that must never survive into text (a literal "<module>" in a quoted traceback may).
_TAG_RE = re.compile(r"</?(?:p|a|br|span|div|b|i|strong|em|img|table|td|tr|font)\b[^>]*>", re.I)


def folder(name: str) -> Path:
    path = ROOT / name
    if not path.is_dir():
        pytest.skip(f"recorded payloads not found at {path} (set AGORA_SHARED_FIXTURES)")
    return path


def cassette(path: Path) -> Iterator[tuple[str, int, Any]]:
    """``(uri, status, body text)`` of every interaction of a vcrpy / R vcr / betamax cassette."""
    yaml = pytest.importorskip("yaml", reason="PyYAML reads the recorded cassettes")
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    for item in data.get("interactions") or data.get("http_interactions") or []:
        request, response = item["request"], item["response"]
        status = response.get("status")
        code = status.get("code") if isinstance(status, dict) else status
        body = response.get("body") or {}
        content = body.get("string") if isinstance(body, dict) else body
        if isinstance(content, bytes):
            try:
                content = gzip.decompress(content).decode("utf-8")
            except OSError:
                content = content.decode("utf-8", "replace")
        yield request["uri"], int(code), content


#: Kinds whose payload text is HTML (the others are plain text or Markdown, where "<div>" typed by
#: a person is text).
HTML_KINDS = frozenset({"mastodon", "hackernews", "rss"})


def conforms(post: Post, kind: str) -> None:
    """Every normalised field of a post made from a real payload."""
    check_post(post, kind)
    if kind in HTML_KINDS:
        assert not _TAG_RE.search(post.text), post.text[:200]
    assert "\n" not in post.text and "  " not in post.text
    assert post.created_at.tzinfo == UTC
    assert datetime(2000, 1, 1, tzinfo=UTC) < post.created_at < datetime(2030, 1, 1, tzinfo=UTC)
    assert post.author.name
    for url in (post.url, post.author.url, post.author.avatar_url):
        assert url is None or (url.startswith(("http://", "https://")) and " " not in url)
    for media in post.media:
        assert media.preview_url is None or media.preview_url.startswith(("http://", "https://"))
    assert post.reply_to is None or post.reply_to.startswith(f"{kind}:")
    assert post.repost_of is None or post.repost_of.startswith(f"{kind}:")
    assert post.topics == () and post.sentiment is None
    again = Post.from_json(post.to_json(), now=datetime(2030, 1, 1, tzinfo=UTC))
    assert again.id == post.id and again.text == post.text
    assert again.created_at == post.created_at
    assert again.author == post.author and again.metrics == post.metrics


def test_mastodon_recordings() -> None:
    base = folder("mastodon")
    posts: list[Post] = []
    refused = 0
    instances = 0
    for path in sorted(base.glob("*.yaml")):
        for uri, status, body in cassette(path):
            if status != 200 or not isinstance(body, str) or not body.startswith(("[", "{")):
                continue
            data = json.loads(body)
            host = uri.split("/")[2]
            if "/api/v2/instance" in uri:
                source = MastodonSource(
                    MastodonConfig(name="m", kind="mastodon", hashtags=["x"]), context()
                )
                config = data["configuration"]
                source._access = dict(config["timelines_access"]["hashtag_feeds"])
                source._raise_if_closed()  # hashtag feeds public on every recorded server
                instances += 1
                continue
            statuses = data if isinstance(data, list) else [data] if "content" in data else []
            for status_obj in statuses:
                try:
                    post = status_to_post(status_obj, host=host, feed="m")
                except PostError:
                    refused += 1
                    continue
                if post is not None:
                    conforms(post, "mastodon")
                    assert post.id == f"mastodon:{host}:{status_obj['id']}"
                    posts.append(post)
    assert instances >= 2
    assert len(posts) >= 20
    sensitive = [p for p in posts if p.sensitive]
    assert sensitive, "the spoilered entity status is flagged"
    assert any(p.author.handle == "@halcy@icosahedron.website" for p in posts)
    assert all(p.author.handle.count("@") == 2 for p in posts)


def test_mastodon_streaming_recording() -> None:
    base = folder("mastodon")
    events = 0
    for uri, _status, body in cassette(base / "test_stream_user_local.yaml"):
        if "/streaming/" not in uri:
            continue
        source = MastodonSource(
            MastodonConfig(name="m", kind="mastodon", hashtags=["x"]), context()
        )
        recorder = Recorder()
        event = ""
        for line in body.splitlines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                source._on_event("x", event, line[5:].strip(), recorder.sink)
                events += 1
        for post in recorder.posts:
            conforms(post, "mastodon")
        assert recorder.posts
    assert events


def test_bluesky_recordings() -> None:
    base = folder("bluesky")
    posts: list[Post] = []
    for name in ("f_search.yml", "f_getposts.yml", "a_search.yml", "f_postthread.yml"):
        for _uri, status, body in cassette(base / name):
            if status != 200:
                continue
            data = json.loads(body)
            views = data.get("posts") or []
            if "thread" in data:
                views = [data["thread"]["post"]]
            for view in views:
                try:
                    post = postview_to_post(view, feed="b")
                except PostError:
                    continue
                conforms(post, "bluesky")
                assert post.id == f"bluesky:{view['uri']}"
                assert post.author.handle == view["author"]["handle"]
                assert post.metrics.likes == view.get("likeCount")
                posts.append(post)
    assert len(posts) >= 20
    assert any(m.kind == "image" for p in posts for m in p.media)
    assert any(m.kind == "link" for p in posts for m in p.media)
    for _uri, _status, body in cassette(base / "a_profile.yml"):
        author = profile_to_author(json.loads(body)["profiles"][0])
        assert author is not None and author.followers == 554
    thread = json.loads((base / "thread_view_post_with_embed_media.json").read_text())
    with pytest.raises(PostError):  # no text, no alt text: nothing to show
        postview_to_post(thread["thread"]["post"], feed="b")


def test_jetstream_recording() -> None:
    base = folder("bluesky")
    source = BlueskySource(
        BlueskyConfig(name="b", kind="bluesky", keywords=["rsv"]), context(recorder=Recorder())
    )
    lines = (base / "jetstream_golden_v1.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        source.on_message(line)
    assert source.events == len(lines)
    assert source.matched == 1
    assert source.problems.total == 0
    assert source.time_us == max(json.loads(line)["time_us"] for line in lines)
    source.lookups = False
    recorder = Recorder()

    async def flush() -> None:
        async with source.session() as client:
            await source._flush(client, recorder.sink)

    asyncio.run(flush())
    (post,) = recorder.posts
    conforms(post, "bluesky")
    assert post.text == "Try RSV for a good time !!"
    assert post.reply_to is not None and post.lang == "en"


def test_hackernews_recordings() -> None:
    base = folder("hackernews")
    data = json.loads((base / "algolia_fixtures_2014.json").read_text(encoding="utf-8"))
    posts = []
    for entry in data:
        for hit in entry["reply"].get("hits") or [] if isinstance(entry["reply"], dict) else []:
            try:
                post = hit_to_post(hit, feed="hn")
            except PostError:
                continue
            conforms(post, "hackernews")
            assert post.url == f"https://news.ycombinator.com/item?id={hit['objectID']}"
            assert post.created_at.timestamp() == hit["created_at_i"]
            posts.append(post)
    assert len(posts) >= 20
    assert any(p.reply_to for p in posts) and any(p.metrics.likes for p in posts)


def test_reddit_recordings() -> None:
    base = folder("reddit")
    posts = []
    for path in sorted(base.glob("*.json")):
        for _uri, status, body in cassette(path):
            if status != 200 or not body or not body.startswith("{"):
                continue
            data = json.loads(body)
            if data.get("kind") != "Listing":
                continue
            for child in data["data"]["children"]:
                try:
                    post = listing_item_to_post(child, feed="r")
                except PostError:
                    continue
                if post is None:  # marked over 18: left out
                    continue
                conforms(post, "reddit")
                assert post.id == f"reddit:{child['data']['name']}"
                posts.append(post)
    assert len(posts) >= 50
    assert any(p.reply_to for p in posts)  # comments answer their parent


def test_rss_recordings() -> None:
    base = folder("rss_atom")
    total = 0
    for path in sorted(base.iterdir()):
        body = path.read_bytes()
        reply = Reply(f"https://feeds.example/{path.name}", 200, _headers(), body)
        parsed = parse_feed(reply)
        for entry in parsed.entries:
            try:
                post = entry_to_post(
                    entry,
                    kind="rss",
                    feed="f",
                    feed_url=reply.url,
                    feed_title=str(parsed.feed.get("title") or ""),
                )
            except PostError:
                continue
            conforms(post, "rss")
            assert "@" not in post.author.handle or " " in post.author.handle
            total += 1
    assert total >= 5


def _headers() -> Any:
    import httpx

    return httpx.Headers({"content-type": "application/xml"})


def test_x_recordings() -> None:
    base = folder("x_twitter")
    posts: list[Post] = []
    refused: list[str] = []
    bad_lines = 0
    for path in sorted(base.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                payload = json.loads(line)
            except json.JSONDecodeError:
                bad_lines += 1
                continue
            found, ids = tweets_to_posts(
                payload, feed="x", report=lambda kind, _msg: refused.append(kind)
            )
            assert len(ids) >= len(found)
            posts.extend(found)
    for path in sorted(base.glob("*.yaml")):
        for uri, status, body in cassette(path):
            if "/tweets/search/" in uri and status == 200 and body and body.startswith("{"):
                found, _ = tweets_to_posts(
                    json.loads(body), feed="x", report=lambda kind, _msg: refused.append(kind)
                )
                posts.extend(found)
    for post in posts:
        conforms(post, "x")
        assert post.url is not None and post.url.endswith(post.id.split(":", 1)[1])
    assert bad_lines == 1  # the deliberately malformed stream line
    assert len(posts) >= 8
    assert any(p.is_repost for p in posts) and any(p.media for p in posts)
    assert set(refused) <= {"bad-time"}  # a search asked without created_at


def test_youtube_recordings() -> None:
    base = folder("youtube")
    posts = []
    for path in sorted(base.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for item in data.get("items") or []:
            try:
                if data["kind"] == "youtube#searchListResponse":
                    post = video_to_post(item, feed="y")
                elif data["kind"] == "youtube#commentThreadListResponse":
                    post = thread_to_post(item, feed="y")
                else:
                    continue
            except PostError:
                continue
            conforms(post, "youtube")
            posts.append(post)
    assert len(posts) >= 30
    assert any(p.metrics.likes for p in posts)
    assert all("&amp;" not in p.text for p in posts)

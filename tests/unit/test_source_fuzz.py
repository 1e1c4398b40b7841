"""Every source's item parser against hostile shapes (issue 13).

A source reads its server's JSON (or feed) one item at a time. Whatever a field holds — a list
where text was expected, ``true`` where a list was, a number too large for any count, an object
as a label — the parser either returns a valid post or raises
:class:`~agora.core.post.PostError`; anything else would stop the source (one crafted Bluesky
record stopped the Jetstream flusher for good). Each case starts from a recorded item of
``tests/unit/data/sources`` and puts arbitrary JSON-shaped values in one to three of its fields,
at every depth.

A *valid* post is one the contract accepts (:func:`~tests.unit.sourcekit.check_post`) and that
reads back unchanged through :func:`~agora.core.post.parse_post`, as the store reads it after a
restart.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.core.post import Post, PostError, parse_post
from agora.sources.bluesky import postview_to_post, record_to_post
from agora.sources.hackernews import hit_to_post
from agora.sources.identity import stamp
from agora.sources.mastodon import status_to_post
from agora.sources.reddit import atom_entry_to_post, listing_item_to_post
from agora.sources.rss import entry_to_post
from agora.sources.x import tweets_to_posts
from agora.sources.youtube import thread_to_post, video_to_post
from tests.unit.sourcekit import DATA, check_post, load

#: parse_post replaces a time in the future by ``now``: far ahead, nothing is replaced.
FAR_AHEAD = datetime(9000, 1, 1, tzinfo=UTC)

#: JSON-shaped values: what a server (or a hostile record) can put in any field.
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["", " ", "x" * 3000, "\x00\x1b[31m", "porn", "at://x", "https://x.test/a"])
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=10,
)


def richest(items: list[Any]) -> Any:
    """The item with the most to say (the most fields to break)."""
    return max(items, key=lambda item: len(json.dumps(item, default=str)))


def plain(value: Any) -> Any:
    """A feedparser entry as plain dicts and lists (its struct_time values kept)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def feed_entry(name: str) -> dict[str, Any]:
    parsed = feedparser.parse((DATA / name).read_bytes())
    return plain(richest([dict(entry) for entry in parsed.entries]))


def jetstream_record() -> dict[str, Any]:
    lines = (DATA / "jetstream_events.jsonl").read_text(encoding="utf-8").splitlines()
    records = [
        event["commit"]["record"]
        for event in map(json.loads, lines)
        if isinstance(event.get("commit"), dict) and isinstance(event["commit"].get("record"), dict)
    ]
    return richest(records)


def normalised_post() -> dict[str, Any]:
    """A post in the normalised shape, as a webhook caller or a ``jsonl`` archive sends it."""
    return {
        "id": "push:1",
        "source": "webhook",
        "feed": "push",
        "url": "https://example.test/p/1",
        "text": "The Lumen X1 is great",
        "lang": "en",
        "created_at": "2026-11-22T10:00:00Z",
        "author": {
            "handle": "@ana",
            "name": "Ana",
            "url": "https://example.test/ana",
            "avatar_url": "https://example.test/ana.png",
            "followers": 12,
        },
        "metrics": {"likes": 1, "reposts": 2, "replies": 3, "quotes": 4},
        "media": [{"kind": "image", "url": "https://example.test/a.png", "alt": "a phone"}],
        "reply_to": "push:0",
        "is_repost": False,
        "topics": ["brand"],
        "sentiment": {"score": 0.5, "label": "positive"},
        "moderation": {"state": "approved", "reasons": []},
        "sensitive": False,
        "protected": False,
    }


Parser = Callable[[Any], list[Post | None]]


def one(parse: Callable[[Any], Post | None]) -> Parser:
    return lambda item: [parse(item)]


def x_payload(payload: Any) -> list[Post | None]:
    """A whole answer: tweets and the ``includes`` joined to them. ``tweets_to_posts`` reports
    each bad tweet instead of raising: any report of an unexpected error fails the case."""
    unexpected: list[str] = []

    def report(kind: str, message: str) -> None:
        if kind.startswith("unreadable"):
            unexpected.append(message)

    posts, _ = tweets_to_posts(payload, feed="x", report=report)
    assert not unexpected, unexpected
    return list(posts)


def webhook_post(raw: Any) -> list[Post | None]:
    """What a webhook makes of one item: parsed, then given the entry's identity."""
    entry = SimpleNamespace(kind="webhook", name="push")
    return list(stamp(entry, [parse_post(raw, now=FAR_AHEAD)]))  # type: ignore[arg-type]


#: name → (source kind, recorded item, parser, whether None is a valid answer)
CASES: dict[str, tuple[str, Callable[[], Any], Parser, bool]] = {
    "bluesky post view": (
        "bluesky",
        lambda: richest(load("bluesky_search_posts.json")["posts"]),
        one(lambda v: postview_to_post(v, feed="sky")),
        False,
    ),
    "bluesky record": (
        "bluesky",
        jetstream_record,
        one(lambda r: record_to_post("did:plc:abc", "3k", r, feed="sky")),
        False,
    ),
    "mastodon status": (
        "mastodon",
        lambda: richest(load("mastodon_tag_timeline.json")),
        one(lambda s: status_to_post(s, host="mastodon.test", feed="fedi")),
        True,
    ),
    "x answer": ("x", lambda: load("x_search_recent.json"), x_payload, False),
    "hackernews hit": (
        "hackernews",
        lambda: richest(load("hackernews_search_by_date.json")["hits"]),
        one(lambda h: hit_to_post(h, feed="hn")),
        False,
    ),
    "youtube video": (
        "youtube",
        lambda: richest(load("youtube_search.json")["items"]),
        one(lambda v: video_to_post(v, feed="yt")),
        False,
    ),
    "youtube comment": (
        "youtube",
        lambda: richest(load("youtube_comment_threads.json")["items"]),
        one(lambda t: thread_to_post(t, feed="yt")),
        False,
    ),
    "reddit listing item": (
        "reddit",
        lambda: richest(load("reddit_listing.json")["data"]["children"]),
        one(lambda c: listing_item_to_post(c, feed="rd")),
        True,
    ),
    "reddit atom entry": (
        "reddit",
        lambda: feed_entry("reddit_search.atom"),
        one(
            lambda e: atom_entry_to_post(
                e, feed="rd", feed_url="https://www.reddit.com/search.rss?q=lumen"
            )
        ),
        False,
    ),
    "rss entry": (
        "rss",
        lambda: feed_entry("atom_blog.xml"),
        one(
            lambda e: entry_to_post(
                e,
                kind="rss",
                feed="news",
                feed_url="https://blog.lumen.example/atom.xml",
                feed_title="Lumen Engineering Blog",
                lang="en",
                now=datetime(2026, 11, 22, tzinfo=UTC),
            )
        ),
        False,
    ),
    "google news entry": (
        "rss",
        lambda: feed_entry("rss_google_news.xml"),
        one(
            lambda e: entry_to_post(
                e, kind="rss", feed="news", feed_url="https://news.google.com/rss/search?q=lumen"
            )
        ),
        False,
    ),
    "webhook or jsonl post": ("webhook", normalised_post, webhook_post, False),
}


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON-shaped value: each key of each object, each index of each list."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from paths(child, (*prefix, index))


def holds(node: Any, step: Any) -> bool:
    """Whether ``node[step]`` is a place of a JSON-shaped value."""
    if isinstance(node, dict):
        return isinstance(step, str) and step in node
    return isinstance(node, list) and isinstance(step, int) and step < len(node)


def put(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    """``root`` with ``value`` at ``path`` (the whole item when the path is empty); a path an
    earlier change took away is left alone."""
    if not path:
        return value
    node = root
    for step in path[:-1]:
        if not holds(node, step):
            return root
        node = node[step]
    if holds(node, path[-1]):
        node[path[-1]] = value
    return root


def assert_valid(post: Post, kind: str) -> None:
    """The contract holds and the store reads the post back as it was handed over."""
    check_post(post, kind)
    again = Post.from_json(post.to_json(), now=FAR_AHEAD)
    assert again.to_dict() == post.to_dict()


@pytest.mark.parametrize("case", sorted(CASES))
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_an_item_parser_returns_a_valid_post_or_raises_post_error(
    case: str, data: st.DataObject
) -> None:
    kind, recorded, parse, may_be_none = CASES[case]
    base = recorded()
    places = [(), *paths(base)]
    item = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="changes")):
        path = data.draw(st.sampled_from(places), label="path")
        item = put(item, path, data.draw(JSON_VALUES, label="value"))
    try:
        posts = parse(item)
    except PostError:
        return
    for post in posts:
        if post is None:
            assert may_be_none, f"{case} answered None"
            continue
        assert_valid(post, kind)


def test_the_recorded_items_are_valid_posts_themselves() -> None:
    """The starting points parse (else every case above would only test refusals)."""
    for case, (kind, recorded, parse, _) in CASES.items():
        posts = parse(recorded())
        assert posts, case
        for post in posts:
            assert post is not None, case
            assert_valid(post, kind)


def test_the_shapes_the_attack_found_cost_their_post_only() -> None:
    """The reviewed crashes, kept as plain examples: an image embed that is ``true``, a
    self-label that is a list, a moderation state that is a list."""
    record = jetstream_record()
    record["embed"] = {"$type": "app.bsky.embed.images", "images": True}
    record["labels"] = {"values": [{"val": []}, {"val": {}}]}
    post = record_to_post("did:plc:abc", "3k", record, feed="sky")
    assert post.media == () and not post.sensitive
    view = richest(load("bluesky_search_posts.json")["posts"])
    view["embed"] = {"$type": "app.bsky.embed.images#view", "images": 7}
    view["labels"] = [{"val": ["porn"]}]
    assert_valid(postview_to_post(view, feed="sky"), "bluesky")
    raw = normalised_post()
    for state in ([], {}, ["hidden"]):
        raw["moderation"] = {"state": state, "reasons": [{"a": 1}, "profanity"]}
        parsed = parse_post(raw, now=FAR_AHEAD)
        assert parsed.moderation.state == "approved"
    with pytest.raises(PostError):
        parse_post({**raw, "created_at": "0001-01-01T00:00:00+01:00"})

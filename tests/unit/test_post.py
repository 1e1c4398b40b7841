"""The normalised post: JSON round-trip, repairs and rejections of hostile payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.core.post import (
    Author,
    Media,
    Metrics,
    Moderation,
    Post,
    PostError,
    Sentiment,
    format_time,
    parse_post,
    parse_time,
)
from agora.core.text import MAX_TEXT_CHARS, clean_text, fold, html_to_text

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def make_post(**changes: object) -> Post:
    post = Post(
        id="mastodon:social.example:1",
        source="mastodon",
        feed="fedi",
        text="Loving the new Lumen X1 ✨ #lumenx1",
        created_at=datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
        author=Author("@ana@social.example", "Ana", "https://social.example/@ana", None, 120),
        url="https://social.example/@ana/1",
        lang="en",
        metrics=Metrics(likes=3, reposts=1, replies=0, quotes=None),
        media=(Media("image", "https://img.example/1.jpg", None, "a phone"),),
        reply_to=None,
        topics=("brand",),
        sentiment=Sentiment(0.6, "positive"),
        moderation=Moderation("pinned", ("operator",)),
    )
    for key, value in changes.items():
        setattr(post, key, value)
    return post


def test_json_round_trip_keeps_every_field() -> None:
    post = make_post()
    again = Post.from_json(post.to_json(), now=NOW)
    assert again == post
    assert json.loads(post.to_json())["created_at"] == "2026-11-22T10:00:00Z"


def test_stored_row_round_trip_keeps_every_field_and_reads_old_objects() -> None:
    post = make_post(sentiment=None, protected=True, sensitive=True, reply_to="mastodon:x:0")
    row = post.to_row()
    assert row.startswith("[") and len(row) < len(post.to_json())
    assert Post.from_row(row, now=NOW) == post
    assert Post.from_row(make_post().to_row(), now=NOW) == make_post()
    assert Post.from_row(make_post(media=()).to_row(), now=NOW).media == ()
    precise = make_post(created_at=datetime(2026, 11, 22, 9, 59, 58, 123457, tzinfo=UTC))
    assert Post.from_row(precise.to_row(), now=NOW).created_at == precise.created_at
    # a store written before the compact form holds the objects of to_json
    assert Post.from_row(post.to_json(), now=NOW) == post


@pytest.mark.parametrize(
    "body",
    ["[]", "[2]", '[1, "a"]', "[" + ",".join(["1"] * 20) + "]", "{]"],
)
def test_stored_rows_of_another_layout_raise_post_error(body: str) -> None:
    with pytest.raises(PostError):
        Post.from_row(body, now=NOW)


def test_documented_keys_are_all_present() -> None:
    keys = set(make_post().to_dict())
    assert {
        "id",
        "source",
        "feed",
        "url",
        "text",
        "lang",
        "created_at",
        "author",
        "metrics",
        "media",
        "reply_to",
        "is_repost",
        "topics",
        "sentiment",
        "moderation",
    } <= keys
    assert set(make_post().to_dict()["author"]) == {
        "handle",
        "name",
        "url",
        "avatar_url",
        "followers",
    }


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ("[1, 2]", "not-an-object"),
        ('{"text": "hi", "created_at": "2026-01-01T00:00:00Z"}', "missing-id"),
        ('{"id": "x:1", "created_at": "2026-01-01T00:00:00Z"}', "missing-text"),
        ('{"id": "x:1", "text": "  \\u0000 ", "created_at": "2026-01-01T00:00:00Z"}', "empty-text"),
        ('{"id": "x:1", "text": "hi", "created_at": "yesterday"}', "bad-time"),
        ('{"id": "x:1", "text": "hi", "created_at": "1970-01-01T00:00:00Z"}', "implausible-time"),
        ('{"id": "x:1", "text": "hi"', "invalid-json"),
    ],
)
def test_unusable_payloads_raise_post_error(payload: str, kind: str) -> None:
    with pytest.raises(PostError) as caught:
        Post.from_json(payload, now=NOW)
    assert caught.value.kind == kind


def test_future_timestamp_is_repaired_to_arrival() -> None:
    repairs: list[str] = []
    post = parse_post(
        {"id": "x:1", "text": "hi", "created_at": "2999-01-01T00:00:00Z"}, now=NOW, repairs=repairs
    )
    assert post.created_at == NOW
    assert repairs and "future" in repairs[0]


def test_huge_text_is_cut_at_a_word_boundary() -> None:
    text = "word " * 400_000  # 2 MB
    repairs: list[str] = []
    post = parse_post({"id": "x:1", "text": text, "created_at": NOW.isoformat()}, repairs=repairs)
    assert len(post.text) <= MAX_TEXT_CHARS
    assert post.text.endswith("word…")
    assert repairs


def test_control_and_bidi_characters_are_removed() -> None:
    post = parse_post(
        {
            "id": "x:1",
            "text": "evil\u202etxt.exe\x00\x07 bell\u2066",
            "created_at": NOW.isoformat(),
            "author": {"handle": "@a\u202e", "name": "N\x1bame"},
        }
    )
    assert post.text == "eviltxt.exe bell"
    assert post.author.handle == "@a"
    assert post.author.name == "Name"


def test_markup_stays_literal_text() -> None:
    post = parse_post(
        {"id": "x:1", "text": "<b>bold</b> <img src=x>", "created_at": NOW.isoformat()}
    )
    assert post.text == "<b>bold</b> <img src=x>"


def test_wrong_types_in_optional_fields_are_dropped() -> None:
    post = parse_post(
        {
            "id": 42,
            "text": "hi",
            "created_at": 1_763_800_000,
            "author": ["not", "a", "dict"],
            "metrics": {"likes": "12", "reposts": -3, "replies": True, "quotes": 1.5},
            "media": [
                {"url": "javascript alert"},
                {"kind": "gif", "url": "https://a.example/x"},
                7,
            ],
            "sentiment": {"score": "high", "label": "positive"},
            "moderation": {"state": "deleted"},
            "topics": "brand",
            "lang": 5,
        }
    )
    assert post.id == "42"
    assert post.author.handle == "unknown"
    assert post.metrics == Metrics(likes=12, reposts=0, replies=None, quotes=1)
    assert post.media == (Media("link", "https://a.example/x", None, ""),)
    assert post.sentiment is None
    assert post.moderation.state == "approved"
    assert post.topics == ()
    assert post.lang is None


def test_parse_time_variants() -> None:
    assert parse_time("2026-11-22T10:00:00Z") == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert parse_time("2026-11-22T12:00:00+02:00") == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert parse_time("2026-11-22T10:00:00") == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert format_time(parse_time(1_763_805_600)) == "2025-11-22T10:00:00Z"
    for bad in (None, "", float("nan"), 10**20, True, "2026-13-01"):
        with pytest.raises(PostError):
            parse_time(bad)


def test_html_to_text_and_fold() -> None:
    assert html_to_text(
        "<p>Hello&nbsp;<b>world</b></p><p>again &amp; <script>x()</script></p>"
    ) == ("Hello world again &")
    assert fold("Café NOKIA Ünïcödé") == "cafe nokia unicode"
    # letters without a case of their own fold to the plain lower-case letter too
    assert fold("𝐍𝐎𝐊𝐈𝐀 ＮＯＫＩＡ 𝙽𝙾𝙺𝙸𝙰") == "nokia nokia nokia"
    assert clean_text("a\n\n  b\tc") == "a b c"


# -- property tests --------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
post_keys = st.sampled_from(
    [
        "id",
        "text",
        "created_at",
        "author",
        "metrics",
        "media",
        "lang",
        "source",
        "feed",
        "url",
        "reply_to",
        "is_repost",
        "topics",
        "sentiment",
        "moderation",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(post_keys, json_values, max_size=12))
def test_parser_never_fails_with_anything_but_post_error(raw: dict[str, object]) -> None:
    try:
        post = parse_post(raw, now=NOW)
    except PostError:
        return
    # whatever was accepted survives a JSON round trip unchanged
    assert Post.from_json(post.to_json(), now=NOW) == post
    assert (post.text and post.text.isprintable()) or "\n" not in post.text


texts = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=300
).filter(lambda t: clean_text(t) != "")


@settings(max_examples=200, deadline=None)
@given(
    text=texts,
    handle=st.text(min_size=1, max_size=30),
    likes=st.none() | st.integers(min_value=0, max_value=10**9),
    seconds=st.integers(min_value=946_684_800, max_value=1_900_000_000),
    lang=st.none() | st.sampled_from(["en", "fi", "pt-BR", "ja"]),
)
def test_valid_posts_round_trip(
    text: str, handle: str, likes: int | None, seconds: int, lang: str | None
) -> None:
    created = datetime.fromtimestamp(seconds, UTC)
    post = parse_post(
        {
            "id": "jsonl:1",
            "text": text,
            "created_at": format_time(created),
            "author": {"handle": handle},
            "metrics": {"likes": likes},
            "lang": lang,
        },
        now=datetime(2031, 1, 1, tzinfo=UTC),
    )
    assert post.created_at == created
    assert post.metrics.likes == likes
    assert Post.from_json(post.to_json(), now=NOW.replace(year=2031)) == post
    assert Post.from_row(post.to_row(), now=NOW.replace(year=2031)) == post

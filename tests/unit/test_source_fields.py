"""The field readers every source reads untrusted payloads with."""

from __future__ import annotations

import math

from agora.sources.fields import (
    MAX_URL_CHARS,
    count_field,
    count_value,
    epoch_time,
    id_order,
    text_field,
    url_field,
    web_url,
)


def test_text_and_counts_never_raise_and_never_pass_a_wrong_type() -> None:
    assert text_field({"a": "x"}, "a") == "x"
    assert (
        text_field({"a": 3}, "a") == ""
        and text_field(None, "a") == ""
        and text_field([], "a") == ""
    )
    assert [count_value(v) for v in (5, -3, 2.9, "42", True, "4x", math.nan, None, [1])] == [
        5, 0, 2, 42, None, None, None, None, None,
    ]  # fmt: skip
    assert count_field({"likes": "7"}, "likes") == 7 and count_field("likes", "likes") is None


def test_only_web_links_pass() -> None:
    assert web_url("https://a.example/x.jpg") == "https://a.example/x.jpg"
    assert web_url("http://a.example/") == "http://a.example/"
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "data:x", "https://a b", 7, None):
        assert web_url(bad) is None
    assert len(web_url("https://a.example/" + "x" * 5_000) or "") == MAX_URL_CHARS
    assert url_field({"u": "https://a.example"}, "u") == "https://a.example"
    assert url_field({"u": "ftp://a.example"}, "u") is None and url_field(3, "u") is None


def test_numeric_ids_sort_by_length_first() -> None:
    assert sorted(["100", "99", "1000", "101"], key=id_order) == ["99", "100", "101", "1000"]


def test_epoch_times_from_numbers_and_numeric_text() -> None:
    assert epoch_time(1_700_000_000) == epoch_time("1700000000.0")
    assert epoch_time(1_700_000_000).isoformat() == "2023-11-14T22:13:20+00:00"  # type: ignore[union-attr]
    for bad in (True, "soon", math.inf, 1e300, None, [1]):
        assert epoch_time(bad) is None


def test_a_long_native_id_is_kept_by_its_digest() -> None:
    """An RSS guid may be a whole URL with tracking (thousands of characters): the post keeps an
    id of bounded length, the same for the same item, and different items stay apart."""
    from agora.core.post import MAX_ID_CHARS
    from agora.sources.fields import item_id

    long = "https://news.example/story?" + "utm=x&" * 400
    first = item_id("rss", "news.example", long)
    assert len(first) <= MAX_ID_CHARS and first.startswith("rss:news.example:sha256-")
    assert item_id("rss", "news.example", long) == first
    assert item_id("rss", "news.example", long + "y") != first
    assert item_id("rss", "news.example", "short-guid") == "rss:news.example:short-guid"

"""The snapshot's JSON form (``agora analyse --json``), declared by pydantic models: the shape
and order consumers read, numbers that keep their type, and the cut to a window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from agora.core.health import SourceHealth
from agora.core.post import Author, Moderation, Post
from agora.core.snapshot import (
    Alert,
    Care,
    Featured,
    Kpis,
    PostCounts,
    Rates,
    SentimentSummary,
    Snapshot,
    SnapshotJson,
    TermTrend,
    VolumeSeries,
    WindowSummary,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def post(post_id: str, minutes_ago: float) -> Post:
    return Post(
        id=post_id,
        source="jsonl",
        feed="test",
        text="Lumen is fine",
        created_at=NOW - timedelta(minutes=minutes_ago),
        author=Author("@ana", "Ana"),
        moderation=Moderation("pending"),
    )


def summary(window_s: float | None) -> WindowSummary:
    return WindowSummary(
        window_s=window_s,
        posts=PostCounts(7, 5, 1, 1, 0, {"jsonl": 7}, {"brand": 4}),
        sentiment=SentimentSummary.of(2, 2, 1, 2),
        sentiment_by_topic={"brand": SentimentSummary()},
        share_of_voice={"brand": 1.0},
        share_counts={"brand": 4},
        multi_topic=0,
        share_by_source={"jsonl": {"brand": 1.0}},
        trending=(TermTrend("almoco", 2.5, 4, 0.5, label="almoço"), TermTrend("zoom", 1.0, 3, 1)),
        authors=(),
        owned=Rates(),
        mentions=Rates(3, 0.5, 0.0, 2.0),
    )


def snapshot(now: datetime = NOW) -> Snapshot:
    minutes = 10
    return Snapshot(
        version=3,
        now=now,
        topics={"brand": "Lumen"},
        windows={"1h": summary(3600.0), "all": summary(None)},
        volume=VolumeSeries(
            start=NOW - timedelta(minutes=minutes - 1),
            step_s=60,
            total=tuple(range(minutes)),
            by_topic={"brand": tuple(range(minutes))},
            by_sentiment={},
            by_source={},
        ),
        featured=(
            Featured(post("new", 2), float("inf"), "pinned"),
            Featured(post("old", 9), 1.23456, ""),
        ),
        newest=(),
        care=Care((post("q", 5),), 1, 2, 0.5, None),
        alerts=(
            Alert(
                "volume-spike", None, NOW - timedelta(minutes=5), "busy", active=False, ended_at=NOW
            ),
        ),
        kpis=Kpis(12, 1.5, 4),
        sources={"j": SourceHealth("j", "jsonl", "ok", posts=7)},
        store_status="memory",
        pending=(post("p", 1),),
        blocked_authors=("troll",),
    )


def test_the_keys_come_in_the_order_consumers_read() -> None:
    data = snapshot().to_dict()
    assert list(data) == [
        "now", "window", "window_s", "topics", "posts", "sentiment", "share_of_voice",
        "share_counts", "share_multi_topic", "share_by_source", "volume", "trending", "authors",
        "featured", "engagement", "care", "alerts", "kpis", "sources", "moderation", "store",
        "notes",
    ]  # fmt: skip
    assert list(data["sentiment"]) == [
        "net", "positive", "neutral", "negative", "unscored", "by_topic",
    ]  # fmt: skip
    assert list(data["engagement"]) == [
        "conversation", "amplification", "applause", "posts", "owned",
    ]  # fmt: skip
    assert list(data["trending"][0]) == ["term", "label", "score", "count", "baseline"]


def test_numbers_keep_their_type() -> None:
    """A window given in whole seconds stays an int; a baseline given as an int is not turned
    into a float, nor a float into an int."""
    text = json.dumps(snapshot().to_dict(3600))
    assert '"window_s": 3600,' in text
    data = json.loads(text)
    assert data["trending"][1]["baseline"] == 1 and isinstance(data["trending"][1]["baseline"], int)
    assert isinstance(data["trending"][0]["baseline"], float)
    assert data["engagement"]["applause"] == 2.0 and isinstance(
        data["engagement"]["applause"], float
    )
    assert data["engagement"]["owned"] == {
        "posts": 0, "conversation": None, "amplification": None, "applause": None,
    }  # fmt: skip
    assert data["sentiment"]["net"] == 20.0
    assert data["sentiment"]["by_topic"]["brand"]["net"] is None


def test_posts_are_written_as_ids_and_times_in_utc() -> None:
    helsinki = NOW.astimezone(ZoneInfo("Europe/Helsinki"))
    data = snapshot(helsinki).to_dict()
    assert data["now"] == "2026-11-22T10:00:00Z"
    assert data["care"]["open"] == ["q"]
    assert data["moderation"] == {"pending": ["p"], "blocked_authors": ["troll"]}
    assert data["alerts"][0]["started_at"] == "2026-11-22T09:55:00Z"
    assert data["alerts"][0]["ended_at"] == "2026-11-22T10:00:00Z"
    assert data["trending"][0]["label"] == "almoço"
    assert data["trending"][1]["label"] == "zoom"  # no label learnt: the term itself
    assert data["sources"]["j"]["posts"] == 7


def test_a_window_cuts_the_volume_and_the_featured_posts() -> None:
    data = snapshot().to_dict(180.0)
    assert data["window"] == "3m"
    assert data["volume"]["total"] == [7, 8, 9]
    assert data["volume"]["topics"]["brand"] == [7, 8, 9]
    assert data["volume"]["start"] == "2026-11-22T09:58:00Z"
    assert [f["id"] for f in data["featured"]] == ["new"]
    everything = snapshot().to_dict()
    assert everything["volume"]["total"] == list(range(10))
    assert everything["volume"]["start"] == "2026-11-22T09:51:00Z"
    assert [(f["id"], f["score"]) for f in everything["featured"]] == [
        ("new", float("inf")),
        ("old", 1.2346),
    ]


def test_the_model_reads_each_part_from_where_it_is_kept() -> None:
    """The typed model, read as attributes: each field comes from its part of the snapshot."""
    snap = snapshot()
    model = SnapshotJson.of(snap, 3600.0)
    summary = snap.summary(3600.0)
    assert model.share_multi_topic == summary.multi_topic
    assert model.share_by_source == summary.share_by_source
    assert model.sentiment.by_topic["brand"].net == summary.sentiment_by_topic["brand"].net
    assert model.engagement.owned.posts == 0
    assert model.alerts[0].ended_at == "2026-11-22T10:00:00Z"
    assert model.moderation.pending == ["p"]

"""A post seen again: only the source entry that delivered it may change it, and an edit at the
source cannot turn an operator's approval into approval of other words (issue 13)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from agora.config.schema import WallConfig
from agora.core.post import Author, Media, Metrics, Moderation, Post
from agora.decisions import DecisionDesk
from agora.engine import build_pipeline
from agora.store.base import Decision
from agora.store.sqlite import SqliteStore

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def wall(approval: str = "auto") -> WallConfig:
    return WallConfig.model_validate(
        {
            "topics": {"brand": {"label": "Lumen", "terms": ["lumen"]}},
            "moderation": {"approval": approval},
        }
    )


def item(feed: str, text: str, **extra: object) -> Post:
    fields: dict[str, object] = {
        "id": "rss:tag:lumen.example,2026:recall",
        "source": "rss",
        "feed": feed,
        "text": text,
        "created_at": T0,
        "author": Author("Lumen Newsroom"),
        "url": "https://lumen.example/news/recall",
    }
    fields.update(extra)
    return Post(**fields)  # type: ignore[arg-type]


def decide(pipeline: object, desk: DecisionDesk, action: str, target: str) -> None:
    decision = desk.record(Decision(action, target, "kim", T0), pipeline)  # type: ignore[arg-type]
    desk.apply(pipeline, decision)  # type: ignore[arg-type]


def shown(pipeline: object, post_id: str) -> Post | None:
    snap = pipeline.aggregates.snapshot(T0)  # type: ignore[attr-defined]
    return next((p for p in snap.newest if p.id == post_id), None)


def test_another_feed_cannot_rewrite_a_post_it_did_not_deliver(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "wall.sqlite")
    pipeline = build_pipeline(wall(), store)
    desk = DecisionDesk(store)
    original = item("brand-news", "Lumen X1 ships on Friday")
    pipeline.ingest([original], now=T0)
    decide(pipeline, desk, "pin", original.id)
    # a third-party feed republishes the brand feed's item id with other words
    forged = item("community", "Lumen X1 recalled: batteries catch fire", metrics=Metrics(likes=9))
    result = pipeline.ingest([forged], now=T0)
    assert (result.new, result.updated, result.skipped) == (0, 0, 1)
    kept = store.get_post(original.id)
    assert kept is not None and kept.text == "Lumen X1 ships on Friday"
    assert kept.feed == "brand-news" and kept.moderation.state == "pinned"
    on_wall = shown(pipeline, original.id)
    assert on_wall is not None and on_wall.text == "Lumen X1 ships on Friday"
    # the same holds after a restart (the deduper asks the store who delivered it)
    store.close()
    store = SqliteStore(tmp_path / "wall.sqlite")
    again = build_pipeline(wall(), store)
    assert again.ingest([forged], now=T0).skipped == 1
    kept = store.get_post(original.id)
    assert kept is not None and kept.text == "Lumen X1 ships on Friday"
    # its own feed still updates it
    fresh = item("brand-news", "Lumen X1 ships on Friday", metrics=Metrics(likes=40))
    assert again.ingest([fresh], now=T0).updated == 1
    kept = store.get_post(original.id)
    assert kept is not None and kept.metrics.likes == 40
    store.close()


def test_an_edit_after_approval_shows_the_version_the_operator_approved(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "wall.sqlite")
    pipeline = build_pipeline(wall("manual"), store)
    desk = DecisionDesk(store)
    original = item("brand-news", "Lumen X1 ships on Friday")
    pipeline.ingest([original], now=T0)
    assert store.get_post(original.id).moderation.state == "pending"  # type: ignore[union-attr]
    decide(pipeline, desk, "approve", original.id)
    edited = item(
        "brand-news",
        "Lumen X1 is a scam, buy Corvid",
        metrics=Metrics(likes=12),
        media=(Media("image", "https://img.example/scam.png"),),
        moderation=Moderation(),
    )
    pipeline.ingest([edited], now=T0)
    on_wall = shown(pipeline, original.id)
    assert on_wall is not None
    assert on_wall.text == "Lumen X1 ships on Friday" and not on_wall.media
    assert on_wall.metrics.likes == 12  # the metrics still update
    kept = store.get_post(original.id)
    assert kept is not None and kept.text == "Lumen X1 ships on Friday"
    assert kept.moderation.state == "approved"
    # sent again (the same edit): still the approved version
    pipeline.ingest([dataclasses.replace(edited, metrics=Metrics(likes=13))], now=T0)
    kept = store.get_post(original.id)
    assert kept is not None and kept.text == "Lumen X1 ships on Friday"
    assert kept.metrics.likes == 13
    store.close()


def test_an_edit_of_a_pinned_post_keeps_the_pinned_words(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "wall.sqlite")
    pipeline = build_pipeline(wall("auto"), store)
    desk = DecisionDesk(store)
    original = item("brand-news", "Lumen X1 ships on Friday")
    pipeline.ingest([original], now=T0)
    decide(pipeline, desk, "pin", original.id)
    pipeline.ingest([item("brand-news", "Free phones at evil.example, hurry")], now=T0)
    on_wall = shown(pipeline, original.id)
    assert on_wall is not None and on_wall.text == "Lumen X1 ships on Friday"
    assert on_wall.moderation.state == "pinned"
    store.close()


def test_fresh_metrics_of_an_approved_post_change_nothing_else(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "wall.sqlite")
    pipeline = build_pipeline(wall("auto"), store)
    original = item("brand-news", "Lumen X1 ships on Friday")
    pipeline.ingest([original], now=T0)
    result = pipeline.ingest([item("brand-news", original.text, metrics=Metrics(likes=5))], now=T0)
    assert result.updated == 1
    on_wall = shown(pipeline, original.id)
    assert on_wall is not None and on_wall.metrics.likes == 5
    # an edit on an auto wall is moderated as a new post would be (here: shown)
    pipeline.ingest([item("brand-news", "Lumen X1 ships on Saturday")], now=T0)
    on_wall = shown(pipeline, original.id)
    assert on_wall is not None and on_wall.text == "Lumen X1 ships on Saturday"
    store.close()

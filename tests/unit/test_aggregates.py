"""The aggregates' figures read together: the spike detector reads the per-minute counts the
volume and sentiment figures keep, by the names their typed keys give."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from agora.core.aggregates import Aggregates
from agora.core.post import Author, Post, Sentiment

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def post(n: int, at: datetime, label: str, topics: tuple[str, ...]) -> Post:
    return Post(
        id=f"jsonl:{n}",
        source="jsonl",
        feed="test",
        text=f"Lumen post number {n}",
        created_at=at,
        author=Author(f"@a{n}", f"A{n}"),
        sentiment=Sentiment(-0.6 if label == "negative" else 0.1, label),  # type: ignore[arg-type]
        topics=list(topics),
    )


def test_a_negative_surge_about_one_topic_raises_both_alerts() -> None:
    """Six quiet hours (one post in ten negative), then twenty minutes of many negative posts
    about the brand: a negative surge (the sentiment figure's label counts) and a volume spike
    told by topic (the volume figure's topic counts)."""
    aggregates = Aggregates({"brand": "Lumen", "rival": "Corvid"})
    rng = random.Random(4)
    start = T0 - timedelta(hours=7)
    posts: list[Post] = []
    n = 0
    for minute in range(7 * 60):
        surge = minute >= 6 * 60 + 30 and minute < 6 * 60 + 50
        for k in range(30 if surge else 4 + rng.randint(0, 2)):
            n += 1
            negative = surge or rng.random() < 0.1
            topics = ("brand",) if surge or k % 2 else ("rival",)
            at = start + timedelta(minutes=minute, seconds=k)
            posts.append(post(n, at, "negative" if negative else "neutral", topics))
    for at in range(0, len(posts), 20):
        aggregates.add_many(posts[at : at + 20])
    alerts = aggregates.snapshot(T0).alerts
    surges = [a for a in alerts if a.kind == "negative-surge"]
    assert len(surges) == 1
    assert surges[0].started_at == start + timedelta(hours=6, minutes=30)
    spikes = {a.topic for a in alerts if a.kind == "volume-spike"}
    assert "brand" in spikes
    assert "rival" not in spikes

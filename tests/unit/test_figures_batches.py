"""The figures count a batch at a time (each figure goes through a batch once: the newest posts
are trimmed once per batch, an author already known is updated in place, the care queue reads a
post's words only when it asks or complains). Whatever the batches, the figures must be those of
the posts: a wall that ingested live batches of 1 and 20 into a real SQLite file, then let
retention take the old posts, shows what a wall restarted on that file (its figures rebuilt from
the posts kept, a thousand at a time) shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agora.bench.ingest import _simulator, bench_config
from agora.config.schema import SimulatorSource
from agora.core.aggregates import Aggregates
from agora.core.figures.authors import Authors
from agora.core.figures.base import Batch, Entry, Moment, Window
from agora.core.figures.care import Care
from agora.core.figures.counts import Counts
from agora.core.figures.posts import Newest
from agora.core.post import Author, Post, Sentiment, SentimentLabel
from agora.engine import build_pipeline
from agora.store.sqlite import SqliteStore

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def _sizes() -> Iterator[int]:
    """Batch sizes as live sources hand them over: mostly 20, often 1, now and then more."""
    while True:
        yield from (20, 1, 1, 20, 7, 20, 1, 63)


def _window(aggregates: Aggregates, now: datetime, window_s: float) -> dict[str, Any]:
    """What the wall shows for the window ending ``now``, without the parts that count since the
    wall started (all-time totals, the care queue's counters) or the carousel's pool."""
    snapshot = aggregates.snapshot(now, windows=(window_s,))
    shown = snapshot.to_dict(window_s)
    kept = {
        key: shown[key]
        for key in (
            "posts",
            "sentiment",
            "share_of_voice",
            "share_counts",
            "share_by_source",
            "volume",
            "authors",
            "engagement",
        )
    }
    kept["newest"] = [post.id for post in snapshot.newest]
    return kept


def test_figures_of_live_batches_after_retention_are_those_rebuilt_from_the_store(
    tmp_path: Path,
) -> None:
    config = bench_config("rules")
    demo = next(s for s in config.sources if isinstance(s, SimulatorSource))
    posts = _simulator(config, demo, tmp_path, START).generate(START - timedelta(hours=3), START)
    assert len(posts) > 2_000
    path = tmp_path / "wall.sqlite3"
    store = SqliteStore(path)
    live = build_pipeline(config, store)
    sizes = _sizes()
    at = 0
    while at < len(posts):
        part = posts[at : at + next(sizes)]
        live.ingest(part, now=part[-1].created_at)
        at += len(part)
    # retention takes everything older than two hours; the last hour is what is compared
    cut = START - timedelta(hours=2)
    while store.prune(cut):
        pass
    kept = store.count_posts()
    assert 0 < kept < len(posts)
    store.close()

    again = SqliteStore(path)
    try:
        restarted = build_pipeline(config, again)
        assert restarted.warm(again.iter_posts()) == kept
        now = START + timedelta(seconds=30)
        seen_live = _window(live.aggregates, now, 3600.0)
        seen_again = _window(restarted.aggregates, now, 3600.0)
        assert seen_live["posts"]["total"] > 500
        assert len(seen_live["newest"]) >= 100
        assert json.dumps(seen_live, sort_keys=True) == json.dumps(seen_again, sort_keys=True)
    finally:
        again.close()


def _post(
    n: int, seconds: float, text: str = "Lumen is fine", label: SentimentLabel = "neutral"
) -> Post:
    return Post(
        id=f"t:{n}",
        source="mastodon",
        feed="fedi",
        text=text,
        created_at=START + timedelta(seconds=seconds),
        author=Author(f"@a{n % 7}@example.org", f"A{n % 7}", followers=n),
        topics=("lumen",),
        sentiment=Sentiment(-0.5 if label == "negative" else 0.0, label),
    )


def _batch(posts: list[Post]) -> Batch:
    entries = [
        Entry(p, p.timestamp, int(p.timestamp // 60), ("", "", "", (), False), False, True, p.text)
        for p in posts
    ]
    return Batch(entries, {}, entries, entries)


def test_the_newest_posts_are_the_same_one_at_a_time_or_in_one_batch() -> None:
    # out of order, with ties on the time, more than the list holds in one batch
    times = [50, 10, 30, 30, 70, 20, 60, 60, 5, 80, 40, 45, 45, 90, 1]
    posts = [_post(n, t) for n, t in enumerate(times)]
    one_by_one, batched, in_twos = Newest(5), Newest(5), Newest(5)
    for post in posts:
        one_by_one.push(post)
    batched.add(_batch(posts))
    for at in range(0, len(posts), 2):
        in_twos.add(_batch(posts[at : at + 2]))
    expected = [p.id for p in sorted(posts, key=lambda p: (p.timestamp, p.id))[-5:]][::-1]
    for figure in (one_by_one, batched, in_twos):
        assert [p.id for p in figure.part(None)] == expected  # type: ignore[arg-type]
        assert set(figure.posts) == set(expected) and len(figure) == 5


def test_the_care_queue_takes_questions_complaints_and_requests_for_help() -> None:
    # text: (sentiment label, a care item?); every post is about the brand
    cases: dict[str, tuple[SentimentLabel, bool]] = {
        "how do i pair lumen with my phone": ("neutral", False),  # a question, nothing more
        "how do i pair lumen, it keeps crashing": ("neutral", True),  # a question asking help
        "why is lumen so bad?": ("negative", True),  # a negative question
        "@lumencare is there a lumen in blue?": ("neutral", True),  # a question to the brand
        "lumen is awful": ("negative", False),  # a complaint, nothing more
        "lumen is awful and broken": ("negative", True),  # a complaint asking help
        "@lumencare lumen is awful": ("negative", True),  # a complaint to the brand
        "my lumen screen is fine": ("neutral", False),
        "lumen support was great": ("positive", False),  # help words alone are not enough
    }
    care = Care("lumen", ["lumencare"], size=100)
    posts = [_post(n, n, text, label) for n, (text, (label, _)) in enumerate(cases.items())]
    care.add(_batch(posts))
    assert {p.text for p in care.open.values()} == {t for t, (_, item) in cases.items() if item}
    assert care.total == 5


def test_the_leaderboard_keeps_an_authors_largest_reach_and_latest_name() -> None:
    authors = Authors(600, 10, capacity=100)

    def said(n: int, name: str, followers: int | None) -> Post:
        post = _post(n, n)
        return replace(post, author=Author("@kim@example.org", name, followers=followers))

    authors.add(_batch([said(1, "Kim", 10), said(2, "", 500)]))
    authors.add(_batch([said(3, "Kim L.", None), said(4, "Kim L.", 20)]))
    moment = Moment.at(START + timedelta(minutes=5))
    (top,) = authors.part(Window(moment, 3600.0, Counts(60)))
    assert (top.handle, top.name, top.posts, top.reach) == ("@kim@example.org", "Kim L.", 4, 500)

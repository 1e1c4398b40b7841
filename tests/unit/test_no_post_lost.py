"""No post is lost to dedupe, a bad value or a restart (issue 13, "Posts lost").

A property test drives random sequences of batches through a real pipeline on a real SQLite
file: replays of stored ids, ids pushed out of the deduper's recent list, restarts (a new
pipeline on the same file, warmed from it), duplicates inside a batch and extreme values in every
numeric field. Every distinct valid post must end up stored exactly once and counted once.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.config.schema import WallConfig
from agora.core.pipeline import Deduper, Pipeline
from agora.core.post import MAX_COUNT, Author, Metrics, Post, parse_post
from agora.engine import build_pipeline
from agora.store.sqlite import SqliteStore

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CONFIG = WallConfig.model_validate(
    {"topics": {"brand": {"label": "Lumen", "terms": ["lumen"]}}, "store": {"retention": "30d"}}
)

#: numbers a stranger may write in a count: huge, negative, fractional, not numbers at all
EXTREME = st.one_of(
    st.none(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([2**63, 2**63 - 1, 2**64, -(2**63), 99999999999999999999]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["12", "99999999999999999999", "²", "1e9", "-3", " 7 ", ""]),
    st.booleans(),
)


@dataclass(frozen=True)
class Spec:
    """One post in a batch: which id, and the raw counts a payload gave."""

    key: int
    likes: object
    reposts: object
    followers: object


SPECS = st.builds(
    Spec,
    key=st.integers(min_value=0, max_value=40),
    likes=EXTREME,
    reposts=EXTREME,
    followers=EXTREME,
)
#: a step is a batch of posts, or None for "restart the wall"
STEPS = st.lists(st.one_of(st.none(), st.lists(SPECS, min_size=1, max_size=12)), max_size=14)


def raw_post(spec: Spec) -> dict[str, object]:
    """The payload a source would hand over for ``spec`` (the same id always has the same
    time, as a real post does)."""
    created = NOW - timedelta(minutes=(spec.key * 37) % (48 * 60))
    return {
        "id": f"jsonl:p{spec.key}",
        "source": "jsonl",
        "feed": "archive",
        "text": f"Lumen post number {spec.key}",
        "created_at": created.isoformat(),
        "author": {"handle": f"@a{spec.key % 7}", "followers": spec.followers},
        "metrics": {"likes": spec.likes, "reposts": spec.reposts},
    }


def open_pipeline(path: Path, capacity: int) -> Pipeline:
    """A wall (re)started on ``path``: a new pipeline, warmed from what the store holds."""
    store = SqliteStore(path)
    pipeline = build_pipeline(CONFIG, store)
    pipeline.dedupe = Deduper(store, capacity=capacity)
    pipeline.warm(store.iter_posts(NOW - timedelta(days=3)))
    return pipeline


def counted(pipeline: Pipeline) -> int:
    return pipeline.aggregates.snapshot(NOW).summary(None).posts.total


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=STEPS, capacity=st.integers(min_value=1, max_value=8))
def test_every_distinct_post_is_stored_once_and_counted_once(
    steps: list[list[Spec] | None], capacity: int
) -> None:
    agora_log = logging.getLogger("agora")
    level = agora_log.level
    agora_log.setLevel(logging.CRITICAL)  # hypothesis repeats a lot
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "wall.sqlite"
            pipeline = open_pipeline(path, capacity)
            seen: set[str] = set()
            for step in steps:
                if step is None:
                    assert pipeline.store is not None
                    pipeline.store.close()
                    pipeline = open_pipeline(path, capacity)
                    continue
                posts = [parse_post(raw_post(spec), now=NOW) for spec in step]
                pipeline.ingest(posts, now=NOW)
                seen.update(p.id for p in posts)
                assert counted(pipeline) == len(seen)
            store = pipeline.store
            assert store is not None
            assert store.count_posts() == len(seen)
            assert {p.id for p in store.iter_posts()} == seen
            for post in store.iter_posts():
                for value in (post.metrics.likes, post.metrics.reposts, post.author.followers):
                    assert value is None or 0 <= value <= MAX_COUNT
            store.close()
            # and a last restart reads every one of them back into the figures
            pipeline = open_pipeline(path, capacity)
            assert counted(pipeline) == len(seen)
            assert pipeline.store is not None
            pipeline.store.close()
    finally:
        agora_log.setLevel(level)  # the tests that follow read agora's warnings


def test_an_id_the_store_knows_but_the_recent_list_forgot_is_an_update(tmp_path: Path) -> None:
    """The KeyError that dropped whole batches: a replay of a stored id after a restart, in the
    same batch as a new post. The new post must be stored and counted."""
    path = tmp_path / "wall.sqlite"
    first = open_pipeline(path, capacity=50_000)
    old = parse_post(raw_post(Spec(1, 3, 0, 10)), now=NOW)
    first.ingest([old], now=NOW)
    assert first.store is not None
    first.store.close()
    # a restart that warms nothing (the recent list starts empty), as after a long outage
    store = SqliteStore(path)
    again = build_pipeline(CONFIG, store)
    replay = parse_post(raw_post(Spec(1, 9, 0, 10)), now=NOW)
    new = parse_post(raw_post(Spec(2, 1, 0, 10)), now=NOW)
    result = again.ingest([replay, new], now=NOW)
    assert (result.new, result.updated, result.skipped) == (1, 1, 0)
    assert store.get_post(new.id) is not None
    stored_old = store.get_post(old.id)
    assert stored_old is not None and stored_old.metrics.likes == 9  # the fresh metrics
    # and every later send of that id goes through the same way
    assert again.ingest([parse_post(raw_post(Spec(1, 11, 0, 10)), now=NOW)], now=NOW).updated
    store.close()


def test_a_count_too_large_for_a_c_long_cannot_break_the_figures_or_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "wall.sqlite"
    pipeline = open_pipeline(path, capacity=100)
    huge = parse_post(
        {**raw_post(Spec(5, None, None, None)), "metrics": {"likes": 99999999999999999999}},
        now=NOW,
    )
    assert huge.metrics.likes == MAX_COUNT
    # a source that builds its post by hand (not through the parser) is clamped on the way in
    by_hand = Post(
        id="jsonl:hand",
        source="jsonl",
        feed="archive",
        text="Lumen by hand",
        created_at=NOW,
        author=Author("@hand", followers=-(10**40)),
        metrics=Metrics(likes=10**40, reposts=-5),
    )
    result = pipeline.ingest([huge, by_hand], now=NOW)
    assert result.new == 2
    assert by_hand.metrics.likes == MAX_COUNT and by_hand.metrics.reposts == 0
    assert by_hand.author.followers == 0
    assert pipeline.store is not None
    pipeline.store.close()
    with caplog.at_level(logging.ERROR, logger="agora"):
        restarted = open_pipeline(path, capacity=100)
    assert counted(restarted) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert restarted.store is not None
    restarted.store.close()


def test_a_failure_in_one_post_costs_that_post_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A stage that fails on one post (here: the topic matcher on a booby-trapped text) leaves
    that post out with one log line naming it; the rest of the batch is stored and counted,
    and a later, clean copy of the failed post counts as new."""
    path = tmp_path / "wall.sqlite"
    pipeline = open_pipeline(path, capacity=100)
    matcher = pipeline.topics.matcher
    real_match = matcher.match

    def match(folded: str) -> tuple[str, ...]:
        if "explode" in folded:
            raise RuntimeError("boom")
        return real_match(folded)

    matcher.match = match  # type: ignore[method-assign,assignment]
    posts = [parse_post(raw_post(Spec(k, 1, 1, 1)), now=NOW) for k in (1, 2, 3)]
    posts[1].text = "Lumen will explode"
    with caplog.at_level(logging.ERROR, logger="agora"):
        result = pipeline.ingest(posts, now=NOW)
    assert (result.new, result.skipped) == (2, 1)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and posts[1].id in lines[0]
    store = pipeline.store
    assert store is not None
    assert store.get_post(posts[0].id) and store.get_post(posts[2].id)
    assert store.get_post(posts[1].id) is None
    assert counted(pipeline) == 2
    clean = parse_post(raw_post(Spec(2, 1, 1, 1)), now=NOW)
    assert pipeline.ingest([clean], now=NOW).new == 1
    assert counted(pipeline) == 3
    store.close()


def test_a_store_that_refuses_one_post_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "wall.sqlite"
    pipeline = open_pipeline(path, capacity=100)
    store = pipeline.store
    assert isinstance(store, SqliteStore)
    real_add = store.add_posts

    def add_posts(posts: Sequence[Post]) -> int:
        if any(p.id.endswith("p2") for p in posts):
            raise ValueError("this row cannot be written")
        return real_add(posts)

    store.add_posts = add_posts  # type: ignore[method-assign]
    posts = [parse_post(raw_post(Spec(k, 1, 1, 1)), now=NOW) for k in (1, 2, 3)]
    result = pipeline.ingest(posts, now=NOW)
    assert (result.new, result.skipped, result.store_failed) == (2, 1, False)
    assert store.count_posts() == 2
    assert counted(pipeline) == 2
    store.close()


def test_a_store_that_refuses_everything_says_so(tmp_path: Path) -> None:
    """Nothing could be written: the posts are still shown, but the result says the store
    failed, so the engine does not move the source's saved place past them."""
    path = tmp_path / "wall.sqlite"
    pipeline = open_pipeline(path, capacity=100)
    store = pipeline.store
    assert isinstance(store, SqliteStore)

    def add_posts(posts: Sequence[Post]) -> int:
        raise OSError("disk went away")

    store.add_posts = add_posts  # type: ignore[method-assign]
    posts = [parse_post(raw_post(Spec(k, 1, 1, 1)), now=NOW) for k in (1, 2)]
    result = pipeline.ingest(posts, now=NOW)
    assert result.store_failed
    assert result.new == 2 and counted(pipeline) == 2
    store.close()

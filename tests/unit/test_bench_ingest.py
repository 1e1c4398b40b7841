"""``agora bench ingest`` measures under a live wall's conditions (issue 15): batches of 20 by
default, English texts only for the scorer comparison, the demo's moderation with every filter
on, a store that already holds posts, and the scorer of one's choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from agora.bench.ingest import bench_config, filters_on, run_ingest_bench
from agora.config.schema import ModerationConfig
from agora.core.sentiment import english_scorable
from agora.store.sqlite import SqliteStore

#: Settings of ``[moderation]`` that are not a filter of their own.
NOT_FILTERS = {"approval", "profanity_allow"}


def test_every_moderation_filter_is_on() -> None:
    config = bench_config()
    on = set(filters_on(config.moderation))
    # a filter added to [moderation] later must be turned on here too, or this fails
    assert on == set(ModerationConfig.model_fields) - NOT_FILTERS
    # the demo's own rules are kept, not replaced
    assert "giveaway" in config.moderation.block_terms
    assert config.moderation.profanity is True
    assert config.moderation.allow_authors == config.analytics.owned_accounts


def test_filters_on_leaves_out_what_is_off() -> None:
    assert "block_patterns" not in filters_on(ModerationConfig())
    assert "hide_sensitive" not in filters_on(ModerationConfig(hide_sensitive=False))


@pytest.mark.parametrize("scorer", ["vader", "rules"])
def test_the_scorer_is_the_one_asked_for(scorer: str) -> None:
    assert bench_config(scorer).analytics.sentiment == scorer


def test_a_short_run_on_english_texts_with_a_store_that_holds_history(tmp_path: Path) -> None:
    result = run_ingest_bench(
        posts=400, batch=20, data_dir=tmp_path, scorer="vader", history_s=1800.0
    )
    assert result["batch"] == 20
    assert result["scorer"] == "vader"
    assert result["english_texts"] == result["posts"] == 400
    # about a quarter of the simulator's posts are not English: they are left out and counted
    assert result["skipped"] > 20
    assert result["history_posts"] > 0
    assert result["stored_before"] == result["history_posts"]
    assert result["stored_posts"] > result["stored_before"]
    # the pipeline scores with VADER on the same texts and does more besides: it cannot be faster
    assert 0.0 < result["ratio"] < 1.0
    for key in ("pipeline_posts_per_s", "vader_posts_per_s", "scorer_posts_per_s"):
        assert result[key] > 0, key


def test_an_empty_store_on_request(tmp_path: Path) -> None:
    result = run_ingest_bench(posts=40, batch=1, data_dir=tmp_path, history_s=0.0)
    assert result["history_posts"] == result["stored_before"] == 0
    assert result["batch"] == 1


def test_a_batch_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="batch"):
        run_ingest_bench(posts=10, batch=0, data_dir=tmp_path)


def test_only_english_posts_are_timed(tmp_path: Path) -> None:
    result = run_ingest_bench(posts=300, batch=20, data_dir=tmp_path, history_s=1800.0)
    store = SqliteStore(tmp_path / "bench.sqlite3")
    try:
        posts = list(store.iter_posts())
    finally:
        store.close()
    timed = [p for p in posts if p.feed == "live"]
    history = [p for p in posts if p.feed != "live"]
    assert len(timed) == result["posts"]
    assert all(english_scorable(p.text, p.lang) for p in timed)
    # the history is a real day: every language, so the filter above is not vacuous
    assert not all(english_scorable(p.text, p.lang) for p in history)

"""The soak benchmark, shortened: simulated days on a fake clock with retention pruning, RSS read
after each and held to the benchmark's limit; the real-time soak briefly, and its slope."""

from __future__ import annotations

import logging
import re

import pytest
from pytestqt.qtbot import QtBot

from agora.bench.soak import run_realtime_soak, run_soak, slope_per_hour

#: The accelerated soak's limit: RSS after the last day within 10 % of RSS after the first.
RATIO_LIMIT = 1.10


@pytest.mark.slow
def test_a_short_soak_prunes_and_its_memory_stays_flat(qtbot: QtBot) -> None:
    days: list[int] = []
    # three simulated days at a low rate and a one-day retention: the last two prune as much
    # as they add, as the ten-day benchmark does past the demo's seven
    result = run_soak(
        3.0,
        rate_per_min=4.0,
        step_minutes=10,
        retention_s=86_400.0,
        on_day=lambda day, _rss: days.append(day),
    )
    assert days == [1, 2, 3]
    assert result["posts"] > 3 * 1440 * 2  # about four a minute for three days
    assert result["retention_days"] == 1.0
    assert result["pruned"] > 1440  # more than a day's posts went
    assert result["stored_posts_end"] < result["posts"]
    assert result["ratio_day7_day1"] is None  # no day 7 in a three-day run
    assert result["ratio_last_day1"] <= RATIO_LIMIT, result["rss_mb_by_day"]


def test_the_slope_is_least_squares_per_hour() -> None:
    # a straight line of 2 MB an hour, sampled each minute for half an hour
    line = [(60.0 * m, 300.0 + 2.0 * m / 60.0) for m in range(31)]
    assert slope_per_hour(line) == pytest.approx(2.0)
    # flat with one high last sample: 10 MB at minute 4 of samples 0..4 is 120 MB/h by least
    # squares (by hand: Sxy = 120 s x 8 MB + 240 = 1200, Sxx = 36000 s^2), not 150 end to end
    spike = [(0.0, 0.0), (60.0, 0.0), (120.0, 0.0), (180.0, 0.0), (240.0, 10.0)]
    assert slope_per_hour(spike) == pytest.approx(120.0)
    # noise around a flat line gives about nothing
    zigzag = [(60.0 * m, 250.0 + (0.5 if m % 2 else -0.5)) for m in range(60)]
    assert abs(slope_per_hour(zigzag) or 0.0) < 0.1
    assert slope_per_hour([(0.0, 1.0)]) is None
    assert slope_per_hour([(5.0, 1.0), (5.0, 2.0)]) is None


def test_the_realtime_soak_needs_minutes() -> None:
    with pytest.raises(ValueError, match="minutes"):
        run_realtime_soak(0.0)


@pytest.mark.slow
def test_a_brief_realtime_soak_samples_rss_and_gives_a_slope(qtbot: QtBot) -> None:
    seen: list[float] = []
    result = run_realtime_soak(
        0.15,
        sample_s=2.0,
        warmup_minutes=0.0,
        history_s=600.0,
        on_sample=lambda minute, _rss: seen.append(minute),
    )
    assert len(result["rss_mb"]) == len(seen) >= 4  # one at the start, then every 2 s
    assert seen == sorted(seen)
    assert result["samples_after_warmup"] == len(seen)
    assert isinstance(result["slope_mb_per_hour"], float)
    assert result["windows"] >= 1
    assert result["posts_ingested"] > 0
    assert result["minutes"] >= 0.1
    assert all(rss > 0 for _minute, rss in result["rss_mb"])


@pytest.mark.slow
def test_a_realtime_soak_can_start_with_its_figures_full(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    # --prefill: minutes of the live stream at its rate go into the store before the wall
    # starts, and the engine reads them back into its figures (the figures are bounded by
    # counts and fill in the first hour at 20 posts a second)
    caplog.set_level(logging.INFO, logger="agora.engine")
    result = run_realtime_soak(
        0.1,
        rate_per_s=20.0,
        sample_s=1.0,
        warmup_minutes=0.0,
        history_s=300.0,
        prefill_minutes=2.0,
    )
    assert result["prefill_minutes"] == 2.0
    assert 1_800 <= result["prefill_posts"] <= 3_600  # about 20 a second for two minutes
    assert result["history_posts"] > 0
    loaded = [
        int(m.group(1))
        for r in caplog.records
        if (m := re.match(r"loaded (\d+) stored posts back", r.getMessage()))
    ]
    # read back once, all of them (a post both sources made the same is stored once)
    assert len(loaded) == 1
    assert loaded[0] >= 0.95 * (result["prefill_posts"] + result["history_posts"])


def test_a_realtime_soak_with_no_live_posts_only_animates(qtbot: QtBot) -> None:
    with pytest.raises(ValueError, match="negative"):
        run_realtime_soak(1.0, rate_per_s=-1.0)

"""The soak benchmark, shortened: simulated days on a fake clock, RSS read after each."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from agora.bench.soak import run_soak


@pytest.mark.slow
def test_a_short_soak_reports_rss_per_day(qtbot: QtBot) -> None:
    days: list[int] = []
    # two simulated days at a low rate: every figure the full soak prints, in seconds
    result = run_soak(
        2.0, rate_per_min=4.0, step_minutes=10, on_day=lambda day, _rss: days.append(day)
    )
    assert days == [1, 2]
    assert len(result["rss_mb_by_day"]) == 2
    assert all(rss > 0 for rss in result["rss_mb_by_day"])
    assert result["ratio_day7_day1"] == pytest.approx(
        result["rss_mb_by_day"][-1] / result["rss_mb_by_day"][0], abs=1e-3
    )
    assert result["posts"] > 2 * 1440 * 2  # about four a minute for two days

"""``agora bench render``, short: the figures are there and plausible (never timing targets, which
would flake on a busy machine), the timing hooks are removed afterwards, and the command drives six
screens."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from agora.bench.render import LAYOUT, bench_config, format_report, percentile, run_render_bench
from agora.config.loader import load_config
from agora.ui import perf

DEMO = Path(__file__).resolve().parents[2] / "agora" / "assets" / "demo.toml"
HEADLINE = ("cpu_percent", "tick_p50_ms", "tick_p95_ms", "frame_p95_ms", "peak_rss_mb")


def test_bench_config_repeats_the_demo_screens_over_six_outputs() -> None:
    demo = load_config(DEMO).config
    config = bench_config(demo, live_rate_per_min=1200.0)
    assert [s.output for s in config.screens] == [0, 1, 2, 3, 4, 5]
    for screen, source in zip(config.screens, LAYOUT, strict=True):
        assert screen.pages == demo.screens[source].pages
    (live,) = config.sources
    assert live.kind == "simulator"
    assert live.rate == 1200.0
    assert live.backfill == 0.0


def test_percentile() -> None:
    assert math.isnan(percentile([], 95))
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([10.0] * 19 + [1000.0], 95) < 1000.0


def test_a_short_run_reports_every_figure(qtbot: QtBot, tmp_path: Path) -> None:
    # in-process: the test's Qt application (one offscreen screen) hosts every configured
    # screen's pages, as the wall does when screens are missing
    result = run_render_bench(
        seconds=2.0, rate_per_s=20.0, history_s=600.0, settle_s=0.5, data_dir=tmp_path
    )
    json.dumps(result)  # one JSON object
    for key in HEADLINE:
        assert isinstance(result[key], float), key
        assert result[key] >= 0.0, key
    assert 0.0 < result["cpu_percent"] < 400.0
    assert result["tick_p50_ms"] <= result["tick_p95_ms"] <= result["tick_max_ms"]
    assert result["ticks"] >= 4  # a 250 ms tick over 2 s
    assert result["frames"] > 0  # the ticker crawls on the Overview page
    assert "ticker" in result["frames_by_kind"]
    assert result["windows"] >= 1
    assert result["posts_per_s"] > 0.0
    assert result["history_posts"] > 0
    assert result["peak_rss_mb"] >= result["rss_mb_end"] * 0.5
    assert perf.active() is None  # the hooks are gone: the wall pays nothing for them again
    report = format_report(result)
    assert "cpu_percent" in report
    assert "target" in report


@pytest.mark.slow
def test_the_command_drives_six_screens_and_prints_json(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "agora", "bench", "render"]
    command += ["--seconds", "1", "--history", "10m", "--json", "--data-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["windows"] == 6
    assert len(result["screens"]) == 6
    assert any(screen.endswith("3840x2160@2") for screen in result["screens"])
    for key in HEADLINE:
        assert key in result

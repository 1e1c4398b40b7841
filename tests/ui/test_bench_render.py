"""``agora bench render``, short: the figures are there and plausible (never timing targets, which
would flake on a busy machine), the timing hooks are removed afterwards, and the command drives six
screens. And the rendering economies the figures rely on keep the wall right: a tick over its
budget leaves screens for the next tick without starving any, the paced river still shows every
change (a hidden post at once), large text drawn from a picture looks the same."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QObject, QPoint
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from pytestqt.qtbot import QtBot

from agora.bench.render import (
    LAYOUT,
    SCREENS_FILE,
    bench_config,
    format_report,
    offscreen_platform,
    per_kind_p95,
    percentile,
    run_render_bench,
)
from agora.config.loader import load_config
from agora.config.schema import PanelConfig
from agora.core.post import Moderation
from agora.engine import Engine, build_pipeline
from agora.store.memory import MemoryStore
from agora.ui import app as wall_app
from agora.ui import perf, widgets
from agora.ui.app import Wall
from agora.ui.panels import PanelContext
from agora.ui.panels.posts import RiverPanel
from agora.ui.theme import theme_for

from .conftest import NOW, UI_CONFIG, make_post, sample_posts

DEMO = Path(__file__).resolve().parents[2] / "agora" / "assets" / "demo.toml"
HEADLINE = ("cpu_percent", "tick_p50_ms", "tick_p95_ms", "frame_p95_ms", "peak_rss_mb")
KINDS = ("carousel", "river", "ticker", "page", perf.DATA)


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


def test_the_screens_ratio_becomes_its_scale_factor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # set first so that the value the benchmark writes is undone after the test (a variable
    # that was never set is not restored by delenv, and would reach later subprocesses)
    monkeypatch.setenv("QT_SCREEN_SCALE_FACTORS", "")
    monkeypatch.delenv("QT_SCREEN_SCALE_FACTORS")
    argv = offscreen_platform(SCREENS_FILE, tmp_path)
    # the offscreen platform would report ratio 2 and paint the 4K window at 1: the ratio is
    # Qt's scale factor for that screen instead, and 1 in the platform's own file
    assert os.environ["QT_SCREEN_SCALE_FACTORS"] == "HDMI-6=2"
    assert argv[0] == "-platform"
    copy = Path(argv[1].split("configfile=", 1)[1])
    assert copy.parent == tmp_path
    screens = json.loads(copy.read_text())["screens"]
    assert [s["dpr"] for s in screens] == [1] * 6
    assert screens[5]["width"] == 3840


def test_scale_factors_the_caller_set_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_SCREEN_SCALE_FACTORS", "HDMI-6=1.5")
    argv = offscreen_platform(SCREENS_FILE, tmp_path)
    assert os.environ["QT_SCREEN_SCALE_FACTORS"] == "HDMI-6=1.5"
    assert argv == ["-platform", f"offscreen:configfile={SCREENS_FILE}"]


def test_a_data_frame_is_the_refresh_and_its_repaint(qtbot: QtBot) -> None:
    window, other = QObject(), QObject()
    probe = perf.RenderProbe()
    probe.refresh("share", 0.004, window)
    probe.refresh("volume", 0.002, window)
    probe.paint(window, 0.006)
    assert probe.frames_by_kind[perf.DATA] == pytest.approx([12.0])
    probe.refresh("share", 0.004)  # no window: counted as a refresh, not as a frame
    probe.paint(other, 0.003)
    assert probe.other_paints == pytest.approx([3.0])
    assert probe.refreshes_by_kind["share"] == pytest.approx([4.0, 4.0])
    # a page turn refreshes the new page inside its own time: a page frame, not a data frame
    probe.refresh("river", 0.010, window)
    probe.turn(window, 0.030)
    probe.paint(window, 0.005)
    assert probe.frames_by_kind["page"] == pytest.approx([35.0])
    assert len(probe.frames_by_kind[perf.DATA]) == 1
    # a frame that moves the ticker and shows new data costs both kinds their whole frame
    probe.step(window, "ticker", 0.001)
    probe.refresh("ticker", 0.008, window)
    probe.paint(window, 0.003)
    assert probe.frames_by_kind["ticker"] == pytest.approx([12.0])
    assert probe.frames_by_kind[perf.DATA][-1] == pytest.approx(12.0)


def test_the_worst_kind_is_the_frame_figure() -> None:
    frames = {"ticker": [5.0] * 100, "carousel": [5.0] * 50 + [30.0] * 50, "river": []}
    per_kind = per_kind_p95(frames)
    assert set(per_kind) == {"ticker", "carousel"}  # a kind without frames has no p95
    assert per_kind["ticker"] == 5.0
    assert per_kind["carousel"] == 30.0


def test_a_short_run_reports_every_figure(qtbot: QtBot, tmp_path: Path) -> None:
    # in-process: the test's Qt application (one offscreen screen) hosts every configured
    # screen's pages, as the wall does when screens are missing
    # 4 s: on a busy machine (two cores shared with other work) the first second can go to
    # building six screens; the figures below only ask that each kind of work happened
    result = run_render_bench(
        seconds=4.0, rate_per_s=20.0, history_s=600.0, settle_s=0.5, data_dir=tmp_path
    )
    json.dumps(result)  # one JSON object
    for key in HEADLINE:
        assert isinstance(result[key], float), key
        assert result[key] >= 0.0, key
    assert 0.0 < result["cpu_percent"] < 400.0
    assert result["tick_p50_ms"] <= result["tick_p95_ms"] <= result["tick_max_ms"]
    assert result["ticks"] >= 2  # a 250 ms tick: 16 over 4 s on an idle machine
    assert result["frames"] > 0  # the ticker crawls on the Overview page
    assert "ticker" in result["frames_by_kind"]
    assert set(result["per_kind"]) <= set(KINDS)
    assert {"ticker", perf.DATA} <= set(result["per_kind"])  # new data shows within 4 s
    # one kind's p95 is the frame figure: no pooling of cheap frames with dear ones
    assert result["frame_p95_ms"] in result["per_kind"].values()
    assert all(p95 <= result["frame_p95_ms"] for p95 in result["per_kind"].values())
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
    # read back from the windows: the 4K one really paints at ratio 2, the others at 1
    assert sorted(result["window_dpr"].values()) == [1.0] * 5 + [2.0]
    for key in (*HEADLINE, "per_kind"):
        assert key in result


# -- the economies keep the wall right ---------------------------------------------------------


def test_a_tick_over_budget_leaves_screens_for_the_next_tick(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_config(DEMO)
    engine = Engine(bench_config(loaded.config, 60.0), MemoryStore(), config_dir=loaded.config_dir)
    engine.ingest_now(sample_posts(100))
    engine.publish(force=True)
    wall = Wall(engine, windowed=True, window_size=(640, 360))
    try:
        windows = list(wall.windows.values())
        assert len(windows) == 6
        wall.tick()  # a window that has nothing yet always gets the snapshot
        assert all(w.last_snapshot is engine.snapshot for w in windows)
        monkeypatch.setattr(wall_app, "TICK_BUDGET_MS", 0.0)
        new = engine.publish(force=True)
        served = []
        for _ in range(len(windows)):
            wall.tick()
            served.append(sum(w.last_snapshot is new for w in windows))
        assert served == [1, 2, 3, 4, 5, 6]  # one more each tick: nobody starves
    finally:
        wall.close()
        engine.close()


def river_panel(qtbot: QtBot) -> RiverPanel:
    theme = theme_for("dark").scaled(1920, 1080)
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW)
    panel = RiverPanel(PanelConfig(kind="river"), context)
    qtbot.addWidget(panel)
    panel.resize(960, 1000)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_the_paced_river_shows_a_change_after_its_interval(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RiverPanel, "min_interval_s", 0.3)
    river = river_panel(qtbot)
    pipeline = build_pipeline(UI_CONFIG, None)
    posts = sample_posts(40, seed=4)
    pipeline.ingest(posts, now=NOW)
    river.apply(pipeline.aggregates.snapshot(NOW))
    first = river.cards[0].post_id
    newest = make_post("Lumen, the newest post of all", at=NOW + timedelta(seconds=1))
    pipeline.ingest([newest], now=NOW + timedelta(seconds=1))
    river.apply(pipeline.aggregates.snapshot(NOW + timedelta(seconds=0.1)))
    assert river.cards[0].post_id == first  # too soon: it waits for its turn
    qtbot.waitUntil(lambda: river.cards[0].post_id == newest.id, timeout=60_000)


def test_the_paced_river_drops_a_hidden_post_at_once(qtbot: QtBot) -> None:
    river = river_panel(qtbot)
    pipeline = build_pipeline(UI_CONFIG, None)
    pipeline.ingest(sample_posts(40, seed=5), now=NOW)
    river.apply(pipeline.aggregates.snapshot(NOW))
    shown = river.cards[0].post_id
    assert shown is not None
    pipeline.aggregates.set_moderation(shown, Moderation("hidden", ("hidden at the wall",)))
    river.apply(pipeline.aggregates.snapshot(NOW + timedelta(seconds=0.1)))
    assert shown not in [card.post_id for card in river.cards if card.isVisibleTo(river)]


def picture_of(widget: widgets.TextBlock, ratio: float) -> np.ndarray:
    pixmap = QPixmap(round(widget.width() * ratio), round(widget.height() * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(QColor("#101418"))
    painter = QPainter(pixmap)
    widget.render(painter, QPoint(0, 0))
    painter.end()
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(image.constBits(), dtype=np.uint8)
    return data.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, : image.width(), :3]


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_large_text_drawn_from_its_picture_looks_the_same(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, ratio: float
) -> None:
    block = widgets.TextBlock()
    qtbot.addWidget(block)
    block.setFont(theme_for("dark").scaled(1920, 1080).font(72))
    block.setColor(QColor("#F2F4F8"))
    block.setText("The Halcyon app got a firmware update overnight. Pickup was at 12:00 😀")
    block.resize(900, 420)
    cached = picture_of(block, ratio).astype(int)
    assert block._picture is not None  # the large text really came from its picture
    monkeypatch.setattr(widgets, "CACHED_GLYPH_LIMIT", 10**6)
    direct = picture_of(block, ratio).astype(int)
    assert block._picture is None
    differing = (np.abs(cached - direct).sum(axis=2) > 48).mean()
    assert differing < 0.002

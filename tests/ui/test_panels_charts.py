"""The chart panels (volume, sentiment, share) and the chart helpers they share: real snapshots,
empty states, in-place updates, the figures they show, and renders to look at."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from agora.config.schema import PanelConfig
from agora.core.snapshot import Alert, Snapshot
from agora.ui.charts import (
    StableMax,
    bucket_minutes,
    nice_ceiling,
    percentages,
    resample,
    signed,
    time_window,
    wall_plot,
    window_phrase,
)
from agora.ui.panels import PanelContext
from agora.ui.panels.base import Panel
from agora.ui.panels.sentiment import SentimentPanel, hourly_net
from agora.ui.panels.share import SharePanel
from agora.ui.panels.volume import VolumePanel
from agora.ui.theme import theme_for

from .conftest import NOW, UI_CONFIG, make_post, sample_posts

Build = Callable[..., Snapshot]
Spec = Callable[..., PanelConfig]

SIZES = ((960, 540), (1920, 1080), (620, 460))


def make(
    qtbot: QtBot,
    cls: type[Panel],
    spec: PanelConfig,
    size: tuple[int, int] = (960, 540),
    screen: tuple[int, int] = (1920, 1080),
) -> Panel:
    theme = theme_for("dark").scaled(*screen)
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW)
    panel = cls(spec, context)
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def save(panel: Panel, path: Path) -> None:
    """Let pending layout requests run (as the event loop would), then render to PNG. A layout
    request can post its parent's, so a few rounds settle nested layouts."""
    for _round in range(4):
        QApplication.processEvents()
    assert panel.grab().save(str(path))


def texts(panel: Panel) -> str:
    return "\n".join(label.text() for label in panel.findChildren(QLabel) if label.isVisible())


@pytest.fixture
def real(snapshot_of: Build) -> Snapshot:
    return snapshot_of(sample_posts())


def with_spike(snapshot: Snapshot, minutes_ago: int = 30, topic: str | None = "brand") -> Snapshot:
    alert = Alert(
        "volume-spike",
        topic,
        NOW - timedelta(minutes=minutes_ago),
        "Lumen: 9 mentions/min, usually 1.0",
        value=9.0,
        baseline=1.0,
    )
    return dataclasses.replace(snapshot, alerts=(alert,), version=snapshot.version + 1)


# -- helpers ----------------------------------------------------------------------------------------


def test_resample_sums_groups_aligned_to_the_newest_value() -> None:
    assert resample([1, 2, 3, 4, 5, 6, 7], 3).tolist() == [9.0, 18.0]
    assert resample([1, 1], 5).tolist() == []
    assert resample(np.ones(1440), 15).shape == (96,)


def test_time_window_covers_the_range_in_whole_buckets() -> None:
    start = NOW - timedelta(minutes=1439)
    hour = time_window(start, 60, 1440, 3600)
    assert hour.factor == bucket_minutes(3600) == 2
    assert hour.count == 60 and hour.first == 1380 and len(hour.x) == 30
    day = time_window(start, 60, 1440, 86400)
    assert day.factor == 15 and day.count == 1440 and len(day.x) == 96
    assert np.all(np.diff(day.x) == 900)


def test_stable_max_grows_at_once_and_shrinks_only_when_far_below() -> None:
    top = StableMax()
    assert top.update(7) == 10
    assert top.update(8) == 10  # no jitter for small changes
    assert top.update(5) == 10
    assert top.update(30) == 50
    assert top.update(23) == 50
    assert top.update(9.5) == 20  # well below: back to a closer round number
    assert top.update(5) == 10
    assert nice_ceiling(0) == 1 and nice_ceiling(2.1) == 2.5 and nice_ceiling(101) == 200


def test_percentages_add_up_to_100() -> None:
    assert sum(percentages([1, 1, 1])) == 100
    assert percentages([2, 1, 0]) == [67, 33, 0]
    assert percentages([0, 0]) == [0, 0]
    assert signed(41.6) == "+42" and signed(-17.2) == "\u221217" and signed(None) == "—"
    assert window_phrase(3600) == "the last hour" and window_phrase(86400) == "the last 24 hours"


def test_wall_plot_is_not_interactive(qtbot: QtBot) -> None:
    plot = wall_plot(theme_for("dark"))
    qtbot.addWidget(plot)
    vb = plot.getPlotItem().getViewBox()
    assert vb.state["mouseEnabled"] == [False, False]
    assert vb.state["autoRange"] == [False, False]
    assert not plot.isInteractive()
    assert plot.getPlotItem().ctrlMenu is None or not plot.getPlotItem().menuEnabled()


def test_hourly_net_from_per_minute_counts() -> None:
    pos = [0] * 1440
    neg = [0] * 1440
    neu = [0] * 1440
    pos[-1] = 3  # newest hour: 3 positive, 1 negative → +50
    neg[-2] = 1
    neg[0] = 2  # oldest hour: negative only → −100
    net = hourly_net({"positive": pos, "neutral": neu, "negative": neg}, 60)
    assert len(net) == 24
    assert net[-1] == pytest.approx(50.0)
    assert net[0] == pytest.approx(-100.0)
    assert np.isnan(net[5])


# -- volume -----------------------------------------------------------------------------------------


def test_volume_draws_topics_in_place(
    qtbot: QtBot, real: Snapshot, panel_spec: Spec, render_dir: Path
) -> None:
    panel = make(qtbot, VolumePanel, panel_spec("volume"))
    assert isinstance(panel, VolumePanel)
    assert panel.apply(real)
    assert not panel.showing_empty
    assert not panel.apply(real)  # same data: nothing redrawn
    items = panel.plot.getPlotItem().items[:]
    curves = dict(panel.curves)
    brand = panel.curves["brand"]
    x, y = brand.getData()
    assert x is not None and y is not None and len(x) == 30
    hour = panel.window_s()
    assert hour == 3600
    # what the brand line shows is the brand's per-minute series over the hour
    assert float(np.sum(y)) == float(sum(real.volume.by_topic["brand"][-60:]))
    assert "Lumen" in panel.legend.text()
    # ymin 0, ymax a round number above the data
    (_x0, _x1), (y0, y1) = panel.plot.getPlotItem().getViewBox().viewRange()
    assert y0 == 0 and y1 >= max(float(np.max(c.getData()[1])) for c in curves.values())
    newer = dataclasses.replace(real, version=real.version + 1, alerts=())
    later = with_spike(newer)
    assert panel.apply(later)
    assert panel.curves == curves and all(
        a is b for a, b in zip(panel.curves.values(), curves.values(), strict=True)
    )
    assert panel.plot.getPlotItem().items == items  # no item added or removed
    sx, _sy = panel.spike_lines.getData()
    assert sx is not None and len(sx) == 2
    assert "Spike" in panel.legend.text()
    for w, h in SIZES[:2]:
        panel.resize(w, h)
        save(panel, render_dir / f"charts-volume-{w}x{h}.png")


def test_volume_by_sentiment_stacks_areas(
    qtbot: QtBot, real: Snapshot, panel_spec: Spec, render_dir: Path
) -> None:
    panel = make(qtbot, VolumePanel, panel_spec("volume", by="sentiment"))
    assert isinstance(panel, VolumePanel)
    assert panel.apply(real)
    assert set(panel.curves) == {"positive", "neutral", "negative", "unscored"}
    top = panel.curves["unscored"].getData()[1]
    assert top is not None
    # the top of the stack is every post in the hour
    assert float(np.sum(top)) == float(sum(real.volume.total[-60:]))
    assert "Positive" in panel.legend.text()
    save(panel, render_dir / "charts-volume-sentiment-960x540.png")


def test_volume_24h_and_spikes(
    qtbot: QtBot, real: Snapshot, panel_spec: Spec, render_dir: Path
) -> None:
    panel = make(qtbot, VolumePanel, panel_spec("volume", window="24h"), (1920, 1080))
    assert isinstance(panel, VolumePanel)
    assert panel.apply(with_spike(real, minutes_ago=200))
    x, y = panel.curves["brand"].getData()
    assert x is not None and y is not None and len(x) == 96
    assert float(np.sum(y)) == float(sum(real.volume.by_topic["brand"]))
    (x0, x1), _ = panel.plot.getPlotItem().getViewBox().viewRange()
    assert x1 - x0 == pytest.approx(86400)
    assert panel.spike_dots.getData()[0].size == 1
    assert "MENTIONS" in (panel.title_label.text() if panel.title_label else "")
    save(panel, render_dir / "charts-volume-24h-1920x1080.png")
    panel.resize(960, 540)
    save(panel, render_dir / "charts-volume-24h-960x540.png")


def test_volume_by_source(qtbot: QtBot, real: Snapshot, panel_spec: Spec) -> None:
    panel = make(qtbot, VolumePanel, panel_spec("volume", by="source", window="24h"))
    assert isinstance(panel, VolumePanel)
    assert panel.apply(real)
    assert 1 <= sum(c.isVisible() for c in panel.curves.values()) <= 6


@pytest.mark.parametrize(("window", "sentence"), [("1h", "last hour"), ("24h", "last 24 hours")])
def test_volume_empty(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec, window: str, sentence: str
) -> None:
    panel = make(qtbot, VolumePanel, panel_spec("volume", window=window))
    assert panel.apply(snapshot_of([]))
    assert panel.showing_empty
    assert panel._empty.text() == f"No mentions in the {sentence}"


def test_volume_y_axis_does_not_jitter(qtbot: QtBot, real: Snapshot, panel_spec: Spec) -> None:
    panel = make(qtbot, VolumePanel, panel_spec("volume"))
    assert isinstance(panel, VolumePanel)
    panel.apply(real)
    first = panel.plot.getPlotItem().getViewBox().viewRange()[1]
    # one more post in the newest minute: the axis top stays where it was
    extra = dataclasses.replace(
        real.volume,
        total=(*real.volume.total[:-1], real.volume.total[-1] + 1),
        by_topic={
            k: (*v[:-1], v[-1] + (1 if k == "brand" else 0))
            for k, v in real.volume.by_topic.items()
        },
    )
    assert panel.apply(dataclasses.replace(real, volume=extra, version=real.version + 1))
    assert panel.plot.getPlotItem().getViewBox().viewRange()[1] == first


# -- sentiment --------------------------------------------------------------------------------------


def test_sentiment_shows_net_split_and_trend(
    qtbot: QtBot, real: Snapshot, snapshot_of: Build, panel_spec: Spec, render_dir: Path
) -> None:
    panel = make(qtbot, SentimentPanel, panel_spec("sentiment"))
    assert isinstance(panel, SentimentPanel)
    assert panel.apply(real)
    assert not panel.apply(real)
    summary = real.summary(3600).sentiment
    assert summary.net is not None
    assert panel.number.text() == signed(summary.net)
    assert panel.number.text().lstrip("+\u2212") == str(abs(round(summary.net)))
    assert sum(panel.split.percents) == 100
    assert f"{summary.scored:,} posts scored".replace(",", "\u2009") in texts(panel)
    assert ("left out" in panel.counts_text()) == (summary.unscored > 0)
    line = panel.trend_line
    x, _y = line.getData()
    assert x is not None and len(x) == 24
    items = panel.trend.getPlotItem().items[:]
    assert not panel.apply(with_spike(real))  # new version, same figures: no redraw
    more = snapshot_of([*sample_posts(), make_post("Lumen is wonderful, love it", at=NOW)])
    assert panel.apply(more)
    assert panel.trend_line is line and panel.trend.getPlotItem().items == items
    for w, h in SIZES:
        panel.resize(w, h)
        save(panel, render_dir / f"charts-sentiment-{w}x{h}.png")


def test_sentiment_counts_unscored_posts(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec, render_dir: Path
) -> None:
    posts = [
        make_post("Lumen is wonderful, I love it", at=NOW - timedelta(minutes=5)),
        make_post("Lumen battery is terrible, awful", at=NOW - timedelta(minutes=6)),
        make_post("Lumen on paras puhelin ikinä", at=NOW - timedelta(minutes=7), lang="fi"),
        make_post("Lumen ist das schlechteste Telefon", at=NOW - timedelta(minutes=8), lang="de"),
    ]
    snapshot = snapshot_of(posts)
    summary = snapshot.summary(3600).sentiment
    panel = make(qtbot, SentimentPanel, panel_spec("sentiment"))
    assert isinstance(panel, SentimentPanel)
    panel.apply(snapshot)
    assert summary.unscored == 2
    assert panel.counts_text() == "2 posts scored · 2 in other languages left out"
    panel.resize(960, 540)
    assert panel.counts.text() == panel.counts_text() and panel.left_out.isHidden()
    panel.resize(420, 540)  # narrow: two lines, no word cut
    assert panel.counts.text() == "2 posts scored"
    assert panel.left_out.text() == "2 in other languages left out"
    save(panel, render_dir / "charts-sentiment-unscored-960x540.png")


def test_sentiment_empty(qtbot: QtBot, snapshot_of: Build, panel_spec: Spec) -> None:
    panel = make(qtbot, SentimentPanel, panel_spec("sentiment"))
    assert panel.apply(snapshot_of([]))
    assert panel.showing_empty
    assert panel._empty.text() == "No scored mentions in the last hour"


# -- share ------------------------------------------------------------------------------------------


def test_share_bars_follow_topic_order_and_add_up(
    qtbot: QtBot, real: Snapshot, snapshot_of: Build, panel_spec: Spec, render_dir: Path
) -> None:
    panel = make(qtbot, SharePanel, panel_spec("share"))
    assert isinstance(panel, SharePanel)
    assert panel.apply(real)
    assert not panel.apply(real)
    rows = panel.bars.rows
    assert [r.key for r in rows] == list(real.topics)  # brand first, config order
    assert rows[0].emphasis
    assert sum(r.percent for r in rows) == 100
    shares = real.summary(86400).share_of_voice
    for row in rows:
        assert abs(row.percent - shares[row.key] * 100) < 1
        assert row.count == real.summary(86400).share_counts[row.key]
    bars = panel.bars
    assert not panel.apply(dataclasses.replace(real, version=real.version + 1))
    assert panel.apply(snapshot_of([*sample_posts(), make_post("Corvid again", at=NOW)]))
    assert panel.bars is bars and panel.bars.rows[1].count == rows[1].count + 1
    for w, h in SIZES:
        panel.resize(w, h)
        save(panel, render_dir / f"charts-share-{w}x{h}.png")


def test_share_one_hour_and_subset(qtbot: QtBot, real: Snapshot, panel_spec: Spec) -> None:
    panel = make(qtbot, SharePanel, panel_spec("share", window="1h", topics=["brand", "rival"]))
    assert isinstance(panel, SharePanel)
    assert panel.apply(real)
    assert [r.key for r in panel.bars.rows] == ["brand", "rival"]
    assert sum(r.percent for r in panel.bars.rows) == 100


def test_share_empty_draws_no_bars(qtbot: QtBot, snapshot_of: Build, panel_spec: Spec) -> None:
    panel = make(qtbot, SharePanel, panel_spec("share"))
    assert isinstance(panel, SharePanel)
    assert panel.apply(snapshot_of([]))
    assert panel.showing_empty
    assert panel._empty.text() == "No mentions of the tracked topics yet"
    assert panel.bars.rows == ()


# -- all three, on a 4K screen --------------------------------------------------------------------


@pytest.mark.parametrize("cls", [VolumePanel, SentimentPanel, SharePanel])
def test_chart_panels_on_a_4k_screen(
    qtbot: QtBot, cls: type[Panel], real: Snapshot, panel_spec: Spec, render_dir: Path
) -> None:
    panel = make(qtbot, cls, panel_spec(cls.kind), (1280, 1080), screen=(3840, 2160))
    assert panel.apply(real)
    save(panel, render_dir / f"charts-4k-{cls.kind}.png")


def test_volume_legend_drops_counts_before_names_when_narrow(
    qtbot: QtBot, real: Snapshot, panel_spec: Spec
) -> None:
    panel = make(qtbot, VolumePanel, panel_spec("volume"), size=(1400, 540))
    assert isinstance(panel, VolumePanel)
    panel.apply(real)
    wide = panel.legend.text()
    assert any(ch.isdigit() for ch in wide)  # "Lumen 12 · Corvid 5 …"
    assert panel.legend.width_for({}) == panel.legend.needed_width()  # the measure agrees
    panel.resize(430, 540)
    qtbot.waitUntil(lambda: panel.legend.text() != wide, timeout=60_000)
    narrow = panel.legend.text()
    assert not any(ch.isdigit() for ch in narrow)  # counts went, every name stayed
    names = [real.topics[k] for k in real.topics]
    assert all(name in narrow for name in names)

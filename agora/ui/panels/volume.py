"""The ``volume`` panel: mentions over time, per topic (lines) or per sentiment (stacked areas).

Options: ``window`` (``"1h"`` default, ``"24h"``…; ``range`` is read as a synonym when the schema
has it), ``by`` = ``"topic"`` (default), ``"sentiment"`` or ``"source"`` (``split`` is read as a
synonym). Spikes (alerts whose kind contains ``spike``) that started inside the range are marked
with a dashed vertical line and a dot. Every chart item is created once and updated with
``setData``; the y axis starts at 0 and its top only moves between round numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from agora.config.schema import PanelConfig
from agora.core.snapshot import Alert, Snapshot, VolumeSeries
from agora.ui.charts import (
    LegendRow,
    StableMax,
    TimeWindow,
    bucket_minutes,
    clear_curve,
    compact_count,
    panel_window,
    short_window,
    split_mode,
    time_window,
    topic_qcolor,
    update_curve,
    wall_plot,
    window_phrase,
    windowed,
)
from agora.ui.panels.base import Panel, PanelContext
from agora.ui.safetext import plain_label
from agora.ui.theme import TOPIC_PALETTE

#: Stacking order of the sentiment areas, bottom to top.
SENTIMENT_STACK = ("negative", "neutral", "positive", "unscored")
SENTIMENT_NAMES = {
    "positive": "Positive",
    "neutral": "Neutral",
    "negative": "Negative",
    "unscored": "Not scored",
}
#: At most this many sources get their own line (the busiest in the range).
MAX_SOURCES = 6
SPIKE_KEY = "__spike__"


class VolumePanel(Panel):
    """Mentions over time."""

    kind = "volume"
    empty_text = "No mentions in the last hour"
    #: A chart of an hour or a day gains a few posts between two snapshots: redrawn every five
    #: seconds it looks the same from across a lobby, at a third of the cost.
    refresh_every_s = 5.0

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        self.range_s = panel_window(spec, 3600.0)
        self.mode = split_mode(spec)
        super().__init__(spec, context, parent)
        theme = self.theme
        self._empty_sentence = f"No mentions in {window_phrase(self.range_s)}"
        self._empty.setText(self._empty_sentence)
        self._ymax = StableMax()
        self._legend_entries: dict[str, tuple[str, float, bool]] = {}

        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(8))
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(theme.px(16))
        self.legend = LegendRow(theme)
        self.caption = plain_label("")
        self.caption.setFont(theme.font("small"))
        self.caption.setStyleSheet(f"color: {theme.muted};")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.caption.setText(self._caption_for(bucket_minutes(self.range_s)))
        top.addWidget(self.legend, 1)
        top.addWidget(self.caption, 0)
        layout.addLayout(top)
        self.plot = wall_plot(theme)
        layout.addWidget(self.plot, 1)

        self.curves: dict[str, pg.PlotDataItem] = {}
        self.fills: dict[str, pg.FillBetweenItem] = {}
        self._colors: dict[str, QColor] = {}
        # an invisible baseline at 0 (a curve item: a data item without a pen keeps no path)
        self._zero = pg.PlotCurveItem(x=np.zeros(0), y=np.zeros(0), pen=pg.mkPen(None))
        self.plot.addItem(self._zero)
        if self.mode == "topic":
            for index, key in enumerate(context.wall.topics if context.wall else ()):
                if not spec.topics or key in spec.topics:
                    self._series_items(key, index)
        elif self.mode == "sentiment":
            for key in SENTIMENT_NAMES:  # legend in reading order, areas in stacking order
                self.legend.add(key, self._color_for(key, 0))
            for index, key in enumerate(SENTIMENT_STACK):
                self._series_items(key, index)
        # spike markers: one item for every vertical line (drawn in pairs), one for the dots
        alert = theme.color("alert")
        self.spike_lines = pg.PlotDataItem(
            x=np.zeros(0),
            y=np.zeros(0),
            connect="pairs",
            pen=pg.mkPen(alert, width=max(2, theme.px(3)), style=Qt.PenStyle.DashLine),
        )
        self.spike_dots = pg.ScatterPlotItem(
            size=theme.px(20),
            pen=pg.mkPen(theme.surface, width=max(2, theme.px(3))),
            brush=pg.mkBrush(alert),
            antialias=True,
        )
        self.spike_lines.setZValue(50)
        self.spike_dots.setZValue(60)
        self.plot.addItem(self.spike_lines)
        self.plot.addItem(self.spike_dots)
        self.legend.add(SPIKE_KEY, alert, dashed=True)
        self.legend.set_entry(SPIKE_KEY, "Spike", visible=False)

    @staticmethod
    def _caption_for(minutes: int) -> str:
        return f"per {minutes} min" if minutes != 1 else "per minute"

    # -- building (once per series key) ------------------------------------------------------------

    def _color_for(self, key: str, index: int) -> QColor:
        if self.mode == "sentiment":
            if key == "unscored":
                return QColor(self.theme.muted).darker(160)
            return self.theme.sentiment_color(key)
        if self.mode == "source":
            return QColor(TOPIC_PALETTE[index % len(TOPIC_PALETTE)])
        return topic_qcolor(self.theme, self.context.wall, key, index)

    def _series_items(self, key: str, index: int) -> pg.PlotDataItem:
        """The curve (and fill) of a series, created the first time the key is seen."""
        curve = self.curves.get(key)
        if curve is not None:
            return curve
        theme = self.theme
        color = self._color_for(key, index)
        self._colors[key] = color
        if self.mode == "sentiment":
            curve = pg.PlotDataItem(
                x=np.zeros(0), y=np.zeros(0), pen=pg.mkPen(color, width=max(1, theme.px(2)))
            )
            below = self.curves[SENTIMENT_STACK[index - 1]] if index > 0 else self._zero
            fill_color = QColor(color)
            fill_color.setAlpha(200)
            fill = pg.FillBetweenItem(below, curve, brush=pg.mkBrush(fill_color))
            fill.setZValue(-10 + index)
            self.plot.addItem(fill)
            self.fills[key] = fill
        else:
            curve = pg.PlotDataItem(
                x=np.zeros(0),
                y=np.zeros(0),
                pen=pg.mkPen(color, width=max(2, theme.px(4))),
                antialias=True,
                connect="finite",
            )
            curve.setZValue(20 - index)  # the brand (first) on top
            if index == 0:
                fill_color = QColor(color)
                fill_color.setAlpha(45)
                fill = pg.FillBetweenItem(self._zero, curve, brush=pg.mkBrush(fill_color))
                fill.setZValue(-10)
                self.plot.addItem(fill)
                self.fills[key] = fill
        self.plot.addItem(curve)
        self.curves[key] = curve
        self.legend.add(key, color)
        return curve

    # -- panel contract ----------------------------------------------------------------------------

    def title(self) -> str:
        return self.spec.title or f"Mentions · {short_window(self.range_s)}"

    def window_s(self, default: float | None = 3600.0) -> float | None:
        return self.range_s

    def _series(self, snapshot: Snapshot) -> Mapping[str, tuple[int, ...]]:
        volume = snapshot.volume
        if self.mode == "sentiment":
            return volume.by_sentiment
        if self.mode == "source":
            return volume.by_source
        return volume.by_topic

    def _window(self, volume: VolumeSeries) -> TimeWindow:
        return time_window(volume.start, volume.step_s, len(volume.total), self.range_s)

    def _spikes(self, snapshot: Snapshot, t0: float, t1: float) -> tuple[Alert, ...]:
        return tuple(
            a
            for a in snapshot.alerts
            if "spike" in a.kind and t0 <= a.started_at.timestamp() <= t1 + 60
        )

    def data_key(self, snapshot: Snapshot) -> object:
        volume = snapshot.volume
        window = self._window(volume)
        first = window.first
        series = self._series(snapshot)
        t0 = volume.start.timestamp() + first * volume.step_s
        t1 = volume.start.timestamp() + len(volume.total) * volume.step_s
        return (
            self.mode,
            volume.start,
            volume.step_s,
            tuple(snapshot.topics.items()),
            tuple((k, hash(v[first:])) for k, v in series.items()),
            hash(volume.total[first:]),
            tuple((a.kind, a.topic, a.started_at) for a in self._spikes(snapshot, t0, t1)),
        )

    def _keys(self, snapshot: Snapshot, window: TimeWindow) -> list[str]:
        series = self._series(snapshot)
        if self.mode == "sentiment":
            return list(SENTIMENT_STACK)
        if self.mode == "source":
            end = window.first + window.count
            busiest = sorted(series, key=lambda k: (-sum(series[k][window.first : end]), k))
            return [k for k in busiest if sum(series[k][window.first : end]) > 0][:MAX_SOURCES]
        wanted = self.spec.topics
        keys = [k for k in snapshot.topics if k in series and (not wanted or k in wanted)]
        return keys or [k for k in snapshot.topics if k in series] or list(series)

    def refresh(self, snapshot: Snapshot) -> None:
        volume = snapshot.volume
        window = self._window(volume)
        series = self._series(snapshot)
        total = windowed(volume.total, window)
        if window.count == 0 or float(total.sum()) <= 0:
            self.show_empty(self._empty_sentence)
            return
        self.show_body()
        step = volume.step_s
        t_start = volume.start.timestamp() + window.first * step
        t_end = t_start + window.count * step
        keys = self._keys(snapshot, window)
        if self.mode == "source":
            # sources get colours by first appearance and keep them
            for key in keys:
                self._series_items(key, len(self.curves))
        else:
            for index, key in enumerate(keys):
                self._series_items(key, index)
        x = window.x
        shown: dict[str, np.ndarray] = {}
        data_max = 0.0
        stacked = np.zeros(len(x), dtype=np.float64)
        for key in keys:
            values = windowed(series.get(key, ()), window) if key in series else np.zeros(len(x))
            if len(values) != len(x):
                values = np.zeros(len(x))
            if self.mode == "sentiment":
                stacked = stacked + values
                shown[key] = stacked.copy()
            else:
                shown[key] = values
            data_max = max(data_max, float(values.max(initial=0.0)))
        if self.mode == "sentiment":
            data_max = float(stacked.max(initial=0.0))
        self._zero.setData(x=x, y=np.zeros(len(x)))
        labels = snapshot.topics if self.mode == "topic" else SENTIMENT_NAMES
        legend: dict[str, tuple[str, float, bool]] = {}
        for key, curve in self.curves.items():
            if key in shown:
                update_curve(curve, x, shown[key])
                curve.setVisible(True)
                if key in self.fills:
                    self.fills[key].setVisible(True)
                raw = windowed(series.get(key, ()), window) if key in series else np.zeros(0)
                name = labels.get(key, key) if isinstance(labels, Mapping) else key
                if self.mode == "source":
                    name = key
                count = float(raw.sum())
                # "Not scored 0" says nothing; a topic with 0 mentions still gets its entry
                legend[key] = (name, count, count > 0 or key != "unscored")
            else:
                clear_curve(curve)
                curve.setVisible(False)
                if key in self.fills:
                    self.fills[key].setVisible(False)
                self.legend.set_entry(key, "", visible=False)
        self._legend_entries = legend
        ymax = self._ymax.update(data_max)
        self._mark_spikes(snapshot, shown, x=x, t0=t_start, t1=t_end, ymax=ymax)
        self.plot.getPlotItem().getViewBox().setRange(
            xRange=(t_start, t_end), yRange=(0.0, ymax), padding=0.0
        )
        caption = self._caption_for(window.factor * step // 60)
        if self.caption.text() != caption:
            self.caption.setText(caption)
        self._fit_caption(self.body.width())

    def _mark_spikes(
        self,
        snapshot: Snapshot,
        shown: Mapping[str, np.ndarray],
        *,
        x: np.ndarray,
        t0: float,
        t1: float,
        ymax: float,
    ) -> None:
        spikes = self._spikes(snapshot, t0, t1)
        if not spikes or len(x) == 0:
            self.spike_lines.setData(x=np.zeros(0), y=np.zeros(0))
            self.spike_dots.setData(x=np.zeros(0), y=np.zeros(0))
            self.legend.set_entry(SPIKE_KEY, "Spike", visible=False)
            return
        xs: list[float] = []
        dots_x: list[float] = []
        dots_y: list[float] = []
        seen: set[int] = set()
        for alert in spikes:
            t = alert.started_at.timestamp()
            i = int(np.clip(np.searchsorted(x, t), 0, len(x) - 1))
            if i in seen:
                continue
            seen.add(i)
            values = self._spike_values(alert, shown)
            y = float(values[i]) if values is not None and len(values) > i else ymax * 0.9
            xs.extend((float(x[i]), float(x[i])))
            dots_x.append(float(x[i]))
            dots_y.append(min(y, ymax))
        ys = [0.0, ymax] * (len(xs) // 2)
        self.spike_lines.setData(x=np.asarray(xs), y=np.asarray(ys), connect="pairs")
        self.spike_dots.setData(x=np.asarray(dots_x), y=np.asarray(dots_y))
        count = len(dots_x)
        self.legend.set_entry(SPIKE_KEY, "Spike" if count == 1 else f"{count} spikes")

    def _spike_values(self, alert: Alert, shown: Mapping[str, np.ndarray]) -> np.ndarray | None:
        if self.mode == "topic" and alert.topic is not None and alert.topic in shown:
            return shown[alert.topic]
        if not shown:
            return None
        if self.mode == "sentiment":
            return shown.get(SENTIMENT_STACK[-1])
        stacked: Sequence[np.ndarray] = list(shown.values())
        return np.maximum.reduce(stacked) if stacked else None

    def _fit_caption(self, width: int) -> None:
        """Fit the legend line: a narrow panel first drops the bucket caption, then the counts
        after the names; names are never cut."""
        entries = self._legend_entries
        full = {k: f"{name} {compact_count(n)}" for k, (name, n, shown) in entries.items() if shown}
        if width > 0 and self.legend.width_for(full) > width:
            full = {k: name for k, (name, _n, shown) in entries.items() if shown}
        for key, (_name, _count, visible) in entries.items():
            self.legend.set_entry(key, full.get(key, ""), visible=visible)
        needed = self.legend.needed_width() + self.theme.px(16) + self.caption.sizeHint().width()
        fits = needed <= width
        if self.caption.isHidden() == fits:
            self.caption.setVisible(fits)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        pad = self.theme.px(22) * 2
        self._fit_caption(event.size().width() - pad)

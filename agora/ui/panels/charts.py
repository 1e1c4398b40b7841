"""Panels with charts: ``volume`` (mentions over time), ``sentiment`` (net score, split, trend)
and ``share`` (share of voice between the configured topics).

Chart items are created once and updated in place with ``setData``; the y range only grows at
once and shrinks slowly, so lines do not jump on every tick. No mouse, no menus, no auto-range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from agora.config.schema import PanelConfig
from agora.core.snapshot import Snapshot, VolumeSeries
from agora.ui.panels.base import Panel, PanelContext
from agora.ui.panels.parts import compact, source_name
from agora.ui.safetext import display_text, plain_label
from agora.ui.theme import Theme

SENTIMENT_KEYS = ("positive", "neutral", "negative")


def bucketed(values: Sequence[int], per_bucket: int) -> np.ndarray:
    """Sum consecutive groups of ``per_bucket`` values (the oldest partial group is dropped)."""
    data = np.asarray(values, dtype=np.float64)
    usable = (len(data) // per_bucket) * per_bucket
    if usable == 0:
        return np.zeros(0)
    summed: np.ndarray = data[len(data) - usable :].reshape(-1, per_bucket).sum(axis=1)
    return summed


def window_minutes(spec: PanelConfig, default_s: float = 3600.0) -> int:
    """The panel's time range in whole minutes (at least 10)."""
    seconds = spec.window if spec.window is not None else default_s
    return max(10, int(seconds // 60))


def bucket_minutes(minutes: int) -> int:
    """Bucket width that gives a readable number of points (about 30 to 100)."""
    if minutes <= 180:
        return max(1, minutes // 30)
    for width in (1, 2, 5, 10, 15, 30, 60):
        if minutes / width <= 100:
            return width
    return 120


def wall_plot(theme: Theme) -> pg.PlotWidget:
    """A pyqtgraph plot styled for the wall: time axis, large ticks, no interaction."""
    axis = pg.DateAxisItem(orientation="bottom")
    plot = pg.PlotWidget(axisItems={"bottom": axis}, background=theme.surface)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    item = plot.getPlotItem()
    item.setContentsMargins(0, theme.px(6), theme.px(10), 0)
    tick_font = theme.font("small")
    for name in ("bottom", "left"):
        ax = item.getAxis(name)
        ax.setTickFont(tick_font)
        ax.setPen(pg.mkPen(theme.border))
        ax.setTextPen(pg.mkPen(theme.muted))
        ax.setStyle(tickTextOffset=theme.px(8), tickLength=-theme.px(6))
    item.getAxis("left").setWidth(theme.px(70))
    item.getAxis("bottom").setHeight(theme.px(44))
    item.showGrid(x=False, y=True, alpha=0.15)
    item.getViewBox().setDefaultPadding(0.0)
    item.disableAutoRange()
    plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return plot


class Legend(QWidget):
    """A row of coloured squares and names, drawn as plain text."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.entries: list[tuple[str, QColor]] = []
        self.setFixedHeight(theme.px(38))

    def set_entries(self, entries: list[tuple[str, QColor]]) -> None:
        """Replace the entries (repaints only when they changed)."""
        if entries != self.entries:
            self.entries = entries
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """Squares and labels from the left, as many as fit."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = self.theme.font("small")
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        x = 0.0
        box = self.theme.px(16)
        y_mid = self.height() / 2
        for label, color in self.entries:
            text = display_text(label)
            needed = box + self.theme.px(8) + metrics.horizontalAdvance(text) + self.theme.px(26)
            if x + needed - self.theme.px(26) > self.width():
                break
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(QRectF(x, y_mid - box / 2, box, box), 3, 3)
            painter.setPen(self.theme.color("text"))
            painter.drawText(
                QRectF(
                    x + box + self.theme.px(8),
                    0,
                    metrics.horizontalAdvance(text) + 4,
                    self.height(),
                ),
                int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                text,
            )
            x += needed
        painter.end()


# ---------------------------------------------------------------------------------------------
# volume


class VolumePanel(Panel):
    """Mentions over time, by topic (default), sentiment or source, with spikes marked."""

    kind = "volume"

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        theme = self.theme
        self.minutes = window_minutes(spec)
        self.bucket = bucket_minutes(self.minutes)
        self.by = spec.by or "topic"
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(6))
        self.legend = Legend(theme)
        layout.addWidget(self.legend)
        self.plot = wall_plot(theme)
        layout.addWidget(self.plot, 1)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.spikes = pg.ScatterPlotItem(
            size=theme.px(16),
            brush=pg.mkBrush(theme.alert),
            pen=pg.mkPen(theme.surface, width=max(1, theme.px(3))),
        )
        self.spikes.setZValue(10)
        self.plot.addItem(self.spikes)
        self._ymax = 0.0
        self.empty_text_for_window()

    def empty_text_for_window(self) -> None:
        """The empty sentence names the window."""
        span = "hour" if self.minutes <= 60 else f"{self.minutes // 60} hours"
        if self.minutes < 60:
            span = f"{self.minutes} minutes"
        self._empty.setText(f"No mentions in the last {span}")

    def title(self) -> str:
        """Heading with the range."""
        if self.spec.title:
            return self.spec.title
        minutes = window_minutes(self.spec)
        hours = minutes / 60
        span = f"{hours:.0f} h" if hours >= 1 else f"{minutes} min"
        what = {
            "topic": "Mentions",
            "sentiment": "Mentions by sentiment",
            "source": "Mentions by source",
        }
        return f"{what.get(self.spec.by or 'topic', 'Mentions')} · last {span}"

    def data_key(self, snapshot: Snapshot) -> object:
        """New data or a new bucket."""
        return (snapshot.version, int(snapshot.now.timestamp() // (60 * self.bucket)))

    def groups(self, snapshot: Snapshot) -> list[tuple[str, str, QColor, Sequence[int]]]:
        """(key, label, colour, per-minute counts) for each line."""
        volume: VolumeSeries = snapshot.volume
        theme = self.theme
        out: list[tuple[str, str, QColor, Sequence[int]]] = []
        if self.by == "sentiment":
            for key in SENTIMENT_KEYS:
                counts = volume.by_sentiment.get(key)
                if counts is not None:
                    out.append((key, key.capitalize(), theme.sentiment_color(key), counts))
        elif self.by == "source":
            for index, (key, counts) in enumerate(sorted(volume.by_source.items())):
                out.append(
                    (key, source_name(key), theme.topic_color(f"source:{key}", index), counts)
                )
        else:
            keys = self.spec.topics or list(snapshot.topics)
            order = list(snapshot.topics)
            for key in keys:
                counts = volume.by_topic.get(key)
                if counts is None:
                    continue
                index = order.index(key) if key in order else len(out)
                out.append(
                    (key, snapshot.topics.get(key, key), theme.topic_color(key, index), counts)
                )
        return out

    def refresh(self, snapshot: Snapshot) -> None:
        """Update each line in place; mark spikes; keep the y range steady."""
        volume = snapshot.volume
        minutes = min(self.minutes, len(volume.total))
        groups = self.groups(snapshot)
        total_recent = sum(volume.total[-minutes:]) if minutes else 0
        if not groups or total_recent == 0:
            for curve in self.curves.values():
                curve.setData([], [])
            self.spikes.setData([], [])
            self.show_empty()
            return
        self.show_body()
        width = self.bucket
        end_ts = volume.start.timestamp() + len(volume.total) * volume.step_s
        count = minutes // width
        xs = end_ts - (np.arange(count, 0, -1) * width * 60) + width * 30
        ymax = 0.0
        seen: set[str] = set()
        entries: list[tuple[str, QColor]] = []
        for key, label, color, counts in groups:
            ys = bucketed(list(counts[-count * width :]), width)
            if len(ys) != len(xs):
                continue
            curve = self.curves.get(key)
            if curve is None:
                curve = self.plot.plot(
                    pen=pg.mkPen(color, width=max(2, self.theme.px(4))),
                    antialias=True,
                )
                self.curves[key] = curve
            curve.setData(xs, ys)
            seen.add(key)
            entries.append((label, color))
            ymax = max(ymax, float(ys.max()) if len(ys) else 0.0)
        for key, curve in self.curves.items():
            if key not in seen:
                curve.setData([], [])
        self.legend.set_entries(entries)
        # spikes: alerts that started inside the range
        spike_x: list[float] = []
        spike_y: list[float] = []
        start_ts = end_ts - minutes * 60
        for alert in snapshot.alerts:
            ts = alert.started_at.timestamp()
            if alert.kind in ("spike", "volume") and start_ts <= ts <= end_ts and len(xs):
                index = int(np.argmin(np.abs(xs - ts)))
                top = 0.0
                for _key, _label, _color, counts in groups:
                    ys = bucketed(list(counts[-count * width :]), width)
                    if len(ys) == len(xs):
                        top = max(top, float(ys[index]))
                spike_x.append(float(xs[index]))
                spike_y.append(top)
        self.spikes.setData(spike_x, spike_y)
        # a steady y range: grow at once, shrink slowly
        target = max(5.0, ymax * 1.15)
        self._ymax = target if target > self._ymax else max(target, self._ymax * 0.9)
        self.plot.setYRange(0, self._ymax, padding=0)
        self.plot.setXRange(float(xs[0]) - width * 30, float(xs[-1]) + width * 30, padding=0)


# ---------------------------------------------------------------------------------------------
# sentiment


class SplitBar(QWidget):
    """Positive / neutral / negative shares as one bar with the percentages under it."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.parts: tuple[int, int, int] = (0, 0, 0)
        self.setMinimumHeight(theme.px(70))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(theme.px(74))

    def set_parts(self, positive: int, neutral: int, negative: int) -> None:
        """The counts to draw."""
        parts = (positive, neutral, negative)
        if parts != self.parts:
            self.parts = parts
            self.update()

    def percentages(self) -> tuple[int, int, int]:
        """Whole percentages that add up to 100 (largest remainder)."""
        total = sum(self.parts)
        if not total:
            return (0, 0, 0)
        raw = [p * 100 / total for p in self.parts]
        floors = [math.floor(r) for r in raw]
        order = sorted(range(3), key=lambda i: raw[i] - floors[i], reverse=True)
        for i in order[: 100 - sum(floors)]:
            floors[i] += 1
        return (floors[0], floors[1], floors[2])

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """The bar and its labels."""
        total = sum(self.parts)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        bar_h = self.theme.px(22)
        width = float(self.width())
        x = 0.0
        if total:
            for count, key in zip(self.parts, SENTIMENT_KEYS, strict=True):
                w = width * count / total
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(self.theme.sentiment_color(key))
                painter.drawRect(QRectF(x, 0, w, bar_h))
                x += w
        font = self.theme.font("small")
        painter.setFont(font)
        pcts = self.percentages()
        labels = [f"{pcts[0]}% positive", f"{pcts[1]}% neutral", f"{pcts[2]}% negative"]
        metrics = QFontMetricsF(font)
        if sum(metrics.horizontalAdvance(x) for x in labels) + self.theme.px(40) > width:
            labels = [f"+ {pcts[0]}%", f"{pcts[1]}%", f"− {pcts[2]}%"]
        aligns = [
            Qt.AlignmentFlag.AlignLeft,
            Qt.AlignmentFlag.AlignHCenter,
            Qt.AlignmentFlag.AlignRight,
        ]
        for label, align, key in zip(labels, aligns, SENTIMENT_KEYS, strict=True):
            painter.setPen(self.theme.sentiment_color(key).lighter(130))
            painter.drawText(
                QRectF(0, bar_h + self.theme.px(8), width, self.height() - bar_h),
                int(align | Qt.AlignmentFlag.AlignTop),
                label,
            )
        painter.end()


def hourly_net(volume: VolumeSeries, hours: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """(hour start timestamps, net sentiment per hour, NaN where nothing was scored)."""
    pos = bucketed(list(volume.by_sentiment.get("positive", ()))[-hours * 60 :], 60)
    neu = bucketed(list(volume.by_sentiment.get("neutral", ()))[-hours * 60 :], 60)
    neg = bucketed(list(volume.by_sentiment.get("negative", ()))[-hours * 60 :], 60)
    n = min(len(pos), len(neu), len(neg))
    if n == 0:
        return np.zeros(0), np.zeros(0)
    pos, neu, neg = pos[-n:], neu[-n:], neg[-n:]
    scored = pos + neu + neg
    with np.errstate(invalid="ignore", divide="ignore"):
        net = np.where(scored > 0, (pos - neg) * 100.0 / scored, np.nan)
    end_ts = volume.start.timestamp() + len(volume.total) * volume.step_s
    xs = end_ts - np.arange(n, 0, -1) * 3600.0 + 1800.0
    return xs, net


class SentimentPanel(Panel):
    """Net sentiment now (−100…+100), the split, and the trend over the day."""

    kind = "sentiment"
    empty_text = "No scored mentions in the last hour"

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        theme = self.theme
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(8))
        self.number = plain_label("—")
        self.number.setFont(theme.font("number", bold=True))
        layout.addWidget(self.number)
        self.caption = plain_label("net sentiment")
        self.caption.setFont(theme.font("body"))
        self.caption.setStyleSheet(f"color: {theme.text};")
        layout.addWidget(self.caption)
        self.detail = plain_label("")
        self.detail.setFont(theme.font("small"))
        self.detail.setStyleSheet(f"color: {theme.muted};")
        layout.addWidget(self.detail)
        self.split = SplitBar(theme)
        layout.addWidget(self.split)
        self.trend = wall_plot(theme)
        self.trend.getPlotItem().getAxis("left").setWidth(theme.px(60))
        self.trend.setYRange(-100, 100, padding=0)
        zero = pg.InfiniteLine(
            pos=0, angle=0, pen=pg.mkPen(theme.border, width=max(1, theme.px(2)))
        )
        self.trend.addItem(zero)
        self.trend_curve = self.trend.plot(
            pen=pg.mkPen(theme.text, width=max(2, theme.px(3))), connect="finite", antialias=True
        )
        layout.addWidget(self.trend, 1)
        self.span_s = self.window_s(3600.0)

    def title(self) -> str:
        """Heading."""
        if self.spec.title:
            return self.spec.title
        span_s = self.window_s(3600.0)
        minutes = int((span_s or 0) // 60)
        span = (
            "last hour"
            if minutes == 60
            else f"last {minutes // 60} h"
            if minutes >= 120
            else f"last {minutes} min"
        )
        return f"Sentiment · {span}" if span_s else "Sentiment"

    def data_key(self, snapshot: Snapshot) -> object:
        """The summary of the window and the hour."""
        summary = snapshot.summary(self.span_s)
        return (summary.sentiment, int(snapshot.now.timestamp() // 600))

    def refresh(self, snapshot: Snapshot) -> None:
        """Number, split and trend, in place."""
        summary = snapshot.summary(self.span_s).sentiment
        if summary.scored == 0 or summary.net is None:
            self.show_empty()
            return
        self.show_body()
        net = round(summary.net)
        sign = "+" if net > 0 else "−" if net < 0 else ""
        self.number.setText(f"{sign}{abs(net)}")
        self._fit_number()
        label = "positive" if net >= 5 else "negative" if net <= -5 else "neutral"
        self.number.setStyleSheet(
            f"color: {self.theme.sentiment_color(label).lighter(115).name()};"
        )
        self.caption.setText(f"net sentiment ({label})")
        detail = f"{compact(summary.scored)} scored"
        if summary.unscored:
            detail += f" · {compact(summary.unscored)} in other languages"
        self.detail.setText(detail)
        self.split.set_parts(summary.positive, summary.neutral, summary.negative)
        self.trend.setVisible(self.body.height() > self.theme.px(330))
        xs, net_series = hourly_net(snapshot.volume)
        if len(xs):
            self.trend_curve.setData(xs, net_series)
            self.trend.setXRange(float(xs[0]) - 1800, float(xs[-1]) + 1800, padding=0)
        else:
            self.trend_curve.setData([], [])

    def _fit_number(self) -> None:
        """The biggest number size (up to "huge") that fits the panel's width and height."""
        width = max(50, self.body.width())
        height = max(50, self.body.height())
        for size in (150, 128, 110, 96, 80, 64, 52):
            font = self.theme.font(size, bold=True)
            metrics = QFontMetricsF(font)
            if (
                metrics.horizontalAdvance(self.number.text()) <= width * 0.9
                and metrics.height() <= height * 0.34
            ):
                break
        if font.pixelSize() != self.number.font().pixelSize():
            self.number.setFont(font)

    def resizeEvent(self, event: object) -> None:  # noqa: N802
        """Refit the big number."""
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._fit_number()

    def shown_number(self) -> str:
        """The number as drawn (for tests)."""
        return self.number.text()


# ---------------------------------------------------------------------------------------------
# share of voice


class ShareBars(QWidget):
    """One horizontal bar per topic: name, bar, percentage and count."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.rows: list[tuple[str, float, int, QColor]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_rows(self, rows: list[tuple[str, float, int, QColor]]) -> None:
        """(label, fraction, count, colour) per topic."""
        if rows != self.rows:
            self.rows = rows
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """Rows spread over the height, each with a big percentage."""
        if not self.rows:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        theme = self.theme
        n = len(self.rows)
        row_h = min(self.height() / n, float(theme.px(150)))
        scale = theme.scale * theme.font_scale
        name_px = min(30.0, row_h * 0.30 / scale)
        name_font = theme.font(name_px, bold=True)
        pct_font = theme.font(min(44.0, row_h * 0.42 / scale), bold=True)
        small = theme.font(min(24.0, name_px * 0.85))
        width = float(self.width())
        pct_w = QFontMetricsF(pct_font).horizontalAdvance("100%") + theme.px(12)
        bar_h = max(float(theme.px(8)), min(row_h * 0.2, float(theme.px(24))))
        for i, (label, fraction, count, color) in enumerate(self.rows):
            top = i * row_h + (self.height() - row_h * n) / 2
            painter.setFont(name_font)
            painter.setPen(theme.color("text"))
            name_rect = QRectF(0, top, width - pct_w, row_h * 0.55)
            metrics = QFontMetricsF(name_font)
            name = metrics.elidedText(
                display_text(label), Qt.TextElideMode.ElideRight, name_rect.width()
            )
            painter.drawText(
                name_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), name
            )
            painter.setFont(small)
            painter.setPen(theme.color("muted"))
            count_text = f"{compact(count)} mentions"
            room = name_rect.width() - metrics.horizontalAdvance(name) - theme.px(16)
            if QFontMetricsF(small).horizontalAdvance(count_text) > room:
                count_text = compact(count)
            if QFontMetricsF(small).horizontalAdvance(count_text) <= room:
                painter.drawText(
                    QRectF(0, top, width - pct_w, row_h * 0.55),
                    int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom),
                    count_text,
                )
            bar_top = top + row_h * 0.55 + theme.px(4)
            track = QRectF(0, bar_top, width - pct_w, bar_h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.color("surface_alt"))
            painter.drawRoundedRect(track, bar_h / 2, bar_h / 2)
            if fraction > 0:
                painter.setBrush(color)
                fill = QRectF(track.x(), track.y(), max(bar_h, track.width() * fraction), bar_h)
                painter.drawRoundedRect(fill, bar_h / 2, bar_h / 2)
            painter.setFont(pct_font)
            painter.setPen(QPen(color.lighter(120)))
            painter.drawText(
                QRectF(width - pct_w, top, pct_w, row_h),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                f"{round(fraction * 100)}%",
            )
        painter.end()


class SharePanel(Panel):
    """Share of voice between the configured topics (brand against competitors)."""

    kind = "share"
    empty_text = "No mentions of the tracked topics yet"

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(spec, context, parent)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bars = ShareBars(self.theme)
        layout.addWidget(self.bars)
        self.span_s = self.window_s(86400.0)

    def title(self) -> str:
        """Heading."""
        if self.spec.title:
            return self.spec.title
        hours = int((self.window_s(86400.0) or 0) // 3600)
        return f"Share of voice · last {hours} h" if hours > 1 else "Share of voice · last hour"

    def data_key(self, snapshot: Snapshot) -> object:
        """The counts of the window."""
        summary = snapshot.summary(self.span_s)
        return tuple(sorted(summary.share_counts.items()))

    def shares(self, snapshot: Snapshot) -> list[tuple[str, str, float, int]]:
        """(key, label, fraction among the shown topics, count), in config order."""
        counts: Mapping[str, int] = snapshot.summary(self.span_s).share_counts
        keys = self.spec.topics or list(snapshot.topics)
        total = sum(counts.get(k, 0) for k in keys)
        if not total:
            return []
        return [
            (k, snapshot.topics.get(k, k), counts.get(k, 0) / total, counts.get(k, 0)) for k in keys
        ]

    def refresh(self, snapshot: Snapshot) -> None:
        """Bars in place."""
        shares = self.shares(snapshot)
        if not shares:
            self.bars.set_rows([])
            self.show_empty()
            return
        self.show_body()
        order = list(snapshot.topics)
        rows = [
            (
                label,
                fraction,
                count,
                self.theme.topic_color(key, order.index(key) if key in order else i),
            )
            for i, (key, label, fraction, count) in enumerate(shares)
        ]
        self.bars.set_rows(rows)


__all__ = ["SentimentPanel", "SharePanel", "VolumePanel", "bucketed", "hourly_net"]

"""Chart pieces shared by the wall's chart panels (volume, sentiment, share).

Everything here is built once and updated in place: :func:`wall_plot` makes a quiet, non-interactive
pyqtgraph plot styled from the theme; :func:`resample` turns per-minute counts into wider buckets
with numpy; :class:`StableMax` keeps a y axis from jumping on every tick; :func:`update_curve`
pushes new data into an existing curve; :class:`LegendRow`, :class:`SplitBar` and
:class:`ShareBars` are plain widgets (no pyqtgraph legend) drawn with the theme's fonts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QWidget

from agora.config.schema import PanelConfig, WallConfig, parse_duration
from agora.ui.safetext import display_text, plain_label
from agora.ui.theme import TOPIC_PALETTE, Theme

#: Bucket widths (minutes) a time chart may use; the smallest that keeps the point count readable.
BUCKET_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120)
#: Tick spacings (minutes) for the time axis, aligned to the local clock.
TICK_MINUTES = (5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440)


# -- numbers ------------------------------------------------------------------------------------


def window_phrase(seconds: float | None) -> str:
    """``"the last hour"``, ``"the last 24 hours"``, ``"the last 15 minutes"``… for a window."""
    if seconds is None:
        return "all time"
    s = round(seconds)
    if s == 3600:
        return "the last hour"
    if s >= 2 * 86400 and s % 86400 == 0:
        return f"the last {s // 86400} days"
    if s >= 3600 and s % 3600 == 0:
        return f"the last {s // 3600} hours"
    if s == 60:
        return "the last minute"
    if s % 60 == 0:
        return f"the last {s // 60} minutes"
    return f"the last {s} seconds"


def short_window(seconds: float | None) -> str:
    """``"1 h"``, ``"24 h"``, ``"15 min"``: a compact window name for captions."""
    if seconds is None:
        return "all"
    s = round(seconds)
    if s % 3600 == 0:
        return f"{s // 3600} h"
    if s % 60 == 0:
        return f"{s // 60} min"
    return f"{s} s"


def bucket_minutes(window_s: float, step_s: int = 60) -> int:
    """Bucket width (minutes) for a window: about 30 points up to 3 hours, at most 96 beyond."""
    minutes = max(1, round(window_s / 60))
    target = 30 if minutes <= 180 else 96
    step_min = max(1, step_s // 60)
    for width in BUCKET_MINUTES:
        if width >= step_min and minutes / width <= target:
            return width
    return BUCKET_MINUTES[-1]


def resample(values: Sequence[int] | np.ndarray, factor: int) -> np.ndarray:
    """Sum consecutive groups of ``factor`` values, aligned to the newest value (an incomplete
    oldest group is dropped so every bucket covers the same span)."""
    data = np.asarray(values, dtype=np.float64)
    factor = max(1, int(factor))
    usable = (len(data) // factor) * factor
    if usable == 0:
        return np.zeros(0, dtype=np.float64)
    grouped: np.ndarray = data[len(data) - usable :].reshape(-1, factor).sum(axis=1)
    return grouped


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Which per-minute values a time chart shows and how they are grouped."""

    first: int
    """Index of the first per-minute value used."""
    count: int
    """How many per-minute values are used (a whole number of buckets)."""
    factor: int
    """Per-minute values per bucket."""
    x: np.ndarray
    """Bucket centres, epoch seconds."""


def time_window(start: datetime, step_s: int, length: int, window_s: float) -> TimeWindow:
    """The buckets covering the newest ``window_s`` of a per-step series of ``length`` values."""
    step_s = max(1, int(step_s))
    minutes = bucket_minutes(window_s, step_s)
    factor = max(1, (minutes * 60) // step_s)
    wanted = max(factor, round(window_s / step_s))
    wanted = min(length, (wanted // factor) * factor)
    wanted = (wanted // factor) * factor
    first = length - wanted
    t0 = start.timestamp() + first * step_s
    n = wanted // factor
    x = t0 + (np.arange(n, dtype=np.float64) + 0.5) * factor * step_s
    return TimeWindow(first, wanted, factor, x)


def windowed(values: Sequence[int], window: TimeWindow) -> np.ndarray:
    """The bucket sums of ``values`` over ``window``."""
    if window.count == 0:
        return np.zeros(0, dtype=np.float64)
    return resample(values[window.first : window.first + window.count], window.factor)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ that is ≥ ``value`` (at least 1)."""
    if value <= 1:
        return 1.0
    exp = math.floor(math.log10(value))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = m * 10**exp
        if candidate >= value - 1e-9:
            return float(candidate)
    return float(10 ** (exp + 1))


class StableMax:
    """A y-axis maximum that grows at once, shrinks only when the data falls well below it, and
    always sits on a round number: the axis does not jitter from tick to tick."""

    def __init__(self, headroom: float = 1.12, shrink_below: float = 0.45) -> None:
        self.headroom = headroom
        self.shrink_below = shrink_below
        self.value = 0.0

    def update(self, data_max: float) -> float:
        """Feed the newest data maximum; returns the axis maximum to use."""
        target = nice_ceiling(max(0.0, float(data_max)) * self.headroom)
        if target > self.value or data_max < self.value * self.shrink_below:
            self.value = target
        return self.value


def percentages(counts: Sequence[float]) -> list[int]:
    """Whole percentages of ``counts`` that add up to exactly 100 (largest remainder), or all
    zeros when nothing was counted."""
    total = float(sum(counts))
    if total <= 0:
        return [0 for _ in counts]
    exact = [c * 100.0 / total for c in counts]
    floors = [math.floor(e) for e in exact]
    missing = 100 - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (floors[i] - exact[i], i))
    for i in order[:missing]:
        floors[i] += 1
    return floors


def compact_count(value: float) -> str:
    """``950``, ``1.2k``, ``12k``, ``3.4M``: short counts for axes and labels."""
    v = float(value)
    if abs(v) >= 1_000_000:
        return f"{v / 1_000_000:.1f}M".replace(".0M", "M")
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    if abs(v) >= 1000:
        return f"{v / 1000:.1f}k".replace(".0k", "k")
    return f"{v:.0f}"


def signed(value: float | None) -> str:
    """``+42``, ``−17`` (a real minus sign), ``0``, or ``—`` when there is no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    n = round(value)
    if n > 0:
        return f"+{n}"
    if n < 0:
        return f"\u2212{-n}"
    return "0"


# -- panel options -----------------------------------------------------------------------------


def option(spec: PanelConfig, name: str) -> object:
    """A panel option the schema may not (yet) declare: ``None`` when absent."""
    value = getattr(spec, name, None)
    if value is None:
        extra = getattr(spec, "model_extra", None) or {}
        value = extra.get(name)
    return value


def panel_window(spec: PanelConfig, default_s: float) -> float:
    """``window`` (or ``range``) in seconds, at least 10 minutes, else ``default_s``."""
    value: object = spec.window if spec.window is not None else option(spec, "range")
    if value is None:
        return default_s
    try:
        seconds = float(value) if isinstance(value, int | float) else parse_duration(value)
    except (TypeError, ValueError):
        return default_s
    return max(600.0, seconds)


def split_mode(spec: PanelConfig) -> str:
    """``"topic"``, ``"sentiment"`` or ``"source"`` from ``by`` (or ``split``)."""
    value = spec.by or option(spec, "split")
    return value if value in ("topic", "sentiment", "source") else "topic"


def topic_qcolor(theme: Theme, wall: WallConfig | None, key: str, index: int) -> QColor:
    """A topic's chart colour: the theme's, else the config's, else the palette's."""
    if key in theme.topic_colors:
        return theme.topic_color(key, index)
    topic = wall.topics.get(key) if wall is not None else None
    configured = getattr(topic, "color", None)
    if configured:
        return QColor(configured)
    return QColor(TOPIC_PALETTE[index % len(TOPIC_PALETTE)])


# -- pyqtgraph ----------------------------------------------------------------------------------


def _local_offset(ts: float) -> float:
    offset = datetime.fromtimestamp(ts).astimezone().utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


class TimeAxis(pg.AxisItem):  # type: ignore[misc]
    """A bottom axis of epoch seconds labelled ``HH:MM`` in local time, ticks on round clock times
    and never closer than a label's width."""

    def __init__(self, theme: Theme) -> None:
        super().__init__(orientation="bottom")
        self._theme = theme
        self._metrics = QFontMetricsF(theme.font("small"))

    def tickValues(  # noqa: N802
        self,
        min_val: float,
        max_val: float,
        size: float,
    ) -> list[tuple[float, list[float]]]:
        if (
            not (math.isfinite(min_val) and math.isfinite(max_val))
            or max_val <= min_val
            or size <= 0
        ):
            return []
        label_w = self._metrics.horizontalAdvance("00:00") * 2.0
        max_ticks = max(2, int(size // label_w))
        span = max_val - min_val
        spacing = TICK_MINUTES[-1] * 60.0
        for minutes in TICK_MINUTES:
            if span / (minutes * 60.0) <= max_ticks:
                spacing = minutes * 60.0
                break
        offset = _local_offset(max_val)
        first = math.ceil((min_val + offset) / spacing) * spacing - offset
        ticks = list(np.arange(first, max_val + 1e-6, spacing, dtype=np.float64).tolist())
        return [(spacing, ticks)]

    def tickStrings(  # noqa: N802
        self, values: list[float], scale: float, spacing: float
    ) -> list[str]:
        return [datetime.fromtimestamp(v).strftime("%H:%M") for v in values]


class CountAxis(pg.AxisItem):  # type: ignore[misc]
    """A left axis of whole counts: 0, the top, and one or two round steps between."""

    def __init__(self, theme: Theme) -> None:
        super().__init__(orientation="left")
        self._theme = theme
        self._overhang = round(QFontMetricsF(theme.font("small")).height() / 2) + theme.px(2)

    def boundingRect(self) -> QRectF:  # noqa: N802
        # with a grid the axis bounds are the view's, which would hide the "0" label at the
        # bottom edge; allow half a line past either end
        rect: QRectF = super().boundingRect()
        return rect.adjusted(0, -self._overhang, 0, self._overhang)

    def tickValues(  # noqa: N802
        self,
        min_val: float,
        max_val: float,
        size: float,
    ) -> list[tuple[float, list[float]]]:
        if not math.isfinite(max_val) or max_val <= 0:
            return [(1.0, [0.0])]
        step = nice_ceiling(max_val / 3.0) if max_val > 3 else 1.0
        if step < 1:
            step = 1.0
        ticks = list(np.arange(0.0, max_val + step * 0.01, step).tolist())
        return [(step, ticks)]

    def tickStrings(  # noqa: N802
        self, values: list[float], scale: float, spacing: float
    ) -> list[str]:
        return [compact_count(v) for v in values]


def style_axis(axis: pg.AxisItem, theme: Theme, overhang: int = 0) -> None:
    """Tick font, pens and spacing of an axis, from the theme. ``overhang``: how far (pixels) a
    tick label may reach past the end of the axis (so ``0`` and the top value still show)."""
    axis.setTickFont(theme.font("small"))
    axis.setPen(pg.mkPen(theme.border, width=max(1, theme.px(1))))
    axis.setTextPen(pg.mkPen(theme.muted))
    axis.setStyle(
        tickTextOffset=theme.px(10),
        tickLength=0,
        autoExpandTextSpace=False,
        autoReduceTextSpace=False,
        hideOverlappingLabels=overhang if overhang > 0 else True,
    )


def wall_plot(
    theme: Theme, *, time_axis: bool = True, count_axis: bool = True, axes: bool = True
) -> pg.PlotWidget:
    """A pyqtgraph plot for the wall: theme background, no mouse, no menu, no buttons, no
    auto-range, large tick labels, a light horizontal grid and fixed margins."""
    axis_items: dict[str, pg.AxisItem] = {}
    if time_axis:
        axis_items["bottom"] = TimeAxis(theme)
    if count_axis:
        axis_items["left"] = CountAxis(theme)
    plot = pg.PlotWidget(axisItems=axis_items or None, background=theme.surface)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.setInteractive(False)
    plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    plot.setFrameShape(QFrame.Shape.NoFrame)
    plot.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    plot.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    item = plot.getPlotItem()
    metrics = QFontMetricsF(theme.font("small"))
    half_line = round(metrics.height() / 2) + theme.px(2)
    # room above the plot for the top tick label, which may overhang the axis by half a line
    item.setContentsMargins(0, half_line, theme.px(14), 0)
    style_axis(item.getAxis("left"), theme, overhang=half_line)
    style_axis(item.getAxis("bottom"), theme)
    item.getAxis("left").setWidth(round(metrics.horizontalAdvance("0000") + theme.px(18)))
    item.getAxis("bottom").setHeight(round(metrics.height() + theme.px(14)))
    if not axes:
        item.hideAxis("left")
        item.hideAxis("bottom")
    else:
        item.showGrid(x=False, y=True, alpha=0.18)
    vb = item.getViewBox()
    vb.setDefaultPadding(0.0)
    vb.disableAutoRange()
    vb.setMouseEnabled(x=False, y=False)
    plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    plot.setMinimumSize(QSize(theme.px(80), theme.px(60)))
    return plot


def update_curve(curve: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    """Give an existing curve new data (same item; nothing is recreated)."""
    curve.setData(x=x, y=y)


def clear_curve(curve: pg.PlotDataItem) -> None:
    """Empty an existing curve without removing it from its plot."""
    curve.setData(x=np.zeros(0), y=np.zeros(0))


def set_view(
    plot: pg.PlotWidget, x0: float, x1: float, y0: float, y1: float
) -> tuple[float, float, float, float]:
    """Set a plot's visible range exactly (no padding); returns it."""
    plot.getPlotItem().getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)
    return (x0, x1, y0, y1)


# -- plain widgets --------------------------------------------------------------------------------


class Swatch(QWidget):
    """A small rounded colour mark for a legend entry (a bar, or a dashed line for markers)."""

    def __init__(self, theme: Theme, color: QColor, *, dashed: bool = False) -> None:
        super().__init__()
        self._theme = theme
        self._color = QColor(color)
        self._dashed = dashed
        size = QSize(theme.px(22), theme.px(12) if not dashed else theme.px(24))
        self.setFixedSize(size)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._dashed:
            pen = QPen(self._color, max(2, self._theme.px(3)))
            pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            x = self.width() / 2
            painter.drawLine(int(x), 0, int(x), self.height())
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._color)
            r = self.height() / 2
            painter.drawRoundedRect(QRectF(self.rect()), r, r)
        painter.end()


class LegendRow(QWidget):
    """A row of legend entries (colour swatch + plain-text label), updated with :meth:`set_entry`;
    entries are created once per key and hidden, never deleted."""

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self._theme = theme
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(theme.px(18))
        self._layout.addStretch(1)
        self.entries: dict[str, tuple[QWidget, Swatch, QLabel]] = {}
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def add(self, key: str, color: QColor, *, dashed: bool = False) -> None:
        """Create the entry for ``key`` (once)."""
        if key in self.entries:
            return
        host = QWidget()
        host.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        row = QHBoxLayout(host)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(self._theme.px(8))
        swatch = Swatch(self._theme, color, dashed=dashed)
        label = plain_label("")
        label.setFont(self._theme.font("small"))
        label.setStyleSheet(f"color: {self._theme.text};")
        row.addWidget(swatch, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(label, 0, Qt.AlignmentFlag.AlignVCenter)
        self._layout.insertWidget(self._layout.count() - 1, host)
        self.entries[key] = (host, swatch, label)

    def set_entry(self, key: str, text: str, *, visible: bool = True) -> None:
        """Set an entry's text and visibility (in place)."""
        host, _swatch, label = self.entries[key]
        text = display_text(text)
        if label.text() != text:
            label.setText(text)
        if host.isVisibleTo(self) != visible:
            host.setVisible(visible)

    def width_for(self, texts: Mapping[str, str]) -> int:
        """The width the entries would take with ``texts`` (key → text; entries not named keep
        their current text and visibility), measured without touching a widget, so a panel can
        choose its labels before it sets them once."""
        metrics = QFontMetricsF(self._theme.font("small"))
        gap = self._theme.px(8)
        widths: list[int] = []
        for key, (host, swatch, _label) in self.entries.items():
            if key in texts:
                advance = metrics.horizontalAdvance(display_text(texts[key]))
                widths.append(swatch.width() + gap + math.ceil(advance))
            elif not host.isHidden():
                widths.append(host.sizeHint().width())
        return sum(widths) + self._layout.spacing() * max(0, len(widths) - 1)

    def needed_width(self) -> int:
        """The width the visible entries take side by side."""
        hosts = [host for host, _s, _l in self.entries.values() if not host.isHidden()]
        spacing = self._layout.spacing() * max(0, len(hosts) - 1)
        return sum(host.sizeHint().width() for host in hosts) + spacing

    def text(self) -> str:
        """The visible entries' texts, for tests and accessibility."""
        return " · ".join(
            label.text() for host, _s, label in self.entries.values() if host.isVisibleTo(self)
        )


class SplitBar(QWidget):
    """One horizontal bar split into coloured segments (e.g. positive / neutral / negative), with
    the percentage written inside each segment wide enough to hold it."""

    def __init__(self, theme: Theme, colors: Sequence[QColor]) -> None:
        super().__init__()
        self._theme = theme
        self._colors = [QColor(c) for c in colors]
        self._counts: tuple[float, ...] = tuple(0.0 for _ in colors)
        self._percents: list[int] = [0 for _ in colors]
        self._font = theme.font("small", bold=True)
        self.setFixedHeight(theme.px(46))
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    @property
    def percents(self) -> list[int]:
        """The whole percentages shown (sum to 100 when anything was counted)."""
        return list(self._percents)

    def set_counts(self, counts: Sequence[float]) -> None:
        """New segment sizes; repaints only when they changed."""
        values = tuple(float(c) for c in counts)
        if values == self._counts:
            return
        self._counts = values
        self._percents = percentages(values)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = QRectF(self.rect())
        radius = rect.height() / 4
        total = sum(self._counts)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._theme.color("surface_alt"))
        painter.drawRoundedRect(rect, radius, radius)
        if total > 0:
            gap = self._theme.px(3)
            x = rect.left()
            painter.setFont(self._font)
            metrics = QFontMetricsF(self._font)
            for count, color, pct in zip(self._counts, self._colors, self._percents, strict=True):
                if count <= 0:
                    continue
                w = rect.width() * count / total
                seg = QRectF(x, rect.top(), max(1.0, w - gap), rect.height())
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(color)
                painter.drawRoundedRect(seg, radius, radius)
                text = f"{pct}%"
                if metrics.horizontalAdvance(text) + self._theme.px(12) <= seg.width():
                    painter.setPen(
                        QColor("#0B0F17") if color.lightness() > 140 else Qt.GlobalColor.white
                    )
                    painter.drawText(seg, Qt.AlignmentFlag.AlignCenter, text)
                x += w
        painter.end()


@dataclass(frozen=True, slots=True)
class BarRow:
    """One row of :class:`ShareBars`."""

    key: str
    label: str
    fraction: float
    percent: int
    count: int
    color: str
    emphasis: bool = False


class ShareBars(QWidget):
    """Horizontal bars, one per row, each with its label, percentage and count; bar length is the
    row's fraction of the whole (not of the largest row), so the bars read as shares."""

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self._theme = theme
        self.rows: tuple[BarRow, ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def set_rows(self, rows: Sequence[BarRow]) -> None:
        """New rows; repaints only when they changed."""
        value = tuple(rows)
        if value == self.rows:
            return
        self.rows = value
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        if not self.rows:
            return
        theme = self._theme
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        rect = QRectF(self.rect())
        n = len(self.rows)
        row_h = rect.height() / n
        # type sizes shrink with the row height, never below the wall's smallest size
        label_ref = max(24.0, min(40.0, row_h / theme.scale * 0.36))
        label_font = theme.font(label_ref)
        label_bold = theme.font(label_ref, bold=True)
        pct_font = theme.font(label_ref * 1.25, bold=True)
        count_font = theme.font(max(24.0, label_ref * 0.75))
        lm = QFontMetricsF(label_font)
        pm = QFontMetricsF(pct_font)
        cm = QFontMetricsF(count_font)
        bar_h = max(float(theme.px(10)), min(row_h * 0.28, float(theme.px(34))))
        for i, row in enumerate(self.rows):
            top = rect.top() + i * row_h
            text_h = max(lm.height(), pm.height())
            block = text_h + theme.px(8) + bar_h
            y = top + max(0.0, (row_h - block) / 2)
            pct_text = f"{row.percent}%"
            count_text = f"{row.count:,}".replace(",", "\u2009")
            pct_w = pm.horizontalAdvance(pct_text)
            count_w = cm.horizontalAdvance(count_text)
            right = rect.right()
            # percentage (right), count left of it, label takes what is left
            painter.setPen(theme.color("text"))
            painter.setFont(pct_font)
            pct_rect = QRectF(right - pct_w, y, pct_w, text_h)
            painter.drawText(
                pct_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, pct_text
            )
            gap = theme.px(16)
            painter.setFont(count_font)
            painter.setPen(theme.color("muted"))
            count_rect = QRectF(
                pct_rect.left() - gap - count_w, y, count_w, text_h - pm.descent() + cm.descent()
            )
            painter.drawText(
                count_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, count_text
            )
            label_w = max(0.0, count_rect.left() - gap - rect.left())
            font = label_bold if row.emphasis else label_font
            painter.setFont(font)
            painter.setPen(theme.color("text"))
            label = QFontMetricsF(font).elidedText(
                display_text(row.label), Qt.TextElideMode.ElideRight, label_w
            )
            label_rect = QRectF(rect.left(), y, label_w, text_h - pm.descent() + lm.descent())
            painter.drawText(
                label_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, label
            )
            bar_y = y + text_h + theme.px(8)
            track = QRectF(rect.left(), bar_y, rect.width(), bar_h)
            radius = bar_h / 2
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.color("surface_alt"))
            painter.drawRoundedRect(track, radius, radius)
            if row.fraction > 0:
                w = max(bar_h, track.width() * min(1.0, row.fraction))
                painter.setBrush(QColor(row.color))
                painter.drawRoundedRect(QRectF(track.left(), bar_y, w, bar_h), radius, radius)
        painter.end()


__all__ = [
    "BarRow",
    "CountAxis",
    "LegendRow",
    "ShareBars",
    "SplitBar",
    "StableMax",
    "Swatch",
    "TimeAxis",
    "TimeWindow",
    "bucket_minutes",
    "clear_curve",
    "compact_count",
    "nice_ceiling",
    "option",
    "panel_window",
    "percentages",
    "resample",
    "set_view",
    "short_window",
    "signed",
    "split_mode",
    "style_axis",
    "time_window",
    "topic_qcolor",
    "update_curve",
    "wall_plot",
    "window_phrase",
    "windowed",
]

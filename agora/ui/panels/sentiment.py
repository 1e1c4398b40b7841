"""The ``sentiment`` panel: net sentiment now, the positive / neutral / negative split, and the
trend of net sentiment per hour over the last 24 hours.

Option: ``window`` (``"1h"`` default; ``range`` is read as a synonym) for the number and the split.
The trend always covers the last 24 hours of the per-minute series (``volume.by_sentiment``). Net
sentiment is (positive − negative) / scored × 100; posts that cannot be scored (language) are
counted apart and never pull the figure. Every figure carries a sign or a word, not only a colour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from agora.config.schema import PanelConfig
from agora.core.snapshot import SentimentSummary, Snapshot
from agora.ui.charts import (
    LegendRow,
    SplitBar,
    panel_window,
    percentages,
    short_window,
    signed,
    update_curve,
    wall_plot,
    window_phrase,
)
from agora.ui.panels.base import Panel, PanelContext
from agora.ui.safetext import elide_words, plain_label

SPLIT_KEYS = ("positive", "neutral", "negative")
#: The scale beside the figure: on one line, or on two when one would be too wide.
SCALE_NOTES = ("net, −100 to +100", "net, −100\nto +100")
#: The figure's font may shrink to this fraction of its size so its word fits beside it.
NUMBER_SHRINK = 0.6
SPLIT_NAMES = {"positive": "Positive", "neutral": "Neutral", "negative": "Negative"}
TREND_HOURS = 24


def hourly_net(
    by_sentiment: Mapping[str, Sequence[int]], step_s: int, hours: int = TREND_HOURS
) -> np.ndarray:
    """Net sentiment (−100…100) per hour, oldest first, for the newest ``hours`` whole hours of a
    per-step series; ``nan`` for hours without a scored post."""
    series = by_sentiment
    per_hour = max(1, 3600 // max(1, int(step_s)))
    arrays = {}
    for key in SPLIT_KEYS:
        values = np.asarray(series.get(key, ()), dtype=np.float64)
        usable = min(len(values), hours * per_hour)
        usable = (usable // per_hour) * per_hour
        tail = values[len(values) - usable :] if usable else np.zeros(0)
        arrays[key] = tail.reshape(-1, per_hour).sum(axis=1) if usable else np.zeros(0)
    n = min(len(a) for a in arrays.values())
    pos = arrays["positive"][-n:] if n else np.zeros(0)
    neu = arrays["neutral"][-n:] if n else np.zeros(0)
    neg = arrays["negative"][-n:] if n else np.zeros(0)
    scored = pos + neu + neg
    with np.errstate(divide="ignore", invalid="ignore"):
        net = np.where(scored > 0, (pos - neg) * 100.0 / np.maximum(scored, 1.0), np.nan)
    result: np.ndarray = net.astype(np.float64)
    return result


#: Every word :func:`sign_word` gives (the figure leaves room for the widest).
WORDS = ("Positive", "Negative", "Balanced", "No score")


def sign_word(net: float | None) -> str:
    """A word for the sign of a net figure (so colour is never the only cue)."""
    if net is None:
        return "No score"
    n = round(net)
    if n >= 10:
        return "Positive"
    if n <= -10:
        return "Negative"
    return "Balanced"


class SentimentPanel(Panel):
    """Net sentiment now, the split and the 24-hour trend."""

    kind = "sentiment"
    empty_text = "No scored mentions in the last hour"
    #: A chart of an hour or a day gains a few posts between two snapshots: redrawn every five
    #: seconds it looks the same from across a lobby, at a third of the cost.
    refresh_every_s = 5.0

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        self.range_s = panel_window(spec, 3600.0)
        super().__init__(spec, context, parent)
        theme = self.theme
        self._empty_sentence = f"No scored mentions in {window_phrase(self.range_s)}"
        self._empty.setText(self._empty_sentence)
        self._big_font = theme.font("huge", bold=True)
        self._mid_font = theme.font("number", bold=True)
        self._percents = [0, 0, 0]
        self._trend_span = 100.0

        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(12))

        # the figure, and beside it its word over the scale ("net, −100 to +100", on two lines
        # when one is too wide); the figure shrinks a little to leave them room, and when even
        # that is not enough they go under it. Beside a three-digit figure the scale used to be
        # cut ("net, −100 to +")
        self.top = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.top.setContentsMargins(0, 0, 0, 0)
        self.top.setSpacing(theme.px(24))
        self.number = plain_label("—")
        self.number.setFont(self._big_font)
        self.number.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.number.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.top.addWidget(self.number, 0)
        facts = QVBoxLayout()
        facts.setContentsMargins(0, 0, 0, 0)
        facts.setSpacing(theme.px(4))
        self.word = plain_label("")
        self.word.setFont(theme.font("heading", bold=True))
        self.scale_note = plain_label(SCALE_NOTES[0])
        self.scale_note.setFont(theme.font("small"))
        self.scale_note.setStyleSheet(f"color: {theme.muted};")
        facts.addStretch(1)
        for label in (self.word, self.scale_note):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            facts.addWidget(label)
        facts.addStretch(1)
        self.top.addLayout(facts, 1)
        layout.addLayout(self.top)
        self._number_px = self._big_font.pixelSize()
        # how many posts the figure rests on, and how many it leaves out (other languages)
        self.counts = plain_label("")
        self.counts.setFont(theme.font("small"))
        self.counts.setStyleSheet(f"color: {theme.muted};")
        self.counts.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.left_out = plain_label("")
        self.left_out.setFont(theme.font("small"))
        self.left_out.setStyleSheet(f"color: {theme.muted};")
        self.left_out.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.left_out.hide()
        self._counts_parts: tuple[str, ...] = ()

        colors = [theme.sentiment_color(k) for k in SPLIT_KEYS]
        self.split = SplitBar(theme, colors)
        layout.addWidget(self.split)
        self.split_legend = LegendRow(theme)
        for key, color in zip(SPLIT_KEYS, colors, strict=True):
            self.split_legend.add(key, color)
        layout.addWidget(self.split_legend)
        layout.addWidget(self.counts)
        layout.addWidget(self.left_out)

        self.trend_caption = plain_label(f"Net sentiment per hour · last {TREND_HOURS} h")
        self.trend_caption.setFont(theme.font("small"))
        self.trend_caption.setStyleSheet(f"color: {theme.muted};")
        layout.addWidget(self.trend_caption)
        self.trend = wall_plot(theme, time_axis=False, count_axis=False, axes=False)
        self.trend.getPlotItem().setContentsMargins(0, theme.px(4), 0, theme.px(4))
        layout.addWidget(self.trend, 1)
        positive = QColor(theme.positive)
        negative = QColor(theme.negative)
        positive.setAlpha(140)
        negative.setAlpha(140)
        empty = np.zeros(0)
        self.trend_zero = pg.InfiniteLine(
            pos=0.0,
            angle=0,
            pen=pg.mkPen(theme.border, width=max(1, theme.px(2)), style=Qt.PenStyle.DashLine),
        )
        self._base = pg.PlotCurveItem(x=empty, y=empty, pen=pg.mkPen(None))
        self._upper = pg.PlotCurveItem(x=empty, y=empty, pen=pg.mkPen(None))
        self._lower = pg.PlotCurveItem(x=empty, y=empty, pen=pg.mkPen(None))
        self.trend_pos = pg.FillBetweenItem(self._base, self._upper, brush=pg.mkBrush(positive))
        self.trend_neg = pg.FillBetweenItem(self._base, self._lower, brush=pg.mkBrush(negative))
        self.trend_line = pg.PlotDataItem(
            x=empty,
            y=empty,
            pen=pg.mkPen(theme.text, width=max(2, theme.px(3))),
            connect="finite",
            antialias=True,
        )
        self.trend_now = pg.ScatterPlotItem(size=theme.px(18), antialias=True)
        # one pen and one brush per label for the dot, made once: pyqtgraph keeps a picture of
        # the dot for every pen and brush *object* it is given, so a new pair each refresh
        # grew its symbol atlas by one picture a refresh (up to a thousand before it rebuilds)
        self._now_pen = pg.mkPen(theme.surface, width=max(2, theme.px(3)))
        self._now_brushes = {
            label: pg.mkBrush(theme.sentiment_color(label))
            for label in ("positive", "neutral", "negative")
        }
        for item in (
            self.trend_zero,
            self._base,
            self._upper,
            self._lower,
            self.trend_pos,
            self.trend_neg,
            self.trend_line,
            self.trend_now,
        ):
            self.trend.addItem(item)
        self.trend.getPlotItem().getViewBox().setRange(
            xRange=(-0.5, TREND_HOURS - 0.5), yRange=(-100.0, 100.0), padding=0.0
        )

    # -- panel contract ----------------------------------------------------------------------------

    def title(self) -> str:
        return self.spec.title or f"Sentiment · {short_window(self.range_s)}"

    def window_s(self, default: float | None = 3600.0) -> float | None:
        return self.range_s

    def _trend(self, snapshot: Snapshot) -> np.ndarray:
        return hourly_net(snapshot.volume.by_sentiment, snapshot.volume.step_s)

    def data_key(self, snapshot: Snapshot) -> object:
        trend = self._trend(snapshot)
        rounded = tuple(None if math.isnan(v) else round(float(v), 1) for v in trend)
        return (snapshot.summary(self.range_s).sentiment, rounded)

    def refresh(self, snapshot: Snapshot) -> None:
        summary = snapshot.summary(self.range_s).sentiment
        self._show_trend(self._trend(snapshot))
        if summary.scored == 0:
            sentence = self._empty_sentence
            if summary.unscored:
                sentence += f" ({summary.unscored} not scored: language)"
            self.show_empty(sentence)
            return
        self.show_body()
        self._show_summary(summary)

    def _show_summary(self, summary: SentimentSummary) -> None:
        theme = self.theme
        net = summary.net
        text = signed(net)
        color = theme.sentiment_color(
            None
            if net is None
            else "positive"
            if round(net) > 0
            else "negative"
            if round(net) < 0
            else "neutral"
        ).name()
        if net is None:
            color = theme.muted
        if self.number.text() != text:
            self.number.setText(text)
            self._fit_figure(self._inner_width(self.width()))
        style = f"color: {color};"
        if self.number.styleSheet() != style:
            self.number.setStyleSheet(style)
            self.word.setStyleSheet(style)
        self.word.setText(sign_word(net))
        scored = f"{summary.scored:,} posts scored".replace(",", "\u2009")
        if summary.unscored:
            left_out = f"{summary.unscored:,}".replace(",", "\u2009")
            self._counts_parts = (scored, f"{left_out} in other languages left out")
        else:
            self._counts_parts = (scored,)
        counts = [summary.positive, summary.neutral, summary.negative]
        self.split.set_counts(counts)
        self._percents = percentages(counts)
        self._set_legend(self.body.width())

    def counts_text(self) -> str:
        """The full counts line (the panel may show a shorter form when narrow)."""
        return " · ".join(self._counts_parts)

    def _fit_counts(self, width: int) -> None:
        parts = self._counts_parts
        metrics = QFontMetricsF(self.counts.font())
        one_line = self.counts_text()
        if len(parts) < 2 or width <= 0 or metrics.horizontalAdvance(one_line) <= width:
            first, second = one_line, ""
        else:
            first, second = parts[0], elide_words(parts[1], metrics, width)
        if self.counts.text() != first:
            self.counts.setText(first)
        if self.left_out.text() != second:
            self.left_out.setText(second)
        if self.left_out.isHidden() == bool(second):
            self.left_out.setVisible(bool(second))

    def _set_legend(self, width: int) -> None:
        """Names with percentages, or names alone when the row would not fit the width; the
        counts on one line, or two when narrow (never a word cut)."""
        self._fit_counts(width)
        labels = {
            key: f"{SPLIT_NAMES[key]} {pct}%"
            for key, pct in zip(SPLIT_KEYS, self._percents, strict=True)
        }
        if self.split_legend.width_for(labels) > width:
            labels = {key: SPLIT_NAMES[key] for key in SPLIT_KEYS}
        for key, label in labels.items():
            self.split_legend.set_entry(key, label)

    def _show_trend(self, net: np.ndarray) -> None:
        n = len(net)
        x = np.arange(TREND_HOURS - n, TREND_HOURS, dtype=np.float64)
        filled = np.nan_to_num(net, nan=0.0)
        self._base.setData(x=x, y=np.zeros(n))
        self._upper.setData(x=x, y=np.clip(filled, 0.0, None))
        self._lower.setData(x=x, y=np.clip(filled, None, 0.0))
        update_curve(self.trend_line, x, net)
        # a symmetric range around 0 that fits the day: ±20, ±50 or ±100 (so ±8 is not flat)
        peak = float(np.nanmax(np.abs(net))) if np.isfinite(net).any() else 0.0
        span = next(limit for limit in (20.0, 50.0, 100.0) if peak <= limit or limit == 100.0)
        if span != self._trend_span:
            self._trend_span = span
            self.trend.getPlotItem().getViewBox().setRange(
                xRange=(-0.5, TREND_HOURS - 0.5), yRange=(-span, span), padding=0.0
            )
        finite = np.flatnonzero(~np.isnan(net))
        if len(finite):
            last = int(finite[-1])
            value = float(net[last])
            label = "positive" if value >= 0.5 else "negative" if value <= -0.5 else "neutral"
            self.trend_now.setData(
                x=[float(x[last])],
                y=[value],
                brush=[self._now_brushes[label]],
                pen=self._now_pen,
            )
        else:
            self.trend_now.setData(x=[], y=[])

    def _inner_width(self, panel_width: int) -> int:
        """The body's width for a panel this wide (its layout may not have run yet)."""
        return panel_width - self.theme.px(22) * 2

    def _fit_figure(self, width: int) -> None:
        """The figure as large as its size allows while its word and scale fit beside it, in
        room for the widest word (so nothing moves as the figure or the word change); when even
        a figure shrunk to :data:`NUMBER_SHRINK` leaves them no room, they go under it."""
        if width <= 0:
            return
        spare = self.theme.px(4)  # a label is as wide as its text's integer bounds
        words = QFontMetricsF(self.word.font())
        notes = QFontMetricsF(self.scale_note.font())

        def widest(text: str) -> float:
            return max(notes.horizontalAdvance(line) for line in text.split("\n")) + spare

        column = max(words.horizontalAdvance(w) for w in WORDS) + spare
        note = next((n for n in SCALE_NOTES if widest(n) <= column), SCALE_NOTES[-1])
        column = max(column, widest(note))
        px = self._figure_px(width - self.top.spacing() - column)
        direction = QBoxLayout.Direction.LeftToRight
        if px is None:  # word and scale under the figure, which has the whole width
            direction = QBoxLayout.Direction.TopToBottom
            px = self._figure_px(width) or round(self._number_px * NUMBER_SHRINK)
            note = next((n for n in SCALE_NOTES if widest(n) <= width), SCALE_NOTES[-1])
        if px != self.number.font().pixelSize():
            font = QFont(self.number.font())
            font.setPixelSize(px)
            self.number.setFont(font)
        if self.top.direction() != direction:
            self.top.setDirection(direction)
        if self.scale_note.text() != note:
            self.scale_note.setText(note)

    def _figure_px(self, room: float) -> int | None:
        """The largest pixel size, down to :data:`NUMBER_SHRINK` of the panel's figure size, at
        which the figure is at most ``room`` wide; ``None`` when even the smallest is wider."""
        font = QFont(self.number.font())
        smallest = max(8, round(self._number_px * NUMBER_SHRINK))
        px = self._number_px
        while True:
            font.setPixelSize(px)
            # (a label is as wide as its text's integer bounds: a pixel or two over the advance)
            needed = QFontMetricsF(font).horizontalAdvance(self.number.text()) + self.theme.px(4)
            if needed <= room:
                return px
            if px <= smallest:
                return None
            px = max(smallest, math.floor(px * 0.95))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        # a short panel takes the smaller big-number size so the trend keeps some height
        tall = event.size().height() >= self.theme.px(500)
        self._number_px = (self._big_font if tall else self._mid_font).pixelSize()
        # a short panel gives the trend caption's line to the trend itself
        if self.trend_caption.isHidden() == tall:
            self.trend_caption.setVisible(tall)
        width = self._inner_width(event.size().width())
        self._fit_figure(width)
        self._set_legend(width)


__all__ = ["SentimentPanel", "hourly_net", "sign_word"]

"""The ``share`` panel: share of voice between the configured topics.

One horizontal bar per topic in the config's order (the brand first, so rows never swap places),
each with its label, whole percentage (the percentages add up to exactly 100) and mention count.
A bar's length is the topic's share of all topic mentions. With no mention of any topic the panel
says so instead of drawing empty bars (never a pie of nothing).

Options: ``window`` (``"24h"`` default; ``range`` is read as a synonym), ``topics`` (a subset of
topic keys to compare, in config order).
"""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from agora.config.schema import PanelConfig
from agora.core.snapshot import Snapshot
from agora.ui.charts import (
    BarRow,
    ShareBars,
    panel_window,
    percentages,
    short_window,
    topic_qcolor,
    window_phrase,
)
from agora.ui.panels.base import Panel, PanelContext
from agora.ui.safetext import plain_label


class SharePanel(Panel):
    """Share of voice between the tracked topics."""

    kind = "share"
    empty_text = "No mentions of the tracked topics yet"
    #: Shares of a day move by a fraction of a percent between two snapshots: redrawn every five
    #: seconds they look the same from across a lobby.
    refresh_every_s = 5.0

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        self.range_s = panel_window(spec, 86400.0)
        super().__init__(spec, context, parent)
        theme = self.theme
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.px(6))
        self.bars = ShareBars(theme)
        layout.addWidget(self.bars, 1)
        self.caption = plain_label("")
        self.caption.setFont(theme.font("small"))
        self.caption.setStyleSheet(f"color: {theme.muted};")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)

    def title(self) -> str:
        window = short_window(self.range_s).replace(" ", "\u2009")
        return self.spec.title or f"Share of voice · {window}"

    def window_s(self, default: float | None = 86400.0) -> float | None:
        return self.range_s

    def _topics(self, snapshot: Snapshot) -> list[str]:
        wanted = self.spec.topics
        keys = list(snapshot.topics)
        if wanted:
            chosen = [k for k in keys if k in wanted]
            if chosen:
                return chosen
        return keys

    def rows(self, snapshot: Snapshot) -> tuple[BarRow, ...]:
        """What the bars show for ``snapshot`` (empty when no topic was mentioned)."""
        summary = snapshot.summary(self.range_s)
        keys = self._topics(snapshot)
        counts = [int(summary.share_counts.get(k, 0)) for k in keys]
        if sum(counts) <= 0:
            return ()
        shares = [max(0.0, float(summary.share_of_voice.get(k, 0.0))) for k in keys]
        if len(keys) != len(snapshot.topics) or sum(shares) <= 0:
            # a subset (or no fractions): shares of the compared topics only
            total = float(sum(counts))
            shares = [c / total for c in counts]
        else:
            total_share = sum(shares)
            shares = [s / total_share for s in shares]
        percents = percentages(shares)
        order = list(snapshot.topics)
        return tuple(
            BarRow(
                key=key,
                label=snapshot.topics.get(key, key),
                fraction=share,
                percent=pct,
                count=count,
                color=topic_qcolor(self.theme, self.context.wall, key, order.index(key)).name(),
                emphasis=order.index(key) == 0,
            )
            for key, share, pct, count in zip(keys, shares, percents, counts, strict=True)
        )

    def data_key(self, snapshot: Snapshot) -> object:
        return (self.rows(snapshot), snapshot.summary(self.range_s).multi_topic)

    def refresh(self, snapshot: Snapshot) -> None:
        rows = self.rows(snapshot)
        if not rows:
            self.show_empty(self.empty_text)
            self.bars.set_rows(())
            return
        self.show_body()
        self.bars.set_rows(rows)
        total = sum(r.count for r in rows)
        summary = snapshot.summary(self.range_s)
        note = f"{total:,} topic mentions in {window_phrase(self.range_s)}".replace(",", "\u2009")
        if summary.multi_topic:
            note += f" · {summary.multi_topic:,} name several topics".replace(",", "\u2009")
        if self.caption.text() != note:
            self.caption.setText(note)


__all__ = ["SharePanel"]

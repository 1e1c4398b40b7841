"""A page: a grid of panels built from a :class:`~agora.config.schema.PageConfig`.

A panel that cannot be built (a bug, a missing dependency) is replaced by a quiet placeholder and
logged; the rest of the page works. The page hands each snapshot to its panels only while visible.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QWidget

from agora.config.schema import PageConfig, PanelConfig
from agora.core.snapshot import Snapshot
from agora.ui.panels import Panel, PanelContext, panel_class
from agora.ui.safetext import plain_label

log = logging.getLogger("agora.ui.page")


class UnavailablePanel(Panel):
    """Stands in for a panel that failed to build."""

    kind = "unavailable"
    empty_text = "This panel is unavailable right now"

    def __init__(self, spec: PanelConfig, context: PanelContext, reason: str) -> None:
        super().__init__(spec, context)
        self.reason = reason
        self.show_empty()

    def refresh(self, snapshot: Snapshot) -> None:
        """Nothing to refresh."""


class PageWidget(QWidget):
    """One page of a screen."""

    def __init__(
        self, config: PageConfig, context: PanelContext, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.context = context
        self.panels: list[Panel] = []
        self._next_panel = 0
        theme = context.theme
        grid = QGridLayout(self)
        gap = theme.px(16)
        grid.setContentsMargins(gap, gap, gap, gap)
        grid.setSpacing(gap)
        cols, rows = config.grid
        for c in range(cols):
            grid.setColumnStretch(c, 1)
        for r in range(rows):
            grid.setRowStretch(r, 1)
        for spec in config.panels:
            panel = self._build(spec)
            (c, r), (w, h) = spec.at, spec.span
            grid.addWidget(panel, r, c, h, w)
            self.panels.append(panel)

    def _build(self, spec: PanelConfig) -> Panel:
        try:
            return panel_class(spec.kind)(spec, self.context)
        except Exception as exc:
            log.exception("panel %s could not be built; showing a placeholder", spec.kind)
            return UnavailablePanel(spec, self.context, str(exc))

    def apply(
        self, snapshot: Snapshot, budget_s: float | None = None, *, paced: bool = False
    ) -> int:
        """Give the snapshot to the panels; returns how many refreshed.

        With ``budget_s``, panels are refreshed until that much time is spent (at least one
        refresh is made): the rest get the snapshot at the next call (the next UI tick), so a new
        snapshot is not one long frame of every panel's refresh. Panels that have it already
        cost nothing. ``paced``: panels with a :attr:`~Panel.refresh_every_s` wait for it."""
        started = time.perf_counter()
        refreshed = 0
        count = len(self.panels)
        first = self._next_panel % count if count else 0
        for offset in range(count):
            index = (first + offset) % count
            if budget_s is not None and refreshed and time.perf_counter() - started >= budget_s:
                # the next call starts here: with a new snapshot at every call, every panel
                # still gets its turn
                self._next_panel = index
                break
            if self.panels[index].apply(snapshot, paced=paced):
                refreshed += 1
        return refreshed

    def has_seen(self, snapshot: Snapshot) -> bool:
        """True when every panel has been given ``snapshot``."""
        return all(panel.has_seen(snapshot) for panel in self.panels)

    @property
    def title(self) -> str:
        """A name for logs and the status line."""
        return self.config.name or ", ".join(p.kind for p in self.config.panels)


def error_page(message: str, context: PanelContext) -> QWidget:
    """A calm full-page message (used when a screen has no page that could be built)."""
    widget = QWidget()
    label = plain_label(message, widget)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setFont(context.theme.font("heading", light=True))
    label.setStyleSheet(f"color: {context.theme.muted};")
    grid = QGridLayout(widget)
    grid.addWidget(label, 0, 0)
    return widget

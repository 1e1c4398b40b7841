"""A page: a grid of panels built from a :class:`~agora.config.schema.PageConfig`.

A panel that cannot be built (a bug, a missing dependency) is replaced by a quiet placeholder and
logged; the rest of the page works. The page hands each snapshot to its panels only while visible.
"""

from __future__ import annotations

import logging

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

    def apply(self, snapshot: Snapshot) -> int:
        """Give the snapshot to every panel; returns how many refreshed."""
        return sum(1 for panel in self.panels if panel.apply(snapshot))

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

"""The panel base class: one job per panel, fed from the snapshot on the UI tick.

A panel is built once per page from its :class:`~agora.config.schema.PanelConfig`. On every UI tick
the page calls :meth:`Panel.apply` with the current snapshot; the panel compares a cheap
:meth:`Panel.data_key` with the last one it drew and only then calls :meth:`Panel.refresh`, which
updates its child widgets or chart items *in place* (never rebuilds them). A panel with nothing to
show displays a calm sentence instead of an empty box.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLayout,
    QSizePolicy,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from agora.config.schema import PanelConfig, WallConfig
from agora.core.snapshot import Snapshot
from agora.ui import perf
from agora.ui.safetext import plain_label
from agora.ui.theme import Theme
from agora.ui.widgets import rounded_rect

log = logging.getLogger("agora.ui.panels")


def utcnow() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


@dataclass(slots=True)
class PanelContext:
    """What every panel may use besides its own config."""

    wall: WallConfig
    theme: Theme
    clock: Callable[[], datetime] = utcnow
    images: Any = None
    """An :class:`agora.ui.images.ImageLoader` (or ``None``: no images, placeholders only)."""
    extra: dict[str, Any] = field(default_factory=dict)


class Panel(QFrame):
    """Base of every panel kind. Subclasses set :attr:`kind`, build their widgets in ``__init__``
    (into :attr:`body`) and implement :meth:`refresh`."""

    kind: ClassVar[str] = ""
    #: Sentence shown when there is nothing to show (subclasses override).
    empty_text: ClassVar[str] = "Nothing to show yet"
    #: The UI tick refreshes the panel at most this often (seconds; 0: at every new snapshot).
    refresh_every_s: ClassVar[float] = 0.0
    #: The clock of :attr:`refresh_every_s` (tests replace it).
    monotonic: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, spec: PanelConfig, context: PanelContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self.context = context
        self.theme = context.theme
        self._last_key: object = object()
        self._last_snapshot: Snapshot | None = None
        self._refreshed_at: float | None = None
        self.refreshes = 0
        self.setObjectName(f"panel-{self.kind}")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)
        pad = self.theme.px(22)
        outer = QVBoxLayout(self)
        # the page grid decides a panel's size, never its content's minimum size
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        outer.setContentsMargins(pad, pad * 3 // 4, pad, pad * 3 // 4)
        outer.setSpacing(self.theme.px(10))
        self.title_label: QLabel | None = None
        title = self.title()
        if title:
            self.title_label = plain_label(title.upper())
            self.title_label.setFont(self.theme.font("title", bold=True))
            self.title_label.setStyleSheet(f"color: {self.theme.muted}; letter-spacing: 1px;")
            outer.addWidget(self.title_label)
        self._stack_host = QWidget()
        self._stack = QStackedLayout(self._stack_host)
        self.body = QWidget()
        self._empty = plain_label(self.empty_text)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setFont(self.theme.font("body", light=True))
        self._empty.setStyleSheet(f"color: {self.theme.muted};")
        self._stack.addWidget(self.body)
        self._stack.addWidget(self._empty)
        outer.addWidget(self._stack_host, 1)

    # -- to implement ------------------------------------------------------------------------------

    def title(self) -> str:
        """The panel's heading (``title`` from the config, else the kind's default)."""
        return self.spec.title or ""

    def data_key(self, snapshot: Snapshot) -> object:
        """A cheap value that changes when what this panel draws changes (default: the version
        and the minute, so relative times stay fresh)."""
        return (snapshot.version, int(snapshot.now.timestamp() // 60))

    def refresh(self, snapshot: Snapshot) -> None:
        """Update child widgets and chart items in place from ``snapshot``."""
        raise NotImplementedError

    # -- used by pages and subclasses ------------------------------------------------------------

    def apply(self, snapshot: Snapshot, *, paced: bool = False) -> bool:
        """Refresh when the data changed. Returns whether it did. Errors are logged, never raised:
        the panel keeps what it showed last.

        The UI tick hands over the same snapshot object until the engine publishes a new one;
        :meth:`data_key` is a function of the snapshot, so the same object is not looked at twice.
        ``paced`` (the UI tick's hand-over): within :attr:`refresh_every_s` of the last refresh the
        snapshot is not taken yet (a later tick hands it over again).
        """
        if snapshot is self._last_snapshot:
            return False
        if (
            paced
            and self.refresh_every_s > 0
            and self._refreshed_at is not None
            and 0 <= self.monotonic() - self._refreshed_at < self.refresh_every_s
        ):
            return False
        self._last_snapshot = snapshot
        key = self.data_key(snapshot)
        if key == self._last_key:
            return False
        self._last_key = key
        probe = perf.active()
        started = time.perf_counter()
        try:
            self.refresh(snapshot)
        except Exception:
            log.exception("panel %s could not refresh; keeping the last good view", self.kind)
            return False
        finally:
            if probe is not None:
                probe.refresh(self.kind, time.perf_counter() - started, self.window())
        self.refreshes += 1
        self._refreshed_at = self.monotonic()
        return True

    def has_seen(self, snapshot: Snapshot) -> bool:
        """True when :meth:`apply` was given ``snapshot`` last."""
        return snapshot is self._last_snapshot

    def show_empty(self, message: str | None = None) -> None:
        """Show the calm empty-state sentence instead of the body."""
        if message is not None and message != self._empty.text():
            self._empty.setText(message)
        if self._stack.currentWidget() is not self._empty:
            self._stack.setCurrentWidget(self._empty)

    def show_body(self) -> None:
        """Show the body (after :meth:`show_empty`)."""
        if self._stack.currentWidget() is not self.body:
            self._stack.setCurrentWidget(self.body)

    @property
    def showing_empty(self) -> bool:
        """True while the empty-state sentence is shown."""
        return self._stack.currentWidget() is self._empty

    def window_s(self, default: float | None = 3600.0) -> float | None:
        """The panel's time window in seconds (``window`` option, else ``default``)."""
        return self.spec.window if self.spec.window is not None else default

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """A rounded card in the theme's surface colour.

        Most repaints of a panel are a small part of it (a label, a card), away from its rounded
        corners: those are a plain fill of the dirty rectangles, which is what the antialiased
        rounded shape paints there too. Only a repaint that reaches a corner draws the shape."""
        painter = QPainter(self)
        color = self.theme.color("surface")
        card = self.rect().adjusted(0, 0, -1, -1)
        radius = self.theme.px(14)
        corner = radius + 1
        corners = (
            QRect(card.left(), card.top(), corner, corner),
            QRect(card.right() - corner + 1, card.top(), corner, corner),
            QRect(card.left(), card.bottom() - corner + 1, corner, corner),
            QRect(card.right() - corner + 1, card.bottom() - corner + 1, corner, corner),
        )
        dirty = event.rect()  # Qt clips the painter to the dirty region within it
        if any(dirty.intersects(c) for c in corners):
            rounded_rect(painter, card.toRectF(), radius, color)
        else:
            # the shape covers whole pixels [0, width - 1) x [0, height - 1) away from corners
            painter.fillRect(
                dirty.intersected(QRect(0, 0, self.width() - 1, self.height() - 1)), color
            )
        painter.end()

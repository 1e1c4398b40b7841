"""Calm motion at a sane frame rate.

Qt's property animations step at the unified animation timer's ~60 frames a second, and every step
repaints what they move. On a wall the fades are slow (most of a second) and viewed from metres
away: 30 frames a second looks the same and costs half. :class:`OpacityFade` drives a
``QGraphicsOpacityEffect`` from a :class:`~PySide6.QtCore.QTimeLine`, whose update interval can be
chosen, instead of a ``QPropertyAnimation``, whose cannot.
"""

from __future__ import annotations

from PySide6.QtCore import QEasingCurve, QObject, QTimeLine, Signal
from PySide6.QtWidgets import QGraphicsOpacityEffect, QWidget

from agora.ui import perf

#: Frames a second of the wall's fades.
FADE_FPS = 30


def frame_timeline(
    duration_ms: int,
    parent: QObject,
    *,
    easing: QEasingCurve.Type = QEasingCurve.Type.InOutSine,
    fps: int = FADE_FPS,
) -> QTimeLine:
    """A time line of ``duration_ms`` that moves ``fps`` times a second along ``easing``."""
    line = QTimeLine(max(1, duration_ms), parent)
    line.setUpdateInterval(max(1, round(1000 / max(1, fps))))
    line.setEasingCurve(QEasingCurve(easing))
    return line


class OpacityFade(QObject):
    """Fades ``effect`` from one opacity to another over ``duration_ms``, ``fps`` frames a second.

    ``kind`` names the animation for the render benchmark (:mod:`agora.ui.perf`); ``parent`` is
    the widget it moves (its window is the one that repaints). No Python reference back to the
    widget is kept: a reference cycle would leave the widget to the cyclic garbage collector, which
    may clear the Python side of a widget before Qt deletes it."""

    finished = Signal()

    def __init__(
        self,
        effect: QGraphicsOpacityEffect,
        duration_ms: int,
        *,
        kind: str,
        parent: QWidget,
        easing: QEasingCurve.Type = QEasingCurve.Type.InOutSine,
        fps: int = FADE_FPS,
    ) -> None:
        super().__init__(parent)
        self.effect = effect
        self.start_value = 0.0
        self.end_value = 1.0
        self._line = frame_timeline(duration_ms, self, easing=easing, fps=fps)
        self._line.valueChanged.connect(self._step)
        self._line.finished.connect(self._done)
        self._kind = kind

    def start(self, start: float = 0.0, end: float = 1.0) -> None:
        """Run from ``start`` to ``end`` opacity (restarts a running fade)."""
        self._line.stop()
        self.start_value = start
        self.end_value = end
        self.effect.setOpacity(start)
        self._line.setCurrentTime(0)
        self._line.start()

    def stop(self) -> None:
        """Stop where it is."""
        self._line.stop()

    def is_running(self) -> bool:
        """True while fading."""
        return self._line.state() == QTimeLine.State.Running

    def _step(self, value: float) -> None:
        self.effect.setOpacity(self.start_value + (self.end_value - self.start_value) * value)
        probe = perf.active()
        if probe is not None:
            widget = self.parent()
            probe.step(widget.window() if isinstance(widget, QWidget) else None, self._kind)

    def _done(self) -> None:
        self.effect.setOpacity(self.end_value)
        self.finished.emit()

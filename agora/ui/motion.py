"""Calm motion at a sane frame rate, from pictures taken once.

Qt's property animations step at the unified animation timer's ~60 frames a second, and every step
repaints what they move. On a wall the fades are slow (most of a second) and viewed from metres
away: 30 frames a second looks the same and costs half. :func:`frame_timeline` makes a
:class:`~PySide6.QtCore.QTimeLine` at that rate; a time line places each frame by the time elapsed
since it started, so a late frame is drawn where it belongs and the motion cannot fall behind.

:class:`OpacityFade` fades a widget in from a picture of it taken when the fade starts. A
``QGraphicsOpacityEffect`` would draw the widget and every child into a new picture at every frame
of the fade (and route every repaint of the widget through the effect even at rest).
"""

from __future__ import annotations

from PySide6.QtCore import (
    QCoreApplication,
    QEasingCurve,
    QEvent,
    QObject,
    QPoint,
    Qt,
    QTimeLine,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPixmap, QRegion
from PySide6.QtWidgets import QWidget

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


class OpacityFade(QWidget):
    """Fades ``target`` (its parent) from one opacity to another over ``duration_ms``, ``fps``
    frames a second.

    It is a child of ``target`` that covers it while the fade runs: it paints ``under`` (the colour
    behind ``target``) and over it a picture of ``target`` taken when the fade starts, at the
    fade's opacity. The widget beneath is hidden by it (an opaque child), so a frame is one fill and
    one copy of a picture, whatever ``target`` holds. Changes to ``target`` during the fade show
    when it ends. ``kind`` names the animation for the render benchmark (:mod:`agora.ui.perf`)."""

    finished = Signal()

    def __init__(
        self,
        target: QWidget,
        duration_ms: int,
        *,
        kind: str,
        under: QColor,
        easing: QEasingCurve.Type = QEasingCurve.Type.InOutSine,
        fps: int = FADE_FPS,
    ) -> None:
        super().__init__(target)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()
        self.start_value = 0.0
        self.end_value = 1.0
        self.opacity = 1.0
        """The opacity the picture is painted at now."""
        self._under = QColor(under)
        self._picture: QPixmap | None = None
        self._line = frame_timeline(duration_ms, self, easing=easing, fps=fps)
        self._line.valueChanged.connect(self._step)
        self._line.finished.connect(self._done)
        self._kind = kind

    def start(self, start: float = 0.0, end: float = 1.0) -> None:
        """Run from ``start`` to ``end`` opacity (restarts a running fade)."""
        self._line.stop()
        target = self.parentWidget()
        if target is None or target.width() <= 0 or target.height() <= 0:
            return
        self.hide()  # not in its own picture
        # lay out what changed before the picture is taken
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest.value)
        ratio = target.devicePixelRatioF() or 1.0
        picture = QPixmap(
            max(1, round(target.width() * ratio)), max(1, round(target.height() * ratio))
        )
        picture.setDevicePixelRatio(ratio)
        picture.fill(Qt.GlobalColor.transparent)
        # the widget and its children only: what shows through it (``under``) is painted apart,
        # and QWidget.grab() would fill the picture with the palette's window colour first
        target.render(
            picture, QPoint(0, 0), QRegion(target.rect()), QWidget.RenderFlag.DrawChildren
        )
        self._picture = picture
        self.start_value = start
        self.end_value = end
        self.opacity = start
        self.setGeometry(target.rect())
        self.raise_()
        self.show()
        self._line.setCurrentTime(0)
        self._line.start()

    def stop(self) -> None:
        """End the fade now: the widget shows as it is."""
        self._line.stop()
        self.hide()
        self._picture = None

    def is_running(self) -> bool:
        """True while fading."""
        return self._line.state() == QTimeLine.State.Running

    def _step(self, value: float) -> None:
        self.opacity = self.start_value + (self.end_value - self.start_value) * value
        self.update()
        probe = perf.active()
        if probe is not None:
            probe.step(self.window(), self._kind)

    def _done(self) -> None:
        self.opacity = self.end_value
        self.stop()
        self.finished.emit()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """What is behind the widget, and the widget's picture over it at the fade's opacity."""
        painter = QPainter(self)
        painter.fillRect(event.rect(), self._under)
        if self._picture is not None and self.opacity > 0.0:
            painter.setOpacity(self.opacity)
            painter.drawPixmap(QPoint(0, 0), self._picture)
        painter.end()

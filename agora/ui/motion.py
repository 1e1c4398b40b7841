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

from typing import ClassVar

from PySide6.QtCore import (
    QCoreApplication,
    QEasingCurve,
    QEvent,
    QObject,
    QPoint,
    QRect,
    QRectF,
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


class _PictureMotion(QWidget):
    """A widget that covers what it moves or fades while it runs and paints a picture of it taken
    once, on a time line of ``duration_ms`` at ``fps`` frames a second. ``kind`` names the
    animation for the render benchmark (:mod:`agora.ui.perf`); ``easing`` defaults to the kind's
    :attr:`easing`. A subclass says what a step (:meth:`_step`) and the end (:meth:`_done`) do."""

    easing: ClassVar[QEasingCurve.Type] = QEasingCurve.Type.InOutSine

    def __init__(
        self,
        parent: QWidget,
        duration_ms: int,
        *,
        kind: str,
        under: QColor,
        easing: QEasingCurve.Type | None = None,
        fps: int = FADE_FPS,
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()
        self.opacity = 1.0
        """The opacity the picture (or its part that arrives) is painted at now."""
        self._under = QColor(under)
        self._picture: QPixmap | None = None
        self._line = frame_timeline(duration_ms, self, easing=easing or self.easing, fps=fps)
        self._line.valueChanged.connect(self._step)
        self._line.finished.connect(self._done)
        self._kind = kind

    def _step(self, value: float) -> None:
        raise NotImplementedError

    def _done(self) -> None:
        raise NotImplementedError

    def is_running(self) -> bool:
        """True while it runs."""
        return self._line.state() == QTimeLine.State.Running

    def _take_picture(self, target: QWidget, background: QColor | None) -> QPixmap:
        """A picture of ``target`` and its children as laid out now, over ``background`` (else
        transparent: what shows through is painted apart, and ``QWidget.grab()`` would fill the
        picture with the palette's window colour first). Kept from one run to the next while the
        size holds."""
        self.hide()  # not in the picture
        # lay out what changed before the picture is taken
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest.value)
        ratio = target.devicePixelRatioF() or 1.0
        size = (max(1, round(target.width() * ratio)), max(1, round(target.height() * ratio)))
        picture = self._picture
        if picture is None or (picture.width(), picture.height()) != size:
            picture = QPixmap(*size)
        picture.setDevicePixelRatio(ratio)
        picture.fill(Qt.GlobalColor.transparent if background is None else background)
        target.render(
            picture, QPoint(0, 0), QRegion(target.rect()), QWidget.RenderFlag.DrawChildren
        )
        self._picture = picture
        return picture

    def _show_over(self, rect: QRect) -> None:
        self.setGeometry(rect)
        self.raise_()
        self.show()
        self._line.setCurrentTime(0)
        self._line.start()

    def _frame(self) -> None:
        self.update()
        probe = perf.active()
        if probe is not None:
            probe.step(self.window(), self._kind)


class OpacityFade(_PictureMotion):
    """Fades ``target`` (its parent) from one opacity to another over ``duration_ms``, ``fps``
    frames a second.

    It is a child of ``target`` that covers it while the fade runs: it paints ``under`` (the colour
    behind ``target``) and over it a picture of ``target`` taken when the fade starts, at the
    fade's opacity. The widget beneath is hidden by it (an opaque child), so a frame is one fill and
    one copy of a picture, whatever ``target`` holds. Changes to ``target`` during the fade show
    when it ends. ``kind`` names the animation for the render benchmark (:mod:`agora.ui.perf`)."""

    finished = Signal()
    start_value = 0.0
    end_value = 1.0

    def start(self, start: float = 0.0, end: float = 1.0) -> None:
        """Run from ``start`` to ``end`` opacity (restarts a running fade)."""
        self._line.stop()
        target = self.parentWidget()
        if target is None or target.width() <= 0 or target.height() <= 0:
            return
        self._take_picture(target, None)
        self.start_value = start
        self.end_value = end
        self.opacity = start
        self._show_over(target.rect())

    def stop(self) -> None:
        """End the fade now: the widget shows as it is."""
        self._line.stop()
        self.hide()
        self._picture = None

    def _step(self, value: float) -> None:
        self.opacity = self.start_value + (self.end_value - self.start_value) * value
        self._frame()

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


class Glide(_PictureMotion):
    """Slides a picture of ``target`` down into its place while the top of it fades in: what the
    river does when new posts arrive on top (the older ones move down to make room).

    It is a child of the widget that holds ``target`` and covers it while the glide runs. The
    picture is taken once, with ``target`` laid out where it will rest and painted over ``under``
    (the colour behind it), so it is opaque: a frame is one fill, one copy of the picture at the
    glide's offset and, for the part that arrives, one blend at the fade's opacity. Without it,
    every card of the river (rounded frames, text, avatars) was drawn again at every frame of the
    slide, and each arriving card had a fade of its own. Changes to ``target`` during the glide
    show when it ends. ``kind`` names the animation for the render benchmark
    (:mod:`agora.ui.perf`)."""

    easing = QEasingCurve.Type.OutCubic
    offset = 0.0
    """How far above its place the picture is drawn now (logical pixels, ≤ 0)."""
    _from = 0.0
    _fresh = 0
    _top = 0

    def start(self, target: QWidget, distance: float, fresh: int) -> None:
        """Glide a picture of ``target`` (a child of this widget's parent, laid out at its
        place) from ``distance`` logical pixels above its place down into it, its top ``fresh``
        pixels fading in (restarts a running glide)."""
        self._line.stop()
        if target.width() <= 0 or target.height() <= 0:
            self.stop()
            return
        self._take_picture(target, self._under)
        self._top = target.y()
        self._from = -abs(distance)
        self._fresh = max(0, min(fresh, target.height()))
        self.offset = self._from
        self.opacity = 0.0
        parent = self.parentWidget()
        self._show_over(parent.rect() if parent is not None else self.rect())

    def _done(self) -> None:
        self.stop()

    def stop(self) -> None:
        """End the glide now: what it covered shows as it is."""
        self._line.stop()
        self.offset = 0.0
        self.opacity = 1.0
        self.hide()

    def _step(self, value: float) -> None:
        self.offset = self._from * (1.0 - value)
        self.opacity = value
        self._frame()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """The colour behind, the picture at the glide's offset, its top at the fade's opacity.
        The picture is opaque: the colour is painted only where it does not cover, and under the
        part that fades in (a frame writes each pixel about once)."""
        painter = QPainter(self)
        picture = self._picture
        if picture is None:
            painter.fillRect(event.rect(), self._under)
            painter.end()
            return
        ratio = picture.devicePixelRatio()
        width = picture.width() / ratio
        height = picture.height() / ratio
        top = self._top + round(self.offset)
        fresh = self._fresh if self.opacity < 1.0 else 0
        solid = QRect(0, top + fresh, self.width(), round(height) - fresh)
        if width < self.width():
            solid.setWidth(int(width))
        painter.setClipRegion(QRegion(event.rect()).subtracted(QRegion(solid)))
        painter.fillRect(event.rect(), self._under)
        painter.setClipping(False)
        if fresh:
            painter.setOpacity(self.opacity)
            painter.drawPixmap(
                QRectF(0, top, width, fresh), picture, QRectF(0, 0, picture.width(), fresh * ratio)
            )
            painter.setOpacity(1.0)
        if fresh < height:
            painter.drawPixmap(
                QRectF(0, top + fresh, width, height - fresh),
                picture,
                QRectF(0, fresh * ratio, picture.width(), picture.height() - fresh * ratio),
            )
        painter.end()

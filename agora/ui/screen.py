"""One window per physical screen: rotating pages, a calm cross-fade, status line, kiosk care.

Rotation cannot silently stop: the timer is re-armed after every turn whatever happens, and the UI
tick checks that the current page has not overstayed (then it turns the page and logs why).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPaintEvent, QPixmap, QRegion
from PySide6.QtWidgets import (
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from agora.config.schema import PageConfig, parse_hours
from agora.core.snapshot import Snapshot
from agora.ui import perf
from agora.ui.motion import frame_timeline
from agora.ui.page import PageWidget, error_page
from agora.ui.panels import PanelContext
from agora.ui.safetext import elide_words, plain_label

log = logging.getLogger("agora.ui.screen")

#: Rotation watchdog: a page that stays this much longer than configured is turned by force.
OVERSTAY_GRACE_S = 5.0
#: A UI tick refreshes the panels of a page for about this long; the rest get the snapshot at
#: the next tick (a quarter of a second later), so a new snapshot is several short frames rather
#: than one long one that animations on every screen would wait for.
TICK_BUDGET_S = 0.004
#: The same for each step of a page turn that refreshes the new page's panels.
TURN_BUDGET_S = 0.008
#: A page turn draws the new page's picture in bands about this many device pixels high, one a
#: frame (two on a 1080p screen, four at 4K).
TURN_BAND_PX = 540


class _Fade(QWidget):
    """The page turn: a picture of the old page fading out over a picture of the new one.

    Both pictures are taken once, when the page turns; each frame of the fade only copies them
    (an opaque copy and a blended one). A translucent picture over the live page would make every
    frame repaint the whole page beneath it, which on a 4K screen costs more than a frame. The live
    page is hidden meanwhile (its crawl pauses instead of jumping ahead) and shown again at the end.

    The turn is done in two halves, each a frame of its own (:meth:`hold`, then :meth:`run`): the
    old picture is held on screen while the new page is switched in and refreshed, and the new
    picture is taken at the next pass of the event loop, so no single frame holds the GUI thread
    for the whole turn.
    """

    finished = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._old: QPixmap | None = None
        self._new: QPixmap | None = None
        self._opacity = 1.0
        self._line = frame_timeline(800, self)
        self._line.valueChanged.connect(self._step)
        self._line.finished.connect(self.finish)
        self.hide()

    @property
    def running(self) -> bool:
        """True while a fade (or the old picture held before it) is on screen."""
        return self._old is not None

    @property
    def fading(self) -> bool:
        """True once both pictures are in and the fade moves."""
        return self._new is not None

    def hold(self, old: QPixmap) -> None:
        """Show ``old`` (a picture of the whole window) over everything until :meth:`run`."""
        self._line.stop()
        self._old, self._new = old, None
        self._opacity = 1.0
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.show()
        self.raise_()

    def run(self, new: QPixmap, seconds: float) -> None:
        """Fade from the held picture to ``new`` over ``seconds``."""
        if self._old is None:
            return
        self._new = new
        self._line.setDuration(max(1, int(seconds * 1000)))
        self._line.setCurrentTime(0)
        self._line.start()

    def finish(self) -> None:
        """End the fade now (the new page is live again)."""
        self._line.stop()
        was_running = self.running
        self.hide()
        self._old = self._new = None
        if was_running:
            self.finished.emit()

    def _step(self, value: float) -> None:
        self._opacity = 1.0 - value
        self.update()
        probe = perf.active()
        if probe is not None:
            probe.step(self.window(), "page")

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """The new picture, and the old one over it at the fade's opacity."""
        if self._old is None:
            return
        painter = QPainter(self)
        if self._new is not None:
            painter.drawPixmap(QPoint(0, 0), self._new)
        if self._opacity > 0.0:
            if self._new is not None:
                painter.setOpacity(self._opacity)
            painter.drawPixmap(QPoint(0, 0), self._old)
        painter.end()


class _NightVeil(QWidget):
    """A translucent (dim) or opaque (blank) layer over the whole screen during quiet hours."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.alpha = 170
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, self.alpha))
        painter.end()


class ScreenWindow(QWidget):
    """The wall on one screen."""

    def __init__(
        self,
        name: str,
        pages: Sequence[PageConfig],
        context: PanelContext,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.name = name
        self.context = context
        self.clock = clock
        self._monotonic = monotonic
        theme = context.theme
        wall = context.wall.wall
        self.setWindowTitle(f"{wall.name} — {name}")
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), theme.color("background"))
        self.setPalette(palette)

        self._content = QWidget(self)
        layout = QVBoxLayout(self._content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.status = plain_label("")
        self.status.setFont(theme.font("small", light=True))
        self.status.setStyleSheet(f"color: {theme.muted}; padding: 0 {theme.px(20)}px;")
        self.status.setFixedHeight(theme.px(34))
        layout.addWidget(self.status)
        self._fade = _Fade(self)
        self._fade.finished.connect(self._content.show)
        self._fade_seconds = 0.0
        self._buffers: list[QPixmap | None] = [None, None]
        self._band = 0
        self._turn_step = QTimer(self)
        self._turn_step.setSingleShot(True)
        self._turn_step.setInterval(0)
        self._turn_step.timeout.connect(self._continue_turn)
        self._veil = _NightVeil(self)

        self.pages: list[PageWidget] = []
        self._guests: dict[str, list[PageWidget]] = {}
        self.current = 0
        self.paused = False
        self.turns = 0
        self._shown_at = monotonic()
        self._status_messages: dict[str, str] = {}
        self._status_key: tuple[str, int] | None = None
        self._burn_step = 0
        self._night_state = "day"
        self._last_snapshot: Snapshot | None = None

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.next_page)
        self._burn_timer = QTimer(self)
        self._burn_timer.timeout.connect(self._shift_for_burn_in)
        if wall.burn_in_shift > 0 and wall.burn_in_pixels > 0:
            self._burn_timer.start(int(wall.burn_in_shift * 1000))

        for config in pages:
            page = self._build_page(config)
            if page is not None:
                self.pages.append(page)
                self.stack.addWidget(page)
        if not self.pages:
            self.stack.addWidget(error_page("No page of this screen could be shown", context))
        self._arm()

    def event(self, event: QEvent) -> bool:
        """Qt's event entry; a repaint of the whole window is timed when a probe is installed."""
        probe = perf.active()
        if probe is None or event.type() != QEvent.Type.UpdateRequest:
            return super().event(event)
        started = time.perf_counter()
        handled = super().event(event)
        probe.paint(self, time.perf_counter() - started)
        return handled

    # -- pages ------------------------------------------------------------------------------------

    def _build_page(self, config: PageConfig) -> PageWidget | None:
        try:
            return PageWidget(config, self.context)
        except Exception:
            log.exception("%s: a page could not be built and is skipped", self.name)
            return None

    def add_guest_pages(self, owner: str, configs: Sequence[PageConfig]) -> None:
        """Show another screen's pages here while that screen is absent."""
        if owner in self._guests:
            return
        built = [p for p in (self._build_page(c) for c in configs) if p is not None]
        for page in built:
            self.pages.append(page)
            self.stack.addWidget(page)
        self._guests[owner] = built
        log.info("%s: showing %d page(s) of %s while it is absent", self.name, len(built), owner)
        self._arm()

    def remove_guest_pages(self, owner: str) -> None:
        """The other screen is back: give its pages back."""
        built = self._guests.pop(owner, [])
        current = self.pages[self.current] if self.pages else None
        for page in built:
            self.stack.removeWidget(page)
            self.pages.remove(page)
            page.deleteLater()
        if current in built or self.current >= len(self.pages):
            self.current = 0
            if self.pages:
                self.stack.setCurrentWidget(self.pages[0])
        elif current is not None:
            self.current = self.pages.index(current)
        self._arm()

    def resume(self, old: ScreenWindow) -> None:
        """Carry on where ``old`` (this screen before a config reload) was: on the page of the
        same name, else at the same position, and paused if it was paused."""
        page = old.current_page()
        if page is None or not self.pages:
            return
        target: int | None = None
        if page.config.name:
            target = next(
                (i for i, p in enumerate(self.pages) if p.config.name == page.config.name), None
            )
        elif old.current < len(self.pages) and self.pages[old.current].config.name is None:
            target = old.current
        if target is not None and target != self.current:
            self.current = target
            self.stack.setCurrentWidget(self.pages[target])
        if old.paused:
            self.set_paused(True)
        else:
            self._arm()

    @property
    def guests(self) -> list[str]:
        """Names of absent screens whose pages are shown here."""
        return list(self._guests)

    def current_page(self) -> PageWidget | None:
        """The page on screen."""
        return self.pages[self.current] if self.pages else None

    def _arm(self) -> None:
        self._timer.stop()
        self._shown_at = self._monotonic()
        page = self.current_page()
        if page is None or self.paused or len(self.pages) < 2:
            return
        self._timer.start(max(1000, int(page.config.seconds * 1000)))

    def next_page(self, step: int = 1) -> None:
        """Turn to the next (or, with ``step=-1``, previous) page with a cross-fade.

        The turn is spread over a few frames, none of which holds the GUI thread long: this one
        copies the picture of the old page (what the window shows) and holds it on screen while
        the new page is switched in; the next ones refresh the new page's panels
        (:data:`TURN_BUDGET_S` of them at a time), draw its picture a band at a time
        (:data:`TURN_BAND_PX` device pixels high), and start the fade."""
        probe = perf.active()
        started = time.perf_counter()
        try:
            if len(self.pages) < 2:
                return
            seconds = self.context.wall.wall.transition
            turning = self._fade.running
            self._end_turn()
            animate = seconds > 0 and self.isVisible() and self.width() > 0
            old = self._old_picture(on_screen=not turning) if animate else None
            self.current = (self.current + step) % len(self.pages)
            page = self.pages[self.current]
            self.stack.setCurrentWidget(page)
            if old is None:
                if self._last_snapshot is not None:
                    page.apply(self._last_snapshot)
            else:
                self._fade.hold(old)
                if self._veil.isVisible():
                    self._veil.raise_()  # the night veil stays over the fade
                self._fade_seconds = seconds
                self._band = 0
                self._turn_step.start()
            self.turns += 1
        except Exception:
            log.exception("%s: turning the page failed; rotation continues", self.name)
        finally:
            self._arm()
            if probe is not None:  # the turn's cost lands in the first frame of the cross-fade
                probe.turn(self, time.perf_counter() - started)

    def _continue_turn(self) -> None:
        """The next step of a page turn: refresh some of the new page's panels, or (once they
        all have the last snapshot) draw a band of the new page's picture; after the last band
        the fade starts."""
        probe = perf.active()
        started = time.perf_counter()
        try:
            page = self.current_page()
            if not self._fade.running or self._fade.fading or page is None:
                return
            snapshot = self._last_snapshot
            if snapshot is not None and not page.has_seen(snapshot):
                page.apply(snapshot, TURN_BUDGET_S)
                self._turn_step.start()
                return
            if self._band == 0:
                # lay the new page out before its picture is taken
                QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest.value)
            ratio = self.devicePixelRatioF() or 1.0
            bands = max(1, math.ceil(self.height() * ratio / TURN_BAND_PX))
            top = self.height() * self._band // bands
            bottom = self.height() * (self._band + 1) // bands
            new = self._draw(self._buffer(1), QRect(0, top, self.width(), bottom - top))
            self._band += 1
            if self._band < bands:
                self._turn_step.start()
                return
            self._content.hide()
            self._fade.run(new, self._fade_seconds)
        except Exception:
            log.exception("%s: the page turn's fade failed; the new page shows at once", self.name)
            self._end_turn()
        finally:
            if probe is not None:
                probe.step(self, "page", time.perf_counter() - started)

    def _end_turn(self) -> None:
        """End a page turn in progress (its fade, or its steps not yet run)."""
        self._turn_step.stop()
        self._fade.finish()
        if self._content.isHidden():
            self._content.show()

    def _buffer(self, slot: int) -> QPixmap:
        """Picture buffer ``slot`` (0: the old page, 1: the new one) at the window's size and
        device pixel ratio. The two are kept from one turn to the next: a whole-screen picture is
        33 MB at 4K, and allocating two at every turn cost time and made memory swing."""
        ratio = self.devicePixelRatioF() or 1.0
        width = max(1, round(self.width() * ratio))
        height = max(1, round(self.height() * ratio))
        buffer = self._buffers[slot]
        if (
            buffer is None
            or buffer.width() != width
            or buffer.height() != height
            or buffer.devicePixelRatio() != ratio
        ):
            buffer = QPixmap(width, height)
            buffer.setDevicePixelRatio(ratio)
            self._buffers[slot] = buffer
        return buffer

    def _old_picture(self, *, on_screen: bool) -> QPixmap:
        """The window as it shows now, in buffer 0. With ``on_screen`` it is copied from the
        window's backing store (what was last painted: a copy, where drawing the whole window
        again took tens of milliseconds at 4K); else, or when the backing store is not a picture
        of the window at its size (a platform that keeps it elsewhere), or under the night veil
        (which stays over the fade), it is drawn."""
        buffer = self._buffer(0)
        store = self.backingStore() if on_screen and not self._veil.isVisible() else None
        shown = store.paintDevice() if store is not None else None
        if (
            isinstance(shown, QImage)
            and shown.width() == buffer.width()
            and shown.height() == buffer.height()
        ):
            painter = QPainter(buffer)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            painter.drawImage(self.rect(), shown)
            painter.end()
            return buffer
        return self._draw(buffer, self.rect())

    def _draw(self, buffer: QPixmap, band: QRect) -> QPixmap:
        """Draw ``band`` of the window (window coordinates) into ``buffer``."""
        painter = QPainter(buffer)
        painter.fillRect(band, self.palette().color(self.backgroundRole()))
        content = self._content.geometry()
        part = band.translated(-content.x(), -content.y()).intersected(self._content.rect())
        if not part.isEmpty():
            # the part's corner lands at the offset
            self._content.render(painter, content.topLeft() + part.topLeft(), QRegion(part))
        painter.end()
        return buffer

    def set_paused(self, paused: bool) -> None:
        """Pause or resume the rotation (operator key)."""
        self.paused = paused
        self.set_status("paused", "rotation paused — press space to resume" if paused else "")
        self._arm()

    # -- tick -------------------------------------------------------------------------------------

    @property
    def last_snapshot(self) -> Snapshot | None:
        """The snapshot this screen was given last."""
        return self._last_snapshot

    def apply(self, snapshot: Snapshot) -> None:
        """Called on every UI tick: feed the visible page, keep rotation and night mode honest."""
        self._last_snapshot = snapshot
        page = self.current_page()
        if page is not None and self._night_state != "blank":
            page.apply(snapshot, TICK_BUDGET_S, paced=True)
        self._check_rotation()
        self._check_night()
        self._update_status(snapshot)

    def _check_rotation(self) -> None:
        page = self.current_page()
        if page is None or self.paused or len(self.pages) < 2:
            return
        overstay = self._monotonic() - self._shown_at - page.config.seconds
        if overstay > OVERSTAY_GRACE_S or not self._timer.isActive():
            log.warning("%s: rotation had stalled; turning the page", self.name)
            self.next_page()

    def _check_night(self) -> None:
        wall = self.context.wall.wall
        state = "day"
        if wall.night:
            start, end = parse_hours(wall.night)
            local = self.clock().astimezone()
            minute = local.hour * 60 + local.minute
            inside = start <= minute < end if start <= end else minute >= start or minute < end
            if inside:
                state = wall.night_mode
        if state == self._night_state:
            return
        self._night_state = state
        if state == "day":
            self._veil.hide()
        else:
            self._veil.alpha = 255 if state == "blank" else 170
            self._veil.setGeometry(self.rect())
            self._veil.show()
            self._veil.raise_()
        log.info("%s: night mode %s", self.name, state)

    @property
    def night_state(self) -> str:
        """``day``, ``dim`` or ``blank``."""
        return self._night_state

    # -- status line ------------------------------------------------------------------------------

    def set_status(self, key: str, message: str) -> None:
        """Set (or clear, with ``""``) one message of the status line."""
        if message:
            self._status_messages[key] = message
        else:
            self._status_messages.pop(key, None)

    def _update_status(self, snapshot: Snapshot) -> None:
        parts = list(self._status_messages.values())
        parts.extend(snapshot.notes)
        for health in snapshot.sources.values():
            if health.state not in ("ok", "idle"):
                since = (
                    f"no data since {health.last_success.astimezone():%H:%M}"
                    if health.last_success
                    else "no data yet"
                )
                parts.append(f"{health.name}: {health.state}, {since}")
        text = "   ·   ".join(parts)
        key = (text, self.width())
        if key == self._status_key:  # the same words at the same width: nothing to lay out
            return
        self._status_key = key
        metrics = QFontMetricsF(self.status.font())
        text = elide_words(text, metrics, max(50.0, self.width() - 60.0)) if text else ""
        if text != self.status.text():
            self.status.setText(text)

    # -- geometry and burn-in ---------------------------------------------------------------

    def resizeEvent(self, event: object) -> None:  # noqa: N802
        """Keep overlays covering the window (a page turn in progress ends: its pictures no
        longer fit)."""
        self._end_turn()
        self._place_content()
        self._veil.setGeometry(self.rect())

    def _place_content(self) -> None:
        pixels = self.context.wall.wall.burn_in_pixels
        # a slow orbit: right, down, left, up, centre
        offsets = [(0, 0), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)]
        dx, dy = offsets[self._burn_step % len(offsets)]
        margin = pixels
        self._content.setGeometry(
            margin + dx * pixels,
            margin + dy * pixels,
            max(1, self.width() - 2 * margin),
            max(1, self.height() - 2 * margin),
        )

    def _shift_for_burn_in(self) -> None:
        self._burn_step += 1
        self._place_content()

    @property
    def content_offset(self) -> tuple[int, int]:
        """Where the content currently sits (for tests of burn-in protection)."""
        return self._content.x(), self._content.y()

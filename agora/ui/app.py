"""The wall: one process, one window per configured screen, fed by the engine's snapshots.

:class:`Wall` matches configured screens to the machine's screens (by index or connector name),
follows screens being plugged and unplugged, runs the UI tick that hands the latest snapshot to the
visible pages, and takes the operator's keys. Starting the whole wall process (the engine, the
watchdog, hot reload) is :func:`agora.ui.run.run_wall`.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCursor, QGuiApplication, QKeyEvent, QScreen
from PySide6.QtWidgets import QApplication

from agora.config.schema import ScreenConfig, WallConfig
from agora.engine import Engine
from agora.service import Watchdog, process_age_s
from agora.ui import perf
from agora.ui.panels import PanelContext
from agora.ui.screen import ScreenWindow
from agora.ui.theme import Theme, theme_for

log = logging.getLogger("agora.ui")

#: Milliseconds between UI ticks (the UI pulls the latest snapshot this often).
TICK_MS = 250
#: the name the UI tick beats under on the watchdog, and how long it may be silent
UI_TICK = "the UI tick"
UI_STALL_S = 20.0
#: A tick hands a new snapshot to screens until it has used this many milliseconds; the screens
#: left over get it on the next tick (250 ms later), so a new snapshot on six screens never blocks
#: the GUI thread (and every animation) for the sum of all their refreshes.
TICK_BUDGET_MS = 12.0
#: The interpreter's thread switch interval while the wall runs (seconds; Python's default is
#: 0.005). Every Python paint or slot the GUI thread runs must take the GIL; while the ingest
#: thread builds a snapshot it holds the GIL for up to a whole switch interval before handing it
#: over, once per call. A shorter interval keeps those waits, and so frame times, short.
SWITCH_INTERVAL_S = 0.001
QUIT_CONFIRM_S = 4.0
#: After a screen is plugged or unplugged the windows are placed again once no further change
#: came for this long (milliseconds): Qt settles the new geometry first, and a monitor that
#: reconnects several outputs at once is handled in one go.
SCREENS_SETTLE_MS = 500


def utcnow() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def wall_theme(config: WallConfig) -> Theme:
    """The theme a config asks for, with its topic and accent colours and font scale."""
    from dataclasses import replace

    colors = {k: t.color for k, t in config.topics.items() if t.color}
    theme = theme_for(config.wall.theme, colors)
    theme = replace(theme, font_scale=config.wall.font_scale)
    if config.wall.accent:
        theme = replace(theme, accent=config.wall.accent)
    return theme


def screen_label(output: int | str) -> str:
    """``"screen 2"`` or ``"HDMI-1"``."""
    return f"screen {output}" if isinstance(output, int) else output


def find_screen(output: int | str, screens: list[QScreen]) -> QScreen | None:
    """The machine screen a configured ``output`` refers to, or ``None`` when it is absent."""
    if isinstance(output, int):
        return screens[output] if 0 <= output < len(screens) else None
    wanted = output.strip().casefold()
    return next((s for s in screens if s.name().casefold() == wanted), None)


class StatusLog(logging.Handler):
    """Keeps the last warnings for the discreet status line (first line only, never a traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: deque[tuple[float, str]] = deque(maxlen=20)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage().splitlines()[0][:200]
        except Exception:
            return
        self.messages.append((time.monotonic(), text))

    def recent(self, seconds: float = 60.0) -> str:
        """The newest message of the last ``seconds``, or ``""``."""
        if not self.messages:
            return ""
        at, text = self.messages[-1]
        return text if time.monotonic() - at <= seconds else ""


class FirstFrame(QObject):
    """Notices the first frame any window it filters paints: logs how long after the process
    started (``first_frame_s``) and calls ``then`` once.

    A wall window is shown only once the panels of its pages are built (:class:`Wall` builds
    them before it shows the window), so its first paint is the window with its panels laid out
    and the figures of the snapshot it was given, never an empty window."""

    def __init__(self, then: Callable[[], object]) -> None:
        super().__init__()
        self._then: Callable[[], object] | None = then

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if self._then is not None and event.type() == QEvent.Type.Paint:
            then, self._then = self._then, None
            age = process_age_s()
            log.info(
                "first frame painted %.2f s after the wall started",
                age,
                extra={"first_frame_s": round(age, 3)},
            )
            then()
        return False


class Wall(QObject):
    """Every screen window of one wall and the tick that feeds them."""

    def __init__(
        self,
        engine: Engine,
        *,
        windowed: bool = False,
        clock: Callable[[], datetime] = utcnow,
        images: object = None,
        window_size: tuple[int, int] = (1280, 720),
    ) -> None:
        super().__init__()
        self.engine = engine
        self.config: WallConfig = engine.config
        self.windowed = windowed
        self.clock = clock
        self.images = images
        self.window_size = window_size
        self.theme = wall_theme(self.config)
        self.windows: dict[int, ScreenWindow] = {}
        self._sizes: dict[int, tuple[int, int] | None] = {}
        """The screen size each window was built for (``None``: windowed)."""
        self._watched: set[QScreen] = set()
        """Config screen index → its window (only for screens that are present)."""
        self.absent: list[int] = []
        self.ticks = 0
        self._next_window = 0
        self._switch_interval: float | None = None
        self.tick_ms: deque[float] = deque(maxlen=2_000)
        self.watchdog: Watchdog | None = None
        """When set, every tick beats on it (a stuck GUI thread is noticed and logged)."""
        self.status_log = StatusLog()
        logging.getLogger().addHandler(self.status_log)
        self._quit_armed_at = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.CoarseTimer)
        self._timer.timeout.connect(self.tick)
        self._closed = False
        self._replace = QTimer(self)
        self._replace.setSingleShot(True)
        self._replace.timeout.connect(self._place_again)
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.screenAdded.connect(self._screens_changed)
        app.screenRemoved.connect(self._screens_changed)
        self.place()

    # -- screens ---------------------------------------------------------------------------

    def _context(self, screen: QScreen | None) -> PanelContext:
        if screen is not None and not self.windowed:
            size = screen.geometry().size()
            theme = self.theme.scaled(size.width(), size.height())
        else:
            theme = self.theme.scaled(*self.window_size)
        return PanelContext(
            wall=self.config,
            theme=theme,
            clock=self.clock,
            images=self.images,
        )

    def place(self) -> None:
        """Create, move or remove windows to match the configured and present screens; the
        pages of a configured screen that is absent rotate on the first screen that is there
        until it comes back."""
        if self._closed:
            return
        screens = QGuiApplication.screens()
        self._watched.intersection_update(screens)  # forget screens that were unplugged
        configured: list[ScreenConfig] = list(self.config.screens)
        present: dict[int, QScreen | None] = {}
        for index, screen_config in enumerate(configured):
            if self.windowed:
                present[index] = None
                continue
            found = find_screen(screen_config.output, screens)
            if found is not None and found not in [s for s in present.values() if s]:
                present[index] = found
        self.absent = [i for i in range(len(configured)) if i not in present]

        for index in list(self.windows):
            if index not in present:
                gone = self.windows.pop(index)
                log.warning("%s was unplugged", gone.name)
                # closing it must not count as closing the wall's last window (which quits)
                gone.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
                gone.close()
                gone.deleteLater()
        for index, screen in present.items():
            window = self.windows.get(index)
            size = (screen.geometry().width(), screen.geometry().height()) if screen else None
            if window is not None and self._sizes.get(index) != size:
                # a new resolution, or another screen of another size: sizes are relative to
                # the screen, so the window is built again for it
                log.info("%s: the screen is now %s; building it again", window.name, size)
                window.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
                window.close()
                window.deleteLater()
                del self.windows[index]
                window = None
            if screen is not None and screen not in self._watched:
                self._watched.add(screen)
                screen.geometryChanged.connect(self._screens_changed)
            if window is None:
                self._sizes[index] = size
                name = screen_label(configured[index].output)
                window = ScreenWindow(
                    name, configured[index].pages, self._context(screen), clock=self.clock
                )
                self.windows[index] = window
                # keys reach the window (children ignore them and they propagate up); an
                # application-wide filter would run Python for every event of every object
                window.installEventFilter(self)
            self._show(window, screen)

        host = self.windows[min(self.windows)] if self.windows else None
        absent_labels = [screen_label(configured[i].output) for i in self.absent]
        for window in self.windows.values():
            for owner in window.guests:
                # back on its own screen, or the host changed (a screen before it came back)
                if owner not in absent_labels or window is not host:
                    window.remove_guest_pages(owner)
        for index in self.absent:
            label = screen_label(configured[index].output)
            if host is None:
                log.warning("%s is not connected and no other screen is; waiting", label)
                continue
            if label not in host.guests:
                log.warning(
                    "%s is not connected; its pages rotate on %s until it is", label, host.name
                )
                host.add_guest_pages(label, configured[index].pages)

    def _show(self, window: ScreenWindow, screen: QScreen | None) -> None:
        if self.windowed or screen is None:
            if not window.isVisible():
                window.resize(*self.window_size)
                window.show()
            return
        window.setWindowFlags(
            Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
        )
        window.setCursor(QCursor(Qt.CursorShape.BlankCursor))
        if window.screen() is not screen:
            window.setScreen(screen)
        window.setGeometry(screen.geometry())
        window.showFullScreen()

    def _screens_changed(self, _screen: object = None) -> None:
        if not self._closed:
            self._replace.start(SCREENS_SETTLE_MS)  # again: a burst of changes is placed once

    def _place_again(self) -> None:
        try:
            self.place()
        except Exception:  # a screen change must never take the wall down
            log.exception("placing the windows on the screens failed; trying again")
            if not self._closed:
                self._replace.start(SCREENS_SETTLE_MS * 4)

    # -- tick -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the UI tick (and favour the GUI thread when it asks for the interpreter)."""
        if self._switch_interval is None:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL_S))
        self._timer.start(TICK_MS)
        self.tick()

    def stop(self) -> None:
        """Stop the UI tick."""
        self._timer.stop()
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None

    def tick(self) -> None:
        """Hand the latest snapshot to the windows, within :data:`TICK_BUDGET_MS`; the windows
        that did not get it yet get it on the next tick (first). Never raises."""
        started = time.perf_counter()
        probe = perf.active()
        cpu_started = time.thread_time() if probe is not None else 0.0
        snapshot = self.engine.snapshot
        recent = self.status_log.recent()
        windows = list(self.windows.values())
        count = len(windows)
        budget_s = TICK_BUDGET_MS / 1000.0
        first = self._next_window % count if count else 0
        deferred: int | None = None
        served = False  # at least one window gets a new snapshot on every tick
        for offset in range(count):
            index = (first + offset) % count
            window = windows[index]
            try:
                window.set_status("log", recent)
                if window.last_snapshot is snapshot or window.last_snapshot is None:
                    window.apply(snapshot)
                elif deferred is None and (not served or time.perf_counter() - started < budget_s):
                    served = True
                    window.apply(snapshot)
                else:
                    # over budget: keep rotation, night mode and status going on what it shows
                    window.apply(window.last_snapshot or snapshot)
                    if deferred is None:
                        deferred = index
            except Exception:
                log.exception("%s: the tick failed; the screen keeps its last picture", window.name)
        self._next_window = deferred if deferred is not None else first
        self.ticks += 1
        if self.watchdog is not None:
            self.watchdog.beat(UI_TICK)
        elapsed = time.perf_counter() - started
        self.tick_ms.append(elapsed * 1000.0)
        if probe is not None:
            probe.tick(elapsed, time.thread_time() - cpu_started)

    # -- keys -------------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Operator keys on any wall window."""
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            window = watched if isinstance(watched, ScreenWindow) else None
            if window is None:
                window = next(iter(self.windows.values()), None)
            if window is not None and self.handle_key(window, event.key()):
                return True
        return False

    def _clear_quit_prompt(self) -> None:
        for window in self.windows.values():
            window.set_status("quit", "")

    def handle_key(self, window: ScreenWindow, key: int) -> bool:
        """Act on an operator key; True when it was one of ours."""
        if key in (Qt.Key.Key_Right, Qt.Key.Key_PageDown, Qt.Key.Key_N):
            window.next_page()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_PageUp, Qt.Key.Key_P):
            window.next_page(-1)
        elif key == Qt.Key.Key_Space:
            window.set_paused(not window.paused)
        elif key == Qt.Key.Key_H:
            self.hide_current_featured(window)
        elif key in (Qt.Key.Key_Q, Qt.Key.Key_Escape):
            now = time.monotonic()
            if now - self._quit_armed_at <= QUIT_CONFIRM_S:
                log.info("quit requested at the wall")
                QApplication.quit()
            else:
                self._quit_armed_at = now
                for w in self.windows.values():
                    w.set_status("quit", "press Q again to quit the wall")
                QTimer.singleShot(int(QUIT_CONFIRM_S * 1000), self._clear_quit_prompt)
        else:
            return False
        return True

    def hide_current_featured(self, window: ScreenWindow) -> str | None:
        """Hide the post shown by the featured panel of the current page (a stored decision)."""
        page = window.current_page()
        if page is None:
            return None
        for panel in page.panels:
            current = getattr(panel, "current_post_id", None)
            post_id = current() if callable(current) else None
            if isinstance(post_id, str):
                self.engine.decide("hide", post_id, "wall keyboard", "hidden at the wall")
                window.set_status("hidden", "post hidden")
                QTimer.singleShot(5000, lambda: window.set_status("hidden", ""))
                return post_id
        return None

    def close(self) -> None:
        """Close every window (screens plugged in later no longer open any)."""
        self.stop()
        self._replace.stop()
        app = QGuiApplication.instance()
        if not self._closed and isinstance(app, QGuiApplication):
            app.screenAdded.disconnect(self._screens_changed)
            app.screenRemoved.disconnect(self._screens_changed)
        self._closed = True
        logging.getLogger().removeHandler(self.status_log)
        for window in self.windows.values():
            window.close()
            window.deleteLater()
        self.windows.clear()

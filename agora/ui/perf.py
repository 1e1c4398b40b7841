"""Timing hooks for ``agora bench render``: free unless a probe is installed.

The wall calls :func:`active` at a few places (the UI tick, an animation step, a window repaint)
and times the work only when it returns a probe; without one the cost is a global lookup and a
``None`` check. The benchmark installs a :class:`RenderProbe` before it builds the wall and reads
its figures at the end.

What is recorded:

* ``tick``: the whole UI tick (:meth:`agora.ui.app.Wall.tick`), snapshot hand-out to every screen;
* an *animation frame*: every repaint of a screen window that follows an animation step (the
  ticker moving, the featured carousel or a river card fading, the page cross-fade), timed as the
  step itself plus the repaint of the window (every dirty widget painted into the backing store
  and flushed): what one frame of the animation costs the GUI thread;
* a *data frame* (kind :data:`DATA`): the panels of a window refreshed from a new snapshot plus
  the repaint that shows them (a frame that also moves an animation counts for both kinds);
* other repaints (nothing refreshed or moved: an expose, a clock) and, per kind, the interval
  between two of its frames (how smooth it looked).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from PySide6.QtCore import QObject

_probe: RenderProbe | None = None
#: Two frames of one animation further apart than this belong to two runs (two fades).
RUN_GAP_S = 0.5
#: The kind of frame that shows new data: panel refreshes and the repaint of their window.
DATA = "data"


def active() -> RenderProbe | None:
    """The installed probe, or ``None`` (the normal case: nothing is timed)."""
    return _probe


def install(probe: RenderProbe | None) -> None:
    """Install ``probe`` (``None`` removes it)."""
    global _probe  # noqa: PLW0603 (one process-wide switch, read on hot paths)
    _probe = probe


class RenderProbe:
    """Collects tick and frame durations (milliseconds)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.recording = True
        self.ticks: list[float] = []
        self.tick_cpu: list[float] = []
        """CPU time of the GUI thread in each tick (the rest of a tick's duration is waiting:
        for the GIL held by the ingest thread, or for a core)."""
        self.frames: list[float] = []
        """Every animation frame: steps since the window's previous repaint plus the repaint."""
        self.frames_by_kind: dict[str, list[float]] = defaultdict(list)
        self.intervals_by_kind: dict[str, list[float]] = defaultdict(list)
        self.other_paints: list[float] = []
        self.turns: list[float] = []
        """Page turns: pictures taken, the new page laid out and refreshed (the first frame of
        the cross-fade includes it)."""
        self.refreshes_by_kind: dict[str, list[float]] = defaultdict(list)
        """Panel refreshes (inside ticks and page turns) by panel kind."""
        self._pending: dict[int, dict[str, float]] = {}
        self._last_frame_at: dict[tuple[int, str], float] = {}

    def reset(self) -> None:
        """Forget everything recorded so far (the end of a warm-up)."""
        self.ticks.clear()
        self.tick_cpu.clear()
        self.frames.clear()
        self.frames_by_kind.clear()
        self.intervals_by_kind.clear()
        self.other_paints.clear()
        self.turns.clear()
        self.refreshes_by_kind.clear()
        self._pending.clear()
        self._last_frame_at.clear()

    def tick(self, seconds: float, cpu_seconds: float | None = None) -> None:
        """One UI tick took ``seconds`` (``cpu_seconds`` of them on the CPU)."""
        if self.recording:
            self.ticks.append(seconds * 1000.0)
            if cpu_seconds is not None:
                self.tick_cpu.append(cpu_seconds * 1000.0)

    def refresh(self, kind: str, seconds: float, window: QObject | None = None) -> None:
        """A panel of ``kind`` refreshed from a new snapshot in ``seconds``. With its ``window``,
        the refresh and the repaint that shows it count as one frame of kind :data:`DATA`."""
        if self.recording:
            self.refreshes_by_kind[kind].append(seconds * 1000.0)
        self.step(window, DATA, seconds)

    def turn(self, window: QObject, seconds: float) -> None:
        """``window`` turned its page in ``seconds`` (counted in the fade's first frame)."""
        if self.recording:
            self.turns.append(seconds * 1000.0)
            # the new page's refresh is inside the turn's time: a page frame, not a data frame
            self._pending.get(id(window), {}).pop(DATA, None)
        self.step(window, "page", seconds)

    def step(self, window: QObject | None, kind: str, seconds: float = 0.0) -> None:
        """An animation of ``kind`` moved on ``window`` (its top-level widget); the step itself
        took ``seconds``. The frame is counted when the window repaints."""
        if window is None or not self.recording:
            return
        pending = self._pending.setdefault(id(window), {})
        pending[kind] = pending.get(kind, 0.0) + seconds

    def paint(self, window: QObject, seconds: float) -> None:
        """``window`` repainted (every dirty widget, into its backing store) in ``seconds``."""
        if not self.recording:
            return
        pending = self._pending.pop(id(window), None)
        if not pending:
            self.other_paints.append(seconds * 1000.0)
            return
        frame = (seconds + sum(pending.values())) * 1000.0
        self.frames.append(frame)
        now = self.clock()
        for kind in pending:
            self.frames_by_kind[kind].append(frame)
            key = (id(window), kind)
            last = self._last_frame_at.get(key)
            if last is not None and now - last < RUN_GAP_S:
                self.intervals_by_kind[kind].append((now - last) * 1000.0)
            self._last_frame_at[key] = now

"""Publishing: when the ingest thread builds a new snapshot for the screens, and keeping the
sources' health where the operator console reads it.

A snapshot is built when the figures changed, the minute turned, a source's health changed, or
something urgent happened (a decision, a deletion, a reload) — at most once a second, and less
often when snapshots are expensive: after a build of ``t`` seconds the next waits at least
``t / PUBLISH_BUDGET`` (a 25 ms snapshot: every second; a 300 ms one: every 6 s), so building
snapshots never holds the interpreter (and so the GUI thread) a large share of the time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime

from agora.core.health import SourceHealth
from agora.core.pipeline import Pipeline
from agora.core.post import format_time
from agora.core.snapshot import Snapshot
from agora.store.base import Store

log = logging.getLogger("agora.engine")

#: The shortest time between two snapshots, in seconds. The wall's tick takes the newest a few
#: times a second; a figure that moves once a second is as lively on a lobby screen, and every new
#: snapshot costs the GUI thread a round of panel refreshes on every screen.
PUBLISH_EVERY = 1.0
#: The share of one core building snapshots may take (see the module docstring).
PUBLISH_BUDGET = 0.05
#: ...but never longer than this while something changes, in seconds.
PUBLISH_LONGEST = 8.0
#: Store state key under which the wall keeps its sources' health (the console reads it).
HEALTH_STATE_KEY = "sources.health"
#: Seconds between two writes of unchanged source health to the store.
HEALTH_SAVE_EVERY = 5.0


class Publisher:
    """Builds snapshots when they are due and hands them to readers on any thread."""

    def __init__(self, store: Store, clock: Callable[[], datetime], first: Snapshot) -> None:
        self.store = store
        self.clock = clock
        self._snapshot = first
        self._version = -1
        self._minute = -1
        self._states: dict[str, tuple[str, str | None]] = {}
        self._build_s = 0.0
        """Smoothed duration of a snapshot build, in seconds (for :meth:`interval`)."""
        self.build_ms: deque[float] = deque(maxlen=1_000)
        """How long the latest snapshot builds took, in milliseconds (for the benchmarks)."""
        self._published = threading.Condition()

    @property
    def snapshot(self) -> Snapshot:
        """The latest published snapshot (an immutable object; safe from any thread)."""
        return self._snapshot

    def publish(
        self,
        pipeline: Pipeline,
        windows: list[float | None],
        health: Mapping[str, SourceHealth],
        *,
        force: bool = False,
    ) -> Snapshot:
        """Build and publish a snapshot when something changed (or the minute turned)."""
        now = self.clock()
        minute = int(now.timestamp() // 60)
        aggregates = pipeline.aggregates
        # a source that fails (or recovers) without a post changing shows at once, not when the
        # minute turns: the wall's "no data since" badge and the sources panel read it
        states: dict[str, tuple[str, str | None]] = {
            name: (h.state, h.last_error) for name, h in health.items()
        }
        if not (
            force
            or aggregates.version != self._version
            or minute != self._minute
            or states != self._states
        ):
            return self._snapshot
        started = time.perf_counter()
        notes = []
        if self.store.kind != "sqlite":
            notes.append(self.store.status)
        if pipeline.problems.total:
            notes.append(f"skipped or repaired: {pipeline.problems.summary()}")
        self._snapshot = aggregates.snapshot(
            now, windows=windows, sources=dict(health), store_status=self.store.status, notes=notes
        )
        self._version = aggregates.version
        self._minute = minute
        self._states = states
        with self._published:
            self._published.notify_all()
        took = time.perf_counter() - started
        self.build_ms.append(took * 1000.0)
        self._build_s = took if not self._build_s else 0.7 * self._build_s + 0.3 * took
        return self._snapshot

    def wait_for(self, check: Callable[[Snapshot], bool], timeout: float = 5.0) -> bool:
        """Wait until a published snapshot satisfies ``check`` (tests, the console); ``False``
        when ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._published:
            while not check(self._snapshot):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._published.wait(left)
        return True

    def interval(self) -> float:
        """Seconds to wait after a snapshot before building the next one."""
        return min(PUBLISH_LONGEST, max(PUBLISH_EVERY, self._build_s / PUBLISH_BUDGET))


class HealthKeeper:
    """Keeps the sources' health in the store for the operator console: every
    :data:`HEALTH_SAVE_EVERY` seconds, and at once when a source's state or error changes."""

    def __init__(
        self, store: Store, clock: Callable[[], datetime], key: str = HEALTH_STATE_KEY
    ) -> None:
        self.store = store
        self.clock = clock
        self.key = key
        """Where the report is kept: ``sources.health`` for a wall, ``sources.health:<name>``
        for each collector of a shared store (readers merge every key that starts so)."""
        self._saved: tuple[float, object] = (0.0, None)

    def save(self, wall: str, health: Mapping[str, SourceHealth], *, force: bool = False) -> None:
        """Write the health record when it is due (errors are logged at debug level)."""
        record_sources = {name: h.to_dict() for name, h in health.items()}
        states = {name: (h["state"], h["last_error"]) for name, h in record_sources.items()}
        now = time.monotonic()
        last_at, last = self._saved
        if not force and states == last and now - last_at < HEALTH_SAVE_EVERY:
            return
        record = {"at": format_time(self.clock()), "wall": wall, "sources": record_sources}
        try:
            self.store.set_state(self.key, json.dumps(record))
        except Exception as exc:  # the console's view is a nicety; never stop ingest for it
            log.debug("store: could not save source health: %s", exc)
        self._saved = (now, states)

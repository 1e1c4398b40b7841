"""The engine: config → store → pipeline → sources, running in worker threads, publishing snapshots.

Qt-free. The wall creates one :class:`Engine`, starts it and reads :attr:`Engine.snapshot` on its UI
tick; the commands (``analyse``, ``fetch``, ``bench``) use :func:`build_pipeline` directly.

Threads:

* the *source loop*: one asyncio event loop running every source's ``run`` coroutine; sources
  hand batches of posts to :meth:`Engine.submit` (thread-safe, never blocks);
* the *ingest thread*: drains the queue, runs the pipeline, applies retention in small steps and
  publishes a new snapshot when something changed or the minute turned: at most once a second,
  and less often when snapshots are expensive (see :data:`PUBLISH_BUDGET`); an operator's decision
  or a deletion is published at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agora.config.schema import WallConfig
from agora.core.aggregates import HORIZON_MINUTES, Aggregates
from agora.core.health import SourceHealth
from agora.core.moderation import RuleModeration
from agora.core.pipeline import Pipeline
from agora.core.post import Moderation, ModerationState, Post
from agora.core.problems import ProblemLog
from agora.core.sentiment import make_scorer
from agora.core.snapshot import Snapshot
from agora.core.topics import TopicMatcher
from agora.service import Watchdog
from agora.sources.base import Source, SourceContext
from agora.store.base import Decision, DecisionAction, Store

log = logging.getLogger("agora.engine")

#: The shortest time between two snapshots, in seconds. The wall's tick takes the newest a few
#: times a second; a figure that moves once a second is as lively on a lobby screen, and every new
#: snapshot costs the GUI thread a round of panel refreshes on every screen.
PUBLISH_EVERY = 1.0
#: The share of one core building snapshots may take: after a build of ``t`` seconds the next one
#: waits at least ``t / PUBLISH_BUDGET``. A 25 ms snapshot: every second; a 300 ms one (a large
#: history): every 6 s, instead of holding the interpreter, and so the GUI thread, a third of the
#: time.
PUBLISH_BUDGET = 0.05
#: ...but never longer than this while something changes, in seconds.
PUBLISH_LONGEST = 8.0
#: The ingest thread wakes up at least this often, in seconds, with or without input (to publish
#: when the minute turns, run retention, and beat for the watchdog).
WAKE_EVERY = 0.5
#: A loop silent for longer than this is reported by the watchdog, in seconds.
LOOP_STALL_S = 30.0
#: How often retention runs, in seconds.
RETENTION_EVERY = 60.0


def panel_windows(config: WallConfig) -> list[float | None]:
    """Every time window some panel of the config asks for, plus the standard ones."""
    windows: list[float | None] = [3600.0, 86400.0, None]
    for screen in config.screens:
        for page in screen.pages:
            for panel in page.panels:
                if panel.window and panel.window not in windows:
                    windows.append(panel.window)
    return windows


def wall_timezone(config: WallConfig) -> ZoneInfo | None:
    """The configured IANA zone, or ``None`` for the machine's own."""
    if not config.wall.timezone:
        return None
    try:
        return ZoneInfo(config.wall.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("wall.timezone %r is unknown; using the machine's zone", config.wall.timezone)
        return None


def build_pipeline(config: WallConfig, store: Store | None) -> Pipeline:
    """The pipeline and aggregates a config describes."""
    topic_terms = {key: topic.terms for key, topic in config.topics.items()}
    aggregates = Aggregates(
        {key: config.topic_label(key) for key in config.topics},
        owned_accounts=config.analytics.owned_accounts,
        topic_terms=topic_terms,
        stopwords=config.analytics.stopwords,
        timezone=wall_timezone(config),
    )
    return Pipeline(
        matcher=TopicMatcher(topic_terms),
        scorer=make_scorer(
            config.analytics.sentiment, config.analytics.neutral_band, config.analytics.lexicon
        ),
        aggregates=aggregates,
        store=store,
        moderation=RuleModeration(config.moderation),
        owned_accounts=config.analytics.owned_accounts,
    )


def utcnow() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


@dataclass(slots=True, frozen=True)
class _Deletion:
    """Ids of posts deleted at the source, queued for the ingest thread."""

    ids: tuple[str, ...]


class Engine:
    """Runs a wall's data side: sources, pipeline, store, snapshots."""

    def __init__(
        self,
        config: WallConfig,
        store: Store,
        *,
        config_dir: Path,
        clock: Callable[[], datetime] = utcnow,
        sources: Sequence[Source] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.pipeline = build_pipeline(config, store)
        self.windows = panel_windows(config)
        self.problems = ProblemLog(logging.getLogger("agora.sources"))
        context = SourceContext(
            wall=config,
            config_dir=config_dir,
            get_cursor=store.get_cursor,
            set_cursor=store.set_cursor,
            clock=clock,
            delete=self.delete,
        )
        if sources is None:
            from agora.sources.registry import build_sources

            sources = build_sources(config, context)
        self.sources: list[Source] = list(sources)
        self.watchdog: Watchdog | None = None
        """Set by the wall before :meth:`start`: the ingest thread and source loop beat on it."""
        self._queue: queue.SimpleQueue[Sequence[Post] | Decision | _Deletion | None] = (
            queue.SimpleQueue()
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_stop: asyncio.Event | None = None
        self._snapshot = self.pipeline.aggregates.snapshot(
            clock(), windows=self.windows, store_status=store.status
        )
        self._published_version = -1
        self._published_minute = -1
        self.publish_ms: deque[float] = deque(maxlen=1_000)
        self._build_s = 0.0
        """Smoothed duration of a snapshot build, in seconds (for the publish interval)."""
        self._urgent = False
        """How long the latest snapshot builds took (milliseconds, for the benchmarks)."""
        self.ingested = 0
        self.ready = threading.Event()
        """Set once stored history has been loaded back into the aggregates."""

    # -- the snapshot the UI reads ---------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The latest published snapshot (an immutable object; safe from any thread)."""
        return self._snapshot

    def health(self) -> dict[str, SourceHealth]:
        """Current health of every source."""
        return {s.name: s.health for s in self.sources}

    def publish(self, force: bool = False) -> Snapshot:
        """Build and publish a snapshot when something changed (or the minute turned)."""
        now = self.clock()
        minute = int(now.timestamp() // 60)
        aggregates = self.pipeline.aggregates
        if (
            force
            or aggregates.version != self._published_version
            or minute != self._published_minute
        ):
            started = time.perf_counter()
            notes = []
            if self.store.kind != "sqlite":
                notes.append(self.store.status)
            if self.pipeline.problems.total:
                notes.append(f"skipped or repaired: {self.pipeline.problems.summary()}")
            self._snapshot = aggregates.snapshot(
                now,
                windows=self.windows,
                sources=self.health(),
                store_status=self.store.status,
                notes=notes,
            )
            self._published_version = aggregates.version
            self._published_minute = minute
            took = time.perf_counter() - started
            self.publish_ms.append(took * 1000.0)
            self._build_s = took if not self._build_s else 0.7 * self._build_s + 0.3 * took
        return self._snapshot

    def publish_interval(self) -> float:
        """Seconds to wait after a snapshot before building the next one (see the constants)."""
        return min(PUBLISH_LONGEST, max(PUBLISH_EVERY, self._build_s / PUBLISH_BUDGET))

    # -- input ------------------------------------------------------------------------------------

    def submit(self, posts: Sequence[Post]) -> None:
        """Hand a batch of posts to the ingest thread (thread-safe, never blocks)."""
        if posts:
            self._queue.put(list(posts))

    def delete(self, post_ids: Sequence[str]) -> None:
        """Posts deleted at the source: the ingest thread removes them from the store and the
        wall, after the posts submitted before (thread-safe, never blocks)."""
        if post_ids:
            self._queue.put(_Deletion(tuple(post_ids)))

    def delete_now(self, post_ids: Sequence[str]) -> int:
        """Remove deleted posts on the calling thread (ingest thread or tests)."""
        try:
            return self.pipeline.delete(post_ids)
        except Exception as exc:  # a store problem must not stop ingest
            log.error("could not remove %d deleted post(s): %s", len(post_ids), exc)
            return 0

    def decide(self, action: DecisionAction, target: str, actor: str, reason: str = "") -> None:
        """Record an operator's decision; it reaches the wall on the next snapshot (thread-safe)."""
        self._queue.put(Decision(action, target, actor, self.clock(), reason))

    def apply_decision(self, decision: Decision) -> None:
        """Persist a decision and apply it to what the wall shows (ingest thread or tests)."""
        try:
            self.store.add_decision(decision)
        except Exception as exc:
            log.error("store: could not save the decision (%s); applied for this run only", exc)
        self._show_decision(decision)
        log.info("decision: %s %s by %s", decision.action, decision.target, decision.actor)

    def _show_decision(self, decision: Decision) -> None:
        states: dict[str, ModerationState] = {
            "hide": "hidden",
            "approve": "approved",
            "pin": "pinned",
            "unpin": "approved",
        }
        state = states.get(decision.action)
        if state is not None:
            why = decision.reason or f"{decision.action} by {decision.actor}"
            self.pipeline.aggregates.set_moderation(decision.target, Moderation(state, (why,)))

    def ingest_now(self, posts: Sequence[Post]) -> None:
        """Run a batch through the pipeline on the calling thread (tests, commands)."""
        self.pipeline.ingest(posts, now=self.clock())
        self.ingested += len(posts)

    # -- lifecycle --------------------------------------------------------------------------------

    def warm(self) -> int:
        """Load the stored posts the figures reach back to (56 hours) into the aggregates."""
        since = self.clock() - timedelta(minutes=HORIZON_MINUTES)
        try:
            count = self.pipeline.warm(self.store.iter_posts(since))
        except Exception as exc:  # a damaged store must not stop the wall
            log.error("store: could not read history back: %s", exc)
            count = 0
        if count:
            log.info("loaded %d stored posts back into the figures", count)
        try:
            decisions = self.store.decisions()
        except Exception as exc:
            log.error("store: could not read moderation decisions back: %s", exc)
            decisions = []
        for decision in decisions:
            self._show_decision(decision)
        return count

    def start(self) -> None:
        """Start the ingest thread and the source loop."""
        ingest = threading.Thread(target=self._ingest_loop, name="agora-ingest", daemon=True)
        sources = threading.Thread(target=self._source_loop, name="agora-sources", daemon=True)
        self._threads = [ingest, sources]
        ingest.start()
        sources.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop every source and thread; returns within about ``timeout`` seconds."""
        self._stop.set()
        loop, stop_event = self._loop, self._loop_stop
        if loop is not None and stop_event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stop_event.set)
        self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for thread in self._threads:
            if thread.is_alive():
                log.warning("%s did not stop within %.1f s", thread.name, timeout)

    def close(self) -> None:
        """Stop and close the store."""
        self.stop()
        self.store.close()

    def _ingest_loop(self) -> None:
        self.warm()
        self.ready.set()
        self.publish(force=True)
        last_publish = time.monotonic()
        last_retention = 0.0
        watchdog = self.watchdog
        if watchdog is not None:
            watchdog.watch("the ingest thread", LOOP_STALL_S)
        while not self._stop.is_set():
            if watchdog is not None:
                watchdog.beat("the ingest thread")
            batch: list[Post] = []
            try:
                item = self._queue.get(timeout=WAKE_EVERY)
                while True:
                    if isinstance(item, Decision):
                        self.apply_decision(item)
                        self._urgent = True
                    elif isinstance(item, _Deletion):
                        if batch:  # posts that came before the deletion go in first
                            try:
                                self.ingest_now(batch)
                            except Exception:
                                log.exception("ingest: a batch of %d posts failed", len(batch))
                            batch = []
                        self.delete_now(item.ids)
                        self._urgent = True
                    elif item is not None:
                        batch.extend(item)
                    if len(batch) >= 5_000:
                        break
                    item = self._queue.get_nowait()
            except queue.Empty:
                pass
            if self._stop.is_set():
                break
            if batch:
                try:
                    self.ingest_now(batch)
                except Exception:  # never let one bad batch stop the wall
                    log.exception("ingest: a batch of %d posts failed and was dropped", len(batch))
            now = time.monotonic()
            if now - last_retention >= RETENTION_EVERY:
                last_retention = now
                self._retention()
            if self._urgent or now - last_publish >= self.publish_interval():
                last_publish = now
                self._urgent = False
                try:
                    self.publish()
                except Exception:
                    log.exception("could not build a snapshot; keeping the previous one")

    def _retention(self) -> None:
        cutoff = self.clock() - timedelta(seconds=self.config.store.retention)
        removed = 0
        try:
            for _ in range(50):  # at most 100k rows a round, in small steps
                step = self.store.prune(cutoff)
                removed += step
                if step == 0:
                    break
        except Exception as exc:
            log.error("store: retention failed: %s", exc)
        if removed:
            log.info("retention: removed %d posts older than %s", removed, cutoff.isoformat())

    def _source_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._run_sources())
        except Exception:
            log.exception("the source loop stopped unexpectedly")
        finally:
            loop.close()

    async def _run_sources(self) -> None:
        stop = asyncio.Event()
        self._loop_stop = stop
        if self._stop.is_set():
            return
        tasks = [
            asyncio.create_task(self._guarded(source, stop), name=f"source:{source.name}")
            for source in self.sources
        ]
        if self.watchdog is not None:
            tasks.append(asyncio.create_task(self._heartbeat(self.watchdog, stop)))
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _heartbeat(self, watchdog: Watchdog, stop: asyncio.Event) -> None:
        """Beats while the source loop runs freely: a source that blocks the loop stops it."""
        name = "the source loop"
        watchdog.watch(name, LOOP_STALL_S)
        try:
            while not stop.is_set():
                watchdog.beat(name)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
        finally:
            watchdog.forget(name)

    async def _guarded(self, source: Source, stop: asyncio.Event) -> None:
        try:
            await source.run(self.submit, stop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            source.mark_error(f"{source.name}: stopped after an unexpected error: {exc}")
            log.exception("source %s stopped", source.name)

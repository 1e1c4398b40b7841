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
import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agora.config.schema import WallConfig
from agora.core.aggregates import HORIZON_MINUTES, Aggregates
from agora.core.health import SourceHealth
from agora.core.moderation import RuleModeration
from agora.core.pipeline import Pipeline
from agora.core.post import APPROVED, Post, format_time
from agora.core.problems import ProblemLog
from agora.core.sentiment import make_scorer
from agora.core.snapshot import Snapshot
from agora.core.text import fold
from agora.core.topics import TopicMatcher
from agora.decisions import DecisionDesk
from agora.service import Watchdog
from agora.sources.base import Source, SourceContext
from agora.sources.identity import stamp
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
    relays = config.relays()
    moderation = RuleModeration(config.moderation, relays=relays)
    blocked_words = [t for t in config.moderation.block_terms if " " not in t.strip()]
    aggregates = Aggregates(
        {key: config.topic_label(key) for key in config.topics},
        owned_accounts=config.analytics.owned_accounts,
        relays=relays,
        topic_terms=topic_terms,
        stopwords=[*config.analytics.stopwords, *blocked_words],
        timezone=wall_timezone(config),
        term_filter=moderation.blocks_term,
    )
    return Pipeline(
        matcher=TopicMatcher(topic_terms),
        scorer=make_scorer(
            config.analytics.sentiment, config.analytics.neutral_band, config.analytics.lexicon
        ),
        aggregates=aggregates,
        store=store,
        moderation=moderation,
    )


def utcnow() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


@dataclass(slots=True, frozen=True)
class _Deletion:
    """Ids of posts deleted at the source, queued for the ingest thread."""

    ids: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class _Batch:
    """Posts a source delivered, and the saved places (cursors) that cover them: written to the
    store only once the posts are stored, so a restart never skips a post that was not kept."""

    posts: list[Post]
    cursors: dict[str, str | None]


class CursorBook:
    """Where each source has got to, held back until the posts before it are stored.

    Sources save their place (``context.set_cursor``) at the end of a round, just before they
    hand over its posts; the engine's ingest thread stores those posts later. Writing the place
    at once would let a crash in between skip them for good. The book keeps each new place
    *staged*: the next batch a source delivers carries every staged place along, and the ingest
    thread writes them after storing that batch. Places staged without posts (a round with
    nothing new, a stream's resume point) are flushed every second from the source loop, behind
    the posts that went before. Reading a place gives the newest one, written or not.

    Staging and delivering happen on the source loop's thread with no await in between, so a
    flush (on the same loop) never lands between a place and the posts it covers.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._staged: dict[str, str | None] = {}
        self._latest: dict[str, str | None] = {}

    def get(self, name: str) -> str | None:
        """The newest place saved under ``name`` (staged, else stored)."""
        with self._lock:
            if name in self._latest:
                return self._latest[name]
        return self._store.get_cursor(name)

    def stage(self, name: str, value: str | None) -> None:
        """Keep a source's new place until the posts before it are stored."""
        with self._lock:
            self._staged[name] = value
            self._latest[name] = value

    def take(self) -> dict[str, str | None]:
        """Every staged place (and forget them: the caller writes them)."""
        with self._lock:
            staged, self._staged = self._staged, {}
        return staged

    def write(self, cursors: dict[str, str | None]) -> None:
        """Store places whose posts are stored (on the ingest thread)."""
        for name, value in cursors.items():
            try:
                self._store.set_cursor(name, value)
            except Exception as exc:  # the next round saves it again
                log.warning("store: could not save the place of %s: %s", name, exc)


@dataclass(slots=True, frozen=True)
class _Reconfigure:
    """A new config for the pipeline, queued for the ingest thread (hot reload)."""

    config: WallConfig


#: Store state key under which the wall keeps its sources' health (the console reads it).
HEALTH_STATE_KEY = "sources.health"
#: Seconds between two writes of unchanged source health to the store.
HEALTH_SAVE_EVERY = 5.0


def pipeline_changed(old: WallConfig, new: WallConfig) -> bool:
    """True when the figures must be rebuilt for ``new``: topics, analytics, moderation rules or
    the wall's time zone differ."""
    return (
        old.topics != new.topics
        or old.analytics != new.analytics
        or old.moderation != new.moderation
        or old.wall.timezone != new.wall.timezone
    )


def _reads_topics(entry: object) -> bool:
    """Sources that take the topics' terms as their own: restarted when the topics change."""
    kind = getattr(entry, "kind", "")
    return kind == "simulator" or (kind == "bluesky" and not getattr(entry, "keywords", None))


def reenrich(pipeline: Pipeline, posts: Iterable[Post], *, rescore: bool) -> Iterator[Post]:
    """Stored posts enriched again by ``pipeline`` (its topics and moderation rules, and, with
    ``rescore``, its sentiment scorer) before they are warmed into its aggregates."""
    for post in posts:
        folded = fold(post.text)
        post.topics = pipeline.topics.matcher.match(folded)
        post.moderation = pipeline.moderate(replace(post, moderation=APPROVED), folded)
        if rescore:
            pipeline.sentiment(post)
        yield post


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
        self.cursors = CursorBook(store)
        """Sources' saved places, written only after the posts before them are stored."""
        context = SourceContext(
            wall=config,
            config_dir=config_dir,
            get_cursor=self.cursors.get,
            set_cursor=self.cursors.stage,
            clock=clock,
            delete=self.delete,
        )
        self.source_context = context
        """What the sources were given (a hot reload builds new sources with the new config)."""
        if sources is None:
            from agora.sources.registry import build_sources

            sources = build_sources(config, context)
        self.sources: list[Source] = list(sources)
        self.watchdog: Watchdog | None = None
        """Set by the wall before :meth:`start`: the ingest thread and source loop beat on it."""
        self._queue: queue.SimpleQueue[
            Sequence[Post] | _Batch | Decision | _Deletion | _Reconfigure | None
        ] = queue.SimpleQueue()
        self._loop_thread: int | None = None
        """The source loop's thread: only batches delivered on it carry staged places."""
        self._source_tasks: dict[str, asyncio.Task[None]] = {}
        self._applied_config = config
        """The config the pipeline was built for (a reload's config waits in the queue)."""
        self._health_saved: tuple[float, object] = (0.0, None)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_stop: asyncio.Event | None = None
        self._snapshot = self.pipeline.aggregates.snapshot(
            clock(), windows=self.windows, store_status=store.status
        )
        self._published_version = -1
        self._published_minute = -1
        self._published_states: dict[str, tuple[str, str | None]] = {}
        self.publish_ms: deque[float] = deque(maxlen=1_000)
        self._build_s = 0.0
        """Smoothed duration of a snapshot build, in seconds (for the publish interval)."""
        self._urgent = False
        """How long the latest snapshot builds took (milliseconds, for the benchmarks)."""
        self.ingested = 0
        self.ready = threading.Event()
        """Set once stored history has been loaded back into the aggregates."""
        self.desk = DecisionDesk(store)
        """Moderation decisions: recorded, applied, and followed across processes."""
        self._published = threading.Condition()

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
        health = self.health()
        # a source that fails (or recovers) without a post changing shows at once, not when the
        # minute turns: the wall's "no data since" badge and the sources panel read it
        states: dict[str, tuple[str, str | None]] = {
            name: (h.state, h.last_error) for name, h in health.items()
        }
        if (
            force
            or aggregates.version != self._published_version
            or minute != self._published_minute
            or states != self._published_states
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
                sources=health,
                store_status=self.store.status,
                notes=notes,
            )
            self._published_version = aggregates.version
            self._published_minute = minute
            self._published_states = states
            with self._published:
                self._published.notify_all()
            took = time.perf_counter() - started
            self.publish_ms.append(took * 1000.0)
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

    def publish_interval(self) -> float:
        """Seconds to wait after a snapshot before building the next one (see the constants)."""
        return min(PUBLISH_LONGEST, max(PUBLISH_EVERY, self._build_s / PUBLISH_BUDGET))

    # -- input ------------------------------------------------------------------------------------

    def submit(self, posts: Sequence[Post]) -> None:
        """Hand a batch of posts to the ingest thread (thread-safe, never blocks). On the source
        loop the batch carries the places sources saved for it (see :class:`CursorBook`)."""
        if not posts:
            return
        if threading.get_ident() == self._loop_thread:
            self._queue.put(_Batch(list(posts), self.cursors.take()))
        else:
            self._queue.put(list(posts))

    def flush_cursors(self) -> None:
        """Queue the places saved without posts, behind what sources delivered before them
        (called on the source loop)."""
        cursors = self.cursors.take()
        if cursors:
            self._queue.put(_Batch([], cursors))

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
            decision = self.desk.record(decision, self.pipeline)
        except Exception as exc:
            log.error("store: could not save the decision (%s); applied for this run only", exc)
        self._show_decision(decision)
        log.info("decision: %s %s by %s", decision.action, decision.target, decision.actor)

    def _show_decision(self, decision: Decision) -> None:
        self.desk.apply(self.pipeline, decision)

    def poll_decisions(self) -> int:
        """Apply decisions other processes saved in the store (ingest thread or tests)."""
        return self.desk.poll(self.pipeline)

    def ingest_now(self, posts: Sequence[Post]) -> None:
        """Run a batch through the pipeline on the calling thread (tests, commands)."""
        self.pipeline.ingest(posts, now=self.clock())
        self.ingested += len(posts)

    # -- hot reload -------------------------------------------------------------------------------

    def reconfigure(self, config: WallConfig, *, config_dir: Path | None = None) -> list[str]:
        """Apply a new config to the running engine without losing data (thread-safe).

        Sources whose entry changed (or that read the topics, when the topics changed) are
        stopped and started again with their saved cursors; the others keep running. New topics,
        analytics, moderation rules or time zone rebuild the figures from the store on the
        ingest thread (operator decisions applied again); screens only change the windows the
        snapshot is computed for. Returns what will change, in words, for the log.
        """
        old = self.config
        changes: list[str] = []
        if pipeline_changed(old, config):
            what = [
                name
                for name, differs in (
                    ("topics", old.topics != config.topics),
                    ("analytics", old.analytics != config.analytics),
                    ("moderation", old.moderation != config.moderation),
                    ("timezone", old.wall.timezone != config.wall.timezone),
                )
                if differs
            ]
            changes.append(f"figures rebuilt from the store ({', '.join(what)} changed)")
        restarted = self._reconfigure_sources(old, config, config_dir)
        if restarted:
            changes.append(restarted)
        self.config = config
        if self._threads and any(t.is_alive() for t in self._threads):
            self._queue.put(_Reconfigure(config))
        else:
            self.apply_config_now(config, old)
        return changes

    def apply_config_now(self, config: WallConfig, old: WallConfig | None = None) -> None:
        """Rebuild the pipeline for ``config`` when it must (ingest thread, or tests)."""
        previous = old or self._applied_config
        self._applied_config = config
        self.config = config
        self.windows = panel_windows(config)
        if pipeline_changed(previous, config):
            started = time.perf_counter()
            self.pipeline = build_pipeline(config, self.store)
            count = self.warm(enrich=True, rescore=previous.analytics != config.analytics)
            log.info(
                "figures rebuilt for the new config from %d stored posts in %.1f s",
                count,
                time.perf_counter() - started,
            )
        try:
            self.publish(force=True)
        except Exception:
            log.exception("could not build a snapshot; keeping the previous one")

    def _reconfigure_sources(
        self, old: WallConfig, config: WallConfig, config_dir: Path | None
    ) -> str:
        """Stop and start the sources a new config changes; what was done, in words."""
        from agora.sources.registry import build_source

        context = replace(
            self.source_context,
            wall=config,
            config_dir=config_dir or self.source_context.config_dir,
        )
        self.source_context = context
        old_entries = {entry.name: entry for entry in old.sources if entry.enabled}
        new_entries = {entry.name: entry for entry in config.sources if entry.enabled}
        topics_changed = old.topics != config.topics
        running = {source.name: source for source in self.sources}
        stopping: list[str] = []
        for name in running:
            if name not in old_entries:
                continue  # not built from the config (tests, benchmarks): leave it alone
            entry = new_entries.get(name)
            if (
                entry is None
                or entry != old_entries[name]
                or (topics_changed and _reads_topics(entry))
            ):
                stopping.append(name)
        starting: list[Source] = []
        failed: list[str] = []
        for name, entry in new_entries.items():
            if name in running and name not in stopping:
                continue
            try:
                starting.append(build_source(entry, context))
            except Exception as exc:  # an unknown kind or a bad file: the others still start
                log.error("source %s could not be started: %s", name, exc)
                failed.append(name)
        if not stopping and not starting:
            return ""
        kept = [s for s in self.sources if s.name not in stopping]
        by_name = {s.name: s for s in [*kept, *starting]}
        order = [e.name for e in config.sources if e.name in by_name]
        self.sources = [by_name[n] for n in order] + [s for s in kept if s.name not in order]
        loop = self._loop
        if loop is not None and not loop.is_closed() and self._loop_stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                asyncio.run_coroutine_threadsafe(self._swap_sources(stopping, starting), loop)
        started_names = [s.name for s in starting]
        restarted = [n for n in stopping if n in started_names]
        parts = []
        if restarted:
            parts.append(f"restarted {', '.join(restarted)}")
        if added := [n for n in started_names if n not in stopping]:
            parts.append(f"started {', '.join(added)}")
        if removed := [n for n in stopping if n not in started_names]:
            parts.append(f"stopped {', '.join(removed)}")
        if failed:
            parts.append(f"could not start {', '.join(failed)}")
        return "sources: " + "; ".join(parts)

    def save_health(self, *, force: bool = False) -> None:
        """Keep the sources' health in the store for the operator console: every
        :data:`HEALTH_SAVE_EVERY` seconds, and at once when a source's state or error changes."""
        health = {name: h.to_dict() for name, h in self.health().items()}
        states = {name: (h["state"], h["last_error"]) for name, h in health.items()}
        now = time.monotonic()
        last_at, last = self._health_saved
        if not force and states == last and now - last_at < HEALTH_SAVE_EVERY:
            return
        record = {"at": format_time(self.clock()), "wall": self.config.wall.name, "sources": health}
        try:
            self.store.set_state(HEALTH_STATE_KEY, json.dumps(record))
        except Exception as exc:  # the console's view is a nicety; never stop ingest for it
            log.debug("store: could not save source health: %s", exc)
        self._health_saved = (now, states)

    # -- lifecycle --------------------------------------------------------------------------------

    def warm(self, *, enrich: bool = False, rescore: bool = False) -> int:
        """Load the stored posts the figures reach back to (56 hours) into the aggregates
        (``enrich``: matching topics and moderation rules again, see :func:`reenrich`)."""
        since = self.clock() - timedelta(minutes=HORIZON_MINUTES)
        decisions = self.desk.load()
        self.desk.prime(self.pipeline, decisions)  # a blocked author's posts come back hidden
        try:
            stored = self.store.iter_posts(since)
            if enrich:
                stored = reenrich(self.pipeline, stored, rescore=rescore)
            count = self.pipeline.warm(stored)
        except Exception as exc:  # a damaged store must not stop the wall
            log.error("store: could not read history back: %s", exc)
            count = 0
        if count:
            log.info("loaded %d stored posts back into the figures", count)
        replayed = self.desk.replay(self.pipeline, decisions, oldest_ts=since.timestamp())
        if decisions:
            log.info(
                "%d moderation decision(s) read back from the store (%d applied to the figures)",
                len(decisions),
                replayed,
            )
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
        self.warm(enrich=True)  # the moderation rules of this run apply to what was stored
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
            cursors: dict[str, str | None] = {}
            try:
                item = self._queue.get(timeout=WAKE_EVERY)
                while True:
                    if isinstance(item, Decision):
                        self.apply_decision(item)
                        self._urgent = True
                    elif isinstance(item, _Deletion | _Reconfigure):
                        if batch or cursors:  # posts that came before go in first
                            self._ingest_batch(batch, cursors)
                            batch, cursors = [], {}
                        if isinstance(item, _Deletion):
                            self.delete_now(item.ids)
                        else:
                            self.apply_config_now(item.config)
                        self._urgent = True
                    elif isinstance(item, _Batch):
                        batch.extend(item.posts)
                        cursors.update(item.cursors)
                    elif item is not None:
                        batch.extend(item)
                    if len(batch) >= 5_000:
                        break
                    item = self._queue.get_nowait()
            except queue.Empty:
                pass
            if self._stop.is_set():
                break  # what was not stored keeps its place unsaved: fetched again at start
            if batch or cursors:
                self._ingest_batch(batch, cursors)
            if self.poll_decisions():  # made by another process (agora moderation, the console)
                self._urgent = True
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
                self.save_health()

    def _ingest_batch(self, batch: list[Post], cursors: dict[str, str | None]) -> None:
        """Ingest posts, then save the places that cover them (unless they could not be kept)."""
        stored = True
        if batch:
            try:
                result = self.pipeline.ingest(batch, now=self.clock())
                self.ingested += len(batch)
                stored = not result.store_failed
            except Exception:  # never let one bad batch stop the wall
                log.exception("ingest: a batch of %d posts failed and was dropped", len(batch))
                stored = False
        if cursors and stored:
            self.cursors.write(cursors)

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
        try:
            forgotten = self.store.prune_decisions(cutoff)
        except Exception as exc:
            log.error("store: retention of decisions failed: %s", exc)
        else:
            if forgotten:
                log.info("retention: forgot %d decisions about posts no longer kept", forgotten)

    def _source_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._loop_thread = threading.get_ident()
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
        for source in self.sources:
            self._start_source(source, stop)
        tasks = [asyncio.create_task(self._flush_cursors_every_second(stop))]
        if self.watchdog is not None:
            tasks.append(asyncio.create_task(self._heartbeat(self.watchdog, stop)))
        await stop.wait()
        tasks.extend(self._source_tasks.values())  # as they are now (a reload changes them)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start_source(self, source: Source, stop: asyncio.Event) -> None:
        """Run a source on the source loop (called on the loop)."""
        self._source_tasks[source.name] = asyncio.create_task(
            self._guarded(source, stop), name=f"source:{source.name}"
        )

    async def _swap_sources(self, stopping: Sequence[str], starting: Sequence[Source]) -> None:
        """Stop some sources and start others (on the loop; a reload). A stopped source is
        given a few seconds to close its connections before its replacement starts."""
        old = [self._source_tasks.pop(name) for name in stopping if name in self._source_tasks]
        for task in old:
            task.cancel()
        if old:
            await asyncio.wait(old, timeout=5.0)
        stop = self._loop_stop
        if stop is None or stop.is_set():
            return
        for source in starting:
            self._start_source(source, stop)

    async def _flush_cursors_every_second(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            self.flush_cursors()

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
            await source.run(lambda posts: self.submit(stamp(source, posts)), stop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            source.mark_error(f"{source.name}: stopped after an unexpected error: {exc}")
            log.exception("source %s stopped", source.name)

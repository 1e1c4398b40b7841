"""The engine: a wall's data side, wiring the parts of this package together.

:class:`Engine` owns the store, the pipeline (:mod:`agora.engine.wiring`), the inbox
(:mod:`agora.engine.inbox`), the source loop (:mod:`agora.engine.source_loop`), the publisher
(:mod:`agora.engine.publisher`) and the moderation desk, and runs the *ingest thread*: it works
through the inbox in order — posts into the pipeline (then the places that cover them into the
store), decisions, deletions, reloads — applies retention in small steps and publishes
snapshots. Qt-free: the wall reads :attr:`Engine.snapshot` on its UI tick.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from agora.config.schema import WallConfig
from agora.core.aggregates import HORIZON_MINUTES
from agora.core.health import SourceHealth, health_from_record, merged_reports
from agora.core.post import Post
from agora.core.problems import ProblemLog
from agora.core.snapshot import Snapshot
from agora.core.storage import StoreUnavailableError
from agora.decisions import DecisionDesk
from agora.engine.cursors import CursorBook
from agora.engine.follower import Follower, since_text
from agora.engine.inbox import Batch, Deletion, Followed, Inbox, Poke, Reconfigure
from agora.engine.leases import LeaseKeeper, holder_name
from agora.engine.publisher import HEALTH_STATE_KEY, HealthKeeper, Publisher
from agora.engine.reload import plan_sources
from agora.engine.source_loop import LOOP_STALL_S, SourceLoop
from agora.engine.wiring import (
    build_pipeline,
    panel_windows,
    pipeline_changed,
    reenrich,
    utcnow,
    what_changed,
)
from agora.service import Watchdog
from agora.sources.base import Source, SourceContext
from agora.sources.identity import stamp
from agora.store.base import Decision, DecisionAction, Store

log = logging.getLogger("agora.engine")

#: The ingest thread wakes up at least this often, in seconds, with or without input (to publish
#: when the minute turns, run retention, and beat for the watchdog).
WAKE_EVERY = 0.5
#: How often retention runs, in seconds.
RETENTION_EVERY = 60.0
#: Seconds between tries of a store that could not take posts, while no new posts come.
RETRY_EVERY = 2.0
#: Most posts the ingest thread takes from the inbox in one go.
INGEST_BATCH = 5_000
#: The watchdog's name for the ingest thread.
INGEST_NAME = "the ingest thread"
#: Most posts kept to write again after the store could not take them (beyond, the oldest are
#: let go: the sources' places stay unsaved, so a restart fetches them again).
UNSTORED_LIMIT = 20_000
#: How often a wall on a shared store reads the collectors' report of their sources, in seconds.
SHARED_HEALTH_EVERY = 5.0

#: What an engine does (see :class:`Engine`).
Role = Literal["standalone", "wall", "collector"]


class Engine:
    """Runs a wall's data side: sources, pipeline, store, snapshots.

    ``role``: ``"standalone"`` (one machine: its sources into its own store, its screens),
    ``"collector"`` (sources into a shared store, each source only while this process holds its
    lease, no screens: ``agora collect``) or ``"wall"`` (no sources: it follows what collectors
    write to the shared store, with its own rules and figures; :mod:`agora.engine.follower`).
    ``name`` says who made a decision and whose report of sources it is (default: the wall's).
    """

    def __init__(
        self,
        config: WallConfig,
        store: Store,
        *,
        config_dir: Path,
        clock: Callable[[], datetime] = utcnow,
        sources: Sequence[Source] | None = None,
        inbox_limit: int | None = None,
        role: Role = "standalone",
        name: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.role: Role = role
        self.name = name or config.wall.name
        # the scorer's weights load with the first batch, on the ingest thread (not before a
        # wall's first frame)
        self.pipeline = build_pipeline(config, self.posts_store, lazy=True)
        self.windows = panel_windows(config)
        self.problems = ProblemLog(logging.getLogger("agora.sources"))
        self.cursors = CursorBook(store)
        """Sources' saved places, written only after the posts before them are stored."""
        self.inbox = Inbox() if inbox_limit is None else Inbox(inbox_limit)
        """What the ingest thread works through, bounded: sources wait while it is full."""
        self.source_loop = SourceLoop(self.inbox, self.cursors)
        context = SourceContext(
            wall=config,
            config_dir=config_dir,
            get_cursor=self.cursors.get,
            set_cursor=self.cursors.stage,
            clock=clock,
            delete=self.delete,
            room=self.inbox.room,
            busy=lambda: self.inbox.full,
            deliver_stored=self.submit_stored,
        )
        self.source_context = context
        """What the sources were given (a hot reload builds new sources with the new config)."""
        if sources is None and role == "wall":
            sources = []  # a wall on a shared store runs no sources: collectors do
        if sources is None:
            from agora.sources.registry import build_sources

            sources = build_sources(config, context)
        self.sources: list[Source] = list(sources)
        if role == "collector":
            self.source_loop.leases = LeaseKeeper(store, holder_name(self.name))
        self.follower: Follower | None = None
        """A wall's reader of the shared store (``role = "wall"``)."""
        if role == "wall":
            self.follower = Follower(store, self.inbox.put, waiter=store.listener(), clock=clock)
        self._shared_health: dict[str, SourceHealth] = {}
        self._shared_health_at = float("-inf")
        self.watchdog: Watchdog | None = None
        """Set by the wall before :meth:`start`: the ingest thread and source loop beat on it."""
        self.publisher = Publisher(
            store,
            clock,
            self.pipeline.aggregates.snapshot(
                clock(), windows=self.windows, store_status=store.status
            ),
        )
        key = f"{HEALTH_STATE_KEY}:{self.name}" if role == "collector" else HEALTH_STATE_KEY
        self.health_keeper = HealthKeeper(store, clock, key)
        # a wall on a shared store leaves the posts' stored states to the collectors
        self.desk = DecisionDesk(store, keeps_states=role != "wall")
        """Moderation decisions: recorded, applied, and followed across processes."""
        self.ingested = 0
        self.ready = threading.Event()
        """Set once stored history has been loaded back into the aggregates."""
        self._applied_config = config
        """The config the pipeline was built for (a reload's config waits in the inbox)."""
        self._stop = threading.Event()
        self._ingest_thread: threading.Thread | None = None
        self._urgent = False
        self._unstored: list[Post] = []
        """Posts the store could not take yet, written again before the next batch."""
        self._unsorted: list[Post] = []
        """Posts not yet through the pipeline because the store could not be asked whether it
        knew them (a shared store away): run through again before the next batch."""
        self._held: dict[str, str | None] = {}
        """Sources' places held back while posts before them are not stored."""
        self._let_go = False
        """Unstored posts were let go this run: no place may be saved until a restart."""
        self._retry_at = 0.0
        """When a quiet wall next tries the store again with what it could not take."""

    # -- the snapshot the UI reads ---------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The latest published snapshot (an immutable object; safe from any thread)."""
        return self.publisher.snapshot

    @property
    def publish_ms(self) -> Sequence[float]:
        """How long the latest snapshot builds took, in milliseconds (for the benchmarks)."""
        return self.publisher.build_ms

    @property
    def posts_store(self) -> Store | None:
        """Where the pipeline writes posts: nowhere for a wall that follows a shared store
        (collectors write them; the wall only reads)."""
        return None if self.role == "wall" else self.store

    def health(self) -> dict[str, SourceHealth]:
        """Current health of every source: this process's own, or for a wall on a shared
        store the collectors' last report (and the store itself when it cannot be reached)."""
        if self.role != "wall":
            return {s.name: s.health for s in self.sources}
        health = dict(self._shared_health)
        follower = self.follower
        if follower is not None and follower.lost_since is not None:
            health["shared store"] = SourceHealth(
                name="shared store",
                kind="postgres",
                state="failing",
                last_error=(
                    f"cannot be reached {since_text(follower.lost_since, self.clock())}; "
                    "showing what this wall had"
                ),
                last_error_at=follower.lost_since,
            )
        return health

    def read_shared_health(self) -> None:
        """A wall on a shared store: read the collectors' reports of their sources (every
        :data:`SHARED_HEALTH_EVERY` seconds; the last one is kept while the store is away)."""
        now = time.monotonic()
        if self.role != "wall" or now - self._shared_health_at < SHARED_HEALTH_EVERY:
            return
        self._shared_health_at = now
        try:
            reports = self.store.states(HEALTH_STATE_KEY)
        except Exception as exc:
            log.debug("could not read the collectors' reports: %s", exc)
            return
        self._shared_health = health_from_record(merged_reports(reports))

    def publish(self, force: bool = False) -> Snapshot:
        """Build and publish a snapshot when something changed (or the minute turned)."""
        return self.publisher.publish(self.pipeline, self.windows, self.health(), force=force)

    def wait_for(self, check: Callable[[Snapshot], bool], timeout: float = 60.0) -> bool:
        """Wait until a published snapshot satisfies ``check`` (tests); ``False`` when ``timeout``
        seconds passed first (the default is a safety net for a busy machine, not an expectation)."""
        return self.publisher.wait_for(check, timeout)

    def publish_interval(self) -> float:
        """Seconds to wait after a snapshot before building the next one."""
        return self.publisher.interval()

    def save_health(self, *, force: bool = False) -> None:
        """Keep the sources' health in the store for the operator console (a wall that follows
        a shared store has no sources of its own to report)."""
        if self.role != "wall":
            self.health_keeper.save(self.name, self.health(), force=force)

    # -- input ------------------------------------------------------------------------------------

    def submit(self, posts: Sequence[Post]) -> None:
        """Hand a batch of posts to the ingest thread (thread-safe, never blocks). On the source
        loop the batch carries the places sources saved for it (see :class:`CursorBook`)."""
        self.source_loop.submit(posts)

    def submit_stored(self, source: Source, posts: Sequence[Post]) -> Future[bool]:
        """Queue a source's posts with a receipt, resolved once they are handled: ``True`` when
        they are stored (thread-safe; the webhook answers its caller only then)."""
        receipt: Future[bool] = Future()
        self.inbox.put(Batch(stamp(source, posts), {}, receipt))
        return receipt

    def delete(self, post_ids: Sequence[str]) -> None:
        """Posts deleted at the source: the ingest thread removes them from the store and the
        wall, after the posts submitted before (thread-safe, never blocks)."""
        if post_ids:
            self.inbox.put(Deletion(tuple(post_ids)))

    def delete_now(self, post_ids: Sequence[str]) -> int:
        """Remove deleted posts on the calling thread (ingest thread or tests)."""
        try:
            return self.pipeline.delete(post_ids)
        except Exception as exc:  # a store problem must not stop ingest
            log.error("could not remove %d deleted post(s): %s", len(post_ids), exc)
            return 0

    def decide(self, action: DecisionAction, target: str, actor: str, reason: str = "") -> None:
        """Record an operator's decision; it reaches the wall on the next snapshot (thread-safe),
        and every wall that shares the store soon after."""
        self.inbox.put(Decision(action, target, actor, self.clock(), reason, origin=self.name))

    def apply_decision(self, decision: Decision) -> None:
        """Persist a decision and apply it to what the wall shows (ingest thread or tests)."""
        try:
            decision = self.desk.record(decision, self.pipeline)
        except Exception as exc:
            log.error("store: could not save the decision (%s); applied for this run only", exc)
        self.desk.apply(self.pipeline, decision)
        log.info("decision: %s %s by %s", decision.action, decision.target, decision.actor)

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
            what = ", ".join(what_changed(old, config))
            changes.append(f"figures rebuilt from the store ({what} changed)")
        context = replace(
            self.source_context,
            wall=config,
            config_dir=config_dir or self.source_context.config_dir,
        )
        self.source_context = context
        plan = plan_sources(old, config, self.sources, context)
        if plan.stopping or plan.starting:
            self.sources = plan.sources
            self.source_loop.swap(plan.stopping, plan.starting)
        if described := plan.describe():
            changes.append(described)
        self.config = config
        if self.running:
            self.inbox.put(Reconfigure(config))
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
            self.pipeline = build_pipeline(config, self.posts_store)
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

    @property
    def threads(self) -> list[threading.Thread]:
        """The engine's worker threads (the ingest thread, the source loop and a wall's
        follower), once started."""
        follower = self.follower.thread if self.follower is not None else None
        found = [self._ingest_thread, self.source_loop.thread, follower]
        return [t for t in found if t is not None]

    @property
    def running(self) -> bool:
        """True while a worker thread runs."""
        return any(t.is_alive() for t in self.threads)

    def start(self) -> None:
        """Start the ingest thread and the source loop."""
        self._ingest_thread = threading.Thread(
            target=self._ingest_loop, name="agora-ingest", daemon=True
        )
        self._ingest_thread.start()
        self.source_loop.watchdog = self.watchdog
        self.source_loop.start(self.sources)
        log.info("engine started: the ingest thread and %d source(s)", len(self.sources))

    def stop(self, timeout: float = 1.0) -> None:
        """Stop every source and thread; returns within about ``timeout`` seconds."""
        self._stop.set()
        self.source_loop.stop()
        if self.follower is not None:
            self.follower.stop()
        self.inbox.put(None)
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for thread in self.threads:
            if thread.is_alive():
                log.warning("%s did not stop within %.1f s", thread.name, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop and close the store.

        The threads get up to ``timeout`` seconds: a batch being written is finished rather than
        cut off. A thread still busy after that keeps the store open (closing it under a write
        would fail the write; the process is leaving anyway and the store is consistent)."""
        self.stop(timeout)
        if any(thread.is_alive() for thread in self.threads):
            log.warning("the store was left open: a worker thread was still busy")
            return
        self.store.close()

    # -- the ingest thread ------------------------------------------------------------------------

    def _ingest_loop(self) -> None:
        follow_from = self._newest_change() if self.follower is not None else 0
        self.warm(enrich=True)  # the moderation rules of this run apply to what was stored
        if self.follower is not None:  # what collectors write from now on (nothing missed)
            self.follower.start_at(follow_from)
        self.ready.set()
        self.read_shared_health()
        self.publish(force=True)
        last_publish = time.monotonic()
        last_retention = 0.0
        watchdog = self.watchdog
        if watchdog is not None:
            watchdog.watch(INGEST_NAME, LOOP_STALL_S)
        while not self._stop.is_set():
            if watchdog is not None:
                watchdog.beat(INGEST_NAME)
            self._work_through_inbox()
            if self._stop.is_set():
                break  # what was not stored keeps its place unsaved: fetched again at start
            if self.poll_decisions():  # made by another process (agora moderation, the console)
                self._urgent = True
            self.read_shared_health()
            now = time.monotonic()
            if now - last_retention >= RETENTION_EVERY and self.role != "wall":
                last_retention = now  # (collectors age the shared store; a wall ages its figures)
                self.run_retention()
            if self._urgent or now - last_publish >= self.publish_interval():
                last_publish = now
                self._urgent = False
                if self.role != "collector":  # a collector shows nothing: no snapshots
                    try:
                        self.publish()
                    except Exception:
                        log.exception("could not build a snapshot; keeping the previous one")
                self.save_health()

    def _work_through_inbox(self) -> None:
        """Take what the inbox holds (up to :data:`INGEST_BATCH` posts) and handle it in order:
        posts before a deletion or a reload go in first."""
        batch: list[Post] = []
        cursors: dict[str, str | None] = {}
        receipts: list[Future[bool]] = []
        try:
            item = self.inbox.get(timeout=WAKE_EVERY)
            while True:
                if isinstance(item, Decision):
                    self.apply_decision(item)
                    self._urgent = True
                elif isinstance(item, Deletion | Reconfigure):
                    if batch or cursors:
                        self._ingest_batch(batch, cursors, receipts)
                        batch, cursors, receipts = [], {}, []
                    if isinstance(item, Deletion):
                        self.delete_now(item.ids)
                    else:
                        self.apply_config_now(item.config)
                    self._urgent = True
                elif isinstance(item, Batch):
                    batch.extend(item.posts)
                    cursors.update(item.cursors)
                    if item.receipt is not None:
                        receipts.append(item.receipt)
                elif isinstance(item, Followed):
                    batch.extend(item.posts)
                    if item.deleted:  # after the posts that came before them
                        self._ingest_batch(batch, cursors, receipts)
                        batch, cursors, receipts = [], {}, []
                        self.delete_now(item.deleted)
                        self._urgent = True
                elif isinstance(item, Poke):
                    self._urgent = True  # a decision elsewhere: read it now
                if len(batch) >= INGEST_BATCH or self._stop.is_set():
                    break
                item = self.inbox.get_nowait()
        except queue.Empty:
            pass
        if self._stop.is_set():
            for receipt in receipts:  # not stored: the caller must send them again
                receipt.set_result(False)
        elif batch or cursors or receipts:
            self._ingest_batch(batch, cursors, receipts)
        elif (self._unstored or self._unsorted) and time.monotonic() >= self._retry_at:
            # a quiet wall: what the store could not take is tried again without new posts
            self._retry_at = time.monotonic() + RETRY_EVERY
            self._ingest_batch([], {})

    def _ingest_batch(
        self,
        batch: list[Post],
        cursors: dict[str, str | None],
        receipts: Sequence[Future[bool]] = (),
    ) -> None:
        """Ingest posts, then save the places that cover them — only while every post before
        them is stored: posts the store could not take are written again first, and until they
        are, places are held back (a restart then fetches those posts again)."""
        stored = self._write_unstored()
        if self._unsorted:
            waiting, self._unsorted = self._unsorted, []
            stored = self._run_pipeline(waiting) and stored
        if batch:
            stored = self._run_pipeline(batch) and stored
        for receipt in receipts:
            receipt.set_result(stored)
        self._held.update(cursors)
        if stored and not (self._unstored or self._unsorted or self._let_go) and self._held:
            held, self._held = self._held, {}
            self.cursors.write(held)

    def _run_pipeline(self, posts: list[Post]) -> bool:
        """Run posts through the pipeline; ``True`` when the store kept them all."""
        try:
            result = self.pipeline.ingest(posts, now=self.clock())
        except StoreUnavailableError as exc:
            # the deduper could not ask the store about older posts: nothing was counted or
            # kept, so the whole batch goes through again once the store answers
            log.warning("store: cannot check %d post(s) against it yet: %s", len(posts), exc)
            self._unsorted = _bounded(self._unsorted + posts, self._let_go_of)
            return False
        except Exception:  # never let one bad batch stop the wall
            log.exception("ingest: a batch of %d posts failed and was dropped", len(posts))
            return False
        self.ingested += len(posts)
        if result.store_failed:
            self._keep_unstored(result.unstored)
            return False
        return True

    def _write_unstored(self) -> bool:
        """Write again what the store could not take; ``True`` when nothing is left."""
        if not self._unstored:
            return True
        try:
            self.store.add_posts(self._unstored)
        except Exception as exc:
            log.debug("store: still cannot keep %d post(s): %s", len(self._unstored), exc)
            return False
        log.info("store: kept the %d post(s) it could not take before", len(self._unstored))
        self._unstored = []
        return True

    def _keep_unstored(self, posts: Sequence[Post]) -> None:
        self._unstored = _bounded(self._unstored + list(posts), self._let_go_of)

    def _let_go_of(self, dropped: int) -> None:
        """The oldest of the posts held for the store were let go (the bound is reached)."""
        if not self._let_go:
            log.error(
                "store: let go of %d post(s) it could not take; the sources fetch them again "
                "after a restart",
                dropped,
            )
        self._let_go = True

    def _newest_change(self) -> int:
        """Where a wall starts following the shared store (0 when it cannot be asked: then
        everything still kept is read once it answers)."""
        try:
            return self.store.newest_change()
        except Exception as exc:
            log.warning("the shared store cannot be read yet (%s); following from the start", exc)
            return 0

    def run_retention(self) -> None:
        """Remove posts older than ``[store] retention`` (in small steps), and the decisions
        about posts no longer kept (ingest thread, or a benchmark's fake clock)."""
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


def _bounded(posts: list[Post], let_go: Callable[[int], None]) -> list[Post]:
    """The newest :data:`UNSTORED_LIMIT` of ``posts``; ``let_go`` is told how many went."""
    if len(posts) <= UNSTORED_LIMIT:
        return posts
    dropped = len(posts) - UNSTORED_LIMIT
    let_go(dropped)
    return posts[dropped:]

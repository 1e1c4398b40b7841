"""The source loop: one asyncio event loop, on a thread of its own, running every source.

Sources are coroutines (:meth:`agora.sources.base.Source.run`); each runs as a task, guarded so
that an error in one never stops the others. What a source delivers is stamped with the identity
of its entry (:func:`agora.sources.identity.stamp`) and put in the engine's :class:`Inbox`,
together with the places the source saved for it (:class:`CursorBook`). Places saved without
posts are flushed every second. A hot reload stops some sources and starts others
(:meth:`SourceLoop.swap`) without touching the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import replace

from agora.core.post import Post
from agora.engine.cursors import CursorBook
from agora.engine.inbox import Batch, Inbox
from agora.engine.leases import LeaseKeeper
from agora.service import Watchdog
from agora.sources.base import Source
from agora.sources.identity import stamp

log = logging.getLogger("agora.engine")

#: A loop silent for longer than this is reported by the watchdog, in seconds.
LOOP_STALL_S = 30.0
#: The watchdog's name for this loop.
LOOP_NAME = "the source loop"


class SourceLoop:
    """Runs sources on an event loop in a worker thread; see the module docstring."""

    def __init__(self, inbox: Inbox, cursors: CursorBook) -> None:
        self.inbox = inbox
        self.cursors = cursors
        self.watchdog: Watchdog | None = None
        """Beaten while the loop runs freely (set before :meth:`start`)."""
        self.leases: LeaseKeeper | None = None
        """A collector on a shared store: each source runs only while this process holds its
        lease (set before :meth:`start`)."""
        self.thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_ident: int | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = threading.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}

    # -- delivering --------------------------------------------------------------------------

    def on_loop(self) -> bool:
        """True on the loop's own thread."""
        return threading.get_ident() == self._loop_ident

    def deliver(self, source: Source, posts: Sequence[Post]) -> None:
        """A source's batch: stamped with its entry's identity, queued with the places saved
        for it (only on the loop, where saving a place and delivering cannot interleave)."""
        if posts:
            self.submit(stamp(source, posts))

    def submit(self, posts: Sequence[Post]) -> None:
        """Queue posts for the ingest thread (thread-safe, never blocks)."""
        if not posts:
            return
        cursors = self.cursors.take() if self.on_loop() else {}
        self.inbox.put(Batch(list(posts), cursors))

    def flush_cursors(self) -> None:
        """Queue the places saved without posts, behind what sources delivered before them."""
        cursors = self.cursors.take()
        if cursors:
            self.inbox.put(Batch([], cursors))

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, sources: Sequence[Source]) -> threading.Thread:
        """Run ``sources`` on a new thread until :meth:`stop`."""
        thread = threading.Thread(
            target=self._main, args=(list(sources),), name="agora-sources", daemon=True
        )
        self.thread = thread
        thread.start()
        return thread

    def stop(self) -> None:
        """Ask every source to stop (returns at once; join :attr:`thread` to wait)."""
        self._stopping.set()
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stop.set)

    def swap(self, stopping: Sequence[str], starting: Sequence[Source]) -> None:
        """Stop the sources named ``stopping`` and start ``starting`` (thread-safe; a stopped
        source is given a few seconds to close its connections before its replacement starts)."""
        loop = self._loop
        if loop is not None and not loop.is_closed() and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                asyncio.run_coroutine_threadsafe(self._swap(stopping, starting), loop)

    def _main(self, sources: list[Source]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._loop_ident = threading.get_ident()
        try:
            loop.run_until_complete(self._run(sources))
        except Exception:
            log.exception("the source loop stopped unexpectedly")
        finally:
            loop.close()

    async def _run(self, sources: list[Source]) -> None:
        stop = asyncio.Event()
        self._stop = stop
        if self._stopping.is_set():
            return
        for source in sources:
            self._start(source, stop)
        tasks = [asyncio.create_task(self._flush_every_second(stop))]
        if self.watchdog is not None:
            tasks.append(asyncio.create_task(self._heartbeat(self.watchdog, stop)))
        await stop.wait()
        tasks.extend(self._tasks.values())  # as they are now (a reload changes them)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, source: Source, stop: asyncio.Event) -> None:
        run = self._guarded(source, stop) if self.leases is None else self._leased(source, stop)
        self._tasks[source.name] = asyncio.create_task(run, name=f"source:{source.name}")

    async def _leased(self, source: Source, stop: asyncio.Event) -> None:
        """Run ``source`` only while this collector holds its lease (see
        :mod:`agora.engine.leases`); give the lease back when it stops."""
        leases = self.leases
        assert leases is not None
        name = source.name
        running: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                held = await asyncio.to_thread(leases.take, name)
                if held and running is None:
                    log.info("source %s: this collector polls it (lease taken)", name)
                    running = asyncio.create_task(self._guarded(source, stop))
                elif not held:
                    if running is not None:
                        log.warning("source %s: lease lost; another collector polls it", name)
                        running.cancel()
                        await asyncio.gather(running, return_exceptions=True)
                        running = None
                    holder = await asyncio.to_thread(leases.holder_of, name)
                    source.health = replace(
                        source.health,
                        state="idle",
                        last_error=f"polled by another collector ({holder})" if holder else None,
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=leases.renew_every)
        finally:
            if running is not None:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
            await asyncio.to_thread(leases.give_back, name)

    async def _swap(self, stopping: Sequence[str], starting: Sequence[Source]) -> None:
        old = [self._tasks.pop(name) for name in stopping if name in self._tasks]
        for task in old:
            task.cancel()
        if old:
            await asyncio.wait(old, timeout=5.0)
        stop = self._stop
        if stop is None or stop.is_set():
            return
        for source in starting:
            self._start(source, stop)

    async def _guarded(self, source: Source, stop: asyncio.Event) -> None:
        try:
            await source.run(lambda posts: self.deliver(source, posts), stop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            source.mark_error(f"{source.name}: stopped after an unexpected error: {exc}")
            log.exception("source %s stopped", source.name)

    async def _flush_every_second(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            self.flush_cursors()

    async def _heartbeat(self, watchdog: Watchdog, stop: asyncio.Event) -> None:
        """Beats while the loop runs freely: a source that blocks the loop stops it."""
        watchdog.watch(LOOP_NAME, LOOP_STALL_S)
        try:
            while not stop.is_set():
                watchdog.beat(LOOP_NAME)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
        finally:
            watchdog.forget(LOOP_NAME)

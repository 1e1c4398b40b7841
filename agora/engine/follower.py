"""Following a shared store: a wall that runs no sources of its own reads what collectors wrote.

:class:`Follower` runs on a thread of its own. It reads the store's changes (posts inserted or
updated, posts deleted at their source) after the last change number it handled, hands them to
the engine's inbox, and waits for the store's notification of the next change (PostgreSQL
LISTEN/NOTIFY through :class:`agora.store.postgres.Listener`; a store without notifications is
read every :data:`POLL_S` seconds). A notification of a new moderation decision pokes the ingest
thread, which reads the decisions at once. Nothing is missed across a lost connection: after
reconnecting the follower reads on from its change number (and a notification after a
reconnection is taken as "something may have changed").

While the store cannot be reached the wall keeps showing what it has; :attr:`Follower.lost_since`
says since when, for the wall's status line and its "no data since" badge.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from agora.core.post import Post
from agora.engine.inbox import Followed, Poke
from agora.store.base import Change, Notifications, Store

log = logging.getLogger("agora.engine")

#: Changes read from the store at a time.
CHUNK = 1_000
#: Without notifications (or while they are lost), the store is read this often, in seconds.
POLL_S = 2.0
#: Longest wait between two attempts to reach a store that went away, in seconds.
BACKOFF_MAX_S = 30.0


class Follower:
    """Reads a shared store's changes into the engine; see the module docstring."""

    def __init__(
        self,
        store: Store,
        deliver: Callable[[Followed | Poke], None],
        *,
        waiter: Notifications | None = None,
        clock: Callable[[], datetime],
        posts_channel: str = "agora_posts",
        decisions_channel: str = "agora_decisions",
    ) -> None:
        self.store = store
        self.deliver = deliver
        self.waiter = waiter
        self.clock = clock
        self.posts_channel = posts_channel
        self.decisions_channel = decisions_channel
        self.after = 0
        """The newest change number handed to the engine."""
        self.lost_since: datetime | None = None
        """When the store stopped answering (``None`` while it answers)."""
        self.last_error = ""
        self.thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start_at(self, after: int) -> threading.Thread:
        """Follow changes after number ``after`` on a new thread until :meth:`stop`."""
        self.after = after
        thread = threading.Thread(target=self._run, name="agora-follow", daemon=True)
        self.thread = thread
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop following (returns at once; the thread ends within a second)."""
        self._stop.set()
        if self.waiter is not None:
            self.waiter.close()

    def read_once(self) -> int:
        """Read every change after :attr:`after` and hand it over; how many were read (raises
        what the store raises)."""
        read = 0
        while not self._stop.is_set():
            changes = self.store.changes(self.after, CHUNK)
            if not changes:
                break
            self.deliver(self._followed(changes))
            read += len(changes)
            if len(changes) < CHUNK:
                break
        return read

    def _followed(self, changes: list[Change]) -> Followed:
        posts: dict[str, Post] = {}
        deleted: list[str] = []
        for change in changes:
            if change.deleted:
                posts.pop(change.post_id, None)
                deleted.append(change.post_id)
            elif change.post is not None:
                posts[change.post_id] = change.post
        self.after = max(self.after, changes[-1].seq)
        return Followed(list(posts.values()), deleted, self.after)

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                self.read_once()
            except Exception as exc:  # StoreUnavailableError and anything unexpected
                self._lost(exc)
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            if self.lost_since is not None:
                log.warning("follow: the shared store answers again; caught up")
                self.lost_since = None
                self.last_error = ""
            backoff = 1.0
            self._wait()

    def _wait(self) -> None:
        """Until the store says something changed (or :data:`POLL_S` passed without word)."""
        if self.waiter is None:
            self._stop.wait(POLL_S)
            return
        try:
            heard = self.waiter.wait(POLL_S)
        except Exception as exc:  # a listener that broke: read by time meanwhile
            log.debug("follow: waiting for notifications failed: %s", exc)
            self._stop.wait(POLL_S)
            return
        if self.decisions_channel in heard:
            self.deliver(Poke())

    def _lost(self, exc: BaseException) -> None:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if self.lost_since is None:
            self.lost_since = self.clock()
            log.error("follow: the shared store cannot be read (%s); showing what we have", message)
        self.last_error = message

    def join(self, timeout: float) -> None:
        """Wait for the thread to end."""
        if self.thread is not None:
            self.thread.join(timeout)


def since_text(moment: datetime, now: datetime) -> str:
    """``"since 10:42"`` (UTC clock time of ``moment``) for a status line."""
    minutes = max(0, int((now - moment).total_seconds() // 60))
    return f"since {moment:%H:%M} UTC ({minutes} min)"


__all__ = ["Followed", "Follower", "Poke", "since_text"]

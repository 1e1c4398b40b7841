"""The source interface: how a configured ``[[sources]]`` entry produces posts.

Every source kind is a subclass of :class:`Source` in its own module of this package and is listed
in :data:`agora.sources.registry.SOURCE_CLASSES`. Sources are asyncio coroutines: the wall runs all
of them on one event loop in a worker thread (:mod:`agora.sources.runner`); ``agora fetch`` runs one
round with :meth:`Source.fetch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from agora.config.schema import WallConfig
from agora.core.health import HealthState, SourceHealth
from agora.core.post import Post
from agora.core.problems import ProblemLog
from agora.core.redact import redact

#: Receives every batch of posts a source produces (the pipeline's queue in the wall).
Sink = Callable[[Sequence[Post]], None]


async def _always_room() -> None:
    """The default :attr:`SourceContext.room`: there is always room (commands, tests)."""


def utcnow() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


@dataclass(slots=True)
class SourceContext:
    """What a source may use besides its own config entry."""

    wall: WallConfig
    config_dir: Path
    """Directory of the config file: relative paths are resolved against it."""
    get_cursor: Callable[[str], str | None] = lambda _name: None
    set_cursor: Callable[[str, str | None], None] = lambda _name, _value: None
    clock: Callable[[], datetime] = utcnow
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("agora.sources"))
    delete: Callable[[Sequence[str]], None] = lambda _ids: None
    """Receives the ids of posts deleted at the source (Bluesky and Mastodon delete events); the
    engine removes them from the store and the wall. Thread-safe in the engine."""
    listen_seconds: float = 10.0
    """How long :meth:`Source.fetch` listens to a stream (``agora fetch --seconds``)."""
    retry_within: float = 10.0
    """How long one :meth:`Source.fetch` round may wait for a server's ``Retry-After`` and try
    again before it gives up (``agora fetch``: 60 s, or ``--seconds``). The wall's own polling
    does not use it: it waits out any ``Retry-After`` between rounds."""
    room: Callable[[], Awaitable[None]] = _always_room
    """Awaited before every round and stream event: returns once the wall can take more posts
    (the engine's inbox is bounded; while it is full, sources wait instead of piling posts up)."""
    busy: Callable[[], bool] = lambda: False
    """True while the wall cannot take more posts (the webhook answers 503 meanwhile)."""
    deliver_stored: Callable[[Source, Sequence[Post]], Future[bool]] | None = None
    """In the wall: queue a source's posts with a receipt resolved once they are stored (the
    webhook answers 202 only then); ``None`` where posts are simply collected (commands)."""


class Source(ABC):
    """A configured source entry at run time.

    Subclasses set :attr:`kind`, implement :meth:`fetch` (one polling round) and, for streams or
    paced replays, override :meth:`run`. They keep :attr:`health` up to date through
    :meth:`mark_ok` and :meth:`mark_error`, report malformed items through :attr:`problems`, and
    persist their resume point with ``context.set_cursor(self.name, …)``.
    """

    kind: ClassVar[str]
    #: True for kinds that need no network (``jsonl``, ``simulator``): ``agora analyse`` reads them.
    offline: ClassVar[bool] = False
    #: Default polling interval in seconds when the entry has no ``every``.
    default_every: ClassVar[float] = 60.0

    def __init__(self, config: Any, context: SourceContext) -> None:
        self.config = config
        self.context = context
        self.name: str = config.name
        self.logger = context.logger.getChild(self.kind)
        self.problems = ProblemLog(self.logger)
        self.health = SourceHealth(name=self.name, kind=self.kind)

    @property
    def every(self) -> float:
        """Polling interval in seconds."""
        every = getattr(self.config, "every", None)
        return float(every) if every else self.default_every

    @property
    def live(self) -> bool:
        """True when the source keeps producing posts (everything but a one-shot file)."""
        return True

    @abstractmethod
    async def fetch(self, limit: int | None = None) -> list[Post]:
        """One polling round: the posts that are new since the saved cursor (at most ``limit``)."""

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        """Produce posts until ``stop`` is set. The default polls :meth:`fetch` every
        :attr:`every` seconds; errors are recorded in :attr:`health` and never escape."""
        while not stop.is_set():
            await self.context.room()
            try:
                posts = await self.fetch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a source must never take the wall down
                self.mark_error(f"{self.name}: {exc}")
            else:
                if posts:
                    sink(posts)
            if not self.live:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.every)

    # -- health --------------------------------------------------------------------------------

    def mark_ok(self, posts: int = 0) -> None:
        """Record a successful round that produced ``posts`` posts."""
        self.health = replace(
            self.health,
            state="ok",
            last_success=self.context.clock(),
            posts=self.health.posts + posts,
            skipped=self.problems.total,
        )

    def mark_error(self, message: str, state: HealthState = "failing") -> None:
        """Record a failed round with a one-line, secret-free message (redacted here as well:
        the message reaches the wall's screen, the store and ``agora fetch``'s stderr, and may
        quote what a server answered)."""
        text = message.strip()
        line = redact(text.splitlines()[0])[:300] if text else "unknown error"
        self.health = replace(
            self.health,
            state=state,
            last_error=line,
            last_error_at=self.context.clock(),
            skipped=self.problems.total,
        )
        self.logger.warning("%s", self.health.last_error)

"""The shared runner of the network sources: rounds, backoff, health and saved state.

:class:`LiveSource` is the base of every kind that talks to a server. A subclass implements
:meth:`LiveSource.poll` (one round: the new posts since the saved state) and, for streams,
overrides :meth:`LiveSource.run`. The base provides:

* one :class:`~agora.sources.http.PoliteClient` per run (or per ``fetch``), closed on the way out;
* the polling loop: after a good round wait :attr:`every` (never less than the kind's polite floor
  for the configured number of queries); after a failure wait what the error asks for — the
  server's ``Retry-After`` or reset time after a 429, exponential backoff with jitter after 5xx,
  timeouts or broken payloads, a long pause when credentials are refused or the server turned the
  feature off;
* health: ``ok`` after a clean round, ``degraded`` when items were skipped, a request was rate
  limited or a failure follows a success, ``failing`` after :attr:`failing_after` failures in a
  row, ``needs-auth`` and ``disabled-by-server`` from the error's kind; messages are one plain line;
* state: one JSON object per source saved through ``context.set_cursor`` (cursors such as
  ``min_id``, ``since_id``, ``time_us`` and HTTP validators), read back after a restart. A state
  that cannot be read is reported and replaced by an empty one. A round is all or nothing: its
  new state is saved only together with the posts it hands over, and a round that fails or is
  cancelled half-way (a 503 on the second hashtag, a hot reload) puts the state — and the HTTP
  validators — back as they were before it, so what it had read is read again next time;
* items: every payload item goes through :meth:`LiveSource.read_item`, so a malformed or hostile
  item (whatever its reader raises) costs that item only, reported once per kind of problem.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import random
import time
from abc import abstractmethod
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import replace
from typing import Any, ClassVar, ParamSpec, TypeVar

import orjson

from agora.core.health import HealthState
from agora.core.post import Post, PostError
from agora.core.redact import redact
from agora.sources.base import Sink, Source, SourceContext
from agora.sources.http import (
    DEFAULT_RETRY_AFTER,
    AuthError,
    Backoff,
    DisabledError,
    PoliteClient,
    RateLimitedError,
    SourceError,
    wait_or_stop,
)

__all__ = ["BoundedSet", "LiveSource", "rate_limit_wait"]

T = TypeVar("T")
P = ParamSpec("P")


def rate_limit_wait(exc: RateLimitedError, minimum: float) -> float:
    """Seconds to wait after a rate limit: what the server asked, at least ``minimum`` (a
    ``Retry-After`` of 0, a negative one or a date in the past means "now"), or
    :data:`~agora.sources.http.DEFAULT_RETRY_AFTER` when it named no time."""
    asked = DEFAULT_RETRY_AFTER if exc.retry_after is None else exc.retry_after
    return max(minimum, asked)


class BoundedSet:
    """A set that forgets its oldest members beyond ``size`` (seen ids, emitted ids)."""

    def __init__(self, size: int = 10_000, items: list[Hashable] | None = None) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, None] = OrderedDict()
        for item in items or ():
            self.add(item)

    def add(self, item: Hashable) -> None:
        """Remember ``item`` (as the newest)."""
        self._items[item] = None
        self._items.move_to_end(item)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def discard(self, item: Hashable) -> None:
        """Forget ``item``."""
        self._items.pop(item, None)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __len__(self) -> int:
        return len(self._items)

    def newest(self, count: int) -> list[Hashable]:
        """The ``count`` most recently added members, oldest first."""
        items = list(self._items)
        return items[-count:] if count else []


class LiveSource(Source):
    """A source that talks to a server; see the module docstring."""

    default_every: ClassVar[float] = 60.0
    #: The host named in health messages (set by subclasses from their ``base_url``).
    host: str = ""
    #: Shortest interval between two requests of one query, in seconds (the kind's rate limit with
    #: a safety margin); :meth:`polite_floor` multiplies it by the requests a round makes.
    min_every: float = 1.0
    #: Request timeout in seconds.
    timeout: float = 20.0
    #: Pause after credentials were refused, and after the server turned the feature off.
    auth_retry: float = 900.0
    disabled_retry: float = 3600.0
    #: Shortest wait after a 429, whatever the server says.
    min_retry: float = 1.0
    #: Failures in a row before ``degraded`` turns ``failing``.
    failing_after: int = 3
    #: Keys of :attr:`state` that a failed round keeps (what it spent, not where it got to:
    #: quota units, posts billed).
    kept_on_failure: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.backoff = Backoff(base=2.0, cap=300.0, rand=random.random)
        self.client: PoliteClient | None = None
        self.client_factory: Callable[[], PoliteClient] = lambda: PoliteClient(timeout=self.timeout)
        self.failures = 0
        self._state: dict[str, Any] | None = None
        self._warned_every = False
        self._problems_before = 0
        self._last_problem: str | None = None
        self._last_save = 0.0
        self._unexpected_seen: set[tuple[str, str]] = set()

    # -- state -----------------------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        """The saved state of this source (loaded on first use)."""
        if self._state is None:
            raw = self.context.get_cursor(self.name)
            state: object = {}
            if raw:
                try:
                    state = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    state = None
                if not isinstance(state, dict):
                    self.problems.report(
                        "bad-cursor", f"{self.name}: saved cursor unreadable; starting afresh"
                    )
                    state = {}
            self._state = state if isinstance(state, dict) else {}
        return self._state

    def save_state(self) -> None:
        """Persist :attr:`state` through the context."""
        try:
            self.context.set_cursor(self.name, json.dumps(self.state, separators=(",", ":")))
        except Exception as exc:  # a store problem must not stop the source
            self.problems.report("cursor-save", f"{self.name}: could not save the cursor: {exc}")

    def save_state_soon(self, every: float = 1.0) -> None:
        """Persist :attr:`state` unless it was saved less than ``every`` seconds ago (streams
        move their cursor with every event; the store need not be written that often)."""
        now = time.monotonic()
        if now - self._last_save >= every:
            self._last_save = now
            self.save_state()

    # -- pacing ----------------------------------------------------------------------------------

    def requests_per_round(self) -> int:
        """How many requests one round makes (queries × pages); the floor scales with it."""
        return 1

    def polite_floor(self) -> float:
        """Shortest polling interval that stays inside the documented rate limits."""
        return self.min_every * max(1, self.requests_per_round())

    @property
    def every(self) -> float:
        """Polling interval in seconds: the configured one, raised to the polite floor."""
        configured = getattr(self.config, "every", None)
        every = float(configured) if configured else self.default_every
        floor = self.polite_floor()
        if every < floor:
            if not self._warned_every:
                self._warned_every = True
                self.logger.warning(
                    "%s: every = %gs is faster than %s allows for %d request(s) a round; "
                    "polling every %gs",
                    self.name,
                    every,
                    self.host or self.kind,
                    self.requests_per_round(),
                    floor,
                )
            every = floor
        return every

    # -- client ----------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[PoliteClient]:
        """The HTTP client for this run (created here and closed on exit unless one exists)."""
        if self.client is not None and not self.client.closed:
            yield self.client
            return
        client = self.client_factory()
        self.client = client
        self.restore_validators(client)
        try:
            yield client
        finally:
            self.client = None
            with contextlib.suppress(Exception):
                await asyncio.shield(client.aclose())

    def restore_validators(self, client: PoliteClient) -> None:
        """Give the client the ETags saved in the state (sources that poll feeds)."""
        saved = self.state.get("validators")
        if isinstance(saved, dict):
            for url, pair in saved.items():
                if isinstance(url, str) and isinstance(pair, list) and len(pair) == 2:
                    client.validators[url] = (pair[0], pair[1])

    # -- rounds ----------------------------------------------------------------------------------

    @abstractmethod
    async def poll(self, limit: int | None = None) -> list[Post]:
        """One round against the server: the posts new since the saved state. Raises
        :class:`~agora.sources.http.SourceError` on failure.

        A subclass changes :attr:`state` as it reads and calls :meth:`save_state` once, at the
        end of a good round (never in a ``finally``): the place is staged together with the
        posts the round returns. Callers run it through :meth:`read_round`, which undoes a
        failed or cancelled round."""

    async def read_round(self, read: Callable[[], Awaitable[T]]) -> T:
        """Run ``read`` (a round, or a stream's catch-up) all or nothing: when it raises —
        any error, or a cancellation (a hot reload, a stop) — :attr:`state` and the client's
        validators go back to what they were before it, and that state is staged again, so a
        place the round staged half-way is replaced and what it read is read again."""
        before = copy.deepcopy(self.state)
        client = self.client
        validators = dict(client.validators) if client is not None else None
        try:
            return await read()
        except BaseException:
            self.roll_back(before, validators)
            raise

    def roll_back(
        self,
        before: dict[str, Any],
        validators: dict[str, tuple[str | None, str | None]] | None = None,
    ) -> None:
        """Put :attr:`state` back to ``before`` (keeping :attr:`kept_on_failure`) and stage it."""
        kept = {key: self.state[key] for key in self.kept_on_failure if key in self.state}
        self._state = {**before, **copy.deepcopy(kept)}
        if validators is not None and self.client is not None:
            # an answer whose entries were not handed over must not come back "304 Not Modified"
            self.client.validators.clear()
            self.client.validators.update(validators)
        self.save_state()

    def read_item(
        self, where: str, parse: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T | None:
        """``parse(*args, **kwargs)`` for one payload item: a :class:`~agora.core.post.PostError`
        (a malformed item) or any other error (a shape the reader did not expect) costs that item
        only. It is reported — logged once per kind of problem, counted in health — and ``None``
        is returned. ``where`` starts the message (``"#lumen: "``, or ``""``)."""
        try:
            return parse(*args, **kwargs)
        except PostError as exc:
            self.report_item(exc.kind, f"{where}{exc}")
        except SourceError:
            raise  # about the connection or the round (a stream's "disconnect"), not the item
        except Exception as exc:  # a reader's oversight costs one item, never the source
            name = type(exc).__name__
            detail = redact(str(exc))[:200]  # redacted before it is cut
            self.report_item(
                f"unreadable-{name}",
                f"{where}skipped an item its reader could not handle ({name}: {detail})",
            )
            self.logger.debug("%s: the item's reader failed", self.name, exc_info=True)
        return None

    def unexpected(self, what: str, exc: BaseException) -> None:
        """A long-running task met an error nobody expected and carries on: shown in health
        (``degraded``) and logged with its traceback the first time (per task and kind of
        error), so one that repeats does not flood the log."""
        name = type(exc).__name__
        line = f"{self.where}: unexpected error {what} ({name}: {exc}); carrying on"
        if (what, name) not in self._unexpected_seen:
            self._unexpected_seen.add((what, name))
            self.logger.error("%s", line.splitlines()[0][:300], exc_info=exc)
        self.health = replace(
            self.health,
            state="degraded",
            last_error=redact(line.splitlines()[0])[:300],
            last_error_at=self.context.clock(),
            skipped=self.problems.total,
        )

    async def fetch(self, limit: int | None = None) -> list[Post]:
        """One round (``agora fetch``); failures are recorded in :attr:`health`, not raised."""
        async with self.session():
            return await self._fetch_round(limit)

    async def _fetch_round(self, limit: int | None) -> list[Post]:
        # a one-shot round waits out a short Retry-After and asks again (a 429 with
        # "Retry-After: 1" is not an empty feed); a long one ends the round and says so
        budget = max(0.0, self.context.retry_within)
        deadline = time.monotonic() + budget
        tries = 0
        while True:
            tries += 1
            try:
                # a failed attempt leaves the cursors the round started with: what it read (one
                # hashtag of several) is read again by the retry or the next fetch, not lost
                posts = await self.read_round(lambda: self.poll(limit))
            except RateLimitedError as exc:
                wait = rate_limit_wait(exc, self.min_retry)
                if time.monotonic() + wait > deadline:
                    if wait > budget:
                        why = (
                            f"the server asks to wait {wait:.0f} s, longer than one fetch "
                            f"waits ({budget:.0f} s)"
                        )
                    else:  # short waits, but the server kept asking for the whole budget
                        why = (
                            f"asked {tries} {'time' if tries == 1 else 'times'} in "
                            f"{budget:.0f} s (as long as one fetch waits) and still limited"
                        )
                    self.mark_error(
                        f"{exc.message.split(';', 1)[0]}; {why}: try again later", "degraded"
                    )
                    return []
                self.logger.info("%s; trying again in %.0f s", exc.message.split(";", 1)[0], wait)
                await asyncio.sleep(wait)
                continue
            except SourceError as exc:
                self.fail(exc)
                return []
            self.succeed(len(posts))
            return posts[:limit] if limit else posts

    async def listen(self, limit: int | None = None) -> list[Post]:
        """Run the source for ``context.listen_seconds`` (or until ``limit`` posts) and return
        what it produced: ``agora fetch`` on a stream."""
        collected: list[Post] = []
        stop = asyncio.Event()

        def sink(posts: Sequence[Post]) -> None:
            collected.extend(posts)
            if limit and len(collected) >= limit:
                stop.set()

        task = asyncio.create_task(self.run(sink, stop), name=f"listen:{self.name}")
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait(
            {task, waiter},
            timeout=max(0.0, self.context.listen_seconds),
            return_when=asyncio.FIRST_COMPLETED,
        )
        stop.set()
        waiter.cancel()
        done, _ = await asyncio.wait({task}, timeout=1.0)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        elif not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self.mark_error(f"{self.where}: stopped after an unexpected error ({exc})")
        return collected[:limit] if limit else collected

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set, pacing rounds by :attr:`every` and by failures."""
        async with self.session():
            while not stop.is_set():
                await self.context.room()
                delay = await self.poll_round(sink)
                if await wait_or_stop(stop, delay):
                    return

    async def poll_round(self, sink: Sink) -> float:
        """Run one round into ``sink``; returns how long to wait before the next one. A round
        that fails or is cancelled leaves the saved place where it was (:meth:`read_round`)."""
        try:
            posts = await self.read_round(self.poll)
        except asyncio.CancelledError:
            raise
        except SourceError as exc:
            return self.fail(exc)
        except Exception as exc:  # a source must never take the wall down
            self.logger.exception("%s: unexpected error", self.name)
            return self.fail(SourceError(f"{self.where}: unexpected error ({exc})"))
        if posts:
            sink(posts)
        self.succeed(len(posts))
        return self.every

    # -- health ----------------------------------------------------------------------------------

    @property
    def where(self) -> str:
        """What health messages start with: the host, else the source's name."""
        return self.host or self.name

    def succeed(self, posts: int) -> None:
        """Record a good round; ``degraded`` when items were skipped in it."""
        self.failures = 0
        self.backoff.reset()
        skipped = self.problems.total - self._problems_before
        self._problems_before = self.problems.total
        self.mark_ok(posts)
        if skipped:
            last = self._last_problem or f"{self.where}: skipped a malformed item"
            if skipped > 1:
                last = f"{last} (and {skipped - 1} more; so far: {self.problems.summary()})"
            self.health = replace(
                self.health,
                state="degraded",
                last_error=last[:300],
                last_error_at=self.context.clock(),
            )

    def count_posts(self, posts: int) -> None:
        """A stream delivered ``posts`` posts (between rounds, so no state change)."""
        self.health = replace(
            self.health,
            posts=self.health.posts + posts,
            last_success=self.context.clock(),
            skipped=self.problems.total,  # a stream's skipped items show without a new round
        )

    def fail(self, exc: SourceError) -> float:
        """Record a failed round; returns how long to wait before trying again."""
        self.failures += 1
        state: HealthState
        if isinstance(exc, RateLimitedError):
            state = "degraded"
            delay = rate_limit_wait(exc, self.min_retry)
        elif isinstance(exc, AuthError):
            state = "needs-auth"
            delay = self.auth_retry
        elif isinstance(exc, DisabledError):
            state = "disabled-by-server"
            delay = self.disabled_retry
        else:
            had_success = self.health.last_success is not None
            state = "degraded" if had_success and self.failures < self.failing_after else "failing"
            delay = self.backoff.next()
            if exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
        self.mark_error(exc.message, state)
        return delay

    def report_item(self, kind: str, message: str) -> None:
        """A malformed item was skipped (logged once per kind of problem)."""
        text = message if message.startswith(f"{self.where}") else f"{self.where}: {message}"
        # kept as the health's last error (screen, store): an item may quote what a server sent
        self._last_problem = redact(text.splitlines()[0]) if text else None
        self.problems.report(kind, text, level=logging.WARNING)

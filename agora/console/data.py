"""What the console reads besides the config: the wall's store, source health, test fetches.

Qt-free; the console runs these functions on worker threads (:mod:`agora.console.worker`).

* :class:`WallData` opens the running wall's SQLite database (never creating one: a wall that has
  not run yet has nothing to show) and reads recent posts and the decision log from it.
  Decisions are written with :meth:`~agora.store.base.Store.add_decision`; the running wall
  picks them up from the store.
* :func:`preview_snapshot` builds the snapshot a page preview shows from those posts (or from the
  config's offline sources) with the config being edited: new topics and rules apply at once.
* :func:`fetch_once` runs one fetch round of one source entry, the posts enriched as the wall
  would enrich them, or the error in plain words.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from agora.config.loader import LoadedConfig
from agora.config.schema import SourceConfig, WallConfig
from agora.core.aggregates import HORIZON_MINUTES, owned_handle
from agora.core.health import SourceHealth
from agora.core.post import Moderation, ModerationState, Post
from agora.core.snapshot import Snapshot
from agora.engine import HEALTH_STATE_KEY, build_pipeline, panel_windows, reenrich
from agora.store import database_path
from agora.store.base import Decision, Store

log = logging.getLogger("agora.console")

#: How many recent posts the moderation queue keeps at most.
RECENT_LIMIT = 500
#: How far back the console reads posts when it opens the store.
LOOKBACK = timedelta(minutes=HORIZON_MINUTES)

_POST_STATES: dict[str, ModerationState] = {
    "approve": "approved",
    "hide": "hidden",
    "pin": "pinned",
    "unpin": "approved",
}


def effective_states(
    posts: Iterable[Post], decisions: Sequence[Decision]
) -> dict[str, tuple[ModerationState, str]]:
    """Each post's state after the operators' decisions, and why: ``{id: (state, reason)}``."""
    latest: dict[str, Decision] = {}
    blocked: dict[str, Decision] = {}
    for decision in decisions:
        if decision.action in _POST_STATES:
            latest[decision.target] = decision
        elif decision.action == "block":
            blocked[owned_handle(decision.target)] = decision
        elif decision.action == "unblock":
            blocked.pop(owned_handle(decision.target), None)
    states: dict[str, tuple[ModerationState, str]] = {}
    for post in posts:
        state: ModerationState = post.moderation.state
        why = ", ".join(post.moderation.reasons)
        decided = latest.get(post.id)
        if decided is not None:
            state = _POST_STATES[decided.action]
            why = decided.reason or f"{decided.action} by {decided.actor}"
        block = blocked.get(owned_handle(post.author.handle))
        if block is not None and state != "hidden":
            state, why = "hidden", f"author blocked by {block.actor}"
        states[post.id] = (state, why)
    return states


@dataclass(slots=True)
class StoreView:
    """What one read of the store found."""

    posts: list[Post] = field(default_factory=list)
    """Recent posts, newest first (at most :data:`RECENT_LIMIT`), and every pending one."""
    decisions: list[Decision] = field(default_factory=list)
    health: dict[str, Any] | None = None
    """The wall's last report of its sources (``{"at", "wall", "sources"}``), if any."""
    read_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    error: str = ""


class WallData:
    """The wall's store as the console sees it: opened only if the wall has one."""

    def __init__(self, data_dir: Path | None, wall_name: str, *, readonly: bool = False) -> None:
        self.path = database_path(data_dir, wall_name)
        self.readonly = readonly
        """Open the database for reading only (``agora analyse --data-dir``): no decisions."""
        self.store: Store | None = None
        self.error = ""
        self._posts: dict[str, Post] = {}
        self._newest: datetime | None = None
        self._all_posts: deque[Post] = deque()
        """Posts of the last :data:`LOOKBACK` for the preview (oldest first)."""
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """True when the store is open."""
        return self.store is not None

    def open(self) -> bool:
        """Open the database if it exists (worker thread: a big one takes a moment)."""
        if self.store is not None:
            return True
        if not self.path.is_file():
            self.error = (
                f"no store at {self.path} yet (the wall has not run with this data directory)"
            )
            return False
        from agora.store.sqlite import SqliteStore, StoreOpenError

        try:
            self.store = SqliteStore(self.path, readonly=self.readonly)
        except StoreOpenError as exc:
            self.error = str(exc)
            return False
        self.error = ""
        return True

    def close(self) -> None:
        """Release the database."""
        if self.store is not None:
            self.store.close()
            self.store = None

    def read(self) -> StoreView:
        """New posts since the last read, the decision log and the sources' health."""
        with self._lock:
            return self._read()

    def _read(self) -> StoreView:
        view = StoreView()
        if not self.open():
            view.error = self.error
            return view
        store = self.store
        assert store is not None
        try:
            since = self._newest or datetime.now(UTC) - LOOKBACK
            for post in store.iter_posts(since):
                known = post.id in self._posts
                self._posts[post.id] = post
                if known:
                    continue  # the newest post of the last read, read again
                self._all_posts.append(post)
                if self._newest is None or post.created_at > self._newest:
                    self._newest = post.created_at
            horizon = (self._newest or datetime.now(UTC)) - LOOKBACK
            while self._all_posts and self._all_posts[0].created_at < horizon:
                self._all_posts.popleft()
            view.decisions = store.decisions()
            states = effective_states(self._posts.values(), view.decisions)
            newest = sorted(self._posts.values(), key=lambda p: p.created_at, reverse=True)
            keep = newest[:RECENT_LIMIT] + [
                p for p in newest[RECENT_LIMIT:] if states[p.id][0] == "pending"
            ]
            self._posts = {p.id: p for p in keep}
            view.posts = keep
            raw = store.get_state(HEALTH_STATE_KEY)
            if raw:
                try:
                    view.health = json.loads(raw)
                except ValueError:
                    view.health = None
        except Exception as exc:  # a damaged or locked store: say so, keep the console usable
            view.error = f"could not read {self.path}: {exc}"
        return view

    def history(self) -> list[Post]:
        """The posts of the last 56 hours read so far (for the preview), oldest first."""
        with self._lock:
            return list(self._all_posts)

    def decide(
        self, action: str, target: str, actor: str, reason: str = ""
    ) -> Decision:  # GUI thread: one short insert
        """Record an operator's decision in the store (the running wall applies it)."""
        if not self.open():
            raise RuntimeError(self.error)
        assert self.store is not None
        decision = Decision(action, target, actor, datetime.now(UTC), reason)  # type: ignore[arg-type]
        return self.store.add_decision(decision)


# ---------------------------------------------------------------------------------------------
# the preview


@dataclass(slots=True)
class PreviewData:
    """A snapshot for the preview and where its posts came from."""

    snapshot: Snapshot
    origin: str


def preview_snapshot(
    loaded: LoadedConfig,
    posts: Sequence[Post] | None,
    decisions: Sequence[Decision] = (),
    *,
    now: datetime | None = None,
    windows: Sequence[float | None] = (),
    sources: Mapping[str, SourceHealth] | None = None,
    store_status: str = "the wall's store (read by the console)",
) -> PreviewData:
    """The snapshot a page preview shows: ``posts`` (the wall's store) enriched with the
    config being edited, or, without posts, what the config's offline sources hold.
    ``windows`` are measured besides the panels' own; ``sources`` is the wall's last report of
    its sources' health (``agora analyse --data-dir`` and ``snapshot --data-dir`` use this too)."""
    config = loaded.config
    if not posts:
        from agora.offline import offline_snapshot

        result = offline_snapshot(loaded, now=now)
        count = result.snapshot.summary(None).posts.total
        where = ", ".join(s.name for s in result.sources) or "none"
        return PreviewData(result.snapshot, f"{count} posts from the offline sources ({where})")
    pipeline = build_pipeline(config, None)
    copies = [replace(p) for p in posts]
    count = pipeline.warm(reenrich(pipeline, copies, rescore=False))
    states = effective_states(copies, decisions)
    for post in copies:
        state, why = states[post.id]
        if state != post.moderation.state:
            pipeline.aggregates.set_moderation(post.id, Moderation(state, (why,)))
    newest = max(p.created_at for p in copies)
    moment = now or datetime.now(UTC)
    if now is None and moment - newest > timedelta(hours=1):
        moment = newest  # an idle wall's store renders as it looked last
    snapshot = pipeline.aggregates.snapshot(
        moment,
        windows=[*panel_windows(config), *windows],
        sources=sources,
        store_status=store_status,
    )
    return PreviewData(snapshot, f"{count} posts from the wall's store")


# ---------------------------------------------------------------------------------------------
# trying a source (the "Test this source" button)


@dataclass(slots=True)
class SourceTrial:
    """One fetch round of one source entry."""

    name: str
    posts: list[Post]
    state: str
    error: str
    seconds: float


_SOURCE = TypeAdapter(SourceConfig)


def fetch_once(
    entry: dict[str, Any],
    *,
    wall: WallConfig | None,
    config_dir: Path,
    limit: int = 20,
    listen_seconds: float = 8.0,
    timeout: float = 45.0,
) -> SourceTrial:
    """Run one round of the source ``entry`` (a ``[[sources]]`` table as plain data): the posts,
    enriched with ``wall``'s topics and rules, or the error in plain words. Cursors stay in
    memory: testing never moves the running wall's place in a feed."""
    from agora.sources.base import SourceContext
    from agora.sources.identity import stamp
    from agora.sources.registry import build_source
    from agora.store.memory import MemoryStore

    started = time.monotonic()
    name = str(entry.get("name") or "(unnamed)")
    try:
        config_entry = _SOURCE.validate_python(entry)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "entry"
        message = str(first["msg"]).removeprefix("Value error, ")
        return SourceTrial(name, [], "invalid", f"{where}: {message}", 0.0)
    base = wall or WallConfig()
    config = base.model_copy(update={"sources": [config_entry]})
    store = MemoryStore()
    context = SourceContext(
        wall=config,
        config_dir=config_dir,
        get_cursor=store.get_cursor,
        set_cursor=store.set_cursor,
        listen_seconds=listen_seconds,
    )
    try:
        source = build_source(config_entry, context)
    except Exception as exc:
        return SourceTrial(name, [], "failing", str(exc), time.monotonic() - started)

    async def one_round() -> list[Post]:
        return stamp(source, await asyncio.wait_for(source.fetch(limit), timeout=timeout))

    try:
        posts = asyncio.run(one_round())
    except TimeoutError:
        source.mark_error(f"{name}: no answer within {timeout:.0f} s")
        posts = []
    except Exception as exc:
        source.mark_error(f"{name}: {exc}")
        posts = []
    pipeline = build_pipeline(config, None)
    result = pipeline.ingest(posts, keep=True)
    health = source.health
    error = health.last_error or ""
    if health.state in ("ok", "idle") and not posts:
        error = ""
    return SourceTrial(
        name,
        result.posts[:limit],
        health.state if posts or error else "ok",
        error,
        time.monotonic() - started,
    )

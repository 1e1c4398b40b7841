"""What a wall's store holds, read without touching it, as the wall shows it.

:class:`WallData` opens the wall's SQLite database (never creating one: a wall that has not run
yet has nothing to show) and reads recent posts, the decision log and the sources' last health;
the console records operators' decisions through it, and the running wall picks them up from the
store. :func:`preview_snapshot` builds the snapshot of those posts with a config's topics and
rules (the console's page preview, whose config is being edited: new topics and rules apply at
once), or of the offline sources when there are none. :func:`stored_snapshot` does the same,
read-only, for ``agora analyse`` and ``snapshot`` with ``--data-dir``; :func:`stored_decisions`
and :func:`apply_decisions` give ``agora fetch`` the wall's moderation decisions.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agora.config.loader import LoadedConfig
from agora.config.schema import StoreConfig as StoreSection
from agora.config.schema import WallConfig
from agora.core.aggregates import HORIZON_MINUTES, owned_handle
from agora.core.health import SourceHealth, health_from_record, merged_reports
from agora.core.post import Moderation, ModerationState, Post
from agora.core.snapshot import Snapshot
from agora.engine import HEALTH_STATE_KEY, build_pipeline, panel_windows, reenrich
from agora.reading.offline import offline_snapshot
from agora.store import StorePlace, database_path, open_for_commands
from agora.store.base import Decision, Store
from agora.store.sqlite import StoreOpenError

log = logging.getLogger("agora.reading")

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

    def __init__(
        self,
        data_dir: Path | None,
        wall_name: str,
        *,
        readonly: bool = False,
        place: StorePlace | None = None,
    ) -> None:
        self.place: StorePlace = place or StoreSection()
        """The config's ``[store]``: a shared database (``url``), else the wall's own file."""
        self.path = database_path(data_dir, wall_name)
        self._data_dir = data_dir
        self._wall_name = wall_name
        self.readonly = readonly
        """Open the database for reading only (``agora analyse --data-dir``): no decisions."""
        self.store: Store | None = None
        self.error = ""
        self._posts: dict[str, Post] = {}
        self._newest: datetime | None = None
        self._all_posts: deque[Post] = deque()
        """Posts of the last :data:`LOOKBACK` for the preview (oldest first)."""
        self._lock = threading.Lock()

    def open(self) -> bool:
        """Open the database if it exists (worker thread: a big one takes a moment)."""
        if self.store is not None:
            return True
        try:
            self.store = open_for_commands(
                self.place, self._data_dir, self._wall_name, readonly=self.readonly
            )
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
            view.health = merged_reports(store.states(HEALTH_STATE_KEY))
        except Exception as exc:  # a damaged or locked store: say so, keep the console usable
            view.error = f"could not read {self.place.url or self.path}: {exc}"
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
        decision = Decision(
            action,  # type: ignore[arg-type]
            target,
            actor,
            datetime.now(UTC),
            reason,
            origin="console",
        )
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
# a wall's store, read-only


class StoreReadError(Exception):
    """The wall's store cannot be read; the message says why in plain words."""


def stored_snapshot(
    loaded: LoadedConfig,
    data_dir: Path | None,
    *,
    now: datetime | None = None,
    window: float | None = None,
) -> Snapshot:
    """The snapshot of what the wall's store under ``data_dir`` holds, as the wall shows it.

    The database is opened read-only: nothing is written, and a running wall goes on writing
    meanwhile. Raises :class:`StoreReadError` when there is no store or it cannot be read."""
    data = WallData(data_dir, loaded.config.wall.name, readonly=True, place=loaded.config.store)
    try:
        view = data.read()
        posts = data.history()
    finally:
        data.close()
    if view.error:
        raise StoreReadError(view.error)
    health = health_from_record(view.health)
    status = f"{data.place.url or data.path} (read-only)"
    if not posts:  # (the preview would show the offline sources instead)
        pipeline = build_pipeline(loaded.config, None)
        return pipeline.aggregates.snapshot(
            now or datetime.now(UTC),
            windows=[*panel_windows(loaded.config), window],
            sources=health,
            store_status=status,
            notes=["the wall's store holds no posts of the last 56 hours"],
        )
    preview = preview_snapshot(
        loaded,
        posts,
        view.decisions,
        now=now,
        windows=[window],
        sources=health,
        store_status=status,
    )
    return preview.snapshot


def stored_decisions(config: WallConfig, data_dir: Path | None) -> list[Decision]:
    """The moderation decisions in the wall's store, oldest first, read without touching it.
    Raises :class:`StoreReadError` when there is no store or it cannot be read."""
    try:
        store = open_for_commands(config.store, data_dir, config.wall.name, readonly=True)
    except StoreOpenError as exc:
        raise StoreReadError(str(exc)) from None
    try:
        return store.decisions()
    except Exception as exc:  # a damaged or locked store: say so in one line
        raise StoreReadError(f"could not read {store.status}: {exc}") from None
    finally:
        store.close()


def apply_decisions(posts: Sequence[Post], decisions: Sequence[Decision]) -> list[Post]:
    """``posts`` with the moderation state the operators' ``decisions`` give them (approved,
    hidden, pinned; a blocked author's posts hidden), and why."""
    states = effective_states(posts, decisions)
    decided: list[Post] = []
    for post in posts:
        state, why = states[post.id]
        changed = state != post.moderation.state
        decided.append(post.with_moderation(Moderation(state, (why,))) if changed else post)
    return decided

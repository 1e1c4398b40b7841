"""What the commands that do not run a wall show: the configured offline sources, or a wall's
store read without touching it (``agora analyse``, ``snapshot`` and ``fetch``).

Offline sources (``jsonl`` files, the ``simulator``) are read once into an in-memory store: these
commands never change what a running wall remembers. Windows are measured back from the newest
post ingested, so an archive renders as it looked then, unless ``now`` is given.

With ``--data-dir``, :func:`stored_snapshot` reads the wall's own database instead, opened
read-only (the wall may be running and writing to it): the posts its figures reach back to, with
this config's topics and rules and the operators' decisions applied, as the console's preview
reads them (:mod:`agora.console.data`), and the wall's last report of its sources' health.
:func:`stored_decisions` and :func:`apply_decisions` give ``agora fetch`` the wall's moderation
decisions the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agora.config.loader import LoadedConfig
from agora.config.schema import WallConfig
from agora.core.health import HealthState, SourceHealth
from agora.core.pipeline import Pipeline
from agora.core.post import Moderation, Post, PostError, parse_time
from agora.core.snapshot import Snapshot
from agora.engine import build_pipeline, panel_windows
from agora.sources.base import Source, SourceContext
from agora.sources.identity import stamp
from agora.sources.registry import build_sources
from agora.store import database_path
from agora.store.base import Decision
from agora.store.memory import MemoryStore
from agora.store.sqlite import SqliteStore, StoreOpenError


@dataclass(slots=True)
class OfflineResult:
    """The pipeline after ingest, the sources read, and the snapshot."""

    pipeline: Pipeline
    sources: list[Source]
    snapshot: Snapshot


def offline_snapshot(
    loaded: LoadedConfig, *, now: datetime | None = None, window: float | None = None
) -> OfflineResult:
    """Ingest every offline source of the config and build the snapshot at ``now``."""
    config = loaded.config
    store = MemoryStore()
    context = SourceContext(
        wall=config,
        config_dir=loaded.config_dir,
        get_cursor=store.get_cursor,
        set_cursor=store.set_cursor,
    )
    if now is not None:
        fixed = now
        context.clock = lambda: fixed
    pipeline = build_pipeline(config, store)
    sources = [s for s in build_sources(config, context) if s.offline]
    for source in sources:
        try:
            posts = stamp(source, asyncio.run(source.fetch()))
        except Exception as exc:  # one broken source must not hide the others
            source.mark_error(f"{source.name}: {exc}")
            continue
        pipeline.ingest(posts, now=now)
    windows = panel_windows(config)
    if window not in windows:
        windows.append(window)
    notes = []
    if pipeline.problems.total:
        notes.append(f"skipped or repaired: {pipeline.problems.summary()}")
    snapshot = pipeline.aggregates.snapshot(
        now,
        windows=windows,
        sources={s.name: s.health for s in sources},
        store_status="in memory (the wall's store is not touched)",
        notes=notes,
    )
    return OfflineResult(pipeline, sources, snapshot)


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
    from agora.console.data import WallData, preview_snapshot

    data = WallData(data_dir, loaded.config.wall.name, readonly=True)
    try:
        view = data.read()
        posts = data.history()
    finally:
        data.close()
    if view.error:
        raise StoreReadError(view.error)
    health = _health(view.health)
    status = f"{data.path} (read-only)"
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


def _health(record: Mapping[str, object] | None) -> dict[str, SourceHealth]:
    """The sources' health from the wall's last report in its store (``{}`` without one)."""
    sources = record.get("sources") if record else None
    found: dict[str, SourceHealth] = {}
    if not isinstance(sources, Mapping):
        return found
    for name, entry in sources.items():
        if not isinstance(name, str) or not isinstance(entry, Mapping):
            continue
        state = entry.get("state")
        found[name] = SourceHealth(
            name=name,
            kind=str(entry.get("kind") or "?"),
            state=state if state in _STATES else "idle",
            last_success=_time(entry.get("last_success")),
            last_error=str(entry["last_error"]) if entry.get("last_error") else None,
            last_error_at=_time(entry.get("last_error_at")),
            posts=_count(entry.get("posts")),
            skipped=_count(entry.get("skipped")),
        )
    return found


_STATES: frozenset[HealthState] = frozenset(
    ("ok", "idle", "degraded", "failing", "needs-auth", "disabled-by-server")
)


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except PostError:
        return None


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def stored_decisions(config: WallConfig, data_dir: Path | None) -> list[Decision]:
    """The moderation decisions in the wall's store, oldest first, read without touching it.
    Raises :class:`StoreReadError` when there is no store or it cannot be read."""
    path = database_path(data_dir, config.wall.name)
    if not path.is_file():
        raise StoreReadError(
            f"no store at {path} yet (the wall has not run with this data directory)"
        )
    try:
        store = SqliteStore(path, readonly=True)
    except StoreOpenError as exc:
        raise StoreReadError(str(exc)) from None
    try:
        return store.decisions()
    except Exception as exc:  # a damaged or locked store: say so in one line
        raise StoreReadError(f"could not read {path}: {exc}") from None
    finally:
        store.close()


def apply_decisions(posts: Sequence[Post], decisions: Sequence[Decision]) -> list[Post]:
    """``posts`` with the moderation state the operators' ``decisions`` give them (approved,
    hidden, pinned; a blocked author's posts hidden), and why."""
    from agora.console.data import effective_states

    states = effective_states(posts, decisions)
    decided: list[Post] = []
    for post in posts:
        state, why = states[post.id]
        changed = state != post.moderation.state
        decided.append(post.with_moderation(Moderation(state, (why,))) if changed else post)
    return decided

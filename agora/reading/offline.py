"""What the config's offline sources hold, read into memory: nothing a running wall remembers is
touched. Offline sources (``jsonl`` files, the ``simulator``) are read once into an in-memory
store; windows are measured back from the newest post ingested, so an archive renders as it
looked then, unless ``now`` is given.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from agora.config.loader import LoadedConfig
from agora.core.pipeline import Pipeline
from agora.core.snapshot import Snapshot
from agora.engine import build_pipeline, panel_windows
from agora.sources.base import Source, SourceContext
from agora.sources.identity import stamp
from agora.sources.registry import build_sources
from agora.store.memory import MemoryStore


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

"""Trying a source: one fetch round of one source entry, as the console's "Test this source"
runs it (off the GUI thread)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from agora.config.schema import SourceConfig, WallConfig
from agora.core.post import Post
from agora.engine import build_pipeline
from agora.sources.base import SourceContext
from agora.sources.identity import stamp
from agora.sources.registry import build_source
from agora.store.memory import MemoryStore


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

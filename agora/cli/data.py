"""Commands about a wall's data: ``check``, ``fetch`` and ``analyse``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agora.cli.common import (
    EXIT_CONFIG,
    EXIT_ERROR,
    EXIT_OK,
    Command,
    CommandError,
    Parents,
    load,
    moment,
    snapshot_for,
    stored,
    wall_store,
    window,
)

if TYPE_CHECKING:
    from agora.core.post import Post
    from agora.sources.base import Source

#: ``agora fetch``: how long a stream is listened to, and the longest ``Retry-After`` waited
#: out within the round (``--seconds`` sets both).
FETCH_LISTEN_S = 10.0
FETCH_RETRY_S = 60.0


def register(sub: Any, parents: Parents) -> dict[str, Command]:
    """Add ``check``, ``fetch`` and ``analyse`` to the parser."""
    p = sub.add_parser("check", parents=[parents.common], help="validate a config file")
    p.add_argument("config", type=Path)

    p = sub.add_parser(
        "fetch",
        parents=[parents.common, parents.data],
        help="one polling round; enriched posts as JSON Lines",
    )
    p.add_argument("config", type=Path)
    p.add_argument("--source", help="only the source with this name")
    p.add_argument("--limit", type=int, default=None, help="at most N posts per source")
    p.add_argument(
        "--seconds",
        type=float,
        default=None,
        help=f"how long to listen to a stream (default {FETCH_LISTEN_S:g}), and the longest wait "
        f"for a server's Retry-After before trying again (default {FETCH_RETRY_S:g})",
    )

    p = sub.add_parser(
        "analyse",
        aliases=["analyze"],
        parents=[parents.common, parents.data],
        help="ingest the offline sources and print the aggregate snapshot",
    )
    p.add_argument("config", type=Path)
    p.add_argument("--json", action="store_true", help="print JSON (the default)")
    p.add_argument("--window", type=window, default=None, help="all (default), 1h, 24h, …")
    p.add_argument("--now", type=moment, default=None, help="measure windows back from this time")
    return {"check": check, "fetch": fetch, "analyse": analyse, "analyze": analyse}


def check(args: argparse.Namespace) -> int:
    """``agora check CONFIG``."""
    from agora.config.loader import check_config, summary
    from agora.core.redact import redact

    loaded, issues = check_config(args.config)
    if loaded is None or issues:
        for issue in issues:
            print(redact(issue.format()), file=sys.stderr)
        return EXIT_CONFIG
    print(summary(loaded))
    return EXIT_OK


def fetch(args: argparse.Namespace) -> int:
    """``agora fetch CONFIG``: one round of each (or the named) source, JSON Lines on stdout."""
    from agora.engine import build_pipeline
    from agora.reading.stored import apply_decisions, stored_decisions
    from agora.sources.base import SourceContext
    from agora.sources.registry import build_sources
    from agora.store.memory import MemoryStore

    loaded = load(args.config)
    config = loaded.config
    if args.source and config.source(args.source) is None:
        names = ", ".join(s.name for s in config.sources) or "none"
        raise CommandError(f"no source named {args.source!r} in {args.config} (sources: {names})")
    # with --data-dir, the wall's operators' decisions show in the printed moderation state
    decisions = []
    if wall_store(args, loaded, "no operator decisions to apply"):
        decisions = stored(lambda: stored_decisions(config, args.data_dir))
    # fetch never changes what the wall remembers: cursors and posts stay in memory
    store = MemoryStore()
    seconds = args.seconds
    context = SourceContext(
        wall=config,
        config_dir=loaded.config_dir,
        get_cursor=store.get_cursor,
        set_cursor=store.set_cursor,
        listen_seconds=FETCH_LISTEN_S if seconds is None else seconds,
        retry_within=FETCH_RETRY_S if seconds is None else seconds,
    )
    sources = [
        s for s in build_sources(config, context) if not args.source or s.name == args.source
    ]
    pipeline = build_pipeline(config, store)
    out = sys.stdout
    total = 0
    budget = max(context.listen_seconds, context.retry_within)
    for source in sources:
        try:
            posts = asyncio.run(_fetch_one(source, args.limit, budget))
        except Exception as exc:
            source.mark_error(f"{source.name}: {exc}")
            posts = []
        result = pipeline.ingest(posts, keep=True)
        shown = apply_decisions(result.posts, decisions) if decisions else result.posts
        for post in shown[: args.limit] if args.limit else shown:
            out.write(post.to_json())
            out.write("\n")
            total += 1
        health = source.health
        detail = f", last error: {health.last_error}" if health.last_error else ""
        skipped = source.problems.total + pipeline.problems.total
        print(
            f"{source.name} ({source.kind}): {health.state}, {len(result.posts)} posts"
            f"{f', {skipped} skipped or repaired' if skipped else ''}{detail}",
            file=sys.stderr,
        )
    out.flush()
    failing = [s for s in sources if s.health.state not in ("ok", "idle")]
    return EXIT_ERROR if failing and total == 0 else EXIT_OK


async def _fetch_one(source: Source, limit: int | None, seconds: float) -> list[Post]:
    from agora.sources.identity import stamp

    posts = await asyncio.wait_for(source.fetch(limit), timeout=max(seconds, 1.0) + 30.0)
    return stamp(source, posts)


def analyse(args: argparse.Namespace) -> int:
    """``agora analyse CONFIG --json``: the snapshot of what the offline sources hold, or with
    ``--data-dir`` what the wall's store holds."""
    snapshot = snapshot_for(args, load(args.config))
    json.dump(snapshot.to_dict(args.window), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK

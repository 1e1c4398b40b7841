"""``agora bench sources``: how fast the ``bluesky`` source takes a Jetstream firehose.

A local Jetstream replay server (a child process on 127.0.0.1, so it does not share the event loop
or the interpreter lock with the source) sends ``events`` post-creation events in Jetstream's
shape as fast as it can, then closes. The ``bluesky`` source, with its profile and post look-ups
turned off (they are network calls, not decoding), decodes every event, matches it against the
keywords and turns every match into a normalised post. ``match_rate`` is the share of events that
mention the keyword (1.0: every event is normalised, the worst case).

Reported: ``events_per_s`` (events decoded, matched and normalised per second of wall time, from
the connection's start to the last post handed on), ``matched``, ``posts``, ``seconds``. The real
network carries a few hundred posts a second, so anything above a few thousand never falls behind.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import time
from pathlib import Path
from typing import Any

from agora.config.schema import BlueskySource as BlueskyConfig
from agora.config.schema import WallConfig
from agora.core.post import Post
from agora.sources.base import SourceContext
from agora.sources.bluesky import BlueskySource

WORDS = [
    "today",
    "coffee",
    "launch",
    "phone",
    "camera",
    "battery",
    "screen",
    "review",
    "weather",
    "train",
    "music",
    "friends",
    "weekend",
    "project",
    "code",
    "photo",
    "city",
    "night",
    "morning",
    "news",
    "price",
    "update",
    "love",
    "hate",
    "waiting",
]


def make_events(count: int, match_rate: float, seed: int = 1) -> list[str]:
    """``count`` Jetstream post events; about ``match_rate`` of them mention "lumen"."""
    rng = random.Random(seed)
    base_us = 1_795_341_600_000_000
    events: list[str] = []
    for n in range(count):
        words = rng.choices(WORDS, k=rng.randint(6, 30))
        if rng.random() < match_rate:
            words.insert(rng.randrange(len(words) + 1), rng.choice(("Lumen", "#lumen", "LUMEN")))
        did = f"did:plc:{n % 5000:024d}"
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "createdAt": "2026-11-22T10:00:00.000Z",
            "langs": ["en"],
            "text": " ".join(words),
        }
        if n % 7 == 0:
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {
                        "alt": "a photo",
                        "image": {
                            "$type": "blob",
                            "ref": {"$link": f"bafkreiimage{n}"},
                            "mimeType": "image/jpeg",
                            "size": 1000,
                        },
                    }
                ],
            }
        events.append(
            json.dumps(
                {
                    "did": did,
                    "time_us": base_us + n,
                    "kind": "commit",
                    "commit": {
                        "rev": f"3mm{n:010d}",
                        "operation": "create",
                        "collection": "app.bsky.feed.post",
                        "rkey": f"3l{n:011d}",
                        "record": record,
                        "cid": f"bafyrei{n:012d}",
                    },
                },
                separators=(",", ":"),
            )
        )
    return events


def _serve(count: int, match_rate: float, ports: Any) -> None:
    """The replay server (runs in a child process)."""
    from websockets.asyncio.server import ServerConnection, serve

    events = make_events(count, match_rate)

    async def main() -> None:
        done = asyncio.Event()

        async def handler(ws: ServerConnection) -> None:
            for event in events:
                await ws.send(event)
            await ws.close()
            done.set()

        async with serve(handler, "127.0.0.1", 0, compression=None, max_queue=None) as server:
            ports.put(server.sockets[0].getsockname()[1])
            await asyncio.wait_for(done.wait(), timeout=600)

    asyncio.run(main())


def run_sources_bench(events: int = 100_000, match_rate: float = 1.0) -> dict[str, Any]:
    """Replay ``events`` Jetstream events into the ``bluesky`` source; see the module docstring."""
    spawn = multiprocessing.get_context("spawn")
    ports = spawn.Queue()
    child = spawn.Process(target=_serve, args=(events, match_rate, ports), daemon=True)
    child.start()
    try:
        port = ports.get(timeout=60)
        result = asyncio.run(_measure(port, events))
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()
    result["match_rate"] = match_rate
    return result


async def _measure(port: int, events: int) -> dict[str, Any]:
    config = BlueskyConfig(
        name="bench",
        kind="bluesky",
        keywords=["lumen"],
        jetstream_url=f"ws://127.0.0.1:{port}/subscribe",
        base_url="http://127.0.0.1:9",
    )
    context = SourceContext(wall=WallConfig(), config_dir=Path("."))
    source = BlueskySource(config, context)
    source.lookups = False
    source.batch_wait = 0.01
    posts: list[int] = [0]

    def sink(batch: list[Post] | Any) -> None:
        posts[0] += len(batch)

    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(source.run(sink, stop))
    deadline = started + 600
    while time.perf_counter() < deadline and not task.done():
        if source.events >= events and posts[0] + source.problems.total >= source.matched:
            break
        await asyncio.sleep(0.002)
    seconds = time.perf_counter() - started
    stop.set()
    await asyncio.wait_for(task, 5)
    return {
        "events": source.events,
        "matched": source.matched,
        "posts": posts[0],
        "skipped": source.problems.total,
        "seconds": round(seconds, 3),
        "events_per_s": round(source.events / seconds, 1) if seconds else 0.0,
        "posts_per_s": round(posts[0] / seconds, 1) if seconds else 0.0,
    }

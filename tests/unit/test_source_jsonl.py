"""The JSON Lines source (all at once, cursors, hostile input, paced replay) and the registry."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agora.config.schema import WallConfig
from agora.core.post import Post
from agora.sources import jsonl as jsonl_module
from agora.sources.base import SourceContext
from agora.sources.jsonl import FileCursor, JsonlSource
from agora.sources.registry import (
    SOURCE_CLASSES,
    UnknownSourceKindError,
    build_source,
    build_sources,
)
from agora.sources.simulator import SimulatorSource

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Cursors(dict[str, str | None]):
    """An in-memory cursor store with the context's get/set signature."""

    def get_cursor(self, name: str) -> str | None:
        return self.get(name)

    def set_cursor(self, name: str, value: str | None) -> None:
        self[name] = value


def post_line(n: int, *, at: datetime | None = None, **extra: Any) -> str:
    moment = at or NOW - timedelta(hours=1) + timedelta(seconds=n)
    obj: dict[str, Any] = {
        "id": f"x:{n}",
        "source": "x",
        "text": f"Post number {n} about Lumen",
        "created_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "author": {"handle": f"@user{n}", "name": f"User {n}"},
    }
    obj.update(extra)
    return json.dumps(obj)


def write(path: Path, lines: Sequence[str | bytes], mode: str = "wb") -> None:
    with path.open(mode) as fh:
        for line in lines:
            fh.write((line if isinstance(line, bytes) else line.encode()) + b"\n")


def make_source(
    tmp_path: Path,
    *,
    path: str = "posts.jsonl",
    cursors: Cursors | None = None,
    clock: Callable[[], datetime] = lambda: NOW,
    **options: Any,
) -> tuple[JsonlSource, Cursors]:
    wall = WallConfig.model_validate(
        {"sources": [{"name": "archive", "kind": "jsonl", "path": path, **options}]}
    )
    store = cursors if cursors is not None else Cursors()
    context = SourceContext(
        wall=wall,
        config_dir=tmp_path,
        get_cursor=store.get_cursor,
        set_cursor=store.set_cursor,
        clock=clock,
    )
    source = build_source(wall.sources[0], context)
    assert isinstance(source, JsonlSource)
    return source, store


def fetch(source: JsonlSource, limit: int | None = None) -> list[Post]:
    return asyncio.run(source.fetch(limit))


async def until(check: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll until ``check()`` holds; the deadline is only a safety net for a busy machine."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"the condition did not hold within {timeout} s"
        await asyncio.sleep(0.01)


# ------------------------------------------------------------------------------------------------
# all at once


def test_reads_the_whole_file_with_defaults(tmp_path: Path) -> None:
    shutil.copy(DATA / "archive_small.jsonl", tmp_path / "posts.jsonl")
    source, cursors = make_source(tmp_path)
    assert source.live is False
    posts = fetch(source)
    assert [p.id for p in posts] == [
        "mastodon:social.example:1001",
        "jsonl:2002",
        "bluesky:sim-3003",
        "x:4004",
    ]
    by_id = {p.id: p for p in posts}
    assert by_id["jsonl:2002"].source == "jsonl"
    assert by_id["jsonl:2002"].feed == "archive"  # no feed in the line: the source's name
    assert by_id["jsonl:2002"].author.handle == "reader42"
    assert by_id["bluesky:sim-3003"].feed == "imported"  # a feed given in the line is kept
    assert by_id["bluesky:sim-3003"].source == "bluesky"
    assert by_id["bluesky:sim-3003"].created_at == datetime(2026, 11, 22, 10, 1, tzinfo=UTC)
    assert by_id["mastodon:social.example:1001"].metrics.likes == 12
    assert by_id["x:4004"].reply_to == "x:4000"
    assert by_id["x:4004"].media[0].alt == "a phone"
    assert source.problems.counts == {"invalid-json": 1, "not-an-object": 1, "missing-id": 1}
    assert source.health.state == "ok"
    assert source.health.posts == 4
    assert source.health.skipped == 3
    size = (tmp_path / "posts.jsonl").stat().st_size
    cursor = FileCursor.decode(cursors["archive"])
    assert cursor is not None
    assert (cursor.size, cursor.offset) == (size, size)


def test_limit_leaves_the_rest_for_the_next_fetch(tmp_path: Path) -> None:
    write(tmp_path / "posts.jsonl", [post_line(n) for n in range(5)])
    source, _ = make_source(tmp_path)
    assert [p.id for p in fetch(source, 2)] == ["x:0", "x:1"]
    assert [p.id for p in fetch(source, 2)] == ["x:2", "x:3"]
    assert [p.id for p in fetch(source)] == ["x:4"]
    assert fetch(source) == []


def test_path_is_relative_to_the_config_directory(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "a.jsonl", [post_line(1)])
    source, _ = make_source(tmp_path, path="sub/a.jsonl")
    assert source.path == (tmp_path / "sub" / "a.jsonl").resolve()
    assert [p.id for p in fetch(source)] == ["x:1"]


# ------------------------------------------------------------------------------------------------
# cursor: tail, restart, truncation


def test_appended_lines_are_the_only_new_posts(tmp_path: Path) -> None:
    file = tmp_path / "posts.jsonl"
    write(file, [post_line(n) for n in range(3)])
    source, _ = make_source(tmp_path)
    assert len(fetch(source)) == 3
    assert fetch(source) == []
    write(file, [post_line(3), "{oops", post_line(4)], mode="ab")
    assert [p.id for p in fetch(source)] == ["x:3", "x:4"]
    assert source.problems.counts == {"invalid-json": 1}


def test_restart_with_the_saved_cursor_does_not_resend(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    file = tmp_path / "posts.jsonl"
    write(file, [post_line(n) for n in range(3)])
    first, cursors = make_source(tmp_path)
    assert len(fetch(first)) == 3
    again, _ = make_source(tmp_path, cursors=cursors)
    assert fetch(again) == []
    write(file, ["{broken", post_line(3)], mode="ab")
    restarted, _ = make_source(tmp_path, cursors=cursors)
    with caplog.at_level(logging.WARNING):
        assert [p.id for p in fetch(restarted)] == ["x:3"]
    # line numbers stay true after a restart in the middle of the file
    assert f"{file.resolve()}:4: not valid JSON" in caplog.text


def test_truncated_file_is_read_from_the_start(tmp_path: Path) -> None:
    file = tmp_path / "posts.jsonl"
    write(file, [post_line(n) for n in range(4)])
    source, cursors = make_source(tmp_path)
    assert len(fetch(source)) == 4
    write(file, [post_line(10)])
    assert [p.id for p in fetch(source)] == ["x:10"]
    # the same after a restart (only the stored cursor to go by)
    write(file, [post_line(20)])
    restarted, _ = make_source(tmp_path, cursors=cursors)
    assert [p.id for p in restarted._read(None, NOW, cursor_text=cursors["archive"]).posts] == [
        "x:20"
    ]


def test_replaced_file_is_read_from_the_start(tmp_path: Path) -> None:
    file = tmp_path / "posts.jsonl"
    write(file, [post_line(1)])
    source, _ = make_source(tmp_path)
    assert len(fetch(source)) == 1
    replacement = tmp_path / "new.jsonl"
    write(replacement, [post_line(7), post_line(8)])
    replacement.replace(file)  # a new inode, longer than before
    assert [p.id for p in fetch(source)] == ["x:7", "x:8"]


def test_unfinished_last_line_waits_for_the_writer(tmp_path: Path) -> None:
    file = tmp_path / "posts.jsonl"
    file.write_bytes((post_line(1) + "\n" + post_line(2)[:20]).encode())
    source, _ = make_source(tmp_path)
    assert [p.id for p in fetch(source)] == ["x:1"]
    assert source.problems.total == 0  # half a line is not an error yet
    with file.open("ab") as fh:
        fh.write((post_line(2)[20:] + "\n").encode())
    assert [p.id for p in fetch(source)] == ["x:2"]
    # a complete object without the final newline is taken at once
    with file.open("ab") as fh:
        fh.write(post_line(3).encode())
    assert [p.id for p in fetch(source)] == ["x:3"]


def test_cursor_text_round_trip() -> None:
    cursor = FileCursor(size=100, offset=40, mtime_ns=123)
    assert cursor.encode() == "100:40:123"
    assert FileCursor.decode("100:40:123") == cursor
    for bad in (None, "", "x", "1:2", "1:2:z", "10:20:0", "-1:0:0"):
        assert FileCursor.decode(bad) is None


# ------------------------------------------------------------------------------------------------
# hostile input


def test_every_kind_of_bad_line_is_skipped_or_repaired(tmp_path: Path) -> None:
    huge = "Lumen " * 350_000  # about 2 MB of text
    lines: list[str | bytes] = [
        post_line(1),
        "{this is not json",
        json.dumps({"text": "no id", "created_at": "2026-11-22T10:00:00Z"}),
        json.dumps({"id": "a1", "created_at": "2026-11-22T10:00:00Z"}),
        json.dumps({"id": "a2", "text": "   ", "created_at": "2026-11-22T10:00:00Z"}),
        post_line(3, at=datetime(1970, 1, 2, tzinfo=UTC)),
        post_line(4, at=datetime(2999, 1, 1, tzinfo=UTC)),
        post_line(5, text=huge),
        post_line(6).replace("Post number", "Post\\u0007 number\\u202e").encode(),
        post_line(7).replace("Post number", "Post\x01 number").encode(),
        post_line(8)
        .replace("Post number", "Post \udcff number", 1)
        .encode("utf-8", "surrogateescape"),
        json.dumps([post_line(9)]),
        "",
        "   \t ",
        json.dumps({"id": "a3", "text": "bad time", "created_at": "yesterday-ish"}),
        '"just a string"',
        "[" * 100_000,
        post_line(10),
    ]
    write(tmp_path / "posts.jsonl", lines)
    source, _ = make_source(tmp_path)
    posts = {p.id: p for p in fetch(source)}
    assert sorted(posts) == sorted(f"x:{n}" for n in (1, 4, 5, 6, 7, 8, 10))
    assert posts["x:4"].created_at == NOW  # from the future: set to the time of arrival
    assert len(posts["x:5"].text) <= 5_000
    assert posts["x:6"].text == "Post number 6 about Lumen"  # escaped control characters
    assert posts["x:7"].text == "Post number 7 about Lumen"  # raw control character
    assert "\ufffd" in posts["x:8"].text  # invalid UTF-8 replaced, the post kept
    assert source.problems.counts == {
        "invalid-json": 2,
        "missing-id": 1,
        "missing-text": 1,
        "empty-text": 1,
        "implausible-time": 1,
        "repaired": 3,
        "invalid-utf8": 1,
        "not-an-object": 2,
        "bad-time": 1,
    }


def test_overlong_line_is_skipped_without_loading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl_module, "MAX_LINE_BYTES", 1_000)
    monkeypatch.setattr(jsonl_module, "_SKIP_CHUNK", 256)
    write(tmp_path / "posts.jsonl", [post_line(1), post_line(2, text="x" * 5_000), post_line(3)])
    source, _ = make_source(tmp_path)
    assert [p.id for p in fetch(source)] == ["x:1", "x:3"]
    assert source.problems.counts == {"line-too-long": 1}


def test_each_kind_of_problem_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [
        "{bad",
        "{worse",
        "[1]",
        "[2]",
        post_line(1, at=datetime(2999, 1, 1, tzinfo=UTC)),
        post_line(2, at=datetime(2999, 1, 1, tzinfo=UTC)),
        "{bad again",
    ]
    write(tmp_path / "posts.jsonl", lines)
    source, _ = make_source(tmp_path)
    with caplog.at_level(logging.WARNING, logger="agora"):
        posts = fetch(source)
    assert len(posts) == 2
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3, messages
    where = str((tmp_path / "posts.jsonl").resolve())
    assert any(m.startswith(f"{where}:1: not valid JSON") for m in messages)
    assert any(m.startswith(f"{where}:3: expected a JSON object") for m in messages)
    assert any(m.startswith(f"{where}:5: created_at") and "future" in m for m in messages)
    assert source.problems.counts == {"invalid-json": 3, "not-an-object": 2, "repaired": 2}


def test_byte_order_mark_on_the_first_line(tmp_path: Path) -> None:
    (tmp_path / "posts.jsonl").write_bytes(b"\xef\xbb\xbf" + post_line(1).encode() + b"\n")
    source, _ = make_source(tmp_path)
    assert [p.id for p in fetch(source)] == ["x:1"]
    assert source.problems.total == 0


def test_missing_file_marks_the_source_failing(tmp_path: Path) -> None:
    source, _ = make_source(tmp_path, path="nope.jsonl", every="10ms")
    assert fetch(source) == []
    assert source.health.state == "failing"
    assert source.health.last_error == (
        f"archive: cannot read {(tmp_path / 'nope.jsonl').resolve()}: No such file"
    )

    looks = [0]
    read = source._read

    def counted(*args: Any, **kwargs: Any) -> Any:
        looks[0] += 1
        return read(*args, **kwargs)

    source._read = counted  # type: ignore[method-assign]

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(source.run(lambda posts: None, stop))
        await until(lambda: looks[0] >= 3 or task.done())
        assert not task.done()  # keeps looking for the file, does not raise
        stop.set()
        await asyncio.wait_for(task, 60)

    asyncio.run(scenario())


# ------------------------------------------------------------------------------------------------
# run(): tail and replay


def test_run_follows_appended_lines_and_stops_promptly(tmp_path: Path) -> None:
    file = tmp_path / "posts.jsonl"
    write(file, [post_line(n) for n in range(3)])
    source, _ = make_source(tmp_path, every="20ms")
    source.batch_size = 2
    received: list[str] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            source.run(lambda posts: received.extend(p.id for p in posts), stop)
        )
        await until(lambda: len(received) >= 3)
        write(file, [post_line(3)], mode="ab")
        await until(lambda: len(received) >= 4)
        stop.set()
        started = time.monotonic()
        await asyncio.wait_for(task, 60)
        # promptly: well within a tenth of a second; 3x that is slack for a busy machine
        assert time.monotonic() - started < 0.3

    asyncio.run(scenario())
    assert received == ["x:0", "x:1", "x:2", "x:3"]


def test_replay_keeps_the_original_pace_times_speed(tmp_path: Path) -> None:
    start = NOW - timedelta(days=30)
    write(
        tmp_path / "posts.jsonl",
        [post_line(n, at=start + timedelta(seconds=10 * n)) for n in range(4)],
    )
    clock_value = [NOW]
    # 10 s / 10 = a second between posts: long beside a busy machine's hiccups, so a late post
    # is not caught up into its successor's batch
    source, cursors = make_source(tmp_path, replay=True, speed=10, clock=lambda: clock_value[0])
    assert source.live is True
    emitted: list[tuple[float, list[Post]]] = []

    def sink(posts: Sequence[Post]) -> None:
        emitted.append((time.monotonic(), list(posts)))
        clock_value[0] += timedelta(seconds=1)

    began = time.monotonic()
    asyncio.run(source.run(sink, asyncio.Event()))
    took = time.monotonic() - began
    ids = [p.id for _, batch in emitted for p in batch]
    assert ids == ["x:0", "x:1", "x:2", "x:3"]
    # the pace is kept against the start (a late post does not push the later ones back): never
    # early, and late by at most half a second, slack for a busy machine
    offsets = [moment - emitted[0][0] for moment, _ in emitted]
    assert all(k - 0.05 <= offset <= k + 0.5 for k, offset in enumerate(offsets)), offsets
    assert 2.95 <= took < 3.0 + 1.5
    # created_at is the time of emission, not the archive's
    assert [batch[0].created_at for _, batch in emitted] == [
        NOW + timedelta(seconds=k) for k in range(4)
    ]
    assert source.live is False
    size = (tmp_path / "posts.jsonl").stat().st_size
    assert cursors["archive"] is not None
    assert cursors["archive"].startswith(f"{size}:{size}:")
    assert source.health.posts == 4


def test_replay_caps_long_gaps_and_batches_simultaneous_posts(tmp_path: Path) -> None:
    start = NOW - timedelta(days=30)
    moments = [start, start, start, start + timedelta(days=2), start + timedelta(days=2)]
    write(tmp_path / "posts.jsonl", [post_line(n, at=m) for n, m in enumerate(moments)])
    source, _ = make_source(tmp_path, replay=True)
    source.max_gap = 0.1
    batches: list[list[str]] = []
    began = time.monotonic()
    asyncio.run(source.run(lambda posts: batches.append([p.id for p in posts]), asyncio.Event()))
    # the two days' gap became a tenth of a second; the rest is slack for a busy machine
    assert time.monotonic() - began < 5.0
    assert batches == [["x:0", "x:1", "x:2"], ["x:3", "x:4"]]


def test_replay_stops_within_a_tenth_of_a_second(tmp_path: Path) -> None:
    start = NOW - timedelta(days=1)
    write(
        tmp_path / "posts.jsonl",
        [post_line(n, at=start + timedelta(hours=n)) for n in range(3)],
    )
    source, cursors = make_source(tmp_path, replay=True)
    received: list[str] = []

    async def scenario() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(
            source.run(lambda posts: received.extend(p.id for p in posts), stop)
        )
        await until(lambda: bool(received))
        stop.set()
        began = time.monotonic()
        await asyncio.wait_for(task, 60)
        return time.monotonic() - began

    # the next post is an hour away: a tenth of a second, with 3x slack for a busy machine
    assert asyncio.run(scenario()) < 0.3
    assert received == ["x:0"]
    # the cursor points after the replayed line, so a restart continues from the second post
    restarted, _ = make_source(tmp_path, replay=True, cursors=cursors)
    assert [p.id for p in fetch(restarted)] == ["x:1", "x:2"]


def test_replay_of_a_missing_file_reports_and_stops(tmp_path: Path) -> None:
    source, _ = make_source(tmp_path, path="gone.jsonl", replay=True, every="10ms")

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(source.run(lambda posts: None, stop))
        await until(lambda: source.health.state == "failing" or task.done())
        stop.set()
        await asyncio.wait_for(task, 60)

    asyncio.run(scenario())
    assert source.health.state == "failing"
    assert "No such file" in (source.health.last_error or "")


# ------------------------------------------------------------------------------------------------
# registry


def test_registry_builds_enabled_sources(tmp_path: Path) -> None:
    wall = WallConfig.model_validate(
        {
            "sources": [
                {"name": "a", "kind": "jsonl", "path": "a.jsonl"},
                {"name": "b", "kind": "jsonl", "path": "b.jsonl", "enabled": False},
                {"name": "sim", "kind": "simulator", "rate": 5},
            ]
        }
    )
    context = SourceContext(wall=wall, config_dir=tmp_path, clock=lambda: NOW)
    sources = build_sources(wall, context)
    assert [(s.name, type(s)) for s in sources] == [("a", JsonlSource), ("sim", SimulatorSource)]
    assert SOURCE_CLASSES["jsonl"] is JsonlSource
    assert SOURCE_CLASSES["simulator"] is SimulatorSource


def test_registry_rejects_unknown_kinds(tmp_path: Path) -> None:
    class Entry:
        name = "odd"
        kind = "carrier-pigeon"

    context = SourceContext(wall=WallConfig(), config_dir=tmp_path)
    with pytest.raises(UnknownSourceKindError, match="carrier-pigeon"):
        build_source(Entry(), context)

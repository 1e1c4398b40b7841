"""Faults a wall must survive unattended, against real local servers, processes and files.

* a server that goes away and comes back on the same port (the wall keeps running and showing
  the last posts; the source backs off, then resumes from its cursor by itself);
* a host name that does not resolve (``.invalid``: the lookup fails on this machine);
* the clock jumping forwards and backwards (NTP corrections, a DST change);
* ``kill -9`` of a running ``agora run``, then a restart: history, cursors and decisions return;
* a data directory that cannot be used at start: the wall carries on in memory and says so.

Every server and process is stopped by the fixture that started it; waits poll with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from pytestqt.qtbot import QtBot
from werkzeug import Request, Response

from agora.config.schema import BlueskySource as BlueskyConfig
from agora.config.schema import HackerNewsSource as HackerNewsConfig
from agora.config.schema import WallConfig
from agora.core.post import Author, Post
from agora.core.snapshot import Snapshot
from agora.engine import Engine
from agora.sources.base import Source, SourceContext
from agora.sources.bluesky import BlueskySource
from agora.sources.hackernews import HackerNewsSource
from agora.sources.http import Backoff
from agora.sources.live import LiveSource
from agora.store import database_path, open_store
from agora.store.memory import MemoryStore
from agora.ui.app import Wall

from .wallproc import RunningWall

SEARCH = "/api/v1/search_by_date"


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class RecordingBackoff(Backoff):
    """The source's backoff with short, deterministic delays, remembering each one."""

    def __init__(self) -> None:
        super().__init__(base=0.02, cap=0.16, rand=lambda: 0.5)
        self.delays: list[float] = []

    def next(self) -> float:
        delay = Backoff.next(self)
        self.delays.append(delay)
        return delay


def quick(source: Source) -> RecordingBackoff:
    """Test pacing for a live source: no polite floor, recorded backoff; requests time out after
    30 s (a busy machine may answer slowly; a stopped server refuses at once)."""
    assert isinstance(source, LiveSource)
    backoff = RecordingBackoff()
    source.backoff = backoff
    source.min_every = 0.0
    source.timeout = 30.0
    return backoff


# ---------------------------------------------------------------------------------------------
# a server that goes away and comes back


class Algolia:
    """A stand-in for the Hacker News search: the hits at or after the client's
    ``numericFilters`` (its cursor), newest first. Every answer closes its connection, so a
    stopped server leaves no kept-alive connection answering behind it."""

    def __init__(self) -> None:
        self.hits: list[dict[str, Any]] = []
        self.filters: list[str | None] = []
        self.lock = threading.Lock()

    def add(self, number: int, at: int) -> None:
        with self.lock:
            self.hits.append(
                {
                    "objectID": str(number),
                    "author": f"writer{number}",
                    "created_at_i": at,
                    "title": f"Lumen story {number}: the night camera in a long test",
                    "points": number,
                    "num_comments": 1,
                    "_tags": ["story"],
                }
            )

    def handler(self, request: Request) -> Response:
        numeric = request.args.get("numericFilters")
        with self.lock:
            self.filters.append(numeric)
            since = int(numeric.split(">=")[1]) if numeric else None
            hits = [h for h in self.hits if since is None or h["created_at_i"] >= since]
        hits.sort(key=lambda h: -int(h["created_at_i"]))
        body = {"hits": hits, "nbPages": 1, "page": 0, "hitsPerPage": 100}
        return Response(
            json.dumps(body), content_type="application/json", headers={"Connection": "close"}
        )


@pytest.fixture
def serve() -> Iterator[Callable[[Algolia, int], HTTPServer]]:
    """``serve(algolia, port)``: a search server on 127.0.0.1 (port 0: any free one); every
    server started is stopped at the end."""
    started: list[HTTPServer] = []

    def start(algolia: Algolia, port: int = 0) -> HTTPServer:
        server = HTTPServer(host="127.0.0.1", port=port, threaded=True)
        server.expect_request(SEARCH).respond_with_handler(algolia.handler)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        if server.is_running():
            server.stop()


def shown_ids(snapshot: Snapshot) -> set[str]:
    return {post.id for post in snapshot.newest}


def test_a_server_that_goes_away_and_comes_back(
    serve: Callable[[Algolia, int], HTTPServer],
    tmp_path: Path,
    qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    algolia = Algolia()
    t0 = int(time.time()) - 600
    for n in (1, 2, 3):
        algolia.add(n, t0 + n)
    server = serve(algolia, 0)
    port = server.port
    config = WallConfig.model_validate(
        {
            "wall": {"name": "Outage test", "transition": 0},
            "topics": {"brand": {"label": "Lumen", "terms": ["lumen"]}},
            "sources": [
                {
                    "name": "hn",
                    "kind": "hackernews",
                    "base_url": f"http://127.0.0.1:{port}",
                    "query": "lumen",
                    "every": 0.05,
                }
            ],
            "screens": [{"pages": [{"grid": "1x1", "panels": [{"kind": "kpis", "at": "0,0"}]}]}],
        }
    )
    store = open_store(tmp_path, config.wall.name)
    engine = Engine(config, store, config_dir=tmp_path)
    backoff = quick(engine.sources[0])
    engine.start()
    wall = Wall(engine, windowed=True, window_size=(960, 540))
    try:
        window = next(iter(wall.windows.values()))
        first = {"hackernews:1", "hackernews:2", "hackernews:3"}
        assert engine.wait_for(
            lambda s: shown_ids(s) == first and s.sources["hn"].state == "ok", timeout=60
        )
        assert json.loads(store.get_cursor("hn") or "{}")["since"] == t0 + 3

        server.stop()  # the server goes away
        assert engine.wait_for(lambda s: s.sources["hn"].state == "failing", timeout=60)
        wait_until(lambda: len(backoff.delays) >= 5, 60, "five retries")
        health = engine.snapshot.sources["hn"]
        assert health.last_error == f"127.0.0.1:{port}{SEARCH}: cannot connect"
        assert backoff.delays[:4] == sorted(set(backoff.delays[:4]))  # growing
        assert max(backoff.delays) <= backoff.cap
        assert shown_ids(engine.snapshot) == first  # the last posts stay
        assert health.last_success is not None
        wall.tick()  # the wall runs on and says what is stale, calmly
        since = f"{health.last_success.astimezone():%H:%M}"
        assert f"hn: failing, no data since {since}" in window.status.text()
        assert all(thread.is_alive() for thread in engine.threads)

        asked = len(algolia.filters)
        algolia.add(4, t0 + 100)
        algolia.add(5, t0 + 200)
        serve(algolia, port)  # back, on the same port
        assert engine.wait_for(
            lambda s: (
                shown_ids(s) == first | {"hackernews:4", "hackernews:5"}
                and s.sources["hn"].state == "ok"
            ),
            timeout=60,
        )
        # it resumed from its cursor (the newest time it had seen), not from scratch
        assert algolia.filters[asked] == f"created_at_i>={t0 + 3}"
        assert json.loads(store.get_cursor("hn") or "{}")["since"] == t0 + 200
        assert backoff.attempts == 0
        assert store.count_posts() == 5
        wall.tick()
        assert "hn:" not in window.status.text()
    finally:
        wall.close()
        engine.close()
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


# ---------------------------------------------------------------------------------------------
# a host name that does not resolve


def dns_source(kind: str, tmp_path: Path) -> LiveSource:
    context = SourceContext(wall=WallConfig(), config_dir=tmp_path)
    if kind == "hackernews":
        hn = HackerNewsConfig(
            name="hn", kind="hackernews", base_url="http://agora-fault.invalid", query="lumen"
        )
        return HackerNewsSource(hn, context)
    sky = BlueskyConfig(
        name="sky",
        kind="bluesky",
        keywords=["lumen"],
        jetstream_url="ws://agora-fault.invalid/subscribe",
    )
    return BlueskySource(sky, context)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            "hackernews",
            f"agora-fault.invalid{SEARCH}: cannot connect: no such host agora-fault.invalid (DNS)",
        ),
        ("bluesky", "agora-fault.invalid: cannot connect: no such host agora-fault.invalid (DNS)"),
    ],
)
def test_a_host_name_that_does_not_resolve(kind: str, message: str, tmp_path: Path) -> None:
    source = dns_source(kind, tmp_path)
    backoff = quick(source)
    posts: list[Post] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(source.run(posts.extend, stop))
        deadline = time.monotonic() + 60  # a safety net: the test goes on at the fourth retry
        while len(backoff.delays) < 4 and not task.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 60)

    asyncio.run(scenario())
    assert len(backoff.delays) >= 4, "the source stopped retrying"
    assert backoff.delays[:4] == sorted(set(backoff.delays[:4]))
    assert source.health.state == "failing"
    assert source.health.last_error == message
    assert posts == []


# ---------------------------------------------------------------------------------------------
# the clock jumping


class JumpingClock:
    """Wall-clock time the test moves, forwards or backwards."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def jump(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def helsinki() -> Iterator[None]:
    """The machine's local time is Helsinki's (EET, and EEST from the last Sunday of March)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "EET-2EEST,M3.5.0/3,M10.5.0/4"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


_numbers = iter(range(10**9))


def mentions(at: datetime, count: int, spread: timedelta) -> list[Post]:
    """``count`` posts about Lumen dated evenly over ``spread`` before ``at``."""
    posts = []
    for i in range(count):
        n = next(_numbers)
        posts.append(
            Post(
                id=f"jsonl:clock-{n}",
                source="jsonl",
                feed="clock",
                text=f"Lumen camera post number {n}, night shots look good",
                created_at=at - spread * (i / count),
                author=Author(f"@clock{n % 7}", f"Clock {n % 7}"),
                lang="en",
            )
        )
    return posts


def assert_sane(snapshot: Snapshot) -> None:
    """No negative count, no share outside 0..1, series of the right length."""
    for summary in snapshot.windows.values():
        counts = summary.posts
        assert min(counts.total, counts.shown, counts.hidden, counts.pending, counts.reposts) >= 0
        assert all(v >= 0 for v in [*counts.by_source.values(), *counts.by_topic.values()])
        assert all(0.0 <= v <= 1.0 for v in summary.share_of_voice.values())
        assert all(a.posts > 0 for a in summary.authors)
        assert all(t.count > 0 and t.baseline >= 0 for t in summary.trending)
    assert len(snapshot.volume.total) == 24 * 60
    assert min(snapshot.volume.total) >= 0
    kpis = snapshot.kpis
    assert kpis.mentions_today >= 0 and kpis.per_minute >= 0 and kpis.peak_per_minute >= 0


def test_the_clock_jumping_forwards_and_backwards(
    helsinki: None, tmp_path: Path, qtbot: QtBot
) -> None:
    # 19:30 in Helsinki on the Saturday before summer time starts (EET, UTC+2)
    clock = JumpingClock(datetime(2026, 3, 28, 17, 30, tzinfo=UTC))
    page = {"seconds": 1, "grid": "1x1", "panels": [{"kind": "kpis", "at": "0,0"}]}
    config = WallConfig.model_validate(
        {
            "wall": {"name": "Clock test", "night": "22:00-06:00", "transition": 0},
            "topics": {"brand": {"label": "Lumen", "terms": ["lumen"]}},
            "screens": [{"pages": [page, {**page, "panels": [{"kind": "share", "at": "0,0"}]}]}],
        }
    )
    engine = Engine(config, MemoryStore(), config_dir=tmp_path, clock=clock, sources=[])
    engine.start()
    assert engine.ready.wait(60)
    wall = Wall(engine, windowed=True, clock=clock, window_size=(960, 540))
    wall.start()
    window = next(iter(wall.windows.values()))

    def step(posts: int, spread: timedelta, *, hour: int, day: int, all_: int, night: str) -> None:
        """Posts arrive at the clock's time; the snapshot and the wall follow."""
        engine.submit(mentions(clock.now, posts, spread))
        assert engine.wait_for(
            lambda s: s.now == clock.now and s.windows["all"].posts.total == all_, timeout=60
        ), f"no snapshot at {clock.now}"
        snapshot = engine.snapshot
        assert_sane(snapshot)
        assert snapshot.windows["1h"].posts.total == hour
        assert snapshot.windows["24h"].posts.total == day
        wall.tick()
        assert window.night_state == night
        assert window._timer.isActive()  # rotation is armed whatever the time says

    try:
        step(30, timedelta(minutes=50), hour=30, day=30, all_=30, night="day")
        clock.jump(timedelta(hours=3))  # 22:30: quiet hours
        step(10, timedelta(minutes=5), hour=10, day=40, all_=40, night="dim")
        kpis = engine.snapshot.kpis
        assert kpis.mentions_today == 40 and kpis.peak_per_minute >= 1
        clock.jump(timedelta(hours=-1))  # NTP puts it back to 21:30: the newest posts are ahead
        step(5, timedelta(minutes=5), hour=5, day=35, all_=45, night="day")
        assert engine.snapshot.kpis.mentions_today == 35
        clock.jump(timedelta(days=2))  # Monday 19:30 UTC is 22:30 in summer time
        step(7, timedelta(minutes=5), hour=7, day=7, all_=52, night="dim")
        assert engine.snapshot.kpis.mentions_today == 7
        turns = window.turns
        qtbot.waitUntil(lambda: window.turns > turns, timeout=60_000)  # and rotation turns
        assert all(thread.is_alive() for thread in engine.threads)
    finally:
        wall.close()
        engine.close()


# ---------------------------------------------------------------------------------------------
# kill -9 and restart

KILL_CONFIG = """\
[wall]
name = "Kill test wall"

[topics.brand]
label = "Lumen"
terms = ["lumen"]

[[sources]]
name = "archive"
kind = "jsonl"
path = "posts.jsonl"
every = "1s"

[[sources]]
name = "sim"
kind = "simulator"
rate = 600
backfill = "2m"

[[screens]]
output = 0
[[screens.pages]]
seconds = 30
grid = "1x1"
panels = [{ kind = "kpis", at = "0,0" }]
"""


def archive_line(n: int, at: datetime) -> str:
    return json.dumps(
        {
            "id": f"jsonl:k-{n}",
            "source": "jsonl",
            "text": f"Lumen archive post {n}: the battery lasts two days",
            "created_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "author": {"handle": f"@archive{n}", "name": f"Archive {n}"},
            "lang": "en",
        }
    )


@pytest.fixture
def walls() -> Iterator[Callable[..., RunningWall]]:
    """``walls(config, data_dir, log, *args)`` starts a wall; every one is stopped at the end."""
    started: list[RunningWall] = []

    def start(config: Path, data_dir: Path, log: Path, *extra: str) -> RunningWall:
        wall = RunningWall(config, data_dir, log, *extra)
        started.append(wall)
        return wall

    yield start
    for wall in started:
        wall.stop()


def query(path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Rows from the wall's database, read beside the running wall (``[]`` while it is not
    there yet)."""
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return db.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # not created yet, or no such table yet
        return []


def count_where(path: Path, source: str) -> int:
    """Stored posts of the archive (``jsonl``) or of the simulator (every other source)."""
    sql = "SELECT count(*) FROM posts WHERE source {} 'jsonl'"
    rows = query(path, sql.format("=" if source == "jsonl" else "!="))
    return int(rows[0][0]) if rows else 0


def cursors(path: Path) -> dict[str, str]:
    return {str(k): str(v) for k, v in query(path, "SELECT source, value FROM cursors")}


def health_record(path: Path) -> dict[str, Any]:
    rows = query(path, "SELECT value FROM state WHERE key = 'sources.health'")
    return dict(json.loads(rows[0][0])) if rows else {}


def test_kill_9_of_the_running_wall_then_a_restart(
    walls: Callable[..., RunningWall], tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    archive = tmp_path / "posts.jsonl"
    archive.write_text(
        "".join(archive_line(n, now - timedelta(minutes=n)) + "\n" for n in range(1, 21)),
        encoding="utf-8",
    )
    config = tmp_path / "wall.toml"
    config.write_text(KILL_CONFIG, encoding="utf-8")
    data = tmp_path / "data"
    database = database_path(data, "Kill test wall")

    first = walls(config, data, tmp_path / "first.log")
    wait_until(lambda: count_where(database, "jsonl") == 20, 120, "the archive to be stored")
    hidden = subprocess.run(
        [
            sys.executable,
            *("-m", "agora", "moderation", str(config), "hide", "jsonl:k-3"),
            *("--data-dir", str(data), "--reason", "kill test"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert hidden.returncode == 0, hidden.stderr
    first.wait_for("decision from elsewhere: hide jsonl:k-3")
    simulated = count_where(database, "simulator")
    wait_until(lambda: count_where(database, "simulator") > simulated, 120, "more posts")
    before = cursors(database)
    assert set(before) == {"archive", "sim"}

    os.kill(first.process.pid, signal.SIGKILL)  # while the simulator writes every second
    assert first.process.wait(timeout=30) == -signal.SIGKILL
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = int(db.execute("SELECT count(*) FROM posts").fetchone()[0])
    with archive.open("a", encoding="utf-8") as handle:  # three posts arrive while it is down
        for n in (21, 22, 23):
            handle.write(archive_line(n, now) + "\n")

    second = walls(config, data, tmp_path / "second.log")
    loaded = second.wait_for("stored posts back into the figures")
    assert int(loaded.split()[1]) >= stored  # history came back
    assert second.wait_for("moderation decision(s) read back from the store").startswith("1 ")
    # the archive's cursor came back: only the three new lines are read, not all 23 again
    wait_until(
        lambda: health_record(database).get("sources", {}).get("archive", {}).get("posts") == 3,
        120,
        "the archive to read its three new lines",
    )
    assert count_where(database, "jsonl") == 23
    assert cursors(database)["sim"] == before["sim"]  # the simulator kept its launch time
    decisions = query(database, "SELECT action, target, reason FROM decisions")
    assert decisions == [("hide", "jsonl:k-3", "kill test")]
    assert query(database, "SELECT state FROM posts WHERE id = 'jsonl:k-3'") == [("hidden",)]

    second.process.send_signal(signal.SIGTERM)  # a clean stop this time
    assert second.process.wait(timeout=120) == 0
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert "Traceback" not in second.output.read_text(errors="replace")


# ---------------------------------------------------------------------------------------------
# a data directory that cannot be used


def unusable(kind: str, tmp_path: Path) -> Path:
    """A --data-dir the wall cannot write: a regular file where the directory should be, or a
    directory without write permission."""
    if kind == "file":
        blocker = tmp_path / "data"
        blocker.write_text("a file, not a directory", encoding="utf-8")
        return blocker
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return locked


@pytest.mark.parametrize(
    "kind",
    [
        "file",
        pytest.param(
            "read-only",
            marks=pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only dirs"),
        ),
    ],
)
def test_an_unusable_data_directory_at_start(
    kind: str, walls: Callable[..., RunningWall], tmp_path: Path, qtbot: QtBot
) -> None:
    data = unusable(kind, tmp_path)
    config = tmp_path / "wall.toml"
    config.write_text(KILL_CONFIG.replace("Kill test wall", "Memory wall"), encoding="utf-8")
    (tmp_path / "posts.jsonl").write_text(
        archive_line(1, datetime.now(UTC)) + "\n", encoding="utf-8"
    )
    try:
        wall = walls(config, data, tmp_path / "wall.log", "--seconds", "3")
        said = wall.wait_for("running in memory")
        assert str(data) in said
        if kind == "file":
            assert "a file is in the way where the directory should be" in said
        wall.wait_for("first frame painted")
        assert wall.process.wait(timeout=120) == 0  # it ran its three seconds and quit cleanly
        assert "Traceback" not in wall.output.read_text(errors="replace")

        # ... and the wall says so on its status line
        store = open_store(data, "Memory wall")
        assert store.kind == "memory"
        loaded = WallConfig.model_validate(
            {"screens": [{"pages": [{"grid": "1x1", "panels": [{"kind": "kpis", "at": "0,0"}]}]}]}
        )
        engine = Engine(loaded, store, config_dir=tmp_path, sources=[])
        shown = Wall(engine, windowed=True, window_size=(1600, 900))
        try:
            engine.publish(force=True)
            shown.tick()
            status = next(iter(shown.windows.values())).status.text()
            assert status.startswith("memory (")
        finally:
            shown.close()
            engine.close()
    finally:
        if data.is_dir():
            data.chmod(0o755)

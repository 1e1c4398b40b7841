"""``agora bench fanout``: one collector and many walls on one PostgreSQL database.

What runs is what ``agora collect`` and ``agora run`` on a shared store run, without Qt:

* **the collector**: an engine with role ``collector`` (its pipeline, its ingest thread, a
  :class:`~agora.store.postgres.PostgresStore`); instead of sources, the benchmark hands it
  ``rate`` posts a second, ten times a second, as a source loop would;
* **the walls**: ``walls`` engines with role ``wall``, each with its own store connection and its
  own :class:`~agora.store.postgres.Listener` (two connections a wall, as ``agora run`` makes),
  following the collector and building their own snapshots. They run **in this process**, on
  threads: with two cores, N wall processes would measure the operating system's scheduler more
  than the database. The walls' pipelines and snapshots then share this process's CPU (and
  Python's lock), so the lags are an upper bound of what N walls on N machines see;
  ``bench_cpu_percent`` says how busy the process was (100 = one core). Where N walls' figures
  are more than the machine can compute, ``followers`` are walls reduced to what they ask of the
  database (store, listener, follower; no pipeline), and ``mixed`` puts
  :data:`MIXED_ENGINES` engines among followers: whole walls under every wall's database load.
* **decisions**: every :data:`DECISION_EVERY_S` seconds one wall (in turn) hides a post that
  every wall shows; the others hear of it by NOTIFY, as in an office.

Measured, over the ``seconds`` of the run:

* ``posts_per_s``: posts the collector wrote to the database;
* ``post_lag_p50_s`` / ``post_lag_p95_s``: for every wall and every post, the time from the start
  of the collector's write of the post to the first snapshot of that wall that counts it
  (a post written in a batch counts from the batch's start; a snapshot is built at most once a
  second, so about half a second of the lag is the wall's own pace); over the engines only when
  there are engines, else the followers' time until they had the post (``posts_missing``: posts
  some wall never counted, over every wall);
* ``decision_p50_s`` / ``decision_p95_s``: from the moment a wall is told to hide a post to the
  moment the last wall publishes a snapshot without it (``decisions_missing``: those some wall
  never applied);
* ``db_cpu_s``: CPU seconds of the database server's processes (the postmaster and every backend,
  from ``/proc``), when the benchmark started the server; ``None`` with ``--url``;
* ``connections``: the most connections the benchmark held at once (``pg_stat_activity``, by the
  benchmark's own ``application_name``);
* ``by_kind``: the same lags for the engines and for the followers apart (a ``mixed`` run's
  engines are whole walls under the database load of all the walls);
* ``wall_queries_per_s``: round trips each wall made to the database a second, on average;
* ``bench_cpu_percent`` and ``bench_saturated``: how busy this process was, and whether it was
  the bottleneck (:data:`SATURATED_PERCENT`); ``load_average``: the machine's at the end.

Without ``--url`` a temporary server (:mod:`agora.bench.pgserver`, durable: PostgreSQL's
default flushing, room for two connections a wall) is started and removed. With ``--url`` the
benchmark makes a schema of its own (``agora_fanout_<random>``) in that database, points its
connections' ``search_path`` at it, and drops that schema, and nothing else, at the end; the
role needs ``CREATE`` on the database. The password comes from ``AGORA_DB_PASSWORD`` (or libpq's
own ``PGPASSWORD`` and ``~/.pgpass``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import random
import resource
import secrets
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import psycopg

from agora.bench.pgserver import ServerUnavailableError
from agora.bench.render import percentile
from agora.config.schema import WallConfig
from agora.core.health import SourceHealth
from agora.core.pipeline import Pipeline
from agora.core.post import Author, Post
from agora.core.snapshot import Snapshot
from agora.core.storage import StoreUnavailableError
from agora.engine import Engine
from agora.engine.follower import Follower
from agora.engine.inbox import Followed, Poke
from agora.engine.publisher import Publisher
from agora.engine.wiring import utcnow
from agora.store.base import Decision
from agora.store.postgres import PostgresStore, conninfo, safe_url

T = TypeVar("T")

#: How often the benchmark hands the collector the posts that are due, in seconds.
TICK_S = 0.1
#: One decision (a hide) every this many seconds, the first after as long.
DECISION_EVERY_S = 2.0
#: After the feed stops, how long the walls get to show the last posts and decisions, in seconds.
SETTLE_S = 30.0
#: Above this share of one core (in %) the benchmark's own process was the bottleneck: Python
#: runs one thread at a time, so N walls in one process queue for it, and the lags measure this
#: process more than the database.
SATURATED_PERCENT = 80.0
#: The environment variable the password of a ``--url`` database is read from.
PASSWORD_ENV = "AGORA_DB_PASSWORD"

#: What the walls are: ``engines`` (what ``agora run`` runs, timed at its snapshots),
#: ``followers`` (only what a wall asks of the database, timed when it has heard) or ``mixed``
#: (:data:`MIXED_ENGINES` engines among followers: whole walls timed under the database load of
#: all of them, on a machine that cannot compute every wall's figures at once).
WallKind = Literal["engines", "followers", "mixed"]
#: The kinds in words, for the report.
WALL_KINDS: dict[str, str] = {
    "engines": "in-process engines (role wall, no Qt; timed at each wall's snapshot)",
    "followers": (
        "in-process followers (each wall's store, listener and follower, no pipeline; "
        "timed when the wall has the post or decision, before its snapshot)"
    ),
    "mixed": (
        "in-process: a few engines (timed at their snapshots) among followers (timed when "
        "they have heard)"
    ),
}
#: Engines among the walls of a ``mixed`` run (the rest are followers).
MIXED_ENGINES = 5
#: The decisions a wall watches for (a function: the list grows during the run).
WatchList = Callable[[], Sequence[str]]

_TOPICS = {
    "lumen": {"label": "Lumen", "terms": ["lumen", "#lumen"]},
    "corvid": {"label": "Corvid", "terms": ["corvid", "#corvid"]},
}
_OPENINGS = ("Just tried the", "Honestly the", "Anyone else think the", "Loving the", "Not sure")
_SUBJECTS = ("Lumen X1", "Lumen app", "#lumen camera", "Corvid phone", "Lumen battery")
_ENDINGS = (
    "is great today",
    "feels slow after the update",
    "beats anything I had before",
    "needs a better price",
    "was worth the wait",
    "keeps crashing on me",
)


# -- what the collector writes and the walls show --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Write:
    """One batch the collector wrote: when the write started, and how many posts were in the
    store after it (posts are counted in the order they were written)."""

    started: float
    total: int
    count: int


class TimedStore(PostgresStore):
    """The collector's store: notes when each batch of new posts was written."""

    def __init__(self, url: str, *, password: str | None) -> None:
        super().__init__(url, password=password)
        self.writes: list[Write] = []
        self.total = 0

    def add_posts(self, posts: Sequence[Post]) -> int:
        started = time.monotonic()
        added = super().add_posts(posts)
        if added:
            self.total += added
            self.writes.append(Write(started, self.total, added))
        return added


class CountingStore(PostgresStore):
    """A wall's store: counts its round trips to the database."""

    calls = 0

    def _call(self, work: Callable[[psycopg.Connection[tuple[Any, ...]]], T]) -> T:
        self.calls += 1
        return super()._call(work)


@dataclass
class Sightings:
    """What one wall showed, and when (monotonic seconds)."""

    built: list[tuple[float, int]] = field(default_factory=list)
    """(time, posts counted) each time what the wall holds changed."""
    withdrawn_at: dict[str, float] = field(default_factory=dict)
    """When each watched post (a decision's target) was first off the wall."""

    @property
    def counted(self) -> int:
        """Posts counted the last time."""
        return self.built[-1][1] if self.built else 0


class TimedPublisher(Publisher):
    """An engine's publisher that notes, for each snapshot it builds, when and how many posts it
    counts, and when each watched post was first withdrawn from it."""

    def __init__(self, engine: Engine, watched: Callable[[], Sequence[str]]) -> None:
        super().__init__(engine.store, engine.clock, engine.publisher.snapshot)
        self.sightings = Sightings()
        self._watched = watched

    def publish(
        self,
        pipeline: Pipeline,
        windows: list[float | None],
        health: Mapping[str, SourceHealth],
        *,
        force: bool = False,
    ) -> Snapshot:
        before = self.snapshot
        snapshot = super().publish(pipeline, windows, health, force=force)
        if snapshot is not before:
            now = time.monotonic()
            seen = self.sightings
            seen.built.append((now, snapshot.summary(None).posts.total))
            for target in self._watched():
                if target in snapshot.withdrawn and target not in seen.withdrawn_at:
                    seen.withdrawn_at[target] = now
        return snapshot


class EngineWall:
    """A wall as ``agora run`` runs it on a shared store, without Qt: an engine with role
    ``wall`` (its follower, pipeline and snapshots), timed at its snapshots."""

    def __init__(self, place: _Place, name: str, config_dir: Path, watched: WatchList) -> None:
        self.name = name
        self.store = CountingStore(place.url, password=place.password)
        self.engine = Engine(
            _config(place.url, name), self.store, config_dir=config_dir, role="wall"
        )
        publisher = TimedPublisher(self.engine, watched)
        self.engine.publisher = publisher
        self.sightings = publisher.sightings

    def start(self) -> None:
        self.engine.start()

    def wait_ready(self, timeout: float) -> bool:
        return self.engine.ready.wait(timeout)

    def decide(self, target: str) -> None:
        """Hide a post here, as an operator at this wall does."""
        self.engine.decide("hide", target, "bench", "fanout benchmark")

    def close(self) -> None:
        _close(self.engine)


class FollowerWall:
    """A wall reduced to what it asks of the database: the engine's :class:`Follower` on its
    own store and listener, delivering into counters instead of a pipeline; after every delivery
    it reads new decisions (as a wall's ingest thread does after every item), and it notes when
    it heard of each watched decision."""

    def __init__(self, place: _Place, name: str, watched: WatchList) -> None:
        self.name = name
        self.store = CountingStore(place.url, password=place.password)
        self.sightings = Sightings()
        self._watched = watched
        self._ids: set[str] = set()
        self._decisions = 0
        self._ready = threading.Event()
        self.follower = Follower(
            self.store, self._deliver, waiter=self.store.listener(), clock=utcnow
        )

    def start(self) -> None:
        self._decisions = max((d.seq for d in self.store.decisions()), default=0)
        self.follower.start_at(self.store.newest_change())
        self._ready.set()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def decide(self, target: str) -> None:
        """Hide a post, as ``agora moderation`` or this wall's operator does."""
        self.store.add_decision(
            Decision("hide", target, "bench", utcnow(), "fanout benchmark", origin=self.name)
        )

    def _deliver(self, item: Followed | Poke) -> None:
        now = time.monotonic()
        seen = self.sightings
        if isinstance(item, Followed):
            before = len(self._ids)
            self._ids.update(post.id for post in item.posts)
            if len(self._ids) > before:
                seen.built.append((now, len(self._ids)))
        try:
            fresh = self.store.decisions(self._decisions)
        except StoreUnavailableError:
            return
        watched = set(self._watched())
        for decision in fresh:
            self._decisions = max(self._decisions, decision.seq)
            if decision.target in watched and decision.target not in seen.withdrawn_at:
                seen.withdrawn_at[decision.target] = time.monotonic()

    def close(self) -> None:
        self.follower.stop()
        self.follower.join(5.0)
        self.store.close()


def make_posts(first: int, last: int, rng: random.Random, now: datetime) -> list[Post]:
    """Posts number ``first`` … ``last - 1``, with varied plain text about the topics."""
    return [
        Post(
            id=f"fanout:{n}",
            source="simulator",
            feed="fanout",
            text=f"{rng.choice(_OPENINGS)} {rng.choice(_SUBJECTS)} {rng.choice(_ENDINGS)} ({n})",
            created_at=now,
            author=Author(f"@fan{rng.randrange(5_000)}", "Fan"),
        )
        for n in range(first, last)
    ]


def post_lags(writes: Sequence[Write], built: Sequence[tuple[float, int]]) -> list[float]:
    """For every post of ``writes``, the time from the start of its write to the first snapshot
    in ``built`` that counts it (posts no snapshot counts are left out)."""
    lags: list[float] = []
    shown = 0
    for write in writes:
        while shown < len(built) and built[shown][1] < write.total:
            shown += 1
        if shown == len(built):
            break
        lags.extend([built[shown][0] - write.started] * write.count)
    return lags


# -- the database server ---------------------------------------------------------------------------


def _proc_cpu(pid: int) -> tuple[int, int, int]:
    """(parent pid, own CPU ticks, reaped children's CPU ticks) of a process from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # after the name: state ppid … utime(12) stime(13) cutime(14) cstime(15), 0-based from state
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def tree_cpu_s(root: int) -> float:
    """CPU seconds of process ``root`` and all its descendants (those that ended included, as
    far as ``root`` reaped them), from /proc."""
    parents: dict[int, int] = {}
    own: dict[int, int] = {}
    reaped = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid, ticks, children = _proc_cpu(int(entry))
            parents[int(entry)] = ppid
            own[int(entry)] = ticks
            if int(entry) == root:
                reaped = children
    if root not in own:
        raise OSError(f"no process {root}")
    tree = {root}
    grew = True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        grew = bool(more)
        tree |= more
    return (sum(own[pid] for pid in tree) + reaped) / os.sysconf("SC_CLK_TCK")


@dataclass
class _Place:
    """Where the benchmark writes: the URL its stores use (no password), the password, and the
    postmaster's pid when the server is the benchmark's own."""

    url: str
    password: str | None
    server_pid: int | None
    application: str


def _with_parameters(url: str, **extra: str) -> str:
    """``url`` with more libpq parameters in its query (``options`` is added to, not replaced)."""
    parts = urllib.parse.urlsplit(url)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = dict(pairs)
    for key, value in extra.items():
        query[key] = f"{query[key]} {value}" if key == "options" and query.get(key) else value
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@contextlib.contextmanager
def _local_place(application: str, walls: int) -> Iterator[_Place]:
    """A temporary server of the benchmark's own, removed afterwards (room for two
    connections a wall, the collector's and a few more)."""
    from agora.bench.pgserver import running_server

    with running_server(durable=True, max_connections=max(200, 2 * walls + 20)) as server:
        database = server.create_database("agora_fanout")
        pid = int((server.data / "postmaster.pid").read_text().split()[0])
        url = _with_parameters(database.url, application_name=application)
        yield _Place(url, database.password, pid, application)


@contextlib.contextmanager
def _remote_place(url: str, password: str | None, application: str) -> Iterator[_Place]:
    """A schema of the benchmark's own in the database at ``url``, dropped afterwards (only
    that schema: its name is new and random)."""
    schema = f"agora_fanout_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(conninfo(url, password), autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
    except psycopg.Error as exc:  # one line, without the password
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if password:
            why = why.replace(password, "***")
        raise ServerUnavailableError(f"cannot use {safe_url(url)}: {why}") from None
    try:
        bench_url = _with_parameters(
            url, options=f"-csearch_path={schema}", application_name=application
        )
        yield _Place(bench_url, password, None, application)
    finally:
        with psycopg.connect(conninfo(url, password), autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _connections(monitor: psycopg.Connection[tuple[Any, ...]], application: str) -> int:
    row = monitor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application,)
    ).fetchone()
    return int(row[0]) if row else 0


# -- the run ---------------------------------------------------------------------------------------


def _config(url: str, name: str) -> WallConfig:
    return WallConfig.model_validate(
        {"wall": {"name": name}, "topics": _TOPICS, "store": {"url": url, "role": "wall"}}
    )


def _close(engine: Engine) -> None:
    engine.stop(timeout=5.0)
    if not engine.running:  # (a thread still writing keeps its store)
        engine.store.close()


class _Run:
    """The collector and walls of one run, and what they noted."""

    def __init__(self, place: _Place, walls: int, kind: WallKind, config_dir: Path) -> None:
        self.place = place
        self.kind = kind
        self.config_dir = config_dir
        self.count = walls
        self.targets: tuple[str, ...] = ()
        """Posts hidden so far (replaced, never changed in place: the walls read it)."""
        self.collector: Engine | None = None
        self.collector_store: TimedStore | None = None
        self.walls: list[EngineWall | FollowerWall] = []

    def watched(self) -> tuple[str, ...]:
        return self.targets

    def start(self, progress: Callable[[str], None]) -> None:
        for n in range(self.count):
            name = f"wall {n}"
            wall: EngineWall | FollowerWall
            if self.kind == "engines" or (self.kind == "mixed" and n < MIXED_ENGINES):
                wall = EngineWall(self.place, name, self.config_dir, self.watched)
            else:
                wall = FollowerWall(self.place, name, self.watched)
            self.walls.append(wall)
            wall.start()
            if (n + 1) % 10 == 0:
                progress(f"{n + 1} walls started")
        for wall in self.walls:
            if not wall.wait_ready(120):
                raise RuntimeError(f"{wall.name} did not start within 120 s")
        self.collector_store = TimedStore(self.place.url, password=self.place.password)
        self.collector = Engine(
            _config(self.place.url, "fanout collector"),
            self.collector_store,
            config_dir=self.config_dir,
            role="collector",
            sources=[],
        )
        self.collector.start()
        if not self.collector.ready.wait(120):
            raise RuntimeError("the collector did not start within 120 s")

    def stop(self) -> None:
        """Stop the walls and the collector (all at once: one by one, each takes up to a
        second) and close their stores."""
        closing: list[Callable[[], None]] = [wall.close for wall in self.walls]
        if self.collector is not None:
            closing.append(functools.partial(_close, self.collector))
        threads = [threading.Thread(target=close) for close in closing]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    @property
    def queries(self) -> int:
        """Round trips the walls made to the database so far."""
        return sum(wall.store.calls for wall in self.walls)

    def shown_by_all(self) -> int:
        """Posts counted by every wall."""
        return min((wall.sightings.counted for wall in self.walls), default=0)

    def settled(self, written: int) -> bool:
        """Every wall counts every post written and has applied every decision."""
        return self.shown_by_all() >= written and all(
            len(wall.sightings.withdrawn_at) >= len(self.targets) for wall in self.walls
        )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Agora's log at warnings only while the benchmark runs: every wall logs every decision
    from elsewhere, N lines a decision, which would be most of the output (and of its cost)."""
    logger = logging.getLogger("agora")
    level = logger.level
    logger.setLevel(max(logging.WARNING, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        logger.setLevel(level)


def run_fanout_bench(
    walls: int = 50,
    rate: float = 100.0,
    seconds: float = 30.0,
    *,
    kind: WallKind = "engines",
    url: str | None = None,
    password: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the benchmark (see the module docstring) and return its figures. ``kind``: the walls
    are ``engines`` or ``followers``. ``url``: a database to use instead of a temporary server
    (``password``: its password, default from :data:`PASSWORD_ENV`)."""
    if walls < 1 or rate <= 0 or seconds <= 0:
        raise ValueError("walls, rate and seconds must be positive")
    say = progress or (lambda _message: None)
    application = f"agora-fanout-{secrets.token_hex(3)}"
    if url is None:
        place_cm = _local_place(application, walls)
    else:
        place_cm = _remote_place(url, password or os.environ.get(PASSWORD_ENV), application)
    with (
        place_cm as place,
        tempfile.TemporaryDirectory(prefix="agora-fanout-") as tmp,
        _quiet(),
    ):
        say("database ready" if url else f"temporary PostgreSQL server ready ({place.url})")
        run = _Run(place, walls, kind, Path(tmp))
        try:
            run.start(say)
            say(f"{walls} walls ({kind}) and the collector running; feeding {rate:g} posts/s")
            return _measure(run, rate, seconds, say)
        finally:
            run.stop()


def _measure(run: _Run, rate: float, seconds: float, say: Callable[[str], None]) -> dict[str, Any]:
    place = run.place
    collector, store = run.collector, run.collector_store
    assert collector is not None
    assert store is not None
    rng = random.Random(17)
    made: dict[str, float] = {}
    connections = 0
    with psycopg.connect(conninfo(place.url, place.password), autocommit=True) as monitor:
        monitor.execute("SET application_name = 'agora-fanout-monitor'")
        cpu_start = tree_cpu_s(place.server_pid) if place.server_pid else None
        usage_start = resource.getrusage(resource.RUSAGE_SELF)
        queries_start = run.queries
        started = time.monotonic()
        sent = 0
        next_decision = started + DECISION_EVERY_S
        next_sample = started
        while (now := time.monotonic()) < started + seconds:
            due = int(rate * (now - started))
            if due > sent:
                collector.submit(make_posts(sent, due, rng, datetime.now(UTC)))
                sent = due
            if now >= next_decision:
                next_decision += DECISION_EVERY_S
                _decide(run, made)
            if now >= next_sample:
                next_sample += 1.0
                connections = max(connections, _connections(monitor, place.application))
            time.sleep(max(0.0, min(TICK_S, started + seconds - time.monotonic())))
        ended = time.monotonic()
        cpu_end = tree_cpu_s(place.server_pid) if place.server_pid else None
        usage_end = resource.getrusage(resource.RUSAGE_SELF)
        queries = run.queries - queries_start
        connections = max(connections, _connections(monitor, place.application))
    elapsed = ended - started
    say(f"fed {sent} posts in {elapsed:.1f} s; letting the walls catch up")
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        if not made:  # the walls showed nothing while the feed ran (a slow start): one hide
            _decide(run, made)  # is still timed, once they show a post
        if made and store.total >= sent and run.settled(sent):
            break
        time.sleep(0.1)
    writes = list(store.writes)
    written = sum(w.count for w in writes if w.started <= ended)
    cpu = usage_end.ru_utime + usage_end.ru_stime - usage_start.ru_utime - usage_start.ru_stime
    walls = len(run.walls)
    kinds: dict[str, list[EngineWall | FollowerWall]] = {}
    for wall in run.walls:
        kinds.setdefault("engines" if isinstance(wall, EngineWall) else "followers", []).append(
            wall
        )
    by_kind = {kind: _figures(theirs, writes, made) for kind, theirs in kinds.items()}
    every = _figures(run.walls, writes, made)
    # a post's lag is to a snapshot: the engines' when there are engines (followers build none)
    timed = by_kind.get("engines", every)
    return {
        "walls": walls,
        "walls_run_as": WALL_KINDS[run.kind],
        "rate": rate,
        "seconds": round(elapsed, 1),
        "posts_written": written,
        "posts_per_s": round(written / elapsed, 1),
        "collector_writes_per_s": round(sum(w.started <= ended for w in writes) / elapsed, 1),
        "post_lag_p50_s": timed["post_lag_p50_s"],
        "post_lag_p95_s": timed["post_lag_p95_s"],
        "post_lag_max_s": timed["post_lag_max_s"],
        "posts_missing": every["posts_missing"],
        "decisions": len(made),
        "decision_p50_s": every["decision_p50_s"],
        "decision_p95_s": every["decision_p95_s"],
        "decisions_missing": every["decisions_missing"],
        "by_kind": {kind: {"walls": len(kinds[kind]), **by_kind[kind]} for kind in kinds},
        "db_cpu_s": None if cpu_start is None or cpu_end is None else round(cpu_end - cpu_start, 2),
        "connections": connections,
        "wall_queries_per_s": round(queries / walls / elapsed, 2),
        "bench_cpu_percent": round(100.0 * cpu / elapsed, 1),
        "bench_saturated": 100.0 * cpu / elapsed >= SATURATED_PERCENT,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _decide(run: _Run, made: dict[str, float]) -> None:
    """One wall (in turn) hides the newest post every wall shows, timed from now (nothing when
    no post is on every wall yet, or that one was hidden already)."""
    shown = run.shown_by_all()
    target = f"fanout:{shown - 1}"  # (posts are counted in the order written)
    if shown and target not in made:
        run.targets = (*run.targets, target)
        made[target] = time.monotonic()
        run.walls[len(made) % len(run.walls)].decide(target)


def _figures(
    walls: Sequence[EngineWall | FollowerWall], writes: Sequence[Write], made: Mapping[str, float]
) -> dict[str, Any]:
    """Post lags and decision times over ``walls``: a post or decision counts once every one of
    them has it (those some wall never had are counted as missing, not timed)."""
    lags: list[float] = []
    never = 0
    total = writes[-1].total if writes else 0
    for wall in walls:
        theirs = post_lags(writes, list(wall.sightings.built))
        lags += theirs
        never += total - len(theirs)
    reached: list[float] = []
    missing = 0
    for target, at in made.items():
        applied = [wall.sightings.withdrawn_at.get(target) for wall in walls]
        if any(moment is None for moment in applied) or not applied:
            missing += 1
        else:
            reached.append(max(m for m in applied if m is not None) - at)
    return {
        "post_lag_p50_s": _s(percentile(lags, 50)),
        "post_lag_p95_s": _s(percentile(lags, 95)),
        "post_lag_max_s": _s(max(lags)) if lags else None,
        "posts_missing": never,
        "decision_p50_s": _s(percentile(reached, 50)),
        "decision_p95_s": _s(percentile(reached, 95)),
        "decisions_missing": missing,
    }


def _s(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)  # nan: nothing measured


def format_report(report: Mapping[str, Any]) -> str:
    """The figures in a few plain lines."""
    db_cpu = report["db_cpu_s"]
    cpu = "not measured (remote server)" if db_cpu is None else f"{db_cpu} s"
    load = ", ".join(f"{x:g}" for x in report["load_average"])
    saturated = (
        [
            "this process was the bottleneck (Python runs one thread at a time): the lags "
            "measure this machine more than the database; --walls-as followers measures what "
            "the walls ask of the database"
        ]
        if report["bench_saturated"]
        else []
    )
    return "\n".join(
        [
            f"walls: {report['walls']}, {report['walls_run_as']} (this process used "
            f"{report['bench_cpu_percent']} % of one core; {report['cores']} cores, load "
            f"average {load} at the end)",
            *saturated,
            f"posts written: {report['posts_per_s']}/s (asked {report['rate']:g}/s, "
            f"{report['collector_writes_per_s']} writes/s) for {report['seconds']} s",
            f"post lag, insert to every wall: p50 {report['post_lag_p50_s']} s, "
            f"p95 {report['post_lag_p95_s']} s, max {report['post_lag_max_s']} s "
            f"({report['posts_missing']} never there)",
            f"decision to every wall: p50 {report['decision_p50_s']} s, "
            f"p95 {report['decision_p95_s']} s over {report['decisions']} hides "
            f"({report['decisions_missing']} missing a wall)",
            *(
                f"  {kind} ({figures['walls']}): post lag p50 {figures['post_lag_p50_s']} s, "
                f"p95 {figures['post_lag_p95_s']} s; decision p50 {figures['decision_p50_s']} s, "
                f"p95 {figures['decision_p95_s']} s"
                for kind, figures in report["by_kind"].items()
                if len(report["by_kind"]) > 1
            ),
            f"database: CPU {cpu}, {report['connections']} connections, "
            f"{report['wall_queries_per_s']} queries a wall a second",
        ]
    )

"""``agora bench fanout`` (issue 17): its figures come from what the walls really showed.

A few walls for a few seconds on a real PostgreSQL server (tests/pgserver.py; skipped without
the binaries like the other PostgreSQL tests, except in CI). A wall that never applies the
decisions, or never counts the posts, must show in the report as missing, not as fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agora.bench import fanout
from agora.bench.fanout import EngineWall, WatchList, post_lags, run_fanout_bench
from agora.engine.inbox import Followed, Poke
from agora.store.base import Decision
from tests.pgserver import Database, PgServer, free_port, require_binaries

WALLS = 3
RATE = 20.0
SECONDS = 8.0  # decisions are tried at 2, 4 and 6 s: one at least on a busy machine


@pytest.fixture
def url(pg_server: PgServer, pg_database: Database) -> str:
    """The session server's test database (the benchmark makes a schema of its own in it)."""
    return pg_server.url(pg_database.name)


def run(url: str, password: str, **kwargs: Any) -> dict[str, Any]:
    return run_fanout_bench(WALLS, RATE, SECONDS, url=url, password=password, **kwargs)


def check_healthy(report: dict[str, Any], expected_connections: int) -> None:
    assert report["walls"] == WALLS
    # the collector wrote what it was fed (the feed is paced by the clock: allow a busy machine)
    assert 0.7 * RATE * SECONDS <= report["posts_written"] <= RATE * SECONDS + 1
    assert report["posts_missing"] == 0  # every wall counted every post
    lags = (report["post_lag_p50_s"], report["post_lag_p95_s"], report["post_lag_max_s"])
    assert 0 < lags[0] <= lags[1] <= lags[2] < 30
    assert report["decisions"] >= 1 and report["decisions_missing"] == 0
    assert 0 < report["decision_p50_s"] <= report["decision_p95_s"] < 30
    assert report["connections"] == expected_connections
    assert report["wall_queries_per_s"] > 0


def test_the_report_measures_walls_that_show_posts_and_decisions(
    url: str, pg_database: Database
) -> None:
    report = run(url, pg_database.password)
    # each wall: its store and its listener; the collector: its store
    check_healthy(report, 2 * WALLS + 1)
    assert report["db_cpu_s"] is None  # another's server: its CPU is not the benchmark's to read


def test_followers_measure_the_same_way(url: str, pg_database: Database) -> None:
    report = run(url, pg_database.password, kind="followers")
    check_healthy(report, 2 * WALLS + 1)
    assert report["walls_run_as"].startswith("in-process followers")
    assert list(report["by_kind"]) == ["followers"]


def test_a_mixed_run_times_engines_and_followers_apart(
    url: str, pg_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "MIXED_ENGINES", 1)
    report = run(url, pg_database.password, kind="mixed")
    check_healthy(report, 2 * WALLS + 1)
    engines, followers = report["by_kind"]["engines"], report["by_kind"]["followers"]
    assert (engines["walls"], followers["walls"]) == (1, WALLS - 1)
    # a post's lag is to a snapshot, and only engines build them
    assert report["post_lag_p95_s"] == engines["post_lag_p95_s"] != followers["post_lag_p95_s"]
    for kind in (engines, followers):
        assert kind["posts_missing"] == kind["decisions_missing"] == 0
        # a decision is on every wall once it is on every wall of each kind
        assert 0 < kind["decision_p95_s"] <= report["decision_p95_s"]


class DeafWall(EngineWall):
    """A wall whose engine never applies decisions (its own or others'), or never counts the
    posts the collector writes."""

    deaf_to = ""

    def __init__(self, place: Any, name: str, config_dir: Path, watched: WatchList) -> None:
        super().__init__(place, name, config_dir, watched)
        if name != "wall 1":
            return
        engine = self.engine
        follower = engine.follower
        assert follower is not None
        inbox = engine.inbox
        if self.deaf_to == "decisions":

            def no_decision(decision: Decision) -> None:
                del decision

            engine.apply_decision = no_decision  # type: ignore[method-assign]
            engine.desk.poll = lambda pipeline: 0  # type: ignore[method-assign]
            had: set[str] = set()

            def first_sight(item: Followed | Poke) -> None:
                # the collector writes a hidden post's new state, and a wall following the
                # store would hide it from that too: only a post's first version gets through
                if isinstance(item, Followed):
                    fresh = [post for post in item.posts if post.id not in had]
                    had.update(post.id for post in fresh)
                    item = Followed(fresh, item.deleted, item.seq)
                inbox.put(item)

            follower.deliver = first_sight
        else:

            def no_posts(item: Followed | Poke) -> None:
                if isinstance(item, Poke):
                    inbox.put(item)

            follower.deliver = no_posts


@pytest.mark.parametrize("deaf_to", ["decisions", "posts"])
def test_a_wall_that_never_shows_them_is_reported_missing(
    url: str, pg_database: Database, monkeypatch: pytest.MonkeyPatch, deaf_to: str
) -> None:
    monkeypatch.setattr(DeafWall, "deaf_to", deaf_to)
    monkeypatch.setattr(fanout, "EngineWall", DeafWall)
    monkeypatch.setattr(fanout, "SETTLE_S", 8.0)  # it never catches up: do not wait 30 s
    report = run(url, pg_database.password)
    if deaf_to == "decisions":
        assert report["posts_missing"] == 0
        assert report["decisions"] >= 1
        assert report["decisions_missing"] == report["decisions"]  # no wall saw all of them
        assert report["decision_p50_s"] is None and report["decision_p95_s"] is None
    else:
        # wall 1 counted none of the posts; the others all of them (their lags are measured)
        assert report["posts_missing"] >= report["posts_written"] > 0
        assert report["post_lag_p95_s"] is not None
        assert report["decisions"] == 0  # no post was on every wall to be hidden


def test_post_lags_count_from_the_write_to_the_first_snapshot_that_has_the_post() -> None:
    writes = [fanout.Write(10.0, 5, 5), fanout.Write(11.0, 8, 3), fanout.Write(12.0, 10, 2)]
    built = [(10.5, 3), (11.2, 5), (12.5, 8)]  # the last two posts never shown
    assert post_lags(writes, built) == pytest.approx([1.2] * 5 + [1.5] * 3)


@pytest.mark.slow
def test_the_command_runs_on_a_temporary_server_and_prints_json(tmp_path: Path) -> None:
    require_binaries()
    done = subprocess.run(
        [
            sys.executable,
            *("-m", "agora", "bench", "fanout", "--walls", "2", "--rate", "10"),
            *("--seconds", "8", "--json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    for key in ("walls", "posts_per_s", "post_lag_p95_s", "decision_p95_s", "db_cpu_s"):
        assert report[key] is not None, key
    assert report["walls"] == 2 and report["rate"] == 10.0 and report["connections"] == 5
    assert report["posts_missing"] == 0 and report["decisions_missing"] == 0
    assert report["db_cpu_s"] > 0  # the server's own processes, read from /proc


@pytest.mark.parametrize("where", ["no binaries", "no server at the url"])
def test_the_command_says_in_one_line_why_it_cannot_run(tmp_path: Path, where: str) -> None:
    env = {**os.environ, "AGORA_DB_PASSWORD": "sekrit-pass-123"}
    argv = [sys.executable, "-m", "agora", "bench", "fanout", "--walls", "2", "--seconds", "1"]
    if where == "no binaries":
        env["AGORA_PG_BINDIR"] = str(tmp_path)  # no initdb there
    else:
        argv += ["--url", f"postgresql://agora@127.0.0.1:{free_port()}/agora"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr  # no traceback
    expected = "initdb, pg_ctl" if where == "no binaries" else "cannot use postgresql://agora@"
    assert expected in done.stderr
    assert "sekrit-pass-123" not in done.stderr + done.stdout

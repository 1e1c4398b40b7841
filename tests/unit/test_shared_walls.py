"""Many walls, one conversation (issue 17): a collector writes a shared PostgreSQL store, walls
in other offices follow it with their own rules, a decision made anywhere reaches every wall,
two collectors do not both poll a source, and a database that goes away is survived.

Real PostgreSQL servers started by the test suite (tests/pgserver.py); engines in-process
(the same code ``agora collect`` and ``agora run`` run; tests/e2e/test_shared_processes.py runs
them as processes)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agora.config.schema import WallConfig
from agora.engine import Engine
from agora.store import wall_store
from agora.store.base import Store
from tests.pgserver import Database, PgServer

NOW = datetime.now(UTC).replace(microsecond=0)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def line(n: int, text: str = "Lumen is nice", minutes_ago: int = 5) -> str:
    return json.dumps(
        {
            "id": f"jsonl:{n}",
            "text": f"{text} ({n})",
            "created_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
            "author": {"handle": f"@a{n}"},
        }
    )


def config(db: Database, tmp_path: Path, **extra: Any) -> WallConfig:
    base: dict[str, Any] = {
        "wall": {"name": extra.pop("name", "Espoo lobby")},
        "topics": {"lumen": {"label": "Lumen", "terms": ["lumen"]}},
        "sources": [{"name": "archive", "kind": "jsonl", "path": str(tmp_path / "posts.jsonl")}],
        "store": {"url": db.url, "password": "env:AGORA_DB_PASSWORD"},
    }
    base.update(extra)
    return WallConfig.model_validate(base)


class Running:
    """Engines started for a test and stopped at its end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.engines: list[Engine] = []

    def start(self, wall: WallConfig, role: str, name: str | None = None) -> Engine:
        store: Store = wall_store(wall.store, self.tmp_path, wall.wall.name)
        engine = Engine(
            wall,
            store,
            config_dir=self.tmp_path,
            role=role,
            name=name,  # type: ignore[arg-type]
        )
        engine.start()
        wait_until(engine.ready.is_set, f"{name or role} to start")
        self.engines.append(engine)
        return engine

    def stop_all(self) -> None:
        for engine in self.engines:
            engine.stop(timeout=2.0)
            engine.store.close()


@pytest.fixture
def running(tmp_path: Path) -> Any:
    engines = Running(tmp_path)
    yield engines
    engines.stop_all()


@pytest.fixture
def db(pg_database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("AGORA_DB_PASSWORD", pg_database.password)
    return pg_database


def shown(engine: Engine) -> set[str]:
    engine.publish(force=True)
    return {p.id for p in engine.snapshot.newest}


def test_walls_follow_what_one_collector_writes(
    db: Database, tmp_path: Path, running: Running
) -> None:
    (tmp_path / "posts.jsonl").write_text(line(1) + "\n" + line(2) + "\n", encoding="utf-8")
    collector = running.start(config(db, tmp_path), "collector", "collector one")
    espoo = running.start(config(db, tmp_path, name="Espoo lobby"), "wall")
    berlin = running.start(config(db, tmp_path, name="Berlin lobby"), "wall")
    for wall in (espoo, berlin):
        wait_until(lambda w=wall: shown(w) == {"jsonl:1", "jsonl:2"}, "the collector's posts")
        assert wall.sources == []  # a wall polls nothing itself
    # a post appended later reaches every wall, once
    with (tmp_path / "posts.jsonl").open("a", encoding="utf-8") as out:
        out.write(line(3) + "\n")
    for wall in (espoo, berlin):
        wait_until(lambda w=wall: "jsonl:3" in shown(w), "the new post")
        assert wall.snapshot.summary(None).posts.total == 3
    assert collector.store.count_posts() == 3


def test_a_decision_made_at_one_wall_reaches_every_wall(
    db: Database, tmp_path: Path, running: Running
) -> None:
    (tmp_path / "posts.jsonl").write_text(line(1) + "\n" + line(2) + "\n", encoding="utf-8")
    running.start(config(db, tmp_path), "collector", "collector one")
    walls = [running.start(config(db, tmp_path, name=f"Wall {n}"), "wall") for n in range(3)]
    for wall in walls:
        wait_until(lambda w=wall: "jsonl:1" in shown(w), "the posts")
    walls[0].decide("hide", "jsonl:1", "kim", "off topic")
    took = max(
        wait_until(lambda w=wall: "jsonl:1" not in shown(w), "the hide everywhere")
        for wall in walls
    )
    assert took < 10.0  # a second on a quiet machine (bench fanout measures it); slack for CI
    decisions = walls[1].store.decisions()
    assert decisions[-1].origin == "Wall 0" and decisions[-1].actor == "kim"


def test_an_office_rule_applies_only_in_that_office(
    db: Database, tmp_path: Path, running: Running
) -> None:
    (tmp_path / "posts.jsonl").write_text(
        line(1, "Lumen giveaway here") + "\n" + line(2) + "\n", encoding="utf-8"
    )
    running.start(config(db, tmp_path), "collector", "collector one")
    strict = running.start(
        config(db, tmp_path, name="Strict office", moderation={"block_terms": ["giveaway"]}),
        "wall",
    )
    relaxed = running.start(config(db, tmp_path, name="Relaxed office"), "wall")
    wait_until(lambda: shown(relaxed) == {"jsonl:1", "jsonl:2"}, "both posts in the relaxed office")
    wait_until(lambda: shown(strict) == {"jsonl:2"}, "only the clean post in the strict office")


def test_two_collectors_with_the_same_source_do_not_both_poll_it(
    db: Database, tmp_path: Path, running: Running
) -> None:
    (tmp_path / "posts.jsonl").write_text(line(1) + "\n", encoding="utf-8")
    first = running.start(config(db, tmp_path), "collector", "collector one")
    wait_until(lambda: first.store.lease_holder("archive") is not None, "a lease")
    second = running.start(config(db, tmp_path), "collector", "collector two")
    holder = first.store.lease_holder("archive")
    assert holder is not None and holder.startswith("collector one@")
    wait_until(
        lambda: (
            second.health()["archive"].state == "idle"
            and "another collector" in (second.health()["archive"].last_error or "")
        ),
        "the second collector to leave the source alone",
    )
    # the first stops: its lease is given back and the second takes the source over
    first.stop(timeout=2.0)
    wait_until(
        lambda: (second.store.lease_holder("archive") or "").startswith("collector two@"),
        "the second collector to take the source over",
        timeout=90,
    )


def test_a_wall_survives_the_database_going_away_and_catches_up(
    pg_own_server: PgServer, tmp_path: Path, running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = pg_own_server.create_database()
    monkeypatch.setenv("AGORA_DB_PASSWORD", database.password)
    posts = tmp_path / "posts.jsonl"
    posts.write_text(line(1) + "\n", encoding="utf-8")
    collector = running.start(config(database, tmp_path), "collector", "collector one")
    wall = running.start(config(database, tmp_path, name="Lobby"), "wall")
    wait_until(lambda: shown(wall) == {"jsonl:1"}, "the first post")
    pg_own_server.stop()
    wait_until(lambda: "shared store" in wall.health(), "the wall to notice", timeout=90)
    assert shown(wall) == {"jsonl:1"}  # it keeps showing what it has
    assert "cannot be reached" in (wall.health()["shared store"].last_error or "")
    with posts.open("a", encoding="utf-8") as out:  # the collector reads on meanwhile
        out.write(line(2) + "\n" + line(3) + "\n")
    wait_until(lambda: collector.ingested >= 3, "the collector to read the new posts")
    pg_own_server.start_again()
    wait_until(lambda: shown(wall) == {"jsonl:1", "jsonl:2", "jsonl:3"}, "catching up", 120)
    wait_until(lambda: "shared store" not in wall.health(), "the store to be back")
    assert wall.snapshot.summary(None).posts.total == 3  # nothing twice
    assert collector.store.count_posts() == 3  # written once, after the restart

"""A collector and three walls as real processes on one PostgreSQL server (issue 17): the walls
show what the collector writes, and a decision made with ``agora moderation`` reaches every
wall. The server is a real one started by the test suite (tests/pgserver.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agora.store.postgres import PostgresStore
from tests.e2e.wallproc import RunningWall
from tests.pgserver import Database

NOW = datetime.now(UTC).replace(microsecond=0)

pytestmark = pytest.mark.slow


def write_config(tmp_path: Path, db: Database, name: str) -> Path:
    path = tmp_path / f"{name.lower().replace(' ', '-')}.toml"
    path.write_text(
        f"""
[wall]
name = "{name}"

[topics.lumen]
label = "Lumen"
terms = ["lumen"]

[[sources]]
name = "archive"
kind = "jsonl"
path = "posts.jsonl"

[store]
url = "{db.url}"
password = "env:AGORA_DB_PASSWORD"

[[screens]]
output = 0
[[screens.pages]]
seconds = 30
grid = "2x1"
panels = [{{ kind = "river", at = "0,0" }}, {{ kind = "sentiment", at = "1,0" }}]
""",
        encoding="utf-8",
    )
    return path


def test_a_collector_and_three_walls_share_posts_and_decisions(
    pg_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGORA_DB_PASSWORD", pg_database.password)
    lines = [
        json.dumps(
            {
                "id": f"jsonl:{n}",
                "text": f"Lumen post {n}",
                "created_at": (NOW - timedelta(minutes=n)).isoformat(),
                "author": {"handle": f"@a{n}"},
            }
        )
        for n in range(1, 4)
    ]
    (tmp_path / "posts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    company = write_config(tmp_path, pg_database, "Company")
    collector_log = tmp_path / "collector.log"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    collector = subprocess.Popen(
        [
            sys.executable,
            *("-m", "agora", "collect", str(company), "--name", "collector-one"),
            *("--data-dir", str(tmp_path / "c"), "--log-file", str(collector_log)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    walls: list[RunningWall] = []
    store = PostgresStore(pg_database.url, password=pg_database.password)
    try:
        deadline = time.monotonic() + 120
        while store.count_posts() < 3:
            assert collector.poll() is None, "the collector exited"
            assert time.monotonic() < deadline, "the collector wrote nothing"
            time.sleep(0.1)
        for office in ("Espoo lobby", "Berlin lobby", "War room"):
            config = write_config(tmp_path, pg_database, office)
            data = tmp_path / office.replace(" ", "-")
            walls.append(RunningWall(config, data, tmp_path / f"{data.name}.log"))
        for wall in walls:
            wall.wait_for("running on")
        decide = subprocess.run(
            [
                sys.executable,
                *("-m", "agora", "moderation", str(company), "hide", "jsonl:2"),
                *("--actor", "kim", "--reason", "off topic"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert decide.returncode == 0, decide.stderr
        for wall in walls:
            wall.wait_for("decision from elsewhere: hide jsonl:2 by kim (agora moderation)")
        assert store.decisions()[-1].origin == "agora moderation"
        assert store.count_posts() == 3  # the walls wrote no posts
    finally:
        for wall in walls:
            wall.stop()
        collector.terminate()
        collector.wait(timeout=60)
        store.close()

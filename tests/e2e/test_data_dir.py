"""``--data-dir`` on the commands that read a wall's store without running it: ``analyse`` prints
what a running wall with a live source holds (its operators' decisions applied), ``snapshot``
renders it, ``fetch`` shows the wall's decisions in the moderation state it prints; all three
open the store read-only and never change it (cursors included), while the wall runs and writes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .test_cli import agora
from .wallproc import RunningWall

WALL = "Data dir wall"
DATABASE = "data-dir-wall.sqlite3"


def hits(now: float) -> list[dict[str, Any]]:
    """Three Hacker News comments of the last minutes, by three authors."""
    found = []
    for n, author in ((1, "alma"), (2, "bruno"), (3, "cleo")):
        stamp = int(now) - 600 + 60 * n
        found.append(
            {
                "objectID": str(9000 + n),
                "author": author,
                "comment_text": f"The Lumen X1 camera, note {n}",
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp)),
                "created_at_i": stamp,
                "story_id": 9000,
                "parent_id": 9000,
                "story_title": "Lumen X1",
                "_tags": ["comment", f"author_{author}", "story_9000"],
            }
        )
    return found


class _Algolia(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        body = json.dumps(
            {"hits": self.server.hits, "nbPages": 1, "page": 0, "hitsPerPage": 100}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Algolia)
        self.hits = hits(time.time())


@pytest.fixture
def algolia() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def write_config(tmp_path: Path, port: int) -> Path:
    config = tmp_path / "wall.toml"
    config.write_text(
        f"""
[wall]
name = "{WALL}"

[topics.lumen]
label = "Lumen"
terms = ["lumen"]

[[sources]]
name = "hn"
kind = "hackernews"
base_url = "http://127.0.0.1:{port}"
query = "lumen"
every = "10m"

[[screens]]
output = 0
[[screens.pages]]
seconds = 30
grid = "2x1"
panels = [{{ kind = "river", at = "0,0" }}, {{ kind = "kpis", at = "1,0" }}]
""",
        encoding="utf-8",
    )
    return config


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as db:
        return db.execute(sql).fetchall()


def wait_until(check: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(sqlite3.Error):
            if check():
                return
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.1)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_data_dir_reads_the_wall_store_read_only(tmp_path: Path, algolia: _Server) -> None:
    config = write_config(tmp_path, algolia.server_address[1])
    data = tmp_path / "data"
    database = data / DATABASE
    wall = RunningWall(config, data, tmp_path / "wall.log")
    try:
        wall.wait_for("first frame painted", timeout=120)
        wait_until(lambda: query(database, "SELECT count(*) FROM posts")[0][0] == 3, "3 posts")
        ids = [row[0] for row in query(database, "SELECT id FROM posts ORDER BY created")]
        # the operators hide the second post and block the third one's author
        for action, target in (("hide", ids[1]), ("block", ids[2])):
            done = agora("moderation", config, action, target, "--data-dir", data)
            assert done.returncode == 0, done.stderr
        wall.wait_for_all(r"decision from elsewhere: block", timeout=60)

        # analyse: what the running wall holds, its decisions applied, read-only
        result = agora("analyse", config, "--json", "--data-dir", data)
        assert result.returncode == 0, result.stderr
        held = json.loads(result.stdout)
        assert held["posts"]["total"] == 3
        assert held["posts"]["by_source"] == {"hackernews": 3}
        assert held["posts"]["hidden"] == 2 and held["posts"]["shown"] == 1
        assert [f["id"] for f in held["featured"]] == [ids[0]]
        assert held["sources"]["hn"]["state"] == "ok"
        # ...where the offline sources alone hold nothing (the wall's source is live)
        offline = json.loads(agora("analyse", config, "--json").stdout)
        assert offline["posts"]["total"] == 0

        # snapshot renders the same store; without it, the page is another picture
        from_store, from_config = tmp_path / "store.png", tmp_path / "offline.png"
        for out, extra in ((from_store, ("--data-dir", data)), (from_config, ())):
            shot = agora("snapshot", config, "--size", "960x540", "--out", out, *extra)
            assert shot.returncode == 0, shot.stderr
        assert digest(from_store) != digest(from_config)

        # fetch prints the moderation state the wall's decisions give
        fetched = agora("fetch", config, "--data-dir", data)
        assert fetched.returncode == 0, fetched.stderr
        states = {
            p["id"]: p["moderation"]["state"] for p in map(json.loads, fetched.stdout.splitlines())
        }
        assert states == {ids[0]: "approved", ids[1]: "hidden", ids[2]: "hidden"}
        plain = agora("fetch", config)
        assert {json.loads(line)["moderation"]["state"] for line in plain.stdout.splitlines()} == {
            "approved"
        }
        assert wall.process.poll() is None  # the wall ran through all of it
    finally:
        wall.stop()

    # on the stopped wall's file: the three commands leave every byte and cursor as it was
    cursor = query(database, "SELECT value FROM cursors WHERE source = 'hn'")
    before = digest(database)
    algolia.hits = hits(time.time() + 3600)  # newer posts: a fetch that saved would move it
    for args in (
        ("analyse", config, "--json", "--data-dir", data),
        ("fetch", config, "--data-dir", data),
        ("snapshot", config, "--size", "640x360", "--out", tmp_path / "x.png", "--data-dir", data),
    ):
        assert agora(*args).returncode == 0
    assert digest(database) == before
    assert query(database, "SELECT value FROM cursors WHERE source = 'hn'") == cursor


def test_data_dir_without_a_store_falls_back_to_the_offline_sources(tmp_path: Path) -> None:
    """A data directory where no wall has run yet (as in acceptance checks): the offline sources,
    as before, and a line on stderr saying so; nothing is created."""
    (tmp_path / "posts.jsonl").write_text(
        json.dumps(
            {
                "id": "jsonl:1",
                "source": "jsonl",
                "text": "lumen",
                "created_at": "2026-11-20T10:00:00Z",
                "author": {"handle": "@a"},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    config = tmp_path / "wall.toml"
    config.write_text(
        '[wall]\nname = "Fresh"\n[topics.lumen]\nterms = ["lumen"]\n'
        '[[sources]]\nname = "archive"\nkind = "jsonl"\npath = "posts.jsonl"\n',
        encoding="utf-8",
    )
    data = tmp_path / "data"
    result = agora("analyse", config, "--json", "--data-dir", data)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["posts"]["total"] == 1
    assert f"no store at {data / 'fresh.sqlite3'} yet" in result.stderr
    fetched = agora("fetch", config, "--data-dir", data)
    assert fetched.returncode == 0 and len(fetched.stdout.splitlines()) == 1
    assert not data.exists()

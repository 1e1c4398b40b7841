"""``agora moderation`` on a wall's store, beside a running wall; hostile strings through
``agora fetch``."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agora.config.loader import load_config
from agora.core.post import Author, Post
from agora.engine import Engine
from agora.store import database_path
from agora.store.sqlite import SqliteStore

from .test_cli import agora, archive_config, write_posts

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def post(n: int, text: str, handle: str = "@ana") -> Post:
    return Post(
        id=f"jsonl:mod-{n}",
        source="jsonl",
        feed="archive",
        text=text,
        created_at=NOW - timedelta(minutes=n),
        author=Author(handle, handle.strip("@").title()),
        lang="en",
    )


@pytest.fixture
def wall(tmp_path: Path) -> tuple[Path, Path]:
    """A manual-approval wall whose store holds three waiting posts; (config, data dir)."""
    write_posts(tmp_path / "posts.jsonl", [])
    config = archive_config(tmp_path, extra='\n[moderation]\napproval = "manual"\n')
    data = tmp_path / "data"
    loaded = load_config(config)
    store = SqliteStore(database_path(data, loaded.config.wall.name))
    engine = Engine(loaded.config, store, config_dir=tmp_path, clock=lambda: NOW, sources=[])
    engine.warm()
    engine.ingest_now(
        [
            post(1, "Lumen waiting one"),
            post(2, "Lumen waiting two", "@troll"),
            post(3, "Lumen waiting three", "@troll"),
        ]
    )
    store.close()
    return config, data


def test_list_approve_hide_pin_block_and_unblock(wall: tuple[Path, Path]) -> None:
    config, data = wall
    listed = agora("moderation", config, "list", "--data-dir", data, "--json")
    assert listed.returncode == 0, listed.stderr
    report = json.loads(listed.stdout)
    assert [p["id"] for p in report["pending"]] == ["jsonl:mod-1", "jsonl:mod-2", "jsonl:mod-3"]
    assert report["pending"][0]["reasons"] == ["manual approval"]

    done = agora(
        "moderation", config, "approve", "jsonl:mod-1", "--data-dir", data, "--actor", "kim"
    )
    assert done.returncode == 0, done.stderr
    assert "approved post jsonl:mod-1" in done.stdout and "by kim" in done.stdout
    hidden = agora(
        "moderation", config, "hide", "jsonl:mod-2", "--data-dir", data, "--reason", "rude"
    )
    assert hidden.returncode == 0, hidden.stderr
    pinned = agora("moderation", config, "pin", "jsonl:mod-1", "--data-dir", data)
    assert pinned.returncode == 0, pinned.stderr
    blocked = agora("moderation", config, "block", "jsonl:mod-3", "--data-dir", data)
    assert blocked.returncode == 0, blocked.stderr
    assert "blocked author @troll" in blocked.stdout  # the author of that post

    text = agora("moderation", config, "list", "--data-dir", data)
    assert text.returncode == 0, text.stderr
    assert "Waiting for approval: 0" in text.stdout
    assert re.search(r"#\d+\s+\S+\s+hide jsonl:mod-2 by \S+: rude", text.stdout)
    assert "@troll" in text.stdout.split("Blocked authors")[1]
    report = json.loads(agora("moderation", config, "list", "--data-dir", data, "--json").stdout)
    assert [d["action"] for d in report["decisions"]] == ["block", "pin", "hide", "approve"]
    assert report["decisions"][-1]["actor"] == "kim"
    assert report["blocked_authors"][0]["handle"] == "troll"

    unblocked = agora("moderation", config, "unblock", "@Troll", "--data-dir", data)
    assert unblocked.returncode == 0, unblocked.stderr
    report = json.loads(agora("moderation", config, "list", "--data-dir", data, "--json").stdout)
    assert report["blocked_authors"] == []


def test_mistakes_are_one_clear_line(wall: tuple[Path, Path], tmp_path: Path) -> None:
    config, data = wall
    missing = agora("moderation", config, "hide", "jsonl:nope", "--data-dir", data)
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("agora: no post 'jsonl:nope'")
    no_target = agora("moderation", config, "pin", "--data-dir", data)
    assert no_target.returncode == 1 and "needs a post id" in no_target.stderr
    nowhere = agora("moderation", config, "list", "--data-dir", tmp_path / "elsewhere")
    assert nowhere.returncode == 1 and "no database for wall" in nowhere.stderr
    bad = agora("moderation", config, "ban", "x", "--data-dir", data)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


@pytest.fixture
def running(wall: tuple[Path, Path]) -> Iterator[tuple[Engine, Path, Path]]:
    config, data = wall
    loaded = load_config(config)
    store = SqliteStore(database_path(data, loaded.config.wall.name))
    engine = Engine(loaded.config, store, config_dir=config.parent, clock=lambda: NOW, sources=[])
    engine.start()
    try:
        assert engine.ready.wait(60)
        yield engine, config, data
    finally:
        engine.close()


@pytest.mark.slow
def test_a_decision_made_with_the_cli_reaches_the_running_wall(
    running: tuple[Engine, Path, Path],
) -> None:
    engine, config, data = running
    assert engine.wait_for(lambda s: len(s.pending) == 3, timeout=60)
    approved = agora("moderation", config, "approve", "jsonl:mod-1", "--data-dir", data)
    assert approved.returncode == 0, approved.stderr
    assert engine.wait_for(lambda s: "jsonl:mod-1" in {p.id for p in s.newest}, timeout=60)
    pinned = agora("moderation", config, "pin", "jsonl:mod-1", "--data-dir", data)
    assert pinned.returncode == 0, pinned.stderr
    assert engine.wait_for(
        lambda s: bool(s.featured) and s.featured[0].post.id == "jsonl:mod-1", timeout=60
    )
    blocked = agora("moderation", config, "block", "@troll", "--data-dir", data)
    assert blocked.returncode == 0, blocked.stderr
    assert engine.wait_for(
        lambda s: s.blocked_authors == ("troll",) and len(s.pending) == 0, timeout=60
    )
    hidden = agora("moderation", config, "hide", "jsonl:mod-1", "--data-dir", data)
    assert hidden.returncode == 0, hidden.stderr
    assert engine.wait_for(lambda s: not s.featured and not s.newest, timeout=60)


# ---------------------------------------------------------------------------------------------
# hostile strings through `agora fetch`

HOSTILE = [
    "<b>bold</b><script>alert(1)</script><img src=x onerror=alert(1)> Lumen",
    "%s%s%s%n {0} {name!r} ${HOME} $(rm -rf /) `id` Lumen",
    "\u202eevil\u202c \u2066iso\u2069 \u200f\u061c עברית العربية Lumen",
    "Lumen\u200b\u200b z\u200dw\u2060j \ufeff\u00ad soft",
    "\x1b[2J\x1b[31mred\x07\x00\x08 Lumen\r\n\r\nsecond paragraph",
    "Lumen 👨‍👩‍👧‍👦🏳️‍🌈🇫🇮👍🏽" * 20,
    "Z̷̢̛̖̗̘̙̜̝̞̟̠ Lumen" + "\u0301" * 500,
    "Lumen " + "A" * 100_000,
    "Lumen " + "word " * 20_000,
]


def test_hostile_strings_come_out_of_fetch_as_plain_bounded_text(tmp_path: Path) -> None:
    rows: list[str | dict[str, object]] = [
        {
            "id": f"jsonl:h{i}",
            "text": text,
            "created_at": "2026-11-22T10:00:00Z",
            "author": {"handle": f"@h{i}<b>x</b>\u202e", "name": text[:500]},
            "media": [{"kind": "image", "url": "javascript:alert(1)"}],
        }
        for i, text in enumerate(HOSTILE)
    ]
    rows.append("{not json at all <script>")
    write_posts(tmp_path / "posts.jsonl", rows)
    config = archive_config(tmp_path)
    result = agora("fetch", config)
    assert result.returncode == 0, result.stderr
    posts = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(posts) == len(HOSTILE)
    for out in posts:
        for text in (out["text"], out["author"]["name"], out["author"]["handle"]):
            assert len(text) <= 5_000
            assert not [c for c in text if unicodedata.category(c) == "Cc" and c != "\n"]
            assert not re.search("[\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff\u00ad]", text)
        assert out["moderation"]["state"] in ("approved", "hidden")
        assert out["media"] == []  # only http(s) links are kept
    assert posts[0]["text"].startswith("<b>bold</b><script>")  # kept literally, never parsed
    assert posts[7]["text"].endswith("…")

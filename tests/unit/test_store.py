"""The SQLite store and its fallbacks: what the wall remembers, and how it survives a bad disk.

What every store must do (SQLite, memory, PostgreSQL) is in test_store_contract.py."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agora.core.post import Author, Metrics, Moderation, Post
from agora.core.storage import StoreUnavailableError
from agora.store import FallbackStore, database_path, open_store
from agora.store.base import Decision
from agora.store.sqlite import SCHEMA_VERSION, SqliteStore, StoreOpenError

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def make(n: int, minutes: int = 0, likes: int = 0) -> Post:
    return Post(
        id=f"test:{n}",
        source="mastodon",
        feed="fedi",
        text=f"Post number {n} about Lumen",
        created_at=T0 + timedelta(minutes=minutes),
        author=Author(f"@u{n}@example.org", f"User {n}", None, None, 10),
        metrics=Metrics(likes=likes),
        topics=("brand",),
    )


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "wall.sqlite3"
    first = SqliteStore(path)
    first.add_posts([make(i, i) for i in range(10)])
    first.set_cursor("fedi", "abc")
    first.add_decision(Decision("hide", "test:3", "console", T0, "spam"))
    first.close()
    first.close()  # idempotent
    second = SqliteStore(path)
    try:
        assert second.count_posts() == 10
        assert second.get_cursor("fedi") == "abc"
        (decision,) = second.decisions()
        assert (decision.action, decision.target, decision.reason) == ("hide", "test:3", "spam")
        assert decision.at == T0
        assert second.schema_version == SCHEMA_VERSION
        mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    finally:
        second.close()


def test_iter_posts_pages_through_many_posts(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "wall.sqlite3")
    try:
        store.add_posts([make(i, i % 600) for i in range(4_500)])
        ids = [p.id for p in store.iter_posts()]
        assert len(ids) == len(set(ids)) == 4_500
        times = [p.created_at for p in store.iter_posts()]
        assert times == sorted(times)
    finally:
        store.close()


def test_an_unreadable_row_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "wall.sqlite3"
    store = SqliteStore(path)
    store.add_posts([make(1), make(2, 1)])
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE posts SET body = '{broken' WHERE id = 'test:1'")
    store = SqliteStore(path)
    try:
        assert [p.id for p in store.iter_posts()] == ["test:2"]
    finally:
        store.close()


def test_data_dir_and_wall_name_give_the_path(tmp_path: Path) -> None:
    assert database_path(tmp_path, "Espoo lobby / 2") == tmp_path / "espoo-lobby-2.sqlite3"
    assert database_path(tmp_path, "!!!") == tmp_path / "wall.sqlite3"


# -- fallbacks: one clear log line, then memory --------------------------------------------------


def fallback(tmp_path: Path, caplog: pytest.LogCaptureFixture, wall: str = "w") -> str:
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="agora.store"):
        store = open_store(tmp_path, wall, logging.getLogger("agora.store"))
    assert store.kind == "memory"
    store.add_posts([make(1)])  # and it works
    assert store.count_posts() == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    return errors[0].getMessage()


def test_fallback_when_the_directory_cannot_be_created(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    message = fallback(blocker / "sub", caplog)
    assert "cannot create" in message
    assert "memory" in message


def test_fallback_when_the_database_is_corrupt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = database_path(tmp_path, "w")
    garbage = b"this is not a database at all " * 200
    path.write_bytes(garbage)
    message = fallback(tmp_path, caplog)
    assert "damaged" in message
    assert path.read_bytes() == garbage  # left untouched for inspection


def test_fallback_when_the_database_is_locked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = database_path(tmp_path, "w")
    SqliteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        message = fallback(tmp_path, caplog)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked" in message


def test_fallback_when_written_by_a_newer_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = database_path(tmp_path, "w")
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    message = fallback(tmp_path, caplog)
    assert "newer Agora" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_fallback_when_read_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = database_path(tmp_path, "w")
    SqliteStore(path).close()
    for leftover in tmp_path.glob("*-wal"):
        leftover.unlink()
    path.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        message = fallback(tmp_path, caplog)
    finally:
        tmp_path.chmod(0o755)
    assert "read-only" in message or "cannot be opened" in message


def test_a_full_disk_while_running_switches_to_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(tmp_path, "w", logging.getLogger("agora.store"))
    assert isinstance(store, FallbackStore)
    assert store.kind == "sqlite"
    store.add_posts([make(i) for i in range(5)])
    active = store.active
    assert isinstance(active, SqliteStore)
    # the database may not grow any more: the next big insert fails as on a full disk
    pages = active._db.execute("PRAGMA page_count").fetchone()[0]
    active._db.execute(f"PRAGMA max_page_count={pages}")
    big = [replace(make(100 + i), text="Lumen " * 500) for i in range(200)]
    with caplog.at_level(logging.ERROR, logger="agora.store"):
        assert store.add_posts(big) == 200
        store.add_posts([make(999)])
    assert store.kind == "memory"
    # (tmp_path holds the test's name, "…full_disk…": look for the words, not for "full")
    assert f"the disk is full: {active.path} cannot grow" in store.status
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    said = errors[0].getMessage()
    assert f"the disk is full: {active.path} cannot grow (database or disk is full)" in said
    assert "rollback" not in said  # the error reported is the original one
    assert store.count_posts() == 201
    store.close()


def test_a_write_that_fills_the_disk_raises_the_original_error(tmp_path: Path) -> None:
    """SQLite rolls the transaction back by itself on a full disk; the store must not then
    replace the error with "cannot rollback - no transaction is active"."""
    store = SqliteStore(tmp_path / "w.sqlite3")
    store.add_posts([make(i) for i in range(3)])
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count={pages}")
    big = [replace(make(100 + i), text="Lumen " * 500) for i in range(200)]
    with pytest.raises(StoreUnavailableError, match="the disk is full") as raised:
        store.add_posts(big)
    cause = raised.value.__cause__  # SQLite's own error, kept
    assert isinstance(cause, sqlite3.Error) and cause.sqlite_errorcode == sqlite3.SQLITE_FULL
    assert not store._db.in_transaction
    assert store.count_posts() == 3  # nothing of the failed batch, and the store still reads
    store._db.execute("PRAGMA max_page_count=1073741823")
    assert store.add_posts([make(7)]) == 1  # and writes again once there is room
    store.close()


def test_a_database_file_removed_while_running_switches_to_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FallbackStore, "FILE_CHECK_S", 0.0)
    store = open_store(tmp_path, "w", logging.getLogger("agora.store"))
    assert isinstance(store, FallbackStore)
    store.add_posts([make(i) for i in range(3)])
    database = store.active
    assert isinstance(database, SqliteStore)
    database.path.unlink()  # someone cleans up the data directory under a running wall
    with caplog.at_level(logging.ERROR, logger="agora.store"):
        assert store.add_posts([make(10), make(11)]) == 2
    assert store.kind == "memory"
    assert "removed or replaced" in store.status
    assert "running in memory" in caplog.text
    store.close()


def test_a_killed_wall_loses_at_most_the_batch_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "wall.sqlite3"
    code = textwrap.dedent(
        f"""
        import sys
        from datetime import UTC, datetime, timedelta
        from agora.core.post import Author, Post
        from agora.store.sqlite import SqliteStore
        store = SqliteStore({str(path)!r})
        t0 = datetime(2026, 11, 20, tzinfo=UTC)
        n = 0
        while True:
            batch = [
                Post(id=f"k:{{n + i}}", source="x", feed="f", text="Lumen " * 20,
                     created_at=t0 + timedelta(seconds=n + i), author=Author("@a", "A"))
                for i in range(200)
            ]
            store.add_posts(batch)
            n += 200
            print(n, flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    assert proc.stdout is not None
    committed = 0
    for line in proc.stdout:
        committed = int(line)
        if committed >= 4_000:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()
    store = SqliteStore(path)
    try:
        count = store.count_posts()
        assert count >= committed
        assert count % 200 == 0  # whole transactions only
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # the change numbers go on from the last one the killed wall gave, none given twice
        assert store.newest_change() == count
        store.add_posts([make(1)])
        assert [c.seq for c in store.changes(count)] == [count + 1]
    finally:
        store.close()


def _wal_pages(path: Path) -> int:
    """Pages written to the WAL so far (its frames: a 24-byte header and a page each)."""
    wal = path.with_name(path.name + "-wal")
    page = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0]
    return (wal.stat().st_size - 32) // (24 + page)


def test_a_commit_writes_only_the_pages_of_its_posts(tmp_path: Path) -> None:
    # what a live wall's batch costs is mostly the pages its commit writes: the post's row and
    # its entry in each index the reads need (id, time, change number), and nothing else (the
    # last change number is read from the indexes, not kept in a row of its own)
    path = tmp_path / "wall.sqlite3"
    store = SqliteStore(path)
    try:
        store.add_posts([make(i, i) for i in range(200)])
        written = []
        for n in range(300, 311):
            before = _wal_pages(path)
            store.add_posts([make(n, n)])
            written.append(_wal_pages(path) - before)
        assert sorted(written)[len(written) // 2] <= 4, written
        before = _wal_pages(path)
        store.add_posts([make(n, n) for n in range(400, 420)])
        assert _wal_pages(path) - before <= 8  # a batch shares its pages: one commit
    finally:
        store.close()


def test_a_batch_is_stored_whole_or_not_at_all_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "wall.sqlite3"
    store = SqliteStore(path)
    store.add_posts([make(i, i) for i in range(5)])
    mark = store.newest_change()
    # a post the database refuses in the middle of a batch: nothing of the batch is kept
    store._db.execute(
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON posts WHEN NEW.id = 'test:14' "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    batch = [make(n, n) for n in range(10, 30)]
    with pytest.raises(sqlite3.Error):
        store.add_posts(batch)
    assert store.count_posts() == 5 and store.changes(mark) == []
    store._db.execute("DROP TRIGGER refuse")
    assert store.add_posts(batch) == 20
    store._db.close()  # no clean close: no checkpoint, the batch is only in the WAL
    again = SqliteStore(path)
    try:
        assert again.count_posts() == 25
        assert [c.post_id for c in again.changes(mark)] == [p.id for p in batch]
        assert [c.seq for c in again.changes(mark)] == list(range(mark + 1, mark + 21))
    finally:
        again.close()


def test_a_large_batch_of_new_and_known_posts_is_counted_and_numbered_in_order(
    tmp_path: Path,
) -> None:
    # a batch larger than one INSERT statement takes, known posts spread across its statements
    store = SqliteStore(tmp_path / "wall.sqlite3")
    try:
        assert store.add_posts([make(n, n) for n in range(0, 130, 4)]) == 33
        mark = store.newest_change()
        batch = [make(n, n, likes=n) for n in range(130)]
        assert store.add_posts(batch) == 130 - 33
        assert store.count_posts() == 130
        changes = store.changes(mark, limit=500)
        assert [c.post_id for c in changes] == [p.id for p in batch]
        assert [c.seq for c in changes] == list(range(mark + 1, mark + 131))
        assert all(c.post is not None and c.post.metrics.likes == n for n, c in enumerate(changes))
    finally:
        store.close()


def test_two_writers_on_one_file_never_give_a_number_twice(tmp_path: Path) -> None:
    # the moderation command writes into the file of a running wall
    path = tmp_path / "wall.sqlite3"
    wall, command = SqliteStore(path), SqliteStore(path)
    try:
        wall.add_posts([make(i, i) for i in range(3)])
        command.set_moderation("test:2", Moderation("hidden", ("spam",)))
        wall.add_posts([make(3, 3), make(0, 0, likes=4)])
        command.delete_posts(["test:0"])
        wall.add_posts([make(4, 4)])
        command.set_moderation("test:4", Moderation("pinned"))
        seen = [(c.post_id, c.deleted) for c in wall.changes()]
        assert seen == [
            ("test:1", False),
            ("test:2", False),
            ("test:3", False),
            ("test:0", True),
            ("test:4", False),
        ]
        numbers = [c.seq for c in wall.changes()]
        assert numbers == sorted(set(numbers))
        assert wall.newest_change() == command.newest_change() == numbers[-1]
    finally:
        wall.close()
        command.close()


def test_open_error_is_plain_words(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    path.write_bytes(b"\x00" * 4096)
    with pytest.raises(StoreOpenError) as caught:
        SqliteStore(path)
    assert str(path) in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_a_read_only_store_reads_a_wall_that_writes_and_never_writes_itself(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wall.sqlite3"
    wall = SqliteStore(path)
    wall.add_posts([make(i) for i in range(3)])
    wall.set_cursor("fedi", '{"min_id": "9"}')
    reader = SqliteStore(path, readonly=True)
    try:
        assert reader.count_posts() == 3
        wall.add_posts([make(10)])  # the wall goes on writing while it is read (WAL)
        assert reader.count_posts() == 4
        assert {p.id for p in reader.iter_posts()} == {p.id for p in wall.iter_posts()}
        for write in (
            lambda: reader.set_cursor("fedi", "moved"),
            lambda: reader.add_posts([make(11)]),
            lambda: reader.add_decision(Decision("hide", "jsonl:1", "kim", datetime.now(UTC), "")),
        ):
            # posts: the store cannot write (not the posts' fault); the rest: SQLite's error
            with pytest.raises((StoreUnavailableError, sqlite3.OperationalError), match="readonly"):
                write()
        assert wall.get_cursor("fedi") == '{"min_id": "9"}'
        assert wall.add_posts([make(12)]) == 1  # a reader never blocks the wall
    finally:
        reader.close()
        wall.close()
    # a stopped wall's file: read, and its bytes left as they were
    before = path.read_bytes()
    reader = SqliteStore(path, readonly=True)
    assert reader.count_posts() == 5
    reader.close()
    assert path.read_bytes() == before


def test_a_read_only_store_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "wall.sqlite3"
    with pytest.raises(StoreOpenError, match="no such database"):
        SqliteStore(missing, readonly=True)
    assert not missing.parent.exists()


def _schema_3_database(path: Path) -> None:
    """A database as the Agora before change numbers left it (schema 3), with two posts and a
    decision."""
    from agora.store.sqlite import MIGRATIONS

    with sqlite3.connect(path) as db:
        for step in MIGRATIONS[:3]:
            for statement in step.split(";"):
                if statement.strip():
                    db.execute(statement)
        db.execute("PRAGMA user_version=3")
        for post in (make(2, 1), make(1)):
            db.execute(
                "INSERT INTO posts (id, created, source, body, state) VALUES (?, ?, ?, ?, ?)",
                (post.id, post.timestamp, post.source, post.to_row(), "approved"),
            )
        db.execute(
            "INSERT INTO decisions (action, target, actor, at, reason) "
            "VALUES ('hide', 'test:1', 'kim', ?, 'rude')",
            (T0.timestamp(),),
        )
    db.close()


def test_a_schema_3_database_is_read_as_it_is_then_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "wall.sqlite3"
    _schema_3_database(path)
    # a read-only look (the console beside a wall of the previous version) changes nothing
    reader = SqliteStore(path, readonly=True)
    (old,) = reader.decisions()
    assert (old.action, old.target, old.origin, old.uid) == ("hide", "test:1", "", "")
    assert reader.changes() == [] and reader.newest_change() == 0
    reader.close()
    store = SqliteStore(path)
    try:
        assert store.schema_version == SCHEMA_VERSION
        # the posts kept are numbered in the order they came, so a follower reads them all
        assert [c.post_id for c in store.changes()] == ["test:2", "test:1"]
        mark = store.newest_change()
        assert mark == 2
        (decision,) = store.decisions()
        assert (decision.reason, decision.origin, decision.uid) == ("rude", "", "")
        newer = store.add_decision(Decision("pin", "test:2", "kim", T0, origin="Espoo"))
        assert newer.seq > decision.seq and store.decisions()[-1] == newer
        store.add_posts([make(3, 2)])
        assert [c.post_id for c in store.changes(mark)] == ["test:3"]
    finally:
        store.close()

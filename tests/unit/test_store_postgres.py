"""What only the shared PostgreSQL store must do: migrate safely beside running walls, number
changes so followers miss nothing, notify within a second, survive a server restart and a lost
answer, and never show a password. Real servers on 127.0.0.1 (tests/pgserver.py); the contract
every store keeps is in test_store_contract.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import psycopg.sql
import pytest

from agora.core.post import Author, Post
from agora.core.storage import StoreUnavailableError
from agora.store import MemoryStore, open_store
from agora.store.base import Decision
from agora.store.postgres import (
    CHANNEL_DECISIONS,
    CHANNEL_POSTS,
    CHANNELS,
    MIGRATIONS,
    ROLE_GRANTS,
    Listener,
    PostgresStore,
    conninfo,
    safe_url,
    url_has_password,
)
from agora.store.sqlite import StoreOpenError
from tests.pgserver import Database, PgServer

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def make(n: int, prefix: str = "test", likes: int = 0) -> Post:
    return Post(
        id=f"{prefix}:{n}",
        source="mastodon",
        feed="fedi",
        text=f"Post number {n} about Lumen",
        created_at=T0 + timedelta(seconds=n),
        author=Author(f"@u{n}@example.org", f"User {n}"),
    )


def wait_until(condition: Callable[[], bool], deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def admin(database: Database) -> Any:
    return psycopg.connect(database.admin_conninfo, autocommit=True)


@pytest.fixture
def opened() -> Iterator[list[PostgresStore | Listener]]:
    """Stores and listeners a test opens, closed at its end whatever happens."""
    things: list[PostgresStore | Listener] = []
    yield things
    for thing in things:
        thing.close()


def store_of(database: Database, opened: list[Any], **kwargs: Any) -> PostgresStore:
    store = PostgresStore(database.url, password=database.password, **kwargs)
    opened.append(store)
    return store


def listener_of(database: Database, opened: list[Any], *channels: str) -> Listener:
    listener = Listener(database.url, channels or CHANNELS, password=database.password)
    opened.append(listener)
    return listener


# -- migrations ----------------------------------------------------------------------------------

_MIGRATE_SLOWLY = """
import sys, time
import agora.store.postgres as pg
# the first step takes a while, so the two processes are surely migrating at the same time
pg.MIGRATIONS = (pg.MIGRATIONS[0] + "; SELECT pg_sleep(1.5)",) + pg.MIGRATIONS[1:]
started = time.monotonic()
store = pg.PostgresStore(sys.argv[1], password=sys.argv[2])
print(store.schema_version, round(time.monotonic() - started, 2), flush=True)
store.close()
"""


def test_two_processes_migrating_at_once_migrate_once(pg_database: Database) -> None:
    argv = [sys.executable, "-c", _MIGRATE_SLOWLY, pg_database.url, pg_database.password]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with admin(pg_database) as db:
            # the first one is inside its migration (asleep in it) before the second starts
            wait_until(
                lambda: (
                    db.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                        "AND datname = %s",
                        (pg_database.name,),
                    ).fetchone()[0]
                    == 1
                )
            )
            second = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            out2, err2 = second.communicate(timeout=120)
            out1, err1 = first.communicate(timeout=120)
            assert first.returncode == 0, err1
            assert second.returncode == 0, err2  # it waited, then found nothing to do
            assert out1.split()[0] == out2.split()[0] == str(len(MIGRATIONS))
            versions = db.execute("SELECT version FROM agora_schema ORDER BY 1").fetchall()
            assert versions == [(v,) for v in range(1, len(MIGRATIONS) + 1)]
    finally:
        first.kill()
        first.wait()


def test_a_migration_while_walls_are_connected(
    pg_database: Database, opened: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = store_of(pg_database, opened)
    wall.add_posts([make(1)])
    failures: list[BaseException] = []
    stop = threading.Event()
    written = [0]

    def keep_writing() -> None:  # a collector at work while a newer Agora migrates
        n = 100
        while not stop.is_set():
            try:
                wall.add_posts([make(n)])
                wall.decisions()
            except BaseException as exc:
                failures.append(exc)
                return
            n += 1
            written[0] += 1

    worker = threading.Thread(target=keep_writing)
    worker.start()
    try:
        wait_until(lambda: written[0] >= 20)
        newer = (*MIGRATIONS, "ALTER TABLE posts ADD COLUMN lang text")
        monkeypatch.setattr("agora.store.postgres.MIGRATIONS", newer)
        upgraded = store_of(pg_database, opened)
        assert upgraded.schema_version == len(newer)
        before = written[0]
        wait_until(lambda: written[0] >= before + 20)  # the walls carry on
    finally:
        stop.set()
        worker.join(60)
    assert failures == []
    monkeypatch.setattr("agora.store.postgres.MIGRATIONS", MIGRATIONS)
    with pytest.raises(StoreOpenError, match="newer Agora"):
        store_of(pg_database, opened)  # an older Agora started now refuses the newer schema
    assert wall.count_posts() == written[0] + 1


# -- numbering: a follower never sees a change before the ones numbered below it -------------------

_SLOW_TRIGGER = """
CREATE FUNCTION agora_test_slow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.{column} LIKE 'slow%' THEN PERFORM pg_sleep(1.5); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER agora_test_slow BEFORE INSERT ON {table}
    FOR EACH ROW EXECUTE FUNCTION agora_test_slow();
"""


def _in_pg_sleep(db: Any, database: Database) -> Callable[[], bool]:
    def check() -> bool:
        row = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = %s",
            (database.name,),
        ).fetchone()
        return bool(row and row[0] == 1)

    return check


@pytest.mark.parametrize("what", ["posts", "decisions"])
def test_a_slow_writer_is_never_overtaken(
    pg_database: Database, opened: list[Any], what: str
) -> None:
    """Writer A takes number n and is slow to commit; writer B takes n + 1 and commits. A
    follower that read n + 1 first would never read n (it asks for what is after n + 1). The
    store makes B wait for A, so the numbers become visible in order."""
    slow_store = store_of(pg_database, opened)
    fast_store = store_of(pg_database, opened)
    follower = store_of(pg_database, opened)
    column, table = ("id", "posts") if what == "posts" else ("reason", "decisions")
    db = admin(pg_database)
    opened.append(db)
    db.execute(_SLOW_TRIGGER.format(column=column, table=table))

    def write(store: PostgresStore, slow: bool) -> None:
        if what == "posts":
            store.add_posts([make(1, "slow" if slow else "fast")])
        else:
            store.add_decision(Decision("hide", "x:1", "kim", T0, "slow" if slow else "fast"))

    def read(after: int) -> list[tuple[int, str]]:
        if what == "posts":
            return [(c.seq, c.post_id) for c in follower.changes(after)]
        return [(d.seq, d.reason) for d in follower.decisions(after)]

    slow = threading.Thread(target=write, args=(slow_store, True))
    slow.start()
    seen: list[tuple[int, str]] = []
    try:
        wait_until(_in_pg_sleep(db, pg_database))  # A holds its number, asleep before committing
        fast = threading.Thread(target=write, args=(fast_store, False))
        fast.start()
        after = 0
        deadline = time.monotonic() + 20
        while len(seen) < 2 and time.monotonic() < deadline:
            page = read(after)
            if page:
                seen += page
                after = page[-1][0]
        fast.join(30)
    finally:
        slow.join(30)
    assert len(seen) == 2, f"the follower missed a change: saw only {seen}"
    assert seen[0][0] < seen[1][0]


# -- notifications -------------------------------------------------------------------------------


def test_a_decision_reaches_a_waiting_listener_within_a_second(
    pg_database: Database, opened: list[Any]
) -> None:
    store = store_of(pg_database, opened)
    listener = listener_of(pg_database, opened, CHANNEL_DECISIONS, CHANNEL_POSTS)
    assert listener.wait(30) == {CHANNEL_DECISIONS, CHANNEL_POSTS}  # connected: catch up first
    assert listener.wait(0.05) == set()  # nothing since
    for channel, write in [
        (CHANNEL_DECISIONS, lambda: store.add_decision(Decision("hide", "x:1", "kim", T0))),
        (CHANNEL_POSTS, lambda: store.add_posts([make(1)])),
        (CHANNEL_POSTS, lambda: store.delete_posts(["test:1"])),
    ]:
        heard: dict[str, Any] = {}

        def wait(into: dict[str, Any] = heard) -> None:
            into["channels"] = listener.wait(30)
            into["at"] = time.monotonic()

        waiter = threading.Thread(target=wait)
        waiter.start()
        sent = time.monotonic()
        write()
        waiter.join(60)
        assert heard["channels"] == {channel}
        assert heard["at"] - sent < 1.0
    assert listener.connections == 1


def test_a_listener_is_told_of_nothing_it_does_not_listen_to(
    pg_database: Database, opened: list[Any]
) -> None:
    store = store_of(pg_database, opened)
    listener = listener_of(pg_database, opened, CHANNEL_DECISIONS)
    assert listener.wait(30) == {CHANNEL_DECISIONS}
    store.add_posts([make(1)])
    store.set_state("sources.health:a", "{}")
    assert listener.wait(0.3) == set()
    store.add_decision(Decision("pin", "test:1", "kim", T0))
    assert listener.wait(30) == {CHANNEL_DECISIONS}


def test_closing_a_listener_ends_a_wait_in_another_thread(
    pg_database: Database, opened: list[Any]
) -> None:
    listener = listener_of(pg_database, opened, CHANNEL_DECISIONS)
    assert listener.wait(30) == {CHANNEL_DECISIONS}
    heard: dict[str, Any] = {}

    def wait() -> None:
        heard["channels"] = listener.wait(60)

    waiter = threading.Thread(target=wait)
    waiter.start()
    wait_until(listener._waiting.locked)
    started = time.monotonic()
    listener.close()
    waiter.join(30)
    assert not waiter.is_alive()
    assert time.monotonic() - started < 10  # not the 60 s it asked for
    assert heard["channels"] == set()
    assert not listener.connected
    assert listener.wait(1) == set()  # closed stays closed


def test_a_listener_survives_a_server_restart_and_misses_nothing(
    pg_own_server: PgServer, opened: list[Any]
) -> None:
    database = pg_own_server.create_database()
    store = store_of(database, opened)
    listener = listener_of(database, opened, CHANNEL_DECISIONS)
    assert listener.wait(30) == {CHANNEL_DECISIONS}
    seq = 0
    first = store.add_decision(Decision("hide", "x:1", "kim", T0))
    assert listener.wait(30) == {CHANNEL_DECISIONS}
    seq = max(d.seq for d in store.decisions(seq))
    assert seq == first.seq
    pg_own_server.restart()
    # made before the listener is back: its notification goes to nobody
    wait_until(lambda: _try(lambda: store.add_decision(Decision("pin", "x:2", "kim", T0))))
    assert listener.connections == 1
    heard: set[str] = set()
    wait_until(lambda: bool(heard.update(listener.wait(1)) or heard))
    assert heard == {CHANNEL_DECISIONS}  # reconnected: "catch up"
    assert listener.connections == 2
    missed = store.decisions(seq)  # the catch-up by number finds it
    assert [(d.action, d.target) for d in missed] == [("pin", "x:2")]
    store.add_decision(Decision("unpin", "x:2", "kim", T0))  # and it hears new ones again
    assert listener.wait(30) == {CHANNEL_DECISIONS}


def _try(call: Callable[[], object]) -> bool:
    try:
        call()
    except StoreUnavailableError:
        return False
    return True


# -- the server going away -------------------------------------------------------------------------


def test_a_store_survives_the_server_stopping_and_starting(
    pg_own_server: PgServer, opened: list[Any]
) -> None:
    database = pg_own_server.create_database()
    store = store_of(database, opened)
    store.add_posts([make(i) for i in range(10)])
    store.add_decision(Decision("hide", "test:1", "kim", T0))
    pg_own_server.stop()
    calls: list[Callable[[], object]] = [
        lambda: store.add_posts([make(99)]),
        lambda: store.get_post("test:1"),
        lambda: store.get_posts(["test:1"]),
        lambda: list(store.iter_posts()),
        store.count_posts,
        store.newest_time,
        store.decisions,
        lambda: store.add_decision(Decision("pin", "test:2", "kim", T0)),
        lambda: store.changes(0),
        store.newest_change,
        lambda: store.set_cursor("fedi", "1"),
        lambda: store.get_state("k"),
        lambda: store.acquire_lease("fedi", "a", 10),
        lambda: store.prune(T0),
    ]
    for call in calls:
        with pytest.raises(StoreUnavailableError) as raised:
            call()
        assert database.password not in str(raised.value)
        assert "127.0.0.1" in str(raised.value)  # which server, in plain words
    assert not store.connected
    assert "unreachable" in store.status and database.password not in store.status
    pg_own_server.start_again()
    wait_until(lambda: _try(lambda: store.add_posts([make(10)])))
    assert store.count_posts() == 11
    assert [d.target for d in store.decisions()] == ["test:1"]
    assert store.connected
    assert store.status == f"postgres: {database.url}"


def test_a_restart_between_calls_costs_no_failed_call(
    pg_own_server: PgServer, opened: list[Any]
) -> None:
    database = pg_own_server.create_database()
    store = store_of(database, opened)
    store.add_posts([make(1)])
    pg_own_server.restart()
    # the server said goodbye while the connection was idle: the next call connects again
    assert store.add_posts([make(2)]) == 1
    assert store.count_posts() == 2


def test_an_acknowledged_write_survives_a_crash_of_the_server(
    pg_own_server: PgServer, opened: list[Any]
) -> None:
    database = pg_own_server.create_database()
    store = store_of(database, opened)
    assert store.add_posts([make(i) for i in range(20)]) == 20
    decision = store.add_decision(Decision("hide", "test:3", "kim", T0))
    store.set_cursor("fedi", "after-20")
    pg_own_server.stop("immediate")  # no clean shutdown: recovery from the WAL at start
    pg_own_server.start_again()
    again = store_of(database, opened)
    assert again.count_posts() == 20
    assert again.decisions() == [decision]
    assert again.get_cursor("fedi") == "after-20"


def test_a_lazy_store_waits_for_a_server_that_is_not_there_yet(
    pg_own_server: PgServer, opened: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    database = pg_own_server.create_database()
    pg_own_server.stop()
    with pytest.raises(StoreOpenError, match="cannot reach"):
        store_of(database, opened)
    with caplog.at_level(logging.INFO, logger="agora.store"):
        store = open_store(None, "Espoo lobby", url=database.url, password=database.password)
    assert isinstance(store, PostgresStore)
    opened.append(store)
    with pytest.raises(StoreUnavailableError, match="cannot reach"):
        store.count_posts()
    pg_own_server.start_again()
    wait_until(lambda: _try(store.count_posts))
    assert store.schema_version == len(MIGRATIONS)  # migrated when it got there
    assert database.password not in caplog.text


# -- an answer lost after the commit ---------------------------------------------------------------


class CuttingProxy:
    """A TCP relay to the server that can drop a client's connection exactly when the server
    answers COMMIT, without passing the answer on: the commit happened, the client never knows."""

    COMMIT = b"C\x00\x00\x00\x0bCOMMIT\x00"

    def __init__(self, port: int) -> None:
        self.target = port
        self.cut_at_commit = False
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while data := source.recv(65536):
                if answers and self.cut_at_commit and self.COMMIT in data:
                    self.cut_at_commit = False
                    self.cuts += 1
                    break
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for end in self._sockets:
                end.close()


@pytest.fixture
def proxy(pg_server: PgServer) -> Iterator[CuttingProxy]:
    relay = CuttingProxy(pg_server.port)
    yield relay
    relay.close()


def test_a_decision_whose_answer_was_lost_is_saved_once(
    pg_database: Database, proxy: CuttingProxy, opened: list[Any]
) -> None:
    url = pg_database.url.replace(f":{pg_database.server.port}/", f":{proxy.port}/")
    store = PostgresStore(url + "&sslmode=disable", password=pg_database.password)
    opened.append(store)
    decision = Decision("hide", "x:1", "kim", T0, "rude", origin="Espoo lobby")
    proxy.cut_at_commit = True
    with pytest.raises(StoreUnavailableError, match="lost"):
        store.add_decision(decision)
    assert proxy.cuts == 1
    with admin(pg_database) as db:  # it was committed all the same
        assert db.execute("SELECT count(*) FROM decisions").fetchone()[0] == 1
    saved = store.add_decision(decision)  # the caller tries again, as it must
    assert saved.seq > 0 and saved.uid == decision.uid and saved.origin == "Espoo lobby"
    assert store.decisions() == [saved]


def test_posts_whose_answer_was_lost_are_stored_once(
    pg_database: Database, proxy: CuttingProxy, opened: list[Any]
) -> None:
    url = pg_database.url.replace(f":{pg_database.server.port}/", f":{proxy.port}/")
    store = PostgresStore(url + "&sslmode=disable", password=pg_database.password)
    opened.append(store)
    batch = [make(i) for i in range(20)]
    proxy.cut_at_commit = True
    with pytest.raises(StoreUnavailableError):
        store.add_posts(batch)
    store.add_posts(batch)
    assert store.count_posts() == 20
    assert len({c.post_id for c in store.changes()}) == len(store.changes()) == 20


# -- least privilege -------------------------------------------------------------------------------


def test_least_privilege_roles_do_their_jobs_and_no_more(
    pg_database: Database, opened: list[Any]
) -> None:
    owner = store_of(pg_database, opened)  # the first start, as the owner, makes the tables
    owner.add_posts([make(1)])
    roles = {kind: f"agora_{kind}_{pg_database.schema}" for kind in ROLE_GRANTS}
    role_password = "role-password-" + pg_database.schema
    with admin(pg_database) as db:
        for kind, role in roles.items():
            name = psycopg.sql.Identifier(role)
            db.execute(
                psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    name, psycopg.sql.Literal(role_password)
                )
            )
            db.execute(
                psycopg.sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                    psycopg.sql.Identifier(pg_database.schema), name
                )
            )
            for grant in ROLE_GRANTS[kind]:
                db.execute(psycopg.sql.SQL(grant).format(role=name))

    def as_role(kind: str) -> PostgresStore:
        url = pg_database.url.replace("postgres@", f"{roles[kind]}@")
        store = PostgresStore(url, password=role_password)
        opened.append(store)
        return store

    collector = as_role("collector")
    wall = as_role("wall")
    # the collector: posts, cursors, health, leases, retention
    assert collector.add_posts([make(2), make(3)]) == 2
    assert collector.delete_posts(["test:3"]) == 1
    collector.set_cursor("fedi", "42")
    collector.set_state("sources.health:collector-a", "{}")
    assert collector.acquire_lease("fedi", "collector-a", 60)
    assert collector.prune(T0 - timedelta(days=1)) == 0
    assert collector.prune_decisions(T0 - timedelta(days=1)) == 0
    assert len(collector.changes()) == 3
    # a wall: follows posts and decisions, decides, reports its own health
    assert [c.post_id for c in wall.changes()] == ["test:1", "test:2", "test:3"]
    assert wall.get_post("test:2") is not None and wall.newest_change() > 0
    decision = wall.add_decision(Decision("hide", "test:2", "kim", T0, origin="Espoo"))
    assert collector.decisions() == [decision]
    wall.set_state("wall.health:Espoo", "{}")
    assert wall.get_state("sources.health:collector-a") == "{}"  # the collector's health
    assert wall.lease_holder("fedi") == "collector-a"
    # and no more: a wall writes no posts, cursors or leases; a collector makes no decisions
    for refused in (
        lambda: wall.add_posts([make(9)]),
        lambda: wall.delete_posts(["test:1"]),
        lambda: wall.set_cursor("fedi", "0"),
        lambda: wall.acquire_lease("fedi", "wall", 60),
        lambda: wall.prune(T0 + timedelta(days=1)),
        lambda: collector.add_decision(Decision("pin", "test:1", "bot", T0)),
    ):
        with pytest.raises(StoreUnavailableError, match="permission denied"):
            refused()
    assert owner.count_posts() == 2
    assert owner.get_cursor("fedi") == "42"


# -- connections, URLs and secrets -------------------------------------------------------------


def test_one_store_is_shared_by_threads(pg_database: Database, opened: list[Any]) -> None:
    store = store_of(pg_database, opened)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(30):
                store.add_posts([make(offset + i)])
                store.add_decision(Decision("hide", f"test:{offset + i}", "kim", T0))
                store.changes(0, limit=5)
                list(store.iter_posts())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert store.count_posts() == 120
    assert len(store.decisions()) == 120


def test_hostile_text_does_not_fail_the_batch(pg_database: Database, opened: list[Any]) -> None:
    store = store_of(pg_database, opened)
    nul = Post(
        id="x:\x00evil",
        source="x\x00",
        feed="f",
        text="Lumen \x00 nul",
        created_at=T0,
        author=Author("@a"),
    )
    surrogate = Post(
        id="x:2", source="x", feed="f", text="Lumen \ud800 half", created_at=T0, author=Author("@b")
    )
    assert store.add_posts([nul, surrogate, make(3)]) == 3
    assert store.count_posts() == 3
    assert store.get_post("test:3") is not None


def test_a_wrong_password_is_said_without_the_password(
    pg_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "not-the-password-" + "x" * 12
    with pytest.raises(StoreOpenError) as refused:
        PostgresStore(pg_database.url, password=wrong)
    message = str(refused.value)
    assert "password authentication failed" in message
    assert wrong not in message and pg_database.password not in message
    with_password = pg_database.url.replace("postgres@", f"postgres:{wrong}@")
    with caplog.at_level(logging.DEBUG, logger="agora.store"):
        store = open_store(None, "w", url=with_password)
    assert wrong not in store.status and wrong not in caplog.text
    store.close()


def test_urls_are_shown_without_passwords() -> None:
    assert safe_url("postgresql://agora:s3cret@db.example:5433/agora?sslmode=require") == (
        "postgresql://agora@db.example:5433/agora?sslmode=require"
    )
    assert safe_url("postgresql://a@db/agora?sslpassword=x1&sslmode=verify-full") == (
        "postgresql://a@db/agora?sslpassword=…&sslmode=verify-full"
    )
    assert "s3cret" not in safe_url("postgresql://agora@db/agora?password=s3cret&sslmode=x")
    assert safe_url("postgresql:///agora") == "postgresql:///agora"
    assert url_has_password("postgresql://agora:s3cret@db/agora")
    assert url_has_password("postgresql://agora@db/agora?password=s3cret")
    assert not url_has_password("postgresql://agora@db/agora?sslmode=verify-full")


def test_the_urls_libpq_parameters_are_kept_and_defaults_added() -> None:
    info = psycopg.conninfo.conninfo_to_dict(
        conninfo(
            "postgresql://agora@db.example/agora?sslmode=verify-full&connect_timeout=2",
            "pw-from-env",
        )
    )
    assert info["sslmode"] == "verify-full"
    assert info["connect_timeout"] == "2"  # the URL's own choice wins
    assert info["keepalives"] == "1"
    assert info["password"] == "pw-from-env"
    assert (info["host"], info["user"], info["dbname"]) == ("db.example", "agora", "agora")


def test_open_store_chooses_the_database_by_url(
    pg_database: Database, tmp_path: Path, opened: list[Any]
) -> None:
    shared = open_store(tmp_path, "Espoo", url=pg_database.url, password=pg_database.password)
    opened.append(shared)  # type: ignore[arg-type]
    assert shared.kind == "postgres"
    assert not list(tmp_path.iterdir())  # no SQLite file made
    own = open_store(tmp_path, "Espoo")
    assert own.kind == "sqlite"
    own.close()


def test_open_store_refuses_a_newer_shared_schema_with_one_line(
    pg_database: Database, caplog: pytest.LogCaptureFixture, opened: list[Any]
) -> None:
    store = store_of(pg_database, opened)
    store._call(lambda c: c.execute("INSERT INTO agora_schema (version) VALUES (50)"))
    with caplog.at_level(logging.ERROR, logger="agora.store"):
        fallback = open_store(None, "w", url=pg_database.url, password=pg_database.password)
    assert isinstance(fallback, MemoryStore)
    assert "newer Agora (schema 50" in fallback.status
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1


# -- the config -------------------------------------------------------------------------------------


def test_the_config_takes_a_url_and_a_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agora.config.schema import StoreConfig

    monkeypatch.setenv("AGORA_DB_PASSWORD", "a-long-enough-password")
    config = StoreConfig.model_validate(
        {
            "url": "postgresql://agora@db.example/agora?sslmode=verify-full",
            "password": "env:AGORA_DB_PASSWORD",
        }
    )
    assert config.url == "postgresql://agora@db.example/agora?sslmode=verify-full"
    assert config.password is not None and config.password.get() == "a-long-enough-password"
    assert "a-long-enough" not in repr(config)
    assert StoreConfig().url is None


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ({"url": "postgresql://agora:hunter2hunter2@db/agora"}, "holds a password"),
        ({"url": "postgresql://agora@db/agora?password=hunter2hunter2"}, "holds a password"),
        ({"url": "mysql://agora@db/agora"}, "expected a PostgreSQL URL"),
        ({"url": "postgresql://agora@db/agora", "password": "hunter2hunter2"}, "env:NAME"),
        ({"password": "env:AGORA_DB_PASSWORD"}, "set url too"),
    ],
)
def test_the_config_refuses_passwords_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: dict[str, str], message: str
) -> None:
    from agora.config.loader import ConfigError, load_config

    monkeypatch.setenv("AGORA_DB_PASSWORD", "a-long-enough-password")
    lines = "\n".join(f'{key} = "{value}"' for key, value in store.items())
    path = tmp_path / "wall.toml"
    path.write_text(f"[store]\n{lines}\n")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    said = str(refused.value)
    assert message in said
    assert "hunter2" not in said


def test_a_url_with_a_password_in_a_subprocess_error_is_hidden(tmp_path: Path) -> None:
    """The agora command's own error line for such a config shows neither the password nor
    a traceback."""
    path = tmp_path / "wall.toml"
    path.write_text('[store]\nurl = "postgresql://agora:hunter2hunter2@db/agora"\n')
    done = subprocess.run(
        [sys.executable, "-m", "agora", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )
    assert done.returncode != 0
    assert "holds a password" in done.stdout + done.stderr
    assert "hunter2" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr

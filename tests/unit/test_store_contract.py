"""One contract for every store: the same assertions on SQLite, memory and PostgreSQL.

A wall must not behave differently because its posts live in a file, in memory or in a database
shared by many offices. The PostgreSQL cases run on a real server the test suite starts
(tests/pgserver.py); without the server's binaries they are skipped, except in CI.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agora.core.post import Author, Metrics, Moderation, Post
from agora.store.base import Change, Decision, Store
from agora.store.memory import MemoryStore
from agora.store.sqlite import SqliteStore, StoreOpenError

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BACKENDS = ["sqlite", "memory", "postgres"]


def make(n: int, minutes: int = 0, likes: int = 0, author: str = "") -> Post:
    return Post(
        id=f"test:{n}",
        source="mastodon",
        feed="fedi",
        text=f"Post number {n} about Lumen",
        created_at=T0 + timedelta(minutes=minutes),
        author=Author(author or f"@u{n}@example.org", f"User {n}", None, None, 10),
        metrics=Metrics(likes=likes),
        topics=("brand",),
    )


@dataclass
class Backend:
    """A kind of store, and a way to open another store on the same data."""

    name: str
    opener: Callable[[], Store]
    persistent: bool
    opened: list[Store] = field(default_factory=list)

    def open(self) -> Store:
        store = self.opener()
        self.opened.append(store)
        return store


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "wall.sqlite3"
        chosen = Backend("sqlite", lambda: SqliteStore(path), persistent=True)
    elif request.param == "memory":
        memory = MemoryStore()
        chosen = Backend("memory", lambda: memory, persistent=False)
    else:
        from agora.store.postgres import PostgresStore

        database = request.getfixturevalue("pg_database")
        chosen = Backend(
            "postgres",
            lambda: PostgresStore(database.url, password=database.password),
            persistent=True,
        )
    yield chosen
    for store in chosen.opened:
        store.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.open()


def wait_until(condition: Callable[[], bool], deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


# -- posts -----------------------------------------------------------------------------------------


def test_posts_round_trip_and_dedupe(store: Store) -> None:
    assert store.add_posts([make(1), make(2, 1)]) == 2
    assert store.add_posts([make(2, 1, likes=9), make(3, 2)]) == 1
    assert store.count_posts() == 3
    again = store.get_post("test:2")
    assert again is not None
    assert again.metrics.likes == 9
    assert again.topics == ("brand",)
    found = store.get_posts(["test:1", "test:9"])
    assert list(found) == ["test:1"] and found["test:1"] is not None
    assert found["test:1"].text == store.get_post("test:1").text  # type: ignore[union-attr]
    assert [p.id for p in store.iter_posts(T0 + timedelta(minutes=1))] == ["test:2", "test:3"]
    assert store.delete_posts(["test:1", "test:404"]) == 1
    assert store.get_post("test:1") is None


def test_a_batch_naming_a_post_twice_keeps_the_last(store: Store) -> None:
    assert store.add_posts([make(1, likes=1), make(1, likes=5), make(2)]) == 2
    assert store.get_post("test:1").metrics.likes == 5  # type: ignore[union-attr]
    assert store.add_posts([]) == 0
    assert store.get_posts([]) == {}
    assert store.delete_posts([]) == 0


def test_a_post_reads_back_whole(store: Store) -> None:
    post = replace(
        make(1),
        text="Lumen 🎉 «quoted» — 日本語 and a NUL-free \\u0000 escape",
        lang="en",
        url="https://example.org/@u1/1",
        moderation=Moderation("pending", ("new author",)),
    )
    store.add_posts([post])
    back = store.get_post(post.id)
    assert back is not None
    assert back.to_row() == post.to_row()


def test_newest_time_and_count(store: Store) -> None:
    assert store.newest_time() is None
    assert store.count_posts() == 0
    store.add_posts([make(1, 5), make(2, 30), make(3, 10)])
    assert store.newest_time() == T0 + timedelta(minutes=30)
    assert store.count_posts() == 3


def test_iter_posts_pages_through_many_posts_in_order(store: Store) -> None:
    store.add_posts([make(i, i % 600) for i in range(4_500)])
    posts = list(store.iter_posts())
    ids = [p.id for p in posts]
    assert len(ids) == len(set(ids)) == 4_500
    keys = [(p.created_at, p.id) for p in posts]
    assert keys == sorted(keys)
    since = T0 + timedelta(minutes=599)
    assert {p.id for p in store.iter_posts(since)} == {f"test:{i}" for i in range(599, 4_500, 600)}


def test_moderation_states_and_the_queue(store: Store) -> None:
    store.add_posts([make(i, i) for i in range(5)])
    assert store.posts_in_state("pending") == []
    assert store.set_moderation("test:1", Moderation("pending", ("new author",)))
    assert store.set_moderation("test:3", Moderation("pending", ()))
    assert store.set_moderation("test:2", Moderation("hidden", ("rude",)))
    assert not store.set_moderation("test:404", Moderation("hidden", ()))
    assert [p.id for p in store.posts_in_state("pending")] == ["test:3", "test:1"]  # newest first
    assert [p.id for p in store.posts_in_state("pending", limit=1)] == ["test:3"]
    hidden = store.get_post("test:2")
    assert hidden is not None and hidden.moderation == Moderation("hidden", ("rude",))
    # a post stored again carries its own state (the pipeline decides it)
    store.add_posts([make(2, 2, likes=3)])
    assert store.get_post("test:2").moderation.state == "approved"  # type: ignore[union-attr]
    assert "test:2" not in {p.id for p in store.posts_in_state("hidden")}


def test_prune_works_in_small_steps(store: Store) -> None:
    store.add_posts([make(i, i) for i in range(50)])
    cutoff = T0 + timedelta(minutes=30)
    steps = []
    while (removed := store.prune(cutoff, batch=7)) > 0:
        steps.append(removed)
    assert sum(steps) == 30
    assert max(steps) == 7
    assert min(p.created_at for p in store.iter_posts()) == cutoff


# -- cursors and state --------------------------------------------------------------------------


def test_cursors(store: Store) -> None:
    assert store.get_cursor("fedi") is None
    store.set_cursor("fedi", "111")
    store.set_cursor("fedi", "112")
    store.set_cursor("other", '{"min_id": "9"}')
    assert store.get_cursor("fedi") == "112"
    store.set_cursor("fedi", None)
    assert store.get_cursor("fedi") is None
    store.set_cursor("fedi", None)  # forgetting twice is fine
    assert store.get_cursor("other") == '{"min_id": "9"}'


def test_state_has_several_writers(store: Store) -> None:
    assert store.get_state("aggregates") is None
    store.set_state("aggregates", '{"a": 1}')
    store.set_state("sources.health:collector-a", '{"fedi": "ok"}')
    store.set_state("sources.health:collector-b", '{"bsky": "slow"}')
    store.set_state("aggregates", '{"a": 2}')
    assert store.get_state("aggregates") == '{"a": 2}'
    assert store.get_state("sources.health:collector-a") == '{"fedi": "ok"}'
    assert store.get_state("sources.health:collector-b") == '{"bsky": "slow"}'
    # a wall reads every collector's health without knowing their names
    assert store.states("sources.health:") == {
        "sources.health:collector-a": '{"fedi": "ok"}',
        "sources.health:collector-b": '{"bsky": "slow"}',
    }
    store.set_state("sources.health_of_something_else", "{}")
    store.set_state("Sources.health:x", "{}")  # not the same letters
    assert set(store.states("sources.health:")) == {
        "sources.health:collector-a",
        "sources.health:collector-b",
    }
    assert store.states("%") == {} and store.states("nothing:") == {}
    assert len(store.states("")) == 5


# -- decisions ------------------------------------------------------------------------------------


def test_decisions_in_order_with_who_made_them(store: Store) -> None:
    first = store.add_decision(Decision("hide", "test:1", "kim", T0, "rude", origin="Espoo lobby"))
    second = store.add_decision(Decision("pin", "test:2", "console", T0 + timedelta(seconds=1)))
    third = store.add_decision(
        Decision("block", "@spam@example.org", "agora moderation", T0, origin="Berlin")
    )
    assert 0 < first.seq < second.seq < third.seq
    assert [d.action for d in store.decisions()] == ["hide", "pin", "block"]
    assert store.decisions(after_seq=first.seq) == [second, third]
    assert store.decisions(after_seq=third.seq) == []
    (back, *_) = store.decisions()
    assert (back.target, back.actor, back.reason, back.origin) == (
        "test:1",
        "kim",
        "rude",
        "Espoo lobby",
    )
    assert back.at == T0
    assert back.uid == first.uid and len(back.uid) == 32
    assert store.decisions()[1].origin == ""


def test_a_decision_saved_twice_is_kept_once(store: Store) -> None:
    """A retry of a decision whose first answer was lost (its commit went through) must not add
    a second one: the uid made with the decision says it is the same."""
    decision = Decision("hide", "test:1", "kim", T0, "rude", origin="Espoo lobby")
    saved = store.add_decision(decision)
    again = store.add_decision(decision)
    assert again == saved
    assert len(store.decisions()) == 1
    other = store.add_decision(Decision("hide", "test:1", "kim", T0, "rude"))  # a new decision
    assert other.seq > saved.seq and len(store.decisions()) == 2


def test_decision_retention_forgets_old_post_decisions_only(store: Store) -> None:
    store.add_posts([make(1, 0), make(2, 120)])
    old = T0 - timedelta(days=10)
    cutoff = T0 - timedelta(days=1)
    gone = store.add_decision(Decision("hide", "test:404", "kim", old))  # post pruned
    kept_post = store.add_decision(Decision("hide", "test:2", "kim", old))  # post still kept
    kept_block = store.add_decision(Decision("block", "@troll", "kim", old))
    kept_unblock = store.add_decision(Decision("unblock", "@troll", "kim", old))
    kept_recent = store.add_decision(Decision("pin", "test:405", "kim", T0))
    assert store.prune_decisions(cutoff) == 1
    assert [d.seq for d in store.decisions()] == [
        kept_post.seq,
        kept_block.seq,
        kept_unblock.seq,
        kept_recent.seq,
    ]
    assert gone.seq not in {d.seq for d in store.decisions()}
    assert store.prune_decisions(cutoff) == 0


# -- following changes ----------------------------------------------------------------------------


def ids(changes: list[Change]) -> list[tuple[str, bool]]:
    return [(c.post_id, c.deleted) for c in changes]


def test_changes_follow_inserts_updates_and_deletions(store: Store) -> None:
    assert store.newest_change() == 0
    assert store.changes() == []
    store.add_posts([make(1), make(2, 1), make(3, 2)])
    first = store.changes()
    assert ids(first) == [("test:1", False), ("test:2", False), ("test:3", False)]
    assert [c.seq for c in first] == sorted(c.seq for c in first)
    mark = store.newest_change()
    assert mark == first[-1].seq
    assert store.changes(mark) == []
    # an update, a moderation, a deletion and a post that was never stored
    store.add_posts([make(2, 1, likes=7)])
    store.set_moderation("test:3", Moderation("hidden", ("rude",)))
    assert store.delete_posts(["test:1", "test:404"]) == 1
    later = store.changes(mark)
    assert ids(later) == [("test:2", False), ("test:3", False), ("test:1", True)]
    assert later[0].post is not None and later[0].post.metrics.likes == 7
    assert later[1].post is not None and later[1].post.moderation.state == "hidden"
    assert later[2].post is None
    assert all(c.seq > mark for c in later)
    assert store.newest_change() == later[-1].seq
    # a post changed twice since the mark appears once, as stored now
    store.add_posts([make(2, 1, likes=8)])
    store.add_posts([make(2, 1, likes=9)])
    again = store.changes(later[-1].seq)
    assert ids(again) == [("test:2", False)]
    assert again[0].post is not None and again[0].post.metrics.likes == 9
    # deleting what is gone already leaves no second tombstone
    assert store.delete_posts(["test:1"]) == 0
    assert store.changes(again[-1].seq) == []


def test_changes_in_pages(store: Store) -> None:
    store.add_posts([make(i, i) for i in range(25)])
    store.delete_posts([f"test:{i}" for i in range(0, 25, 5)])
    seen: list[Change] = []
    after = 0
    while page := store.changes(after, limit=7):
        assert len(page) <= 7
        seen += page
        after = page[-1].seq
    assert [c.seq for c in seen] == sorted({c.seq for c in seen})
    live = {c.post_id for c in seen if not c.deleted}
    assert live == {f"test:{i}" for i in range(25) if i % 5}
    assert {c.post_id for c in seen if c.deleted} == {f"test:{i}" for i in range(0, 25, 5)}
    assert after == store.newest_change()


def test_a_post_deleted_then_seen_again_comes_back_after_its_tombstone(store: Store) -> None:
    store.add_posts([make(1)])
    store.delete_posts(["test:1"])
    store.add_posts([make(1, likes=4)])
    changes = store.changes()
    assert ids(changes)[-2:] == [("test:1", True), ("test:1", False)]


def test_retention_leaves_no_tombstones(store: Store) -> None:
    store.add_posts([make(i, i) for i in range(10)])
    mark = store.newest_change()
    while store.prune(T0 + timedelta(minutes=5)):
        pass
    assert store.changes(mark) == []  # every reader ages its own posts
    assert store.newest_change() >= mark  # numbers never go back
    store.add_posts([make(20, 20)])
    assert [c.post_id for c in store.changes(mark)] == ["test:20"]


def test_a_tombstone_comes_after_the_last_change_of_its_post(store: Store) -> None:
    # the post deleted carries the newest number: its tombstone must still come after it, or a
    # reader that has read the post would never hear that it went
    store.add_posts([make(1), make(2, 1)])
    store.add_posts([make(1, likes=3)])
    mark = store.newest_change()
    assert store.changes(mark - 1)[-1].post_id == "test:1"
    assert store.delete_posts(["test:1"]) == 1
    (gone,) = store.changes(mark)
    assert (gone.post_id, gone.deleted) == ("test:1", True) and gone.seq > mark
    store.add_posts([make(3, 2)])
    assert ids(store.changes(mark)) == [("test:1", True), ("test:3", False)]


def test_retention_never_lets_a_number_be_given_twice(store: Store) -> None:
    # the oldest post is refreshed last, so retention takes the newest number away with it
    # (the tombstone of test:2, numbered before, is too recent to go)
    store.add_posts([make(i, i) for i in range(3)])
    store.delete_posts(["test:2"])
    store.add_posts([make(0, 0, likes=5)])
    mark = store.newest_change()
    assert store.changes(mark - 1)[-1].post_id == "test:0"
    while store.prune(T0 + timedelta(minutes=30)):
        pass
    assert store.count_posts() == 0
    store.add_posts([make(40, 40)])
    (came,) = store.changes(mark)
    assert came.post_id == "test:40" and came.seq > mark


# -- leases ----------------------------------------------------------------------------------------


def test_a_lease_has_one_holder_who_renews_it(store: Store) -> None:
    assert store.lease_holder("fedi") is None
    assert store.acquire_lease("fedi", "collector-a", 60)
    assert not store.acquire_lease("fedi", "collector-b", 60)
    assert store.acquire_lease("fedi", "collector-a", 60)  # renewed
    assert store.lease_holder("fedi") == "collector-a"
    assert store.acquire_lease("bsky", "collector-b", 60)  # another source, another holder
    store.release_lease("fedi", "collector-b")  # not b's to give up
    assert store.lease_holder("fedi") == "collector-a"
    store.release_lease("fedi", "collector-a")
    assert store.lease_holder("fedi") is None
    assert store.acquire_lease("fedi", "collector-b", 60)  # free at once after a release


def test_a_lease_is_taken_over_when_its_holder_stops_renewing(store: Store) -> None:
    start = time.monotonic()
    assert store.acquire_lease("fedi", "collector-a", 0.5)
    assert not store.acquire_lease("fedi", "collector-b", 0.5)
    wait_until(lambda: store.acquire_lease("fedi", "collector-b", 60))
    assert time.monotonic() - start >= 0.4  # not before the time ran out
    assert store.lease_holder("fedi") == "collector-b"
    assert not store.acquire_lease("fedi", "collector-a", 60)  # a's came too late


def test_a_renewal_pushes_the_end_of_the_lease(store: Store) -> None:
    assert store.acquire_lease("fedi", "collector-a", 0.3)
    assert store.acquire_lease("fedi", "collector-a", 600)  # renewed for long
    start = time.monotonic()
    wait_until(lambda: time.monotonic() - start > 0.6)  # the first term is over
    assert not store.acquire_lease("fedi", "collector-b", 60)
    assert store.lease_holder("fedi") == "collector-a"


# -- opening again, migrations ------------------------------------------------------------------


def test_everything_survives_reopening(backend: Backend) -> None:
    if not backend.persistent:
        pytest.skip("a memory store lives as long as its process")
    first = backend.open()
    first.add_posts([make(i, i) for i in range(10)])
    first.delete_posts(["test:9"])
    first.set_cursor("fedi", "abc")
    first.set_state("aggregates", "{}")
    decision = first.add_decision(Decision("hide", "test:3", "console", T0, "spam", origin="E"))
    mark = first.newest_change()
    assert first.acquire_lease("fedi", "collector-a", 600)
    first.close()
    first.close()  # idempotent
    second = backend.open()
    assert second.count_posts() == 9
    assert second.get_cursor("fedi") == "abc"
    assert second.get_state("aggregates") == "{}"
    assert second.decisions() == [decision]
    assert second.newest_change() == mark
    assert second.lease_holder("fedi") == "collector-a"
    assert second.add_decision(decision) == decision  # still known by its uid
    second.add_posts([make(30)])
    assert [c.post_id for c in second.changes(mark)] == ["test:30"]


def test_a_new_database_has_the_newest_schema(backend: Backend) -> None:
    if backend.name == "memory":
        pytest.skip("no schema")
    store = backend.open()
    if backend.name == "sqlite":
        from agora.store.sqlite import SCHEMA_VERSION
    else:
        from agora.store.postgres import SCHEMA_VERSION
    assert store.schema_version == SCHEMA_VERSION  # type: ignore[attr-defined]
    again = backend.open()  # opening again migrates nothing and works
    assert again.schema_version == SCHEMA_VERSION  # type: ignore[attr-defined]


def test_a_database_of_a_newer_version_is_refused(backend: Backend) -> None:
    if backend.name == "memory":
        pytest.skip("no schema")
    store = backend.open()
    store.add_posts([make(1)])
    if backend.name == "sqlite":
        assert isinstance(store, SqliteStore)
        store.close()
        with sqlite3.connect(store.path) as db:
            db.execute("PRAGMA user_version=99")
    else:
        from agora.store.postgres import PostgresStore

        assert isinstance(store, PostgresStore)
        store._call(lambda c: c.execute("INSERT INTO agora_schema (version) VALUES (99)"))
        store.close()
    with pytest.raises(StoreOpenError, match=r"newer Agora \(schema 99") as refused:
        backend.open()
    assert "untouched" in str(refused.value)

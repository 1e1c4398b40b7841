"""Operator decisions: approve, hide, pin, unpin, block and unblock reach every part of the wall
(featured, river, ticker, care, leaderboard, trending), survive a restart, and arrive from another
process while the wall runs."""

from __future__ import annotations

import dataclasses
import itertools
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agora.config.schema import AnalyticsConfig, ModerationConfig, TopicConfig, WallConfig
from agora.core.pipeline import Pipeline
from agora.core.post import Author, Metrics, Moderation, Post
from agora.core.snapshot import Snapshot
from agora.decisions import DecisionDesk
from agora.engine import Engine, build_pipeline
from agora.store.base import Decision
from agora.store.memory import MemoryStore
from agora.store.sqlite import SCHEMA_VERSION, SqliteStore

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
_ids = itertools.count()


def config(**moderation: object) -> WallConfig:
    return WallConfig(
        topics={"brand": TopicConfig(label="Lumen", terms=["lumen", "#lumen", "@lumen"])},
        moderation=ModerationConfig.model_validate(moderation),
        analytics=AnalyticsConfig(owned_accounts=["jsonl:@lumencare"]),
    )


def post(text: str, handle: str = "@ana", *, name: str | None = None, **kw: object) -> Post:
    fields: dict[str, object] = {
        "id": f"jsonl:d{next(_ids)}",
        "source": "jsonl",
        "feed": "archive",
        "text": text,
        "created_at": T0 - timedelta(minutes=next(_ids) % 30),
        "author": Author(handle, name or handle.strip("@").title(), followers=100),
        "lang": "en",
        "metrics": Metrics(likes=5),
    }
    fields.update(kw)
    return Post(**fields)  # type: ignore[arg-type]


def decision(action: str, target: str, reason: str = "") -> Decision:
    return Decision(action, target, "tester", T0, reason)  # type: ignore[arg-type]


def everywhere(snapshot: Snapshot) -> set[str]:
    """Ids of every post the wall can show: featured, river/ticker, care."""
    return (
        {f.post.id for f in snapshot.featured}
        | {p.id for p in snapshot.newest}
        | {p.id for p in snapshot.care.open}
    )


def authors(snapshot: Snapshot) -> set[str]:
    return {a.handle for a in snapshot.summary(None).authors}


def terms(snapshot: Snapshot) -> set[str]:
    return {t.term for t in snapshot.summary(None).trending}


def desk_for(pipeline: Pipeline) -> tuple[DecisionDesk, MemoryStore]:
    store = MemoryStore()
    if pipeline.store is None:
        pipeline.store = store
    return DecisionDesk(store), store


def apply(pipeline: Pipeline, desk: DecisionDesk, action: str, target: str) -> None:
    saved = desk.record(decision(action, target), pipeline)
    desk.apply(pipeline, saved)


def test_a_pending_post_is_approved_later_and_shows_everywhere() -> None:
    store = MemoryStore()
    pipeline = build_pipeline(config(approval="manual"), store)
    desk = DecisionDesk(store)
    question = post("How do I fix my Lumen? The screen is broken, terrible", "@cy")
    chatter = [post(f"Lumen zoomlens number {i} is brilliant", f"@u{i}") for i in range(4)]
    pipeline.ingest([question, *chatter], now=T0)
    before = pipeline.aggregates.snapshot(T0)
    assert everywhere(before) == set()
    assert before.summary(None).posts.pending == 5
    assert [p.id for p in before.pending][-1] == question.id  # held, newest first
    assert store.posts_in_state("pending", 10)
    for p in [question, *chatter]:
        apply(pipeline, desk, "approve", p.id)
    after = pipeline.aggregates.snapshot(T0)
    assert question.id in {p.id for p in after.care.open}
    assert {p.id for p in chatter} <= {f.post.id for f in after.featured}
    assert {p.id for p in [question, *chatter]} <= {p.id for p in after.newest}
    assert "@cy" in authors(after)
    assert any("zoomlens" in t for t in terms(after))  # alone or in a phrase
    assert after.summary(None).posts.pending == 0
    assert after.summary(None).posts.shown == 5
    assert store.posts_in_state("pending", 10) == []
    assert not after.pending


def test_a_pending_post_pushed_out_of_the_pool_is_approved_from_the_store() -> None:
    store = MemoryStore()
    pipeline = build_pipeline(config(approval="manual"), store)
    pipeline.aggregates.pending.cap = 2
    first = post("Lumen first of many posts waiting", "@first")
    pipeline.ingest([first, *(post(f"Lumen waiting {i}", f"@w{i}") for i in range(5))], now=T0)
    assert not pipeline.aggregates.knows(first.id)
    desk = DecisionDesk(store)
    apply(pipeline, desk, "approve", first.id)
    assert first.id in {p.id for p in pipeline.aggregates.snapshot(T0).newest}


def test_hide_takes_a_post_off_every_list_and_out_of_the_counts() -> None:
    pipeline = build_pipeline(config(), None)
    desk, _ = desk_for(pipeline)
    rude = post("How do I fix my Lumen? broken again, terrible, gizmoquux", "@rude")
    others = [post(f"Lumen gizmoquux, take {i} is lovely", f"@o{i}") for i in range(3)]
    pipeline.ingest([rude, *others], now=T0)
    snap = pipeline.aggregates.snapshot(T0)
    assert rude.id in everywhere(snap) and "@rude" in authors(snap)
    count = next(t.count for t in snap.summary(None).trending if t.term == "gizmoquux")
    apply(pipeline, desk, "hide", rude.id)
    snap = pipeline.aggregates.snapshot(T0)
    assert rude.id not in everywhere(snap)
    assert rude.id in snap.withdrawn
    assert "@rude" not in authors(snap)
    assert next(t.count for t in snap.summary(None).trending if t.term == "gizmoquux") == (
        count - 1
    )
    assert (snap.summary(None).posts.shown, snap.summary(None).posts.hidden) == (3, 1)
    apply(pipeline, desk, "approve", rude.id)  # a mistake undone
    snap = pipeline.aggregates.snapshot(T0)
    assert rude.id in everywhere(snap) and "@rude" in authors(snap)


def test_pin_and_unpin() -> None:
    pipeline = build_pipeline(config(), None)
    desk, _ = desk_for(pipeline)
    quiet = post("Lumen quiet post with no likes at all", "@quiet", metrics=Metrics())
    loud = [post(f"Lumen loud post {i} everyone likes", f"@l{i}") for i in range(5)]
    pipeline.ingest([*loud, quiet], now=T0)
    apply(pipeline, desk, "pin", quiet.id)
    snap = pipeline.aggregates.snapshot(T0)
    assert snap.featured[0].post.id == quiet.id
    assert snap.featured[0].post.moderation.state == "pinned"
    apply(pipeline, desk, "unpin", quiet.id)
    snap = pipeline.aggregates.snapshot(T0)
    assert snap.featured[0].post.id != quiet.id
    assert quiet.id in {p.id for p in snap.newest}


def test_a_pinned_post_deleted_at_the_source_disappears() -> None:
    store = MemoryStore()
    pipeline = build_pipeline(config(), store)
    desk = DecisionDesk(store)
    pinned = post("Lumen launch photo everyone should see", "@brandfan")
    pipeline.ingest([pinned, post("Lumen other post here", "@x")], now=T0)
    apply(pipeline, desk, "pin", pinned.id)
    assert pipeline.aggregates.snapshot(T0).featured[0].post.id == pinned.id
    pipeline.delete([pinned.id])
    snap = pipeline.aggregates.snapshot(T0)
    assert pinned.id not in everywhere(snap)
    assert pinned.id in snap.withdrawn
    assert store.get_post(pinned.id) is None
    # the stored pin decision finds nothing to pin after a restart
    again = build_pipeline(config(), store)
    again.warm(store.iter_posts())
    DecisionDesk(store).replay(again, store.decisions())
    assert pinned.id not in everywhere(again.aggregates.snapshot(T0))


def test_blocking_an_author_removes_them_everywhere_and_keeps_them_out() -> None:
    store = MemoryStore()
    pipeline = build_pipeline(config(), store)
    desk = DecisionDesk(store)
    troll = [
        post(f"How do I fix Lumen? trollword broken terrible {i}", "@Troll@bad.example")
        for i in range(3)
    ]
    fine = [post(f"Lumen trollword fine {i}", f"@f{i}") for i in range(3)]
    pipeline.ingest([*troll, *fine], now=T0)
    snap = pipeline.aggregates.snapshot(T0)
    assert "@Troll@bad.example" in authors(snap)
    # block by one of their posts' id: the decision is stored by handle
    saved = desk.record(decision("block", troll[0].id, "abuse"), pipeline)
    assert saved.target == "@Troll@bad.example"
    desk.apply(pipeline, saved)
    snap = pipeline.aggregates.snapshot(T0)
    assert not ({p.id for p in troll} & everywhere(snap))
    assert "@Troll@bad.example" not in authors(snap)
    assert snap.blocked_authors == ("troll@bad.example",)
    # later posts, under a new display name, stay off the wall
    renamed = post("Lumen is great, trust me", "@troll@bad.example", name="Friendly Name")
    result = pipeline.ingest([renamed], now=T0, keep=True)
    assert result.posts[0].moderation.reasons == ("blocked author",)
    assert renamed.id not in everywhere(pipeline.aggregates.snapshot(T0))
    # while blocked, approving one of their posts changes nothing
    apply(pipeline, desk, "approve", renamed.id)
    assert renamed.id not in everywhere(pipeline.aggregates.snapshot(T0))
    # unblocked: their new posts show again
    apply(pipeline, desk, "unblock", "troll@bad.example")
    back = post("Lumen sorry about before", "@troll@bad.example")
    pipeline.ingest([back], now=T0)
    assert back.id in everywhere(pipeline.aggregates.snapshot(T0))


def test_a_blocked_word_never_trends_even_in_an_approved_post() -> None:
    pipeline = build_pipeline(config(block_terms=["zorblax"]), None)
    desk, _ = desk_for(pipeline)
    posts = [post(f"Lumen zorblax and shit {i}", f"@z{i}", lang="en") for i in range(5)]
    result = pipeline.ingest(posts, now=T0, keep=True)
    assert all(p.moderation.state == "hidden" for p in result.posts)
    for p in posts:  # an operator overrules the filter
        apply(pipeline, desk, "approve", p.id)
    snap = pipeline.aggregates.snapshot(T0)
    assert {p.id for p in posts} <= {p.id for p in snap.newest}
    assert not {"zorblax", "#zorblax", "shit"} & terms(snap)
    assert not any("zorblax" in t or "shit" in t for t in terms(snap))


def test_an_update_keeps_the_decision_and_an_edit_can_hide() -> None:
    store = MemoryStore()
    pipeline = build_pipeline(config(approval="manual"), store)
    desk = DecisionDesk(store)
    original = post("Lumen battery lasts two days", "@bat")
    pipeline.ingest([original], now=T0)
    apply(pipeline, desk, "approve", original.id)
    refreshed = dataclasses.replace(original, metrics=Metrics(likes=99), moderation=Moderation())
    pipeline.ingest([refreshed], now=T0)
    snap = pipeline.aggregates.snapshot(T0)
    assert snap.newest[0].id == original.id and snap.newest[0].metrics.likes == 99
    stored = store.get_post(original.id)
    assert stored is not None and stored.moderation.state == "approved"
    edited = dataclasses.replace(original, text="Lumen battery is shit", moderation=Moderation())
    pipeline.ingest([edited], now=T0)
    assert original.id not in everywhere(pipeline.aggregates.snapshot(T0))


# ---------------------------------------------------------------------------------------------
# the engine: restart, and decisions from another process while it runs


def stored_wall(tmp_path: Path, wall: WallConfig, posts: list[Post]) -> Path:
    path = tmp_path / "wall.sqlite3"
    engine = Engine(wall, SqliteStore(path), config_dir=tmp_path, clock=lambda: T0, sources=[])
    engine.warm()
    engine.ingest_now(posts)
    engine.store.close()
    return path


def test_decisions_survive_a_restart(tmp_path: Path) -> None:
    wall = config(approval="manual")
    waiting = post("Lumen waiting for approval", "@w")
    shown = post("Lumen shown then hidden", "@s")
    troll = post("Lumen troll post", "@troll")
    path = stored_wall(tmp_path, wall, [waiting, shown, troll])
    engine = Engine(wall, SqliteStore(path), config_dir=tmp_path, clock=lambda: T0, sources=[])
    engine.warm()
    for action, target in (
        ("approve", waiting.id),
        ("approve", shown.id),
        ("pin", shown.id),
        ("approve", troll.id),
        ("block", "@troll"),
    ):
        engine.apply_decision(decision(action, target))
    engine.publish(force=True)
    first = engine.snapshot
    assert first.featured[0].post.id == shown.id
    assert waiting.id in everywhere(first) and troll.id not in everywhere(first)
    engine.store.close()

    again = Engine(wall, SqliteStore(path), config_dir=tmp_path, clock=lambda: T0, sources=[])
    again.warm(enrich=True)
    again.publish(force=True)
    snap = again.snapshot
    assert snap.featured[0].post.id == shown.id
    assert snap.featured[0].post.moderation.state == "pinned"
    assert waiting.id in everywhere(snap)
    assert troll.id not in everywhere(snap)
    assert "@troll" not in authors(snap)
    decisions = again.store.decisions()
    assert [(d.action, d.actor) for d in decisions][-1] == ("block", "tester")
    again.store.close()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "wall.sqlite3"
    engine = Engine(config(), SqliteStore(path), config_dir=tmp_path, clock=lambda: T0, sources=[])
    engine.start()
    try:
        assert engine.ready.wait(60)  # a safety net for a busy machine
        yield engine, path
    finally:
        engine.close()


def test_a_decision_from_another_process_reaches_the_running_wall(
    running: tuple[Engine, Path],
) -> None:
    engine, path = running
    target = post("Lumen post that will be hidden from the console", "@victim")
    spammer = [post(f"Lumen spam {i}", "@spammer") for i in range(3)]
    engine.submit([target, *spammer, post("Lumen bystander", "@ok")])
    assert engine.wait_for(lambda s: target.id in everywhere(s) and "@spammer" in authors(s))
    # another connection to the same database, as `agora moderation` or the console has
    other = SqliteStore(path)
    try:
        desk = DecisionDesk(other)
        desk.record(decision("hide", target.id, "from the console"))
        desk.record(decision("block", "spammer"))
    finally:
        other.close()
    assert engine.wait_for(
        lambda s: (
            target.id not in everywhere(s)
            and "@spammer" not in authors(s)
            and not {p.id for p in spammer} & everywhere(s)
        ),
        timeout=60,
    )
    later = post("Lumen spam after the block", "@Spammer", name="New Name")
    engine.submit([later, post("Lumen marker after", "@marker")])
    assert engine.wait_for(lambda s: "@marker" in authors(s))
    assert later.id not in everywhere(engine.snapshot)
    stored = engine.store.get_post(target.id)
    assert stored is not None and stored.moderation.state == "hidden"


def test_a_store_of_schema_one_gets_the_state_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    from agora.store.sqlite import MIGRATIONS

    db.executescript(MIGRATIONS[0])
    waiting = post("Lumen stored before the upgrade", moderation=Moderation("pending"))
    db.execute(
        "INSERT INTO posts (id, created, source, body) VALUES (?, ?, ?, ?)",
        (waiting.id, waiting.timestamp, "jsonl", waiting.to_json()),
    )
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    store = SqliteStore(path)
    try:
        assert store.schema_version == SCHEMA_VERSION
        assert [p.id for p in store.posts_in_state("pending")] == [waiting.id]
        assert store.set_moderation(waiting.id, Moderation("approved", ("ok",)))
        assert store.posts_in_state("pending") == []
        again = store.get_post(waiting.id)
        assert again is not None and again.moderation.reasons == ("ok",)
        assert json.loads(again.to_json())["moderation"]["state"] == "approved"
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_retention_forgets_decisions_about_posts_no_longer_kept(kind: str, tmp_path: Path) -> None:
    store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "wall.sqlite3")
    kept, gone = post("Lumen kept"), post("Lumen gone")
    store.add_posts([kept, gone])
    old = T0 - timedelta(days=10)
    for action, target in [("hide", gone.id), ("pin", kept.id), ("block", "@troll")]:
        store.add_decision(dataclasses.replace(decision(action, target), at=old))
    recent = store.add_decision(decision("hide", "jsonl:not-yet-arrived"))
    store.delete_posts([gone.id])  # as retention does with posts older than the window

    assert store.prune_decisions(T0 - timedelta(days=7)) == 1
    left = [(d.action, d.target) for d in store.decisions()]
    assert left == [("pin", kept.id), ("block", "@troll"), ("hide", "jsonl:not-yet-arrived")]
    assert store.prune_decisions(T0 - timedelta(days=7)) == 0
    # sequence numbers keep growing after a prune: pollers never miss a new decision
    assert store.add_decision(decision("approve", kept.id)).seq > recent.seq
    store.close()


# ---------------------------------------------------------------------------------------------
# unblocking shows again what only the block hid


def counts(snapshot: Snapshot) -> tuple[int, int, int]:
    posts = snapshot.summary(None).posts
    return posts.shown, posts.hidden, posts.pending


def test_unblocking_shows_again_what_only_the_block_hid() -> None:
    store = MemoryStore()
    pipeline = build_pipeline(config(), store)
    desk = DecisionDesk(store)
    shown_before = post("Lumen screen is bright and fine", "@troll")
    pinned = post("Lumen pinned announcement by the troll", "@troll")
    rude = post("Lumen is shit", "@troll")  # hidden by the profanity filter all along
    bystander = post("Lumen bystander post", "@ok")
    pipeline.ingest([shown_before, pinned, rude, bystander], now=T0)
    apply(pipeline, desk, "pin", pinned.id)
    start = counts(pipeline.aggregates.snapshot(T0))

    apply(pipeline, desk, "block", "@Troll")
    during = post("Lumen posted during the block", "@troll")
    hidden_by_hand = post("Lumen an operator hides this one", "@troll")
    pipeline.ingest([during, hidden_by_hand], now=T0)
    apply(pipeline, desk, "hide", hidden_by_hand.id)
    blocked = pipeline.aggregates.snapshot(T0)
    assert not {shown_before.id, pinned.id, during.id} & everywhere(blocked)
    assert counts(blocked) == (start[0] - 2, start[1] + 4, 0)

    apply(pipeline, desk, "unblock", "troll")
    snap = pipeline.aggregates.snapshot(T0)
    assert {shown_before.id, during.id, pinned.id} <= everywhere(snap)
    assert snap.featured[0].post.id == pinned.id
    assert snap.featured[0].post.moderation.state == "pinned"
    assert not {rude.id, hidden_by_hand.id} & everywhere(snap)
    assert "@troll" in authors(snap)
    # the figures follow: three posts back among the shown ones, the other two still hidden
    assert counts(snap) == (start[0] + 1, start[1] + 1, 0)
    # the store records what the wall shows (the console and `agora moderation` read it)
    again = store.get_post(during.id)
    assert again is not None and again.moderation.state == "approved"
    hand = store.get_post(hidden_by_hand.id)
    assert hand is not None and hand.moderation.state == "hidden"


def test_an_author_blocked_in_the_config_stays_blocked_after_an_unblock(tmp_path: Path) -> None:
    wall = config(block_authors=["@spam"])
    spam = post("Lumen spam from a config block", "@spam")
    path = stored_wall(tmp_path, wall, [spam])
    engine = Engine(wall, SqliteStore(path), config_dir=tmp_path, clock=lambda: T0, sources=[])
    engine.warm(enrich=True)
    engine.apply_decision(decision("block", "@spam"))
    engine.apply_decision(decision("unblock", "@spam"))
    engine.ingest_now([later := post("Lumen spam after the unblock", "@spam")])
    engine.publish(force=True)
    assert not {spam.id, later.id} & everywhere(engine.snapshot)
    engine.store.close()

    again = Engine(wall, SqliteStore(path), config_dir=tmp_path, clock=lambda: T0, sources=[])
    again.warm(enrich=True)
    again.publish(force=True)
    assert not {spam.id, later.id} & everywhere(again.snapshot)
    stored = again.store.get_post(spam.id)
    assert stored is not None and stored.moderation.state == "hidden"
    again.store.close()


def test_an_unblock_made_while_no_wall_ran_shows_the_posts_after_a_restart(
    tmp_path: Path,
) -> None:
    wall = config()
    before = post("Lumen troll post before the block", "@troll")
    path = stored_wall(tmp_path, wall, [before, post("Lumen bystander", "@ok")])
    engine = Engine(wall, SqliteStore(path), config_dir=tmp_path, clock=lambda: T0, sources=[])
    engine.warm(enrich=True)
    engine.apply_decision(decision("block", "@troll"))
    during = post("Lumen troll post during the block", "@troll")
    hidden_by_hand = post("Lumen troll post an operator hides", "@troll")
    engine.ingest_now([during, hidden_by_hand])
    engine.apply_decision(decision("hide", hidden_by_hand.id))
    engine.store.close()
    # `agora moderation unblock` while the wall is stopped: the decision is only recorded
    other = SqliteStore(path)
    DecisionDesk(other).record(decision("unblock", "troll"))
    other.close()

    again = Engine(wall, SqliteStore(path), config_dir=tmp_path, clock=lambda: T0, sources=[])
    again.warm(enrich=True)
    again.publish(force=True)
    snap = again.snapshot
    assert {before.id, during.id} <= everywhere(snap)
    assert hidden_by_hand.id not in everywhere(snap)
    # the stored states were brought up to date (the console reads them), once
    stored = again.store.get_post(during.id)
    assert stored is not None and stored.moderation.state == "approved"
    assert again.store.get_state("decisions.unblocks_shown") is not None
    again.store.close()


def test_unblocking_on_a_manual_wall_puts_the_posts_back_in_the_queue(tmp_path: Path) -> None:
    wall = config(approval="manual")
    waiting = post("Lumen waiting when the author was blocked", "@troll")
    path = stored_wall(tmp_path, wall, [waiting])
    engine = Engine(wall, SqliteStore(path), config_dir=tmp_path, clock=lambda: T0, sources=[])
    engine.warm(enrich=True)
    engine.apply_decision(decision("block", "@troll"))
    during = post("Lumen posted during the block", "@troll")
    engine.ingest_now([during])
    engine.apply_decision(decision("unblock", "@troll"))
    queue = {p.id for p in engine.store.posts_in_state("pending")}
    assert {waiting.id, during.id} <= queue
    engine.publish(force=True)
    assert counts(engine.snapshot) == (0, 2, 0)  # counted as hidden until approved
    for target in (waiting.id, during.id):
        engine.apply_decision(decision("approve", target))
    engine.publish(force=True)
    assert {waiting.id, during.id} <= everywhere(engine.snapshot)
    assert counts(engine.snapshot) == (2, 0, 0)
    engine.store.close()


def test_a_live_unblock_survives_a_restart(tmp_path: Path) -> None:
    wall = config()
    path = stored_wall(tmp_path, wall, [post("Lumen bystander", "@ok")])
    engine = Engine(wall, SqliteStore(path), config_dir=tmp_path, clock=lambda: T0, sources=[])
    engine.warm(enrich=True)
    engine.apply_decision(decision("block", "@troll"))
    during = post("Lumen troll post during the block", "@troll")
    engine.ingest_now([during])
    engine.apply_decision(decision("unblock", "@troll"))
    engine.publish(force=True)
    assert during.id in everywhere(engine.snapshot)
    engine.store.close()

    again = Engine(wall, SqliteStore(path), config_dir=tmp_path, clock=lambda: T0, sources=[])
    again.warm()  # as stored: the live unblock wrote the post's new state
    again.publish(force=True)
    assert during.id in everywhere(again.snapshot)
    again.store.close()


def test_a_block_of_a_posts_author_keeps_the_decisions_uid_and_origin() -> None:
    """The desk turns "block the author of this post" into a block of the handle; it is still
    the same decision: a retry after a lost answer is saved once, and every wall sees who made
    it."""
    store = MemoryStore()
    rude = post("Lumen is rubbish", "@troll")
    store.add_posts([rude])
    desk = DecisionDesk(store)
    made = dataclasses.replace(decision("block", rude.id), origin="Espoo lobby")
    saved = desk.record(made)
    assert (saved.target, saved.uid, saved.origin) == ("@troll", made.uid, "Espoo lobby")
    assert desk.record(made) == saved  # tried again: not a second block
    assert store.decisions() == [saved]

"""The river's turns against a real pipeline's snapshots: a post taken off leaves even when the
newest posts did not change, a blocked author's posts leave, posts of the same second get in,
and a burst comes in one post a turn (found by an attacker's review of the river's pace)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from pytestqt.qtbot import QtBot

from agora.config.schema import PanelConfig
from agora.core.post import Moderation, Post
from agora.engine import build_pipeline
from agora.ui.panels.posts import RiverPanel

from .conftest import NOW, UI_CONFIG, build_panel, make_post

Spec = Callable[..., PanelConfig]


def burst(start: int, count: int, handle: str = "@ana@social.example") -> list[Post]:
    return [
        make_post(
            f"Lumen burst post {start}-{i}",
            at=NOW + timedelta(seconds=start - i),
            handle=f"@u{start}x{i}@social.example",
        )
        for i in range(count)
    ]


def river(qtbot: QtBot, panel_spec: Spec) -> RiverPanel:
    panel = build_panel(qtbot, panel_spec("river"), size=(700, 1000))
    assert isinstance(panel, RiverPanel)
    return panel


def test_a_hidden_post_leaves_even_when_the_newest_posts_did_not_change(
    qtbot: QtBot, panel_spec: Spec
) -> None:
    """A burst, then quiet: a shown post hidden by the operator is not in newest[:8], so
    data_key does not change and refresh() is never called."""
    pipeline = build_pipeline(UI_CONFIG, None)
    agg = pipeline.aggregates
    panel = river(qtbot, panel_spec)
    old = burst(-100, 30)
    pipeline.ingest(old, now=NOW)
    panel.apply(agg.snapshot(NOW))
    fresh = burst(20, 20)  # NOW+1s .. NOW+20s, all at once (a feed poll)
    pipeline.ingest(fresh, now=NOW + timedelta(seconds=30))
    panel.apply(agg.snapshot(NOW + timedelta(seconds=30)))
    shown = list(panel._shown_ids)
    assert shown[0] == fresh[0].id and shown[1] == old[0].id
    target = shown[2]
    agg.set_moderation(target, Moderation("hidden", ("operator",)))
    snap = agg.snapshot(NOW + timedelta(seconds=40))  # same minute
    assert target in snap.withdrawn and target not in {p.id for p in snap.newest}
    panel.apply(snap)
    assert target not in panel._shown_ids, "hidden post still on the river"


def test_a_blocked_authors_post_leaves_though_no_figure_holds_it_any_more(
    qtbot: QtBot, panel_spec: Spec
) -> None:
    """A shown post that fell out of every pool (newest holds 300): blocking its author
    neither marks it withdrawn nor removes it from the river."""
    pipeline = build_pipeline(UI_CONFIG, None)
    agg = pipeline.aggregates
    panel = river(qtbot, panel_spec)
    # short texts (< 12 characters) are no carousel candidates: newest is their only pool
    old = [
        make_post(f"Lumen {i:03d}", at=NOW - timedelta(seconds=1000 + i), handle=f"@short{i}")
        for i in range(30)
    ]
    pipeline.ingest(old, now=NOW)
    panel._take(agg.snapshot(NOW))
    fresh = burst(400, 400)  # more than Newest's 300
    pipeline.ingest(fresh, now=NOW + timedelta(seconds=500))
    panel._take(agg.snapshot(NOW + timedelta(seconds=500)))
    shown = list(panel._shown_ids)
    assert shown[0] == fresh[0].id and shown[1:] == [p.id for p in old[: len(shown) - 1]]
    target = shown[1]  # the next turn (one more fresh post on top) keeps it on screen
    post = next(p for p in old if p.id == target)
    agg.block_author(post.author.handle)
    snap = agg.snapshot(NOW + timedelta(seconds=510))
    panel._take(snap)
    assert target not in panel._shown_ids, (
        f"post of blocked author still shown; blocked={snap.blocked_authors}, "
        f"in withdrawn={target in snap.withdrawn}"
    )


def test_new_posts_of_the_same_second_as_the_last_card_get_in(
    qtbot: QtBot, panel_spec: Spec
) -> None:
    """Posts with the same created_at (coarse source timestamps): once the river is full, a
    new post with the bottom card's timestamp never gets in."""
    pipeline = build_pipeline(UI_CONFIG, None)
    agg = pipeline.aggregates
    panel = river(qtbot, panel_spec)
    same = NOW - timedelta(minutes=5)
    first = [make_post(f"Lumen same time {i}", at=same, handle=f"@s{i}") for i in range(20)]
    pipeline.ingest(first, now=NOW)
    panel._take(agg.snapshot(NOW))
    for turn in range(1, 6):
        new = make_post(f"Lumen same time new {turn}", at=same, handle=f"@n{turn}")
        pipeline.ingest([new], now=NOW + timedelta(seconds=5 * turn))
        snap = agg.snapshot(NOW + timedelta(seconds=5 * turn))
        assert new.id in {p.id for p in snap.newest}
        panel._take(snap)
        assert new.id in panel._shown_ids, f"turn {turn}: new post never shown"


def test_a_burst_comes_in_one_post_a_turn_without_new_snapshots(
    qtbot: QtBot, panel_spec: Spec
) -> None:
    """A feed poll brings 4 posts at once, then quiet: one is taken at once, the others at the
    next turns."""
    pipeline = build_pipeline(UI_CONFIG, None)
    agg = pipeline.aggregates
    panel = river(qtbot, panel_spec)
    pipeline.ingest(burst(-100, 30), now=NOW)
    panel.apply(agg.snapshot(NOW))
    fresh = burst(4, 4)
    pipeline.ingest(fresh, now=NOW + timedelta(seconds=5))
    panel.min_interval_s = 0.2  # the turn's pace, shortened for the test
    panel.apply(agg.snapshot(NOW + timedelta(seconds=5)))
    # no new snapshot needed: the posts left waiting come in at the next turns
    qtbot.waitUntil(lambda: {p.id for p in fresh[:3]} <= set(panel._shown_ids), timeout=30_000)
    assert panel._shown_ids[0] == fresh[0].id

"""Every panel kind: builds, draws a real snapshot, says so calmly when empty, survives hostile
text, and refreshes in place."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from agora.config.schema import PANEL_KINDS, PanelConfig
from agora.core.health import SourceHealth
from agora.core.post import Post
from agora.core.snapshot import Alert, Snapshot
from agora.ui.panels import Panel, PanelContext, panel_class
from agora.ui.panels.info import AlertPanel, SourcesPanel
from agora.ui.panels.parts import ElidedLabel
from agora.ui.panels.posts import CarePanel, FeaturedPanel, RiverPanel, TickerPanel, drawable
from agora.ui.panels.volume import VolumePanel
from agora.ui.safetext import can_draw
from agora.ui.theme import theme_for

from .conftest import HOSTILE_TEXTS, NOW, UI_CONFIG, build_panel, make_post, sample_posts

Build = Callable[..., Snapshot]
Spec = Callable[..., PanelConfig]


def labels_text(panel: Panel) -> str:
    return "\n".join(label.text() for label in panel.findChildren(QLabel))


@pytest.mark.parametrize("kind", PANEL_KINDS)
def test_every_kind_draws_a_real_snapshot(
    qtbot: QtBot, kind: str, snapshot_of: Build, panel_spec: Spec, render_dir: Path
) -> None:
    panel = build_panel(qtbot, panel_spec(kind))
    question = make_post("How do I fix my Lumen? It broke again, terrible support", at=NOW)
    snapshot = snapshot_of([*sample_posts(), question])
    assert panel.apply(snapshot)
    assert panel.refreshes == 1
    assert not panel.apply(snapshot)  # same data: nothing redrawn
    if kind not in ("alert",):
        assert not panel.showing_empty, kind
    assert panel.grab().save(str(render_dir / f"panel-{kind}.png"))


@pytest.mark.parametrize("kind", [k for k in PANEL_KINDS if k not in ("header", "kpis")])
def test_every_kind_says_calmly_when_there_is_nothing(
    qtbot: QtBot, kind: str, snapshot_of: Build, panel_spec: Spec
) -> None:
    panel = build_panel(qtbot, panel_spec(kind))
    panel.apply(snapshot_of([]))
    assert panel.showing_empty, kind
    assert panel._empty.text().strip()


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
def test_hostile_text_is_shown_literally(
    qtbot: QtBot, text: str, snapshot_of: Build, panel_spec: Spec
) -> None:
    posts = [
        make_post(text, name=text[:300], handle="@x<b>y</b>", likes=10_000, followers=10**6),
        make_post("How do I fix my Lumen? " + text[:200], name="<i>Q</i>", likes=1),
    ]
    snapshot = snapshot_of(posts)
    for kind in ("featured", "river", "ticker", "care", "authors", "trending"):
        panel = build_panel(qtbot, panel_spec(kind))
        panel.apply(snapshot)
        for label in panel.findChildren(QLabel):
            assert label.textFormat() == Qt.TextFormat.PlainText, (kind, label.text()[:40])
        panel.grab()  # paints without raising
    featured = build_panel(qtbot, panel_spec("featured"))
    featured.apply(snapshot)
    assert isinstance(featured, FeaturedPanel)
    if "<b>" in text:
        assert "<b>" in featured.card.text.text()


def test_featured_never_shows_the_same_author_twice_in_a_row(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    posts = [
        make_post(f"Lumen post number {i} is a long enough text", handle=f"@a{i % 3}", likes=50 - i)
        for i in range(30)
    ]
    panel = build_panel(qtbot, panel_spec("featured"))
    assert isinstance(panel, FeaturedPanel)
    snapshot = snapshot_of(posts)
    assert len(snapshot.featured) >= 3
    panel.apply(snapshot)
    seen = [panel.current_post_id()]
    authors = []
    for _ in range(40):
        panel.advance(animate=False)
        current = panel._current
        assert current is not None
        authors.append(current.post.author.handle)
        seen.append(current.post.id)
    assert all(a != b for a, b in itertools.pairwise(authors))
    assert set(seen) == {f.post.id for f in snapshot.featured}  # it really goes round


def test_featured_keeps_its_place_when_the_snapshot_changes(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    posts = [
        make_post(f"Lumen text {i} long enough", handle=f"@u{i}", likes=40 - i) for i in range(10)
    ]
    panel = build_panel(qtbot, panel_spec("featured"))
    assert isinstance(panel, FeaturedPanel)
    panel.apply(snapshot_of(posts))
    panel.advance(animate=False)
    panel.advance(animate=False)
    current = panel.current_post_id()
    panel.apply(snapshot_of([*posts, make_post("Lumen one more new post", handle="@new")]))
    assert panel.current_post_id() == current


def test_river_and_care_refresh_in_place(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    river = build_panel(qtbot, panel_spec("river"))
    care = build_panel(qtbot, panel_spec("care"))
    assert isinstance(river, RiverPanel)
    assert isinstance(care, CarePanel)
    first = sample_posts(100, seed=1)
    river.apply(snapshot_of(first))
    care.apply(snapshot_of(first))
    cards = list(river.cards)
    rows = list(care.rows)
    later = snapshot_of(
        [*first, make_post("Lumen is new here", at=NOW)], now=NOW + timedelta(minutes=1)
    )
    river.apply(later)
    care.apply(later)
    assert river.cards == cards
    assert care.rows == rows
    assert river.cards[0].post_id == later.newest[0].id


def river_panel(qtbot: QtBot, panel_spec: Spec) -> RiverPanel:
    """A river 700 × 1000 (three cards or more)."""
    river = build_panel(qtbot, panel_spec("river"), size=(700, 1000))
    assert isinstance(river, RiverPanel)
    return river


def test_new_posts_slide_in_on_top_of_the_river(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    river = river_panel(qtbot, panel_spec)
    first = [make_post(f"Lumen post {i}", at=NOW - timedelta(minutes=10 + i)) for i in range(6)]
    river.apply(snapshot_of(first))
    before = list(river._shown_ids)
    assert len(before) >= 3 and not river.sliding
    fresh = [make_post(f"Lumen news {i}", at=NOW - timedelta(seconds=i)) for i in range(2)]
    river.apply(snapshot_of([*first, *fresh], now=NOW + timedelta(minutes=1)))
    # one post a turn comes in on top, the newest: the others move down one card
    assert river.per_turn == 1
    assert river._shown_ids[0] == fresh[0].id and fresh[1].id not in river._shown_ids
    assert river._shown_ids[1:] == before[: len(river._shown_ids) - 1]
    # the cards start a card's height up and glide down into place
    assert river.sliding and river.glide.offset == -river._card_step()
    assert river.glide.isVisible()
    qtbot.waitUntil(lambda: not river.sliding, timeout=60_000)
    assert river._strip.y() == 0 and river.glide.offset == 0 and not river.glide.isVisible()

    # a post that disappears is no arrival on top: nothing slides
    assert RiverPanel.arrived_on_top(["a", "b", "c"], ["x", "a", "b"]) == 1
    assert RiverPanel.arrived_on_top(["a", "b", "c"], ["x", "y", "a"]) == 2
    assert RiverPanel.arrived_on_top(["a", "b", "c"], ["a", "c", "d"]) == 0
    assert RiverPanel.arrived_on_top(["a", "b", "c"], ["x", "y", "z"]) == 0
    assert RiverPanel.arrived_on_top([], ["x"]) == 0


def burst(start: int, count: int) -> list[Post]:
    """``count`` posts a second apart, the newest ``start`` seconds after NOW."""
    return [
        make_post(f"Lumen burst post {start}-{i}", at=NOW + timedelta(seconds=start - i))
        for i in range(count)
    ]


def river_showing(
    qtbot: QtBot, panel_spec: Spec, snapshot: Snapshot
) -> tuple[RiverPanel, list[str]]:
    """A river that took ``snapshot``, and the ids it shows."""
    river = river_panel(qtbot, panel_spec)
    river._take(snapshot)
    return river, list(river._shown_ids)


def test_a_fast_stream_moves_the_river_one_card_a_turn_and_keeps_each_post_readable(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    posts = burst(0, 60)
    river, shown = river_showing(qtbot, panel_spec, snapshot_of(posts, now=NOW))
    cards = len(shown)
    assert cards >= 3 and shown == [p.id for p in posts[:cards]]  # the newest, in order
    seen_for: dict[str, int] = {}
    for turn in range(1, 2 * cards + 1):  # sixty new posts before every turn
        posts = [*burst(60 * turn + 60, 60), *posts]
        river._take(snapshot_of(posts[:200], now=NOW + timedelta(seconds=60 * turn)))
        now_shown = list(river._shown_ids)
        assert now_shown[0] == posts[0].id  # the newest post is always on top
        assert now_shown[1:] == shown[: cards - 1]  # the others moved down one card
        for pid in now_shown:
            seen_for[pid] = seen_for.get(pid, 0) + 1
        shown = now_shown
    # a post that came in on top stayed on screen for as many turns as there are cards
    assert max(seen_for.values()) == cards
    assert sum(1 for n in seen_for.values() if n == cards) >= cards


def test_a_post_taken_off_the_wall_leaves_the_river_at_once_and_the_gap_closes(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    posts = burst(0, 30)
    river, shown = river_showing(qtbot, panel_spec, snapshot_of(posts, now=NOW))
    gone = shown[1]
    snapshot = snapshot_of(posts, now=NOW + timedelta(seconds=1))
    snapshot = dataclasses.replace(snapshot, withdrawn=frozenset({gone}))
    river.refresh(snapshot)  # within the turn's pace: a withdrawal does not wait
    assert gone not in river._shown_ids
    assert river._shown_ids == [s for s in shown if s != gone] + [posts[len(shown)].id]
    # gone from the newest posts although newer than the oldest of them (deleted at the
    # source): gone from the river too
    deleted = river._shown_ids[0]
    later = [p for p in posts if p.id != deleted]
    river.refresh(snapshot_of(later, now=NOW + timedelta(seconds=2)))
    assert deleted not in river._shown_ids and len(river._shown_ids) == len(shown)


def test_a_late_post_takes_its_place_in_time_and_a_gone_one_does_not_come_back(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    posts = burst(0, 30)  # a second apart, newest first
    river, shown = river_showing(qtbot, panel_spec, snapshot_of(posts, now=NOW))
    late = make_post("Lumen late post from a feed", at=posts[1].created_at + timedelta(seconds=0.5))
    river._take(snapshot_of([*posts, late], now=NOW + timedelta(seconds=5)))
    assert river._shown_ids[:3] == [shown[0], late.id, shown[1]]  # in its place, not on top
    assert river._shown_ids[3:] == shown[2 : len(river._shown_ids) - 1]
    # a post that went off the bottom is not brought back by a turn with nothing new
    gone = [p.id for p in posts if p.id not in river._shown_ids]
    river._take(snapshot_of([*posts, late], now=NOW + timedelta(seconds=10)))
    assert not set(gone) & set(river._shown_ids[: len(river.cards)])


def test_a_river_back_on_screen_shows_the_newest_posts(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    river = river_panel(qtbot, panel_spec)
    river._take(snapshot_of(burst(0, 30), now=NOW))
    river.hide()
    newer = burst(600, 30)
    river._take(snapshot_of(newer, now=NOW + timedelta(minutes=10)))
    river.show()
    qtbot.waitUntil(river.isVisible, timeout=30_000)
    assert river._shown_ids == [p.id for p in newer[: len(river._shown_ids)]]


def test_care_lists_oldest_unanswered_first(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    questions = [
        make_post(
            f"How do I reset my Lumen phone? It is broken, terrible ({i})",
            at=NOW - timedelta(minutes=m),
            handle=f"@q{i}",
        )
        for i, m in enumerate((5, 50, 20))
    ]
    panel = build_panel(qtbot, panel_spec("care"), size=(960, 1000))
    assert isinstance(panel, CarePanel)
    snapshot = snapshot_of(questions)
    panel.apply(snapshot)
    shown = [row.post_id for row in panel.rows if row.isVisible()]
    expected = [p.id for p in sorted(snapshot.care.open, key=lambda p: p.created_at)]
    assert shown == expected[: len(shown)]
    assert shown[0] == questions[1].id
    assert "waiting 50 min" in panel.rows[0].wait.text()


def test_ticker_moves_and_swaps_text_only_at_the_wrap(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    panel = build_panel(qtbot, panel_spec("ticker"), size=(1600, 120))
    assert isinstance(panel, TickerPanel)
    panel.apply(snapshot_of(sample_posts(30, seed=2)))
    crawl = panel.crawl
    first = crawl.text
    assert first
    start = crawl._offset
    crawl.advance(1.0)
    assert crawl._offset < start
    panel.apply(snapshot_of(sample_posts(30, seed=3)))
    assert crawl.text == first  # the new text waits for the old one to pass
    crawl.advance(10_000.0)
    assert crawl.text != first


@pytest.mark.parametrize("options", [{}, {"by": "sentiment"}, {"window": "24h"}, {"by": "source"}])
def test_volume_updates_its_curves_in_place(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec, options: dict[str, str]
) -> None:
    panel = build_panel(qtbot, panel_spec("volume", **options))
    assert isinstance(panel, VolumePanel)
    panel.apply(snapshot_of(sample_posts(150, seed=4)))
    curves = dict(panel.curves)
    assert curves
    panel.apply(snapshot_of(sample_posts(200, seed=5), now=NOW + timedelta(minutes=3)))
    for key, curve in curves.items():
        assert panel.curves[key] is curve
    assert not panel.showing_empty


def test_sources_show_when_a_source_went_stale(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    panel = build_panel(qtbot, panel_spec("sources"))
    assert isinstance(panel, SourcesPanel)
    stale = SourceHealth(
        name="fedi",
        kind="mastodon",
        state="failing",
        last_success=NOW - timedelta(minutes=40),
        last_error="mastodon.social: hashtag timelines need login on this server",
    )
    snapshot = dataclasses.replace(snapshot_of(sample_posts(50)), sources={"fedi": stale})
    panel.apply(snapshot)
    text = "\n".join(row.state.full_text() for row in panel.rows if row.isVisible())
    assert "no data since" in text
    assert "need login" in text


def test_alert_banner_shows_an_active_alert(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    panel = build_panel(qtbot, panel_spec("alert"), size=(1800, 120))
    assert isinstance(panel, AlertPanel)
    calm = snapshot_of(sample_posts(20))
    panel.apply(calm)
    assert panel.showing_empty
    alert = Alert("spike", "brand", NOW - timedelta(minutes=4), "Lumen mentions are 4× the usual")
    panel.apply(dataclasses.replace(calm, alerts=(alert,)))
    assert not panel.showing_empty
    assert "4× the usual" in panel.message.full_text()


def test_panels_fit_a_4k_screen_at_device_pixel_ratio_two(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    theme = theme_for("dark").scaled(1920, 1080)  # 3840×2160 at DPR 2 is 1920×1080 logical
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW)
    snapshot = snapshot_of(sample_posts())
    for kind in PANEL_KINDS:
        panel = panel_class(kind)(panel_spec(kind), context)
        qtbot.addWidget(panel)
        panel.resize(960, 540)
        panel.apply(snapshot)
        image = panel.grab().toImage()
        assert not image.isNull()
    assert labels_text  # helper kept for debugging


def test_a_long_word_shrinks_before_it_is_cut(qtbot: QtBot) -> None:
    theme = theme_for("dark").scaled(1920, 1080)
    label = ElidedLabel(shrink=0.7)
    qtbot.addWidget(label)
    label.show()
    label.set_base_font(theme.font(30, bold=True))
    base = label.font().pixelSize()
    word = "comparando"
    needed = QFontMetricsF(label.font()).horizontalAdvance(word)
    label.resize(int(needed * 0.85), 60)
    label.set_full_text(word)
    assert label.text() == word  # whole, in a smaller font
    assert base * 0.7 <= label.font().pixelSize() < base
    label.resize(int(needed * 0.3), 60)
    assert label.text().endswith("…") and label.font().pixelSize() == round(base * 0.7)
    label.resize(int(needed * 2), 60)
    assert label.text() == word and label.font().pixelSize() == base  # room again: full size


def test_a_channel_id_or_a_did_is_not_shown_as_a_handle(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    """YouTube authors are known by their channel id (titles are not unique) and a Bluesky
    author whose profile could not be looked up by a DID: the card shows the name, not the id."""
    river = build_panel(qtbot, panel_spec("river"))
    assert isinstance(river, RiverPanel)
    video = make_post(
        "Lumen X1 review", at=NOW, handle="UCabcdefghijklmnopqrstuv", name="Tech Talk"
    )
    video = replace(video, source="youtube")
    plain = make_post("Lumen is fine", at=NOW - timedelta(minutes=1), handle="@ana", name="Ana")
    river.apply(snapshot_of([video, plain]))
    metas = {card.post_id: card.meta.full_text() for card in river.cards if card.post_id}
    assert "UCabcdefghijklmnopqrstuv" not in metas[video.id]
    assert "YouTube" in metas[video.id]
    assert "@ana" in metas[plain.id]


#: Ol Chiki letters: a script few machines have a font for (the test is skipped where one does)
NO_FONT_WORD = "ᱚᱛᱜᱟ"


def test_text_no_installed_font_draws_is_left_off_the_wall_not_shown_as_boxes(
    qtbot: QtBot, snapshot_of: Build, panel_spec: Spec
) -> None:
    river = river_panel(qtbot, panel_spec)
    font = river.cards[0].text.font()
    if can_draw(NO_FONT_WORD, font):
        pytest.skip("this machine has a font for Ol Chiki")
    assert can_draw("café, привет, مرحبا, 👍 \u2068Ana\u2069", font)
    boxes = [
        make_post(f"{NO_FONT_WORD} {NO_FONT_WORD} Lumen {i}", at=NOW - timedelta(seconds=i))
        for i in range(12)
    ]
    named = make_post("Lumen is great", at=NOW, name=f"{NO_FONT_WORD} Ana")
    plain = [
        make_post(f"Lumen camera post {i}", at=NOW - timedelta(minutes=5 + i)) for i in range(12)
    ]
    snapshot = snapshot_of([*boxes, named, *plain], now=NOW + timedelta(seconds=1))
    assert any(NO_FONT_WORD in t.shown for t in snapshot.summary(3600.0).trending)
    river._take(snapshot)
    assert river._shown_ids and all(i in {p.id for p in plain} for i in river._shown_ids)
    ticker = build_panel(qtbot, panel_spec("ticker"), size=(1600, 120))
    assert isinstance(ticker, TickerPanel)
    ticker.apply(snapshot)
    qtbot.waitUntil(lambda: bool(ticker.crawl.text), timeout=30_000)
    assert NO_FONT_WORD not in ticker.crawl.text and "Lumen camera post" in ticker.crawl.text
    featured = build_panel(qtbot, panel_spec("featured"), size=(1200, 700))
    assert isinstance(featured, FeaturedPanel)
    featured.apply(snapshot)
    assert any(not drawable(f.post, font) for f in snapshot.featured)  # there were some
    assert all(drawable(f.post, font) for f in featured._candidates)
    trending = build_panel(qtbot, panel_spec("trending"), size=(700, 900))
    trending.apply(snapshot)
    shown = [term.full_text() for _, term, _ in trending.rows if term.isVisibleTo(trending)]
    assert shown and not any(NO_FONT_WORD in t for t in shown)


def test_the_memory_of_drawable_characters_stays_bounded_under_a_stream_of_new_ones(
    qtbot: QtBot, panel_spec: Spec
) -> None:
    from agora.ui import safetext

    river = river_panel(qtbot, panel_spec)
    font = river.cards[0].text.font()
    # a hostile stream: every post written with characters never seen before
    for start in range(0x4E00, 0x4E00 + 3 * safetext._DRAWN_CAP, 500):
        can_draw("".join(map(chr, range(start, start + 500))), font)
    assert 0 < len(safetext._DRAWN[font.family()]) <= safetext._DRAWN_CAP

"""Screens and the wall: rotation that never stops, operator keys, garbage collection, repaint soak."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from agora.config.loader import load_config
from agora.config.schema import PageConfig, ScreenConfig, WallConfig
from agora.core.snapshot import Snapshot
from agora.engine import Engine
from agora.store import open_store
from agora.store.base import Decision
from agora.ui.app import Wall, wall_theme
from agora.ui.page import UnavailablePanel
from agora.ui.panels import PanelContext
from agora.ui.panels.posts import FeaturedPanel
from agora.ui.render import page_picture
from agora.ui.screen import ScreenWindow

from .conftest import NOW, UI_CONFIG, sample_posts

Build = Callable[..., Snapshot]
DEMO = Path(__file__).resolve().parents[2] / "agora" / "assets" / "demo.toml"


def page(kind: str, seconds: float = 5.0) -> PageConfig:
    return PageConfig.model_validate(
        {"seconds": seconds, "grid": "1x1", "panels": [{"kind": kind, "at": "0,0"}]}
    )


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def window_for(qtbot: QtBot, pages: list[PageConfig], clock: FakeClock) -> ScreenWindow:
    theme = wall_theme(UI_CONFIG).scaled(1280, 720)
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW)
    window = ScreenWindow("test", pages, context, clock=lambda: NOW, monotonic=clock)
    qtbot.addWidget(window)
    window.resize(1280, 720)
    return window


def test_rotation_keeps_turning_over_ten_thousand_ticks(qtbot: QtBot, snapshot_of: Build) -> None:
    clock = FakeClock()
    window = window_for(qtbot, [page("kpis"), page("trending"), page("share")], clock)
    snapshot = snapshot_of(sample_posts(60))
    for _ in range(10_000):
        clock.now += 0.25  # a 250 ms tick; pages last 5 s
        if window._timer.isActive():
            window._timer.stop()  # the single-shot timer never fires in this loop: the tick must
        window.apply(snapshot)
    # 2,500 s of ticks, 5 s pages (plus the grace period): hundreds of turns, never stuck
    assert window.turns > 300
    assert window.current in (0, 1, 2)


def test_a_page_whose_panel_fails_is_shown_with_a_placeholder(
    qtbot: QtBot, monkeypatch: object
) -> None:
    from agora.ui.panels import info

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(info.KpisPanel, "__init__", broken)  # type: ignore[attr-defined]
    clock = FakeClock()
    window = window_for(qtbot, [page("kpis"), page("share")], clock)
    assert isinstance(window.pages[0].panels[0], UnavailablePanel)
    window.next_page()
    assert window.current == 1


def test_panels_and_pages_are_garbage_collected_when_dropped(
    qtbot: QtBot, snapshot_of: Build
) -> None:
    clock = FakeClock()
    theme = wall_theme(UI_CONFIG).scaled(1280, 720)
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW)
    pages = [page("featured"), page("volume"), page("river"), page("ticker"), page("header")]
    window = ScreenWindow("gc", pages, context, clock=lambda: NOW, monotonic=clock)
    window.resize(1280, 720)
    window.show()
    window.apply(snapshot_of(sample_posts(40)))
    refs = [weakref.ref(p) for pg in window.pages for p in pg.panels]
    refs.append(weakref.ref(window))
    window.close()
    del window
    gc.collect()
    assert all(ref() is None for ref in refs)


def test_a_repaint_soak_of_thousands_of_paints(qtbot: QtBot, snapshot_of: Build) -> None:
    clock = FakeClock()
    window = window_for(qtbot, [page("featured"), page("volume"), page("sentiment")], clock)
    window.show()
    qtbot.waitExposed(window)
    base = sample_posts(120)
    for i in range(1_500):
        if i % 100 == 0:
            window.apply(snapshot_of(base[: 20 + i // 20], now=NOW + timedelta(minutes=i // 100)))
            window.next_page()
        window.repaint()
    assert window.turns == 15


def test_operator_keys_and_hiding_the_featured_post_persists(qtbot: QtBot, tmp_path: Path) -> None:
    loaded = load_config(DEMO)
    config: WallConfig = loaded.config
    store = open_store(tmp_path, "keys")
    engine = Engine(config, store, config_dir=loaded.config_dir)
    engine.warm()
    engine.ingest_now(sample_posts(300))
    engine.publish(force=True)
    wall = Wall(engine, windowed=True, window_size=(1280, 720))
    try:
        window = wall.windows[min(wall.windows)]
        wall.tick()
        turns = window.turns
        assert wall.handle_key(window, Qt.Key.Key_Right)
        assert window.turns == turns + 1
        assert wall.handle_key(window, Qt.Key.Key_Left)
        assert wall.handle_key(window, Qt.Key.Key_Space)
        assert window.paused
        assert wall.handle_key(window, Qt.Key.Key_Space)
        assert not window.paused
        window.current = 0
        window.stack.setCurrentWidget(window.pages[0])
        for _ in range(len(window.pages[0].panels)):
            wall.tick()
        featured = next(p for p in window.pages[0].panels if isinstance(p, FeaturedPanel))
        shown = featured.current_post_id()
        assert shown is not None
        hidden = wall.hide_current_featured(window)
        assert hidden == shown
        decision = engine.inbox.get_nowait()  # what the ingest thread would take
        assert isinstance(decision, Decision)
        engine.apply_decision(decision)
        engine.publish(force=True)
        assert any(d.action == "hide" and d.target == shown for d in store.decisions())
        # a tick refreshes a page's panels a few at a time: the featured panel gets the new
        # snapshot within a few ticks
        for _ in range(len(window.pages[0].panels)):
            wall.tick()
        assert featured.current_post_id() != shown
    finally:
        wall.close()
        engine.close()


def test_a_snapshot_at_dpr_2_is_the_same_picture_sharper(qtbot: QtBot, snapshot_of: Build) -> None:
    config = UI_CONFIG.model_copy(update={"screens": [ScreenConfig(pages=[page("river")])]})
    snapshot = snapshot_of(sample_posts(60))
    plain = page_picture(config, snapshot, screen=0, page=0, size=(960, 540)).toImage()
    sharp = page_picture(config, snapshot, screen=0, page=0, size=(960, 540), dpr=2.0).toImage()
    assert (sharp.width(), sharp.height()) == (1920, 1080)
    card = QColor(wall_theme(config).scaled(960, 540).surface_alt)
    # the river's cards (faded in through graphics effects) sit where they sit at dpr 1, not at
    # twice their offset
    spots = [(x, y) for x in range(40, 900, 60) for y in range(80, 520, 40)]
    on_card = [(x, y) for x, y in spots if plain.pixelColor(x, y) == card]
    assert len(on_card) > len(spots) // 4
    for x, y in on_card:
        assert sharp.pixelColor(2 * x, 2 * y) == card, (x, y)


def test_burn_in_protection_moves_the_content_a_few_pixels_and_no_further(
    qtbot: QtBot,
) -> None:
    """A lobby screen shows the same frame for weeks: the content orbits a few pixels every
    ``burn_in_shift`` so no edge burns in, always inside the screen and never resized."""
    config = WallConfig.model_validate(
        {
            **UI_CONFIG.model_dump(mode="json"),
            "wall": {"name": "Burn-in", "burn_in_shift": "1s", "burn_in_pixels": 6},
        }
    )
    theme = wall_theme(config).scaled(1280, 720)
    context = PanelContext(wall=config, theme=theme, clock=lambda: NOW)
    window = ScreenWindow("burn", [page("kpis")], context, clock=lambda: NOW)
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    seen = [window.content_offset]
    for _ in range(3):
        qtbot.waitUntil(lambda: window.content_offset != seen[-1], timeout=30_000)
        seen.append(window.content_offset)
    assert len(set(seen)) == 4  # it moves on, position after position
    for x, y in seen:
        assert 0 <= x <= 12 and 0 <= y <= 12  # within twice the pixels: inside the screen
    content = window.stack.parentWidget()  # what moves: the pages and the status line
    assert (content.width(), content.height()) == (1280 - 12, 720 - 12)  # never resized

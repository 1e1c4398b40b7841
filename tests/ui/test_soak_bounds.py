"""What a wall that runs for months must not pile up with refreshes and page turns (issue 15,
the real-time soak): counted on the real widgets, after a warm-up and again after many more
rounds of new posts, refreshes and page turns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from agora.bench.soak import DEMO_CONFIG, qt_counts
from agora.config.loader import load_config
from agora.config.schema import PanelConfig, SimulatorSource
from agora.engine import Engine
from agora.sources.base import SourceContext
from agora.sources.simulator import SimulatorSource as Simulator
from agora.store import open_store
from agora.ui.app import Wall
from agora.ui.panels import PanelContext
from agora.ui.panels.sentiment import SentimentPanel
from agora.ui.theme import theme_for

from .conftest import NOW, UI_CONFIG, make_post, sample_posts


def settle() -> None:
    """Run what the event loop would: posted events, then the widgets deleted later."""
    for _ in range(3):
        QApplication.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_sentiment_refreshes_keep_one_dot_picture_per_label(qtbot: QtBot, snapshot_of: Any) -> None:
    # pyqtgraph keeps a picture of a scatter plot's dot for every pen and brush object it was
    # given: a new pair each refresh added a picture each time (to a thousand, then it rebuilds)
    theme = theme_for("dark").scaled(1920, 1080)
    context = PanelContext(wall=UI_CONFIG, theme=theme, clock=lambda: NOW)
    panel = SentimentPanel(PanelConfig.model_validate({"kind": "sentiment"}), context)
    qtbot.addWidget(panel)
    panel.resize(960, 540)
    panel.show()
    posts = list(sample_posts())
    assert panel.apply(snapshot_of(posts))
    atlas = panel.trend_now.fragmentAtlas
    first = len(atlas)
    assert first >= 1  # the dot is drawn
    words = ("love it", "hate it", "it is fine", "wonderful", "awful", "so so")
    for i in range(30):
        posts.append(make_post(f"Lumen {words[i % len(words)]} {i}", at=NOW))
        assert panel.apply(snapshot_of(posts))  # a real refresh each time
    assert len(atlas) <= 3  # positive, neutral, negative at most
    assert len(atlas) - first <= 2


def test_refreshes_and_page_turns_leave_the_wall_s_qt_objects_where_they_were(
    qtbot: QtBot, tmp_path: Path
) -> None:
    loaded = load_config(DEMO_CONFIG)
    config = loaded.config
    demo = next(s for s in config.sources if isinstance(s, SimulatorSource))
    moment = [datetime(2026, 11, 2, 9, 0, tzinfo=UTC)]
    store = open_store(tmp_path, config.wall.name)
    engine = Engine(
        config, store, config_dir=loaded.config_dir, clock=lambda: moment[0], sources=[]
    )
    simulator = Simulator(demo, SourceContext(wall=config, config_dir=loaded.config_dir))
    stream = simulator.stream(moment[0] - timedelta(hours=2))
    pending = next(stream)
    wall = Wall(engine, windowed=True, clock=lambda: moment[0], images=None)
    try:
        wall.start()
        wall.stop()  # ticked by hand below

        def rounds(count: int) -> None:
            nonlocal pending
            for minute in range(count):
                moment[0] += timedelta(minutes=1)
                batch = []
                while pending.created_at <= moment[0]:
                    batch.append(pending)
                    pending = next(stream)
                engine.ingest_now(batch)
                engine.publish()
                wall.tick()
                settle()
                if minute % 2 == 1:
                    for window in wall.windows.values():
                        window.next_page()
                    settle()

        rounds(40)  # every page shown and refreshed a few times: what a wall builds, it has
        settle()
        before = qt_counts(wall)
        rounds(120)
        settle()
        after = qt_counts(wall)
        assert after == before
        assert before["widgets"] > 100 and before["scene_items"] > 20  # it counted real things
    finally:
        wall.close()
        engine.close()
        settle()

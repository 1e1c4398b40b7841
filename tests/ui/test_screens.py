"""Screens of the wall: matched by connector name and index, absent ones keep their pages, and
screens plugged and unplugged while the wall runs (real ``screenAdded``/``screenRemoved`` of
Qt's offscreen platform, see :mod:`tests.ui.hotplug`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from agora.config.schema import WallConfig
from agora.engine import Engine
from agora.store.memory import MemoryStore
from agora.ui import app as wall_app
from agora.ui.app import Wall
from agora.ui.screen import ScreenWindow

from .hotplug import HotplugUnavailableError, current_screens, set_screens, six_screens

Plug = Callable[[Sequence[dict[str, Any]]], None]
MakeWall = Callable[[Sequence[int | str]], Wall]
SIX = six_screens()
HDMI = {screen["name"]: screen for screen in SIX}


@pytest.fixture
def plug(qapp: QApplication) -> Iterator[Plug]:
    """``plug([...])`` makes the machine's screens those offscreen entries (Qt announces the
    screens added and removed); the screens of before are put back at the end."""
    before = current_screens()
    try:
        set_screens(before)  # the same screens: nothing changes, but the platform is reachable
    except HotplugUnavailableError as exc:
        pytest.skip(str(exc))

    def change(screens: Sequence[dict[str, Any]]) -> None:
        set_screens(screens)
        qapp.processEvents()

    yield change
    set_screens(before)
    qapp.processEvents()


def screen_pages(label: str, count: int = 2) -> list[dict[str, Any]]:
    """Pages named after their screen (``HDMI-2/0``, ``HDMI-2/1``), so a test can tell whose
    pages a window shows."""
    return [
        {
            "name": f"{label}/{n}",
            "seconds": 30,
            "grid": "1x1",
            "panels": [{"kind": "kpis" if n % 2 == 0 else "share", "at": "0,0"}],
        }
        for n in range(count)
    ]


@pytest.fixture
def make_wall(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeWall]:
    """``make_wall(["HDMI-1", 1, …])``: a fullscreen wall whose configured screens have those
    outputs (two named pages each), on an engine without sources; closed at the end."""
    monkeypatch.setattr(wall_app, "SCREENS_SETTLE_MS", 20)
    made: list[tuple[Wall, Engine]] = []

    def build(outputs: Sequence[int | str]) -> Wall:
        config = WallConfig.model_validate(
            {
                "wall": {"name": "Screens test", "transition": 0, "burn_in_shift": 0},
                "topics": {"brand": {"label": "Lumen", "terms": ["lumen"]}},
                "screens": [
                    {"output": output, "pages": screen_pages(wall_app.screen_label(output))}
                    for output in outputs
                ],
            }
        )
        engine = Engine(config, MemoryStore(), config_dir=tmp_path, sources=[])
        wall = Wall(engine)
        made.append((wall, engine))
        return wall

    yield build
    for wall, engine in made:
        wall.close()
        engine.close()


def names(window: ScreenWindow) -> list[str]:
    """The names of the pages a window rotates through, in order."""
    return [page.config.name or "" for page in window.pages]


def screen_of(window: ScreenWindow) -> str:
    screen = window.screen()
    assert screen is not None
    return screen.name()


def assert_fills_its_screen(window: ScreenWindow, name: str) -> None:
    screen = window.screen()
    assert screen is not None and screen.name() == name
    assert window.isVisible() and window.isFullScreen()
    assert window.geometry() == screen.geometry()
    assert window.windowFlags() & Qt.WindowType.FramelessWindowHint


def turn_through(window: ScreenWindow) -> list[str]:
    """Every page rotation shows, turning once per page."""
    seen = []
    for _ in range(len(window.pages)):
        window.next_page()
        page = window.current_page()
        assert page is not None
        seen.append(page.config.name or "")
    return sorted(seen)


def test_screens_are_matched_by_connector_name_and_by_index(
    plug: Plug, make_wall: MakeWall
) -> None:
    plug(SIX)
    wall = make_wall(["HDMI-6", 1, "hdmi-3"])  # a name, an index, a name in other case
    assert wall.absent == []
    assert sorted(wall.windows) == [0, 1, 2]
    assert_fills_its_screen(wall.windows[0], "HDMI-6")
    assert_fills_its_screen(wall.windows[1], "HDMI-2")
    assert_fills_its_screen(wall.windows[2], "hdmi-3".upper())
    four_k = wall.windows[0].screen()
    assert four_k is not None and four_k.devicePixelRatio() == 2.0
    # sizes are relative to the screen each window is on
    assert wall.windows[0].context.theme == wall.theme.scaled(3840, 2160)
    assert wall.windows[1].context.theme == wall.theme.scaled(1920, 1080)
    assert names(wall.windows[0]) == ["HDMI-6/0", "HDMI-6/1"]
    assert names(wall.windows[1]) == ["screen 1/0", "screen 1/1"]
    wall.tick()
    assert all(w.last_snapshot is wall.engine.snapshot for w in wall.windows.values())


def test_an_absent_screen_warns_and_its_pages_rotate_on_a_screen_that_is_there(
    plug: Plug, make_wall: MakeWall, caplog: pytest.LogCaptureFixture
) -> None:
    plug([HDMI["HDMI-1"], HDMI["HDMI-2"]])
    with caplog.at_level(logging.WARNING, logger="agora.ui"):
        wall = make_wall(["HDMI-1", "HDMI-9", 5])
    assert sorted(wall.windows) == [0]
    assert wall.absent == [1, 2]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "HDMI-9 is not connected; its pages rotate on HDMI-1 until it is" in warnings
    assert "screen 5 is not connected; its pages rotate on HDMI-1 until it is" in warnings
    host = wall.windows[0]
    assert host.guests == ["HDMI-9", "screen 5"]
    every = ["HDMI-1/0", "HDMI-1/1", "HDMI-9/0", "HDMI-9/1", "screen 5/0", "screen 5/1"]
    assert names(host) == every
    assert turn_through(host) == every  # rotation shows the guests' pages too


def test_a_screen_unplugged_and_plugged_back_while_the_wall_runs(
    plug: Plug, make_wall: MakeWall, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    plug([HDMI["HDMI-1"], HDMI["HDMI-2"], HDMI["HDMI-3"]])
    wall = make_wall(["HDMI-1", "HDMI-2", "HDMI-3"])
    wall.start()
    first, second, third = (wall.windows[i] for i in range(3))
    assert [screen_of(w) for w in (first, second, third)] == ["HDMI-1", "HDMI-2", "HDMI-3"]

    with caplog.at_level(logging.WARNING, logger="agora.ui"):
        plug([HDMI["HDMI-1"], HDMI["HDMI-3"]])  # HDMI-2 unplugged
        qtbot.waitUntil(lambda: 1 not in wall.windows, timeout=60_000)
    assert "HDMI-2 was unplugged" in caplog.text
    assert "HDMI-2 is not connected; its pages rotate on HDMI-1 until it is" in caplog.text
    qtbot.waitUntil(lambda: not shiboken6.isValid(second), timeout=60_000)  # closed, deleted
    assert wall.windows[0] is first and wall.windows[2] is third  # the others are left alone
    assert first.guests == ["HDMI-2"]
    assert names(first) == ["HDMI-1/0", "HDMI-1/1", "HDMI-2/0", "HDMI-2/1"]
    assert names(third) == ["HDMI-3/0", "HDMI-3/1"]
    assert_fills_its_screen(third, "HDMI-3")
    assert turn_through(first) == sorted(names(first))
    ticks = wall.ticks
    qtbot.waitUntil(lambda: wall.ticks > ticks + 1, timeout=60_000)  # the UI tick goes on

    plug([HDMI["HDMI-1"], HDMI["HDMI-2"], HDMI["HDMI-3"]])  # and plugged back
    qtbot.waitUntil(lambda: 1 in wall.windows, timeout=60_000)
    back = wall.windows[1]
    assert_fills_its_screen(back, "HDMI-2")
    assert names(back) == ["HDMI-2/0", "HDMI-2/1"]
    assert first.guests == [] and names(first) == ["HDMI-1/0", "HDMI-1/1"]
    assert first.current in (0, 1)
    assert wall.absent == []
    qtbot.waitUntil(lambda: back.last_snapshot is wall.engine.snapshot, timeout=60_000)


def test_pages_of_a_screen_still_absent_move_to_the_first_screen_there(
    plug: Plug, make_wall: MakeWall, qtbot: QtBot
) -> None:
    plug([HDMI["HDMI-3"]])
    wall = make_wall(["HDMI-1", "HDMI-2", "HDMI-3"])
    assert wall.windows[2].guests == ["HDMI-1", "HDMI-2"]
    plug([HDMI["HDMI-1"], HDMI["HDMI-3"]])  # HDMI-1 comes: it hosts HDMI-2's pages now
    qtbot.waitUntil(lambda: 0 in wall.windows, timeout=60_000)
    assert wall.windows[0].guests == ["HDMI-2"]
    assert wall.windows[2].guests == []
    shown = [name for window in wall.windows.values() for name in names(window)]
    assert sorted(shown) == ["HDMI-1/0", "HDMI-1/1", "HDMI-2/0", "HDMI-2/1", "HDMI-3/0", "HDMI-3/1"]


def test_screens_matched_by_index_follow_the_screens_that_remain(
    plug: Plug, make_wall: MakeWall, qtbot: QtBot
) -> None:
    plug([HDMI["HDMI-1"], HDMI["HDMI-2"]])
    wall = make_wall([0, 1])
    first = wall.windows[0]
    assert [screen_of(w) for w in wall.windows.values()] == ["HDMI-1", "HDMI-2"]
    plug([HDMI["HDMI-2"]])  # the first screen goes: index 0 is HDMI-2 now, index 1 is absent
    qtbot.waitUntil(lambda: 1 not in wall.windows, timeout=60_000)
    assert wall.windows[0] is first
    assert_fills_its_screen(first, "HDMI-2")
    assert first.guests == ["screen 1"]
    assert names(first) == ["screen 0/0", "screen 0/1", "screen 1/0", "screen 1/1"]


def test_unplugging_every_screen_does_not_quit_the_wall(
    plug: Plug, make_wall: MakeWall, qapp: QApplication, caplog: pytest.LogCaptureFixture
) -> None:
    """With every screen gone the wall closes its windows, but the application (which quits
    when its last window closes) keeps running and opens them again when screens return."""
    plug([HDMI["HDMI-1"], HDMI["HDMI-2"]])
    wall = make_wall(["HDMI-1", "HDMI-2"])
    seen: list[str] = []
    steps: list[tuple[Callable[[], bool], Callable[[], object]]] = [
        (lambda: True, lambda: plug([])),
        (lambda: not wall.windows, lambda: seen.append("no window")),
        (lambda: True, lambda: plug([HDMI["HDMI-1"], HDMI["HDMI-2"]])),
        (lambda: sorted(wall.windows) == [0, 1], lambda: qapp.exit(7)),
    ]

    def step() -> None:
        if steps and steps[0][0]():
            steps.pop(0)[1]()

    driver = QTimer()
    driver.timeout.connect(step)
    driver.start(10)
    QTimer.singleShot(120_000, lambda: qapp.exit(99))  # a safety net, never reached
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(True)  # as `agora run` sets it
    try:
        with caplog.at_level(logging.WARNING, logger="agora.ui"):
            status = qapp.exec()
    finally:
        driver.stop()
        qapp.setQuitOnLastWindowClosed(quits)
    assert status == 7, "the application quit when the last screen went away"
    assert seen == ["no window"]
    assert "HDMI-1 is not connected and no other screen is; waiting" in caplog.text
    assert_fills_its_screen(wall.windows[0], "HDMI-1")
    assert_fills_its_screen(wall.windows[1], "HDMI-2")
    assert QGuiApplication.screens()


def test_a_closed_wall_opens_no_window_when_screens_change(
    plug: Plug, make_wall: MakeWall, qtbot: QtBot
) -> None:
    plug([HDMI["HDMI-1"]])
    closed = make_wall(["HDMI-1", "HDMI-2"])
    live = make_wall(["HDMI-1", "HDMI-2"])
    closed.close()
    plug([HDMI["HDMI-1"], HDMI["HDMI-2"]])
    qtbot.waitUntil(lambda: 1 in live.windows, timeout=60_000)  # the running wall reacted
    assert closed.windows == {}


def test_a_new_resolution_rebuilds_the_window_at_its_scale(
    plug: Plug, make_wall: MakeWall, qtbot: QtBot
) -> None:
    plug([HDMI["HDMI-1"], HDMI["HDMI-2"]])
    wall = make_wall(["HDMI-1", "HDMI-2"])
    wall.start()
    before, other = wall.windows[0], wall.windows[1]
    assert before.context.theme == wall.theme.scaled(1920, 1080)
    # the same monitor, switched to 4K (a new mode; Qt reports a changed geometry)
    plug([{**HDMI["HDMI-1"], "width": 3840, "height": 2160}, HDMI["HDMI-2"]])
    qtbot.waitUntil(lambda: wall.windows.get(0) is not before, timeout=60_000)
    after = wall.windows[0]
    assert after.context.theme == wall.theme.scaled(3840, 2160)
    assert_fills_its_screen(after, "HDMI-1")
    assert wall.windows[1] is other  # the other screen is left alone

"""Hot reload inside the wall: screens rebuilt from a saved change, the last good config kept
(with a notice on the status line) when the file is invalid."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pytestqt.qtbot import QtBot

from agora.config.edit import ConfigDocument, save_text
from agora.config.loader import load_config
from agora.engine import Engine
from agora.store.memory import MemoryStore
from agora.ui.app import Wall
from agora.ui.reload import STATUS_KEY, ConfigReloader

from .conftest import sample_posts


def wall_file(name: str, pages: str) -> str:
    """A wall of one topic and one screen with ``pages`` (its ``[[screens.pages]]`` tables)."""
    return (
        f'[wall]\nname = "{name}"\n\n[topics.brand]\nlabel = "Lumen"\nterms = ["lumen"]\n\n'
        f"[[screens]]\noutput = 0\n{pages}"
    )


@contextmanager
def running(
    path: Path, text: str, size: tuple[int, int], posts: int = 0
) -> Iterator[tuple[Wall, ConfigReloader]]:
    """A windowed wall on the config file ``path`` (written with ``text``), its file watched."""
    path.write_text(text, encoding="utf-8")
    loaded = load_config(path)
    engine = Engine(loaded.config, MemoryStore(), config_dir=path.parent, sources=[])
    if posts:
        engine.ingest_now(sample_posts(posts))
        engine.publish(force=True)
    wall = Wall(engine, windowed=True, window_size=size)
    reloader = ConfigReloader(wall, loaded, interval_s=0.05)
    try:
        yield wall, reloader
    finally:
        reloader.stop()
        wall.close()
        engine.close()


CONFIG = wall_file(
    "Reload",
    """\
[[screens.pages]]
grid = "2x1"
panels = [{ kind = "featured", at = "0,0" }, { kind = "kpis", at = "1,0" }]
""",
)


def test_a_saved_change_rebuilds_the_screens_and_a_bad_one_is_refused(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "wall.toml"
    with running(path, CONFIG, (960, 540), posts=50) as (wall, reloader):
        first = wall.windows[0]
        assert [p.kind for p in first.pages[0].panels] == ["featured", "kpis"]

        doc = ConfigDocument(CONFIG)
        doc.set(("screens", 0, "pages", 0, "panels", 1, "kind"), "trending")
        save_text(path, doc.text)
        qtbot.waitUntil(lambda: reloader.reloads == 1, timeout=60_000)
        window = wall.windows[0]
        assert window is not first
        assert [p.kind for p in window.pages[0].panels] == ["featured", "trending"]
        assert wall.config.screens[0].pages[0].panels[1].kind == "trending"

        path.write_text(doc.text.replace('grid = "2x1"', 'grid = "1x1"'), encoding="utf-8")
        qtbot.waitUntil(lambda: reloader.rejections == 1, timeout=60_000)
        assert wall.windows[0] is window  # nothing changed on screen
        assert "config not applied" in window._status_messages[STATUS_KEY]
        wall.tick()
        assert "config not applied" in window.status.text()

        save_text(path, doc.text.replace('name = "Reload"', 'name = "Reloaded"'))
        qtbot.waitUntil(lambda: reloader.reloads == 2, timeout=60_000)
        window = wall.windows[0]
        assert STATUS_KEY not in window._status_messages
        assert window.windowTitle().startswith("Reloaded")


PAGES = wall_file(
    "Pages",
    """\
[[screens.pages]]
name = "one"
panels = [{ kind = "kpis", at = "0,0" }]
[[screens.pages]]
name = "two"
panels = [{ kind = "trending", at = "0,0" }]
[[screens.pages]]
panels = [{ kind = "share", at = "0,0" }]
""",
)


def test_a_rebuilt_screen_carries_on_at_the_page_it_was_showing(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "wall.toml"
    with running(path, PAGES, (640, 360)) as (wall, reloader):
        window = wall.windows[0]
        window.next_page()
        window.set_paused(True)
        assert window.current_page().config.name == "two"

        # a page added in front: the screen stays on "two" (now the third page), still paused
        grown = PAGES.replace(
            '[[screens.pages]]\nname = "one"',
            '[[screens.pages]]\nname = "zero"\npanels = [{ kind = "kpis", at = "0,0" }]\n'
            '[[screens.pages]]\nname = "one"',
        )
        save_text(path, grown)
        qtbot.waitUntil(lambda: reloader.reloads == 1, timeout=60_000)
        window = wall.windows[0]
        assert window.current == 2 and window.current_page().config.name == "two"
        assert window.paused
        assert window.stack.currentWidget() is window.current_page()

        # an unnamed page keeps its position; a page whose name is gone starts at the first
        window.set_paused(False)
        window.next_page()
        assert window.current_page().config.name is None
        save_text(path, grown.replace('"trending"', '"authors"'))
        qtbot.waitUntil(lambda: reloader.reloads == 2, timeout=60_000)
        window = wall.windows[0]
        assert window.current == 3 and not window.paused
        window.next_page(-1)
        save_text(path, grown.replace('name = "two"', 'name = "deux"'))
        qtbot.waitUntil(lambda: reloader.reloads == 3, timeout=60_000)
        assert wall.windows[0].current == 0

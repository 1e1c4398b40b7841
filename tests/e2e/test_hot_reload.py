"""Hot reload end to end: ``agora run`` on an offscreen screen picks up saved changes (valid,
invalid, valid again) and reports each in its log, without restarting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agora.config.edit import ConfigDocument, save_text

from .wallproc import RunningWall

CONFIG = """\
# a wall for the hot reload test
[wall]
name = "Reload test wall"   # its database is named after it

[topics.brand]
label = "Lumen"
terms = ["lumen", "#lumen"]

[[sources]]
name = "sim"
kind = "simulator"
rate = 30
backfill = "30m"

[[screens]]
output = 0
[[screens.pages]]
seconds = 30
grid = "2x1"
panels = [
  { kind = "featured", at = "0,0" },
  { kind = "sentiment", at = "1,0" },
]
"""


@pytest.fixture
def wall(tmp_path: Path) -> Iterator[tuple[RunningWall, Path]]:
    config = tmp_path / "wall.toml"
    config.write_text(CONFIG, encoding="utf-8")
    running = RunningWall(config, tmp_path / "data", tmp_path / "wall.log")
    try:
        yield running, config
    finally:
        running.stop()


@pytest.mark.slow
def test_saved_changes_reach_the_running_wall(wall: tuple[RunningWall, Path]) -> None:
    running, config = wall
    running.wait_for_all(r"wall 'Reload test wall' running on 1 screen")
    running.wait_for_all(r"watching .*wall\.toml for changes")

    # 1. a valid change (the page's grid and a new topic), saved as the console saves
    doc = ConfigDocument.read(config)
    doc.set(("screens", 0, "pages", 0, "grid"), "3x1")
    doc.append(("screens", 0, "pages", 0, "panels"), {"kind": "volume", "at": "2,0"})
    doc.set(("topics", "rival", "terms"), ["corvid"])
    saved_at = time.monotonic()
    save_text(config, doc.text)
    line = running.wait_for_all(r"config reloaded: ", timeout=120)[0]
    # within the two seconds the README promises; 3x that is slack for a busy machine
    assert time.monotonic() - saved_at < 3 * 2.0
    assert "screens rebuilt" in line
    assert "figures rebuilt from the store (topics changed)" in line
    assert "restarted sim" in line  # the simulator speaks of the topics: it restarts
    running.wait_for_all(r"figures rebuilt for the new config from \d+ stored posts")

    # 2. an invalid change: rejected, every problem logged with file and line
    text = config.read_text(encoding="utf-8")
    bad = text.replace('grid = "3x1"', 'grid = "3by1"').replace("rate = 30", "rate = -5")
    config.write_text(bad, encoding="utf-8")  # written in place, as an editor might
    rejected = running.wait_for_all(r"config rejected: .*the wall keeps the last good config")
    problems = running.wait_for_all(r"config rejected: .*wall\.toml:\d+: ", count=2)
    assert any("screens[0].pages[0].grid" in p for p in problems)
    assert any("sources[0].rate" in p for p in problems)
    assert "2 problems" in rejected[0]

    # 3. valid again: reloaded, the wall never restarted
    good = text.replace("[wall]\n", '[wall]\ntheme = "light"\n')
    config.write_text(good, encoding="utf-8")
    line = running.wait_for_all(r"config reloaded: ", count=2, timeout=120)[1]
    assert "screens rebuilt" in line
    assert "sources" not in line  # no source entry changed: none restarted
    assert "figures" not in line
    assert sum("running on 1 screen" in m for m in running.messages()) == 1
    assert running.process.poll() is None

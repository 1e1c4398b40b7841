"""Hot reload end to end: ``agora run`` on an offscreen screen picks up saved changes (valid,
invalid, valid again) and reports each in its log, without restarting."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agora.config.edit import ConfigDocument, save_text

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


class Wall:
    """``agora run`` in a subprocess, its log in a file the test reads."""

    def __init__(self, config: Path, data_dir: Path, log: Path) -> None:
        self.log_path = log
        self._log = log.open("wb")
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agora",
                "run",
                str(config),
                "--windowed",
                "--data-dir",
                str(data_dir),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 30.0) -> list[str]:
        """Lines matching ``pattern`` once there are ``count`` of them (polls the log)."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            lines = [line for line in self.text().splitlines() if regex.search(line)]
            if len(lines) >= count:
                return lines
            if self.process.poll() is not None:
                raise AssertionError(f"the wall exited ({self.process.returncode}):\n{self.text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {count} × {pattern!r} within {timeout} s:\n{self.text()}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
def wall(tmp_path: Path) -> Iterator[tuple[Wall, Path]]:
    config = tmp_path / "wall.toml"
    config.write_text(CONFIG, encoding="utf-8")
    running = Wall(config, tmp_path / "data", tmp_path / "wall.log")
    try:
        yield running, config
    finally:
        running.kill()


@pytest.mark.slow
def test_saved_changes_reach_the_running_wall(wall: tuple[Wall, Path]) -> None:
    running, config = wall
    running.wait_for(r"wall 'Reload test wall' running on 1 screen")
    running.wait_for(r"watching .*wall\.toml for changes")

    # 1. a valid change (the page's grid and a new topic), saved as the console saves
    doc = ConfigDocument.read(config)
    doc.set(("screens", 0, "pages", 0, "grid"), "3x1")
    doc.append(("screens", 0, "pages", 0, "panels"), {"kind": "volume", "at": "2,0"})
    doc.set(("topics", "rival", "terms"), ["corvid"])
    saved_at = time.monotonic()
    save_text(config, doc.text)
    line = running.wait_for(r"config reloaded: ", timeout=10)[0]
    assert time.monotonic() - saved_at < 2.0 + 1.0  # two seconds, and a little for the log poll
    assert "screens rebuilt" in line
    assert "figures rebuilt from the store (topics changed)" in line
    assert "restarted sim" in line  # the simulator speaks of the topics: it restarts
    running.wait_for(r"figures rebuilt for the new config from \d+ stored posts")

    # 2. an invalid change: rejected, every problem logged with file and line
    text = config.read_text(encoding="utf-8")
    bad = text.replace('grid = "3x1"', 'grid = "3by1"').replace("rate = 30", "rate = -5")
    config.write_text(bad, encoding="utf-8")  # written in place, as an editor might
    rejected = running.wait_for(r"config rejected: .*the wall keeps the last good config")
    problems = running.wait_for(r"config rejected: .*wall\.toml:\d+: ", count=2)
    assert any("screens[0].pages[0].grid" in p for p in problems)
    assert any("sources[0].rate" in p for p in problems)
    assert "2 problems" in rejected[0]

    # 3. valid again: reloaded, the wall never restarted
    good = text.replace("[wall]\n", '[wall]\ntheme = "light"\n')
    config.write_text(good, encoding="utf-8")
    line = running.wait_for(r"config reloaded: ", count=2, timeout=10)[1]
    assert "screens rebuilt" in line
    assert "sources" not in line  # no source entry changed: none restarted
    assert "figures" not in line
    assert running.text().count("running on 1 screen") == 1
    assert running.process.poll() is None

"""The config watcher: a change is reported once, when it has settled; a rewrite is not a change."""

from __future__ import annotations

import os
from pathlib import Path

from agora.config.watch import ConfigWatcher


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_change_is_reported_once_after_it_settles(tmp_path: Path) -> None:
    path = tmp_path / "wall.toml"
    path.write_text("a = 1\n", encoding="utf-8")
    clock = Clock()
    watcher = ConfigWatcher([path], settle=0.25, monotonic=clock)
    assert watcher.poll() == []
    path.write_text("a = 2\n", encoding="utf-8")
    assert watcher.poll() == []  # seen, not settled yet
    clock.now += 0.5
    assert watcher.poll() == [path]
    clock.now += 0.5
    assert watcher.poll() == []


def test_a_file_still_being_written_is_reported_when_it_stops_changing(tmp_path: Path) -> None:
    path = tmp_path / "wall.toml"
    path.write_text("a = 1\n", encoding="utf-8")
    clock = Clock()
    watcher = ConfigWatcher([path], settle=0.25, monotonic=clock)
    path.write_text("a = ", encoding="utf-8")
    assert watcher.poll() == []
    clock.now += 0.2
    path.write_text("a = 3\n", encoding="utf-8")
    assert watcher.poll() == []  # different again: the settle time starts over
    clock.now += 0.2
    assert watcher.poll() == []
    clock.now += 0.1
    assert watcher.poll() == [path]


def test_the_same_content_written_again_is_not_a_change(tmp_path: Path) -> None:
    path = tmp_path / "wall.toml"
    path.write_text("a = 1\n", encoding="utf-8")
    clock = Clock()
    watcher = ConfigWatcher([path], settle=0.0, monotonic=clock)
    stat = path.stat()
    path.write_text("a = 1\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert watcher.poll() == []


def test_a_same_size_write_within_the_same_mtime_is_still_found(tmp_path: Path) -> None:
    path = tmp_path / "wall.toml"
    path.write_text("a = 1\n", encoding="utf-8")
    stat = path.stat()
    watcher = ConfigWatcher([path], settle=0.0)
    path.write_text("a = 2\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # a coarse file system
    found: list[Path] = []
    for _ in range(20):
        found += watcher.poll()
    assert found == [path]


def test_replaced_removed_and_restored_files(tmp_path: Path) -> None:
    path = tmp_path / "wall.toml"
    path.write_text("a = 1\n", encoding="utf-8")
    watcher = ConfigWatcher([path], settle=0.0)
    temp = tmp_path / "new.tmp"
    temp.write_text("a = 5\n", encoding="utf-8")
    os.replace(temp, path)
    assert watcher.poll() == [path]
    path.unlink()
    assert watcher.poll() == [path]  # gone: the caller says it cannot be read
    path.write_text("a = 5\n", encoding="utf-8")
    assert watcher.poll() == [path]


def test_watching_other_files_and_accepting(tmp_path: Path) -> None:
    one, two = tmp_path / "one.toml", tmp_path / "two.toml"
    one.write_text("a = 1\n", encoding="utf-8")
    two.write_text("b = 1\n", encoding="utf-8")
    watcher = ConfigWatcher([one], settle=0.0)
    watcher.watch([one, two])
    assert watcher.paths == [one, two]
    two.write_text("b = 2\n", encoding="utf-8")
    watcher.accept()
    assert watcher.poll() == []

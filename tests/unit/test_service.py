"""Running unattended: logs, secrets, the watchdog, systemd notifications, the supervisor and the
autostart files."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from agora.config.schema import WallConfig
from agora.engine import Engine
from agora.engine import source_loop as engine_module
from agora.service import (
    JsonFormatter,
    RedactSecrets,
    Watchdog,
    file_log_handler,
    install_autostart,
    sd_notify,
    supervise,
    watchdog_interval,
)
from agora.sources.base import Sink, Source, SourceContext
from agora.store.memory import MemoryStore


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("agora.test", logging.WARNING, __file__, 1, message, args, None)


def test_log_lines_are_json_with_secrets_redacted() -> None:
    redact = RedactSecrets(["s3cr3t-token-value", "abc"])  # too short to redact: "abc"
    url = "https://x.example/s3cr3t-token-value/feed?key=s3cr3t-token-value"
    entry = record("request failed for %s: %s", url, "abc")
    assert redact.filter(entry)
    line = json.loads(JsonFormatter().format(entry))
    # the secret is hidden, and the URL's query whatever it holds (issue 13)
    assert line["msg"] == "request failed for https://x.example/«redacted»/feed?…: abc"
    assert line["level"] == "warning" and line["logger"] == "agora.test"
    assert datetime.fromisoformat(line["t"]).tzinfo is not None


def test_the_log_file_rotates_and_stays_bounded(tmp_path: Path) -> None:
    handler = file_log_handler(tmp_path / "logs" / "wall.log", max_bytes=2_000, backups=2)
    logger = logging.getLogger("agora.test.rotation")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for i in range(500):
            logger.warning("event number %d with some words to fill the line", i)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted((tmp_path / "logs").iterdir())
    assert [f.name for f in files] == ["wall.log", "wall.log.1", "wall.log.2"]
    assert sum(f.stat().st_size for f in files) <= 3 * 2_100
    last = (tmp_path / "logs" / "wall.log").read_text().splitlines()[-1]
    assert json.loads(last)["msg"] == "event number 499 with some words to fill the line"


def test_sd_notify_reaches_a_real_notification_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(30)
        assert sd_notify("READY=1", {"NOTIFY_SOCKET": str(path)})
        assert server.recv(100) == b"READY=1"
    assert not sd_notify("READY=1", {})  # not under systemd: nothing to do
    assert not sd_notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert watchdog_interval({"WATCHDOG_USEC": "60000000"}) == 30.0
    assert watchdog_interval({}) is None


def test_watchdog_logs_a_stall_once_and_stops_confirming_liveness(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    pings: list[str] = []
    dog = Watchdog(clock=lambda: now[0], notify=lambda m: pings.append(m) or True, ping_every=1.0)
    dog.watch("the UI tick", 5.0)
    now[0] = 3.0
    dog.beat("the UI tick")
    assert dog.check() == [] and pings == []  # not before the wall said READY=1
    dog.ready()
    assert dog.check() == [] and pings == ["WATCHDOG=1"]
    with caplog.at_level(logging.WARNING, "agora.service"):
        for t in (9.0, 10.0, 11.0):
            now[0] = t
            assert dog.check() == ["the UI tick"]
        assert pings == ["WATCHDOG=1"]  # no liveness while stalled: systemd restarts the wall
        assert caplog.text.count("has not ticked") == 1
        dog.beat("the UI tick")
        assert dog.check() == []
        assert "ticking again" in caplog.text
    assert pings == ["WATCHDOG=1", "WATCHDOG=1"]


class BlockingSource(Source):
    """A source whose run blocks the whole event loop (a synchronous call that hangs)."""

    kind = "simulator"

    def __init__(self, context: SourceContext, release: threading.Event) -> None:
        class Entry:
            name = "hang"

        super().__init__(Entry(), context)
        self.release = release

    async def fetch(self, limit: int | None = None) -> list:  # type: ignore[type-arg]
        return []

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        await asyncio.sleep(0.2)
        self.release.wait(120)  # blocks the loop till the test ends: what the watchdog notices


def test_the_watchdog_notices_a_hung_source_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the ingest thread beats twice a second: 5 s of silence is a stall only for the blocked loop,
    # even on a busy machine
    monkeypatch.setattr(engine_module, "LOOP_STALL_S", 5.0)
    config = WallConfig()
    release = threading.Event()
    context = SourceContext(wall=config, config_dir=tmp_path)
    wall = Engine(
        config, MemoryStore(), config_dir=tmp_path, sources=[BlockingSource(context, release)]
    )
    stalls: list[str] = []
    seen = threading.Event()

    def on_stall(name: str, _silent: float) -> None:
        stalls.append(name)
        seen.set()

    wall.watchdog = Watchdog(on_stall=on_stall)
    wall.watchdog.start(every=0.1)
    wall.start()
    try:
        assert seen.wait(60), "the watchdog never noticed the blocked loop"
        assert stalls == ["the source loop"]  # the ingest thread kept beating
    finally:
        release.set()
        wall.stop()
        wall.watchdog.stop()


def test_supervise_restarts_a_crashed_wall_with_backoff() -> None:
    statuses = iter([1, -9, 1, 0])
    runs: list[Sequence[str]] = []
    waits: list[float] = []

    def run(argv: Sequence[str]) -> int:
        runs.append(argv)
        return next(statuses)

    assert supervise(["agora", "run", "wall.toml"], run=run, sleep=waits.append) == 0
    assert len(runs) == 4 and waits == [1.0, 2.0, 4.0]


def test_autostart_files(tmp_path: Path) -> None:
    config = tmp_path / "wall.toml"
    config.write_text("")
    unit = install_autostart(
        "Espoo lobby", config, tmp_path / "data", kind="systemd", config_home=tmp_path / "cfg"
    )
    text = unit.path.read_text()
    assert unit.path == tmp_path / "cfg" / "systemd" / "user" / "agora-espoo-lobby.service"
    assert "Restart=on-failure" in text and "WatchdogSec=" in text and "Type=notify" in text
    assert "After=graphical-session.target" in text
    assert f"run {config.resolve()} --data-dir {(tmp_path / 'data').resolve()}" in text
    assert any("disable --now agora-espoo-lobby.service" in c for c in unit.undo)
    entry = install_autostart("Espoo lobby", config, None, kind="xdg", config_home=tmp_path / "cfg")
    desktop = entry.path.read_text()
    assert entry.path.name == "agora-espoo-lobby.desktop"
    assert "--supervise" in desktop and "[Desktop Entry]" in desktop
    assert entry.undo == [f"rm {entry.path}"]

"""`agora install-autostart` and the wall's log file, as a person runs them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "agora" / "assets" / "demo.toml"


def agora(*args: object, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agora", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,  # a safety net: the demo ingests its day of history first
        env=env,
        check=False,
    )


def test_install_autostart_writes_a_unit_and_says_how_to_undo_it(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    result = agora(
        "install-autostart",
        DEMO,
        "--kind",
        "systemd",
        "--no-enable",
        "--data-dir",
        tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    unit = tmp_path / "cfg" / "systemd" / "user" / "agora-lumen-helsinki-lobby.service"
    assert f"wrote {unit}" in result.stdout
    assert "to undo:" in result.stdout and "systemctl --user disable --now" in result.stdout
    assert "ExecStart=" in unit.read_text()
    result = agora("install-autostart", DEMO, "--kind", "xdg", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cfg" / "autostart" / "agora-lumen-helsinki-lobby.desktop").is_file()


def test_the_wall_writes_a_json_log(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    log_file = tmp_path / "wall.log"
    result = agora(
        "demo",
        "--windowed",
        "--seconds",
        "2",
        "--data-dir",
        tmp_path,
        "--log-file",
        log_file,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert lines and all({"t", "level", "logger", "msg"} <= set(line) for line in lines)
    assert "Traceback" not in result.stderr


def test_the_wall_tells_systemd_it_is_ready(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(120)  # a safety net: the demo starts with its day of history
        env = dict(
            os.environ,
            QT_QPA_PLATFORM="offscreen",
            NOTIFY_SOCKET=str(path),
            WATCHDOG_USEC="2000000",  # the wall pings every second while every loop is alive
        )
        wall = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agora",
                "demo",
                "--windowed",
                # a safety net only: the test stops it once it has heard what it waits for (a
                # fixed run could end, on a busy machine, before the first frame and its ping)
                "--seconds",
                "120",
                "--data-dir",
                str(tmp_path),
                "--log-file",
                "-",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            messages = []
            while not any(m.startswith("WATCHDOG=1") for m in messages):
                messages.append(server.recv(200).decode())
            assert messages[0].startswith("READY=1")
            assert "STATUS=showing Lumen" in messages[0]
            wall.send_signal(signal.SIGTERM)  # as systemd stops it
            assert wall.wait(120) == 0
        finally:
            wall.kill()

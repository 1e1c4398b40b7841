"""``agora run`` as a subprocess for end-to-end tests: its JSON log read while it runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


class RunningWall:
    """``agora run CONFIG --windowed`` (offscreen) with a JSON log file the test polls; its
    stdout and stderr go to ``<log>.out``. Never synchronises on sleeps alone: every wait polls
    the log against a deadline and fails at once, with the output, if the wall exited."""

    def __init__(self, config: Path, data_dir: Path, log: Path, *extra: str) -> None:
        self.log = log
        self.output = log.with_suffix(".out")
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    *("-m", "agora", "run", str(config), "--windowed"),
                    *("--data-dir", str(data_dir), "--log-file", str(log)),
                    *extra,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def messages(self) -> list[str]:
        """Every log message so far (a line being written is left for the next read)."""
        if not self.log.exists():
            return []
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                found.append(str(json.loads(line)["msg"]))
            except (ValueError, KeyError):
                continue
        return found

    def wait_for(self, text: str, timeout: float = 120.0) -> str:
        """The first log message containing ``text`` (``timeout`` is only a safety net: a wall
        starting on a busy machine may take a while)."""
        return self._wait(lambda m: text in m, 1, timeout, repr(text))[0]

    def wait_for_all(self, pattern: str, count: int = 1, timeout: float = 120.0) -> list[str]:
        """The messages matching the regular expression ``pattern``, once there are ``count``."""
        regex = re.compile(pattern)
        return self._wait(lambda m: bool(regex.search(m)), count, timeout, f"{count} × {pattern!r}")

    def _wait(
        self, match: Callable[[str], bool], count: int, timeout: float, what: str
    ) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            hits = [m for m in self.messages() if match(m)]
            if len(hits) >= count:
                return hits
            if self.process.poll() is not None:
                output = self.output.read_text(errors="replace")
                raise AssertionError(f"the wall exited ({self.process.returncode}):\n{output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout} s:\n{self.messages()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Kill the wall (if it still runs) and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

"""What a wall does before its first frame (issue 15: first frame of ``agora demo`` within 2 s).

No timing here (the figure is ``agora bench soak``'s ``first_frame_s``): what is checked is what
must not happen before the first frame, each in a fresh process so that nothing another test
imported hides it.

- The engine's threads (reading the history back, the sources' first batches) start only after
  the first frame: before, they held the interpreter while the windows were being built.
- A window whose panels draw no chart does not import pyqtgraph; no wall imports the picture
  downloader's HTTP stack (httpx) or the sentiment model's weights (and numpy) before its first
  frame: those come when a picture is first asked for and with the ingest thread's first batch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

#: Modules that must not be loaded when a wall of text panels has painted.
LATE_MODULES = ("pyqtgraph", "numpy", "httpx", "agora.netguard", "agora.core.sentiment_model")

#: Builds the demo engine (not started) and a wall of one window with the panels of ``PANELS``,
#: runs the event loop until the window has painted, and prints which modules were loaded then.
FIRST_WINDOW = """
import json, sys, time
from pathlib import Path
from PySide6.QtWidgets import QApplication

app = QApplication(["agora", "-platform", "offscreen"])
from agora.bench.soak import DEMO_CONFIG
from agora.config.loader import load_config
from agora.config.schema import PageConfig, ScreenConfig
from agora.engine import Engine
from agora.store import open_store
from agora.ui.app import FirstFrame, Wall

loaded = load_config(DEMO_CONFIG)
page = PageConfig.model_validate({"name": "first", "grid": "4x9", "panels": PANELS})
config = loaded.config.model_copy(update={"screens": [ScreenConfig(output=0, pages=[page])]})
engine = Engine(config, open_store(Path(sys.argv[1]), "first"), config_dir=loaded.config_dir)
wall = Wall(engine, windowed=True, images=None)
painted = []
first_frame = FirstFrame(lambda: painted.append(True))
for window in wall.windows.values():
    window.installEventFilter(first_frame)
wall.start()
deadline = time.monotonic() + 60.0  # a safety net for a busy machine, not an expectation
while not painted and time.monotonic() < deadline:
    app.processEvents()
print(json.dumps({
    "painted": bool(painted),
    "engine_running": engine.running,
    "panels": sum(len(w.current_page().panels) for w in wall.windows.values()),
    "loaded": [name for name in MODULES if name in sys.modules],
}))
wall.close()
engine.close()
"""

TEXT_PANELS = [
    {"kind": "header", "at": "0,0", "span": "4,1"},
    {"kind": "featured", "at": "0,1", "span": "2,7"},
    {"kind": "river", "at": "2,1", "span": "2,7"},
    {"kind": "ticker", "at": "0,8", "span": "4,1"},
]
CHART_PANELS = [
    {"kind": "header", "at": "0,0", "span": "4,1"},
    {"kind": "volume", "at": "0,1", "span": "4,8", "window": "24h"},
]


def offscreen_env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def first_window(tmp_path: Path, panels: list[dict[str, str]]) -> dict[str, Any]:
    code = f"PANELS = {panels!r}\nMODULES = {LATE_MODULES!r}\n{FIRST_WINDOW}"
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        env=offscreen_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_window_of_text_panels_paints_before_charts_pictures_or_the_model_load(
    tmp_path: Path,
) -> None:
    result = first_window(tmp_path, TEXT_PANELS)
    assert result["painted"]
    assert result["panels"] == len(TEXT_PANELS)  # the window painted with its panels
    assert not result["engine_running"]
    assert result["loaded"] == []


def test_a_window_with_a_chart_loads_pyqtgraph_for_it_and_still_not_the_rest(
    tmp_path: Path,
) -> None:
    # the other side of the test above: it can tell a loaded module from one that is not
    result = first_window(tmp_path, CHART_PANELS)
    assert result["painted"]
    assert result["panels"] == len(CHART_PANELS)
    assert "pyqtgraph" in result["loaded"]
    assert "numpy" in result["loaded"]  # pyqtgraph's own
    assert "httpx" not in result["loaded"]
    assert "agora.core.sentiment_model" not in result["loaded"]


def test_agora_demo_starts_its_engine_only_after_the_first_frame(tmp_path: Path) -> None:
    log_file = tmp_path / "wall.log"
    subprocess.run(
        [
            *(sys.executable, "-m", "agora", "demo", "--windowed", "--seconds", "4"),
            *("--data-dir", str(tmp_path / "data"), "--log-file", str(log_file)),
        ],
        env=offscreen_env(),
        capture_output=True,
        timeout=180,
        check=False,
    )
    entries = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    first_frame = [i for i, e in enumerate(entries) if "first_frame_s" in e]
    engine_started = [i for i, e in enumerate(entries) if e["msg"].startswith("engine started")]
    assert first_frame, [e["msg"] for e in entries]
    assert engine_started, [e["msg"] for e in entries]
    assert first_frame[0] < engine_started[0]
    assert len(engine_started) == 1  # once, though the fallback timer also asks

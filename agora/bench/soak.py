"""``agora bench soak``: a week of a wall in a few minutes, to prove its memory stays flat.

The demo wall (real engine, real SQLite store with retention, real windows on the offscreen
platform) is driven by a fake clock: every simulated minute the simulator's posts for that minute
are ingested, a snapshot is published, every window gets a UI tick and turns a page now and then,
Qt's events are processed, and retention runs every simulated hour. After each simulated day the
process's RSS is read. Memory is flat when RSS after day 7 is within 10 % of RSS after day 1
(``ratio_day7_day1`` ≤ 1.10).

``first_frame_s`` is measured separately, the way a person meets it: ``agora demo`` is started as
a process and the time from its start to its first painted frame is read from its log.

Qt is imported inside the functions: this module is part of the Qt-free ``agora.bench`` package
and only needs Qt when it runs.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agora.bench.ingest import rss_mb
from agora.config.schema import SimulatorSource

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "assets" / "demo.toml"
#: The wall's UI tick is every 250 ms; the soak gives each window this many ticks a minute.
TICKS_PER_MINUTE = 2


def run_soak(
    days: float = 7.0,
    *,
    rate_per_min: float | None = None,
    data_dir: Path | None = None,
    on_day: Callable[[int, float], None] | None = None,
    start: datetime | None = None,
    step_minutes: int = 1,
) -> dict[str, Any]:
    """Drive the demo wall through ``days`` simulated days; RSS after each one. ``step_minutes``:
    simulated minutes between two rounds of publish and UI ticks (1 for the benchmark; the test
    suite takes larger steps to stay quick)."""
    from PySide6.QtWidgets import QApplication

    from agora.config.loader import load_config
    from agora.engine import Engine
    from agora.sources.base import SourceContext
    from agora.sources.simulator import SimulatorSource as Simulator
    from agora.store import open_store
    from agora.ui.app import Wall

    app = QApplication.instance() or QApplication(["agora", "-platform", "offscreen"])
    assert isinstance(app, QApplication)
    loaded = load_config(DEMO_CONFIG)
    config = loaded.config
    demo = next(s for s in config.sources if isinstance(s, SimulatorSource))
    if rate_per_min is not None:
        demo = demo.model_copy(update={"rate": rate_per_min})
    config = config.model_copy(update={"sources": [demo]})
    moment = [start or datetime(2026, 11, 2, 6, 0, tzinfo=UTC)]

    def clock() -> datetime:
        return moment[0]

    wall_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agora-soak-") as tmp:
        directory = data_dir or Path(tmp)
        store = open_store(directory, config.wall.name)
        engine = Engine(config, store, config_dir=loaded.config_dir, clock=clock, sources=[])
        simulator = Simulator(demo, SourceContext(wall=config, config_dir=loaded.config_dir))
        stream = simulator.stream(moment[0] - timedelta(hours=1))
        pending = next(stream)
        wall = Wall(engine, windowed=False, clock=clock, images=None)
        rss_by_day: list[float] = []
        posts = 0
        try:
            wall.start()
            wall.stop()  # the soak ticks by hand, on simulated time
            minutes = round(days * 1440)
            for minute in range(step_minutes, minutes + 1, step_minutes):
                moment[0] += timedelta(minutes=step_minutes)
                batch = []
                while pending.created_at <= moment[0]:
                    batch.append(pending)
                    pending = next(stream)
                if batch:
                    engine.ingest_now(batch)
                    posts += len(batch)
                engine.publish()
                for _ in range(TICKS_PER_MINUTE):
                    wall.tick()
                    app.processEvents()
                if minute % (3 * step_minutes) == 0:  # pages turn (the demo's last 30-45 s)
                    for window in wall.windows.values():
                        window.next_page()
                if minute % 60 < step_minutes:
                    engine.run_retention()
                if minute % 1440 < step_minutes:
                    gc.collect()
                    rss = rss_mb()
                    rss_by_day.append(round(rss, 1))
                    if on_day is not None:
                        on_day(len(rss_by_day), rss)
        finally:
            wall.close()
            engine.close()
    wall_s = time.perf_counter() - wall_started
    first = rss_by_day[0] if rss_by_day else 0.0
    last = rss_by_day[-1] if rss_by_day else 0.0
    return {
        "days": days,
        "posts": posts,
        "rss_mb_by_day": rss_by_day,
        "ratio_day7_day1": round(last / first, 3) if first else None,
        "soak_s": round(wall_s, 1),
    }


def first_frame_seconds(data_dir: Path | None = None, timeout: float = 60.0) -> float | None:
    """Start ``agora demo`` as a process and read, from its log, how long after the process
    started its first frame was painted (``None`` when it never said so)."""
    with tempfile.TemporaryDirectory(prefix="agora-first-frame-") as tmp:
        directory = data_dir or Path(tmp)
        log_file = Path(tmp) / "wall.log"
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "agora",
                "demo",
                "--windowed",
                "--seconds",
                "5",
                "--data-dir",
                str(directory),
                "--log-file",
                str(log_file),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
        if not log_file.exists():
            return None
        for line in log_file.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if "first_frame_s" in entry:
                return float(entry["first_frame_s"])
    return None


def run_soak_bench(
    days: float = 7.0,
    *,
    rate_per_min: float | None = None,
    data_dir: Path | None = None,
    on_day: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """The soak and the start-up time, as ``agora bench soak`` reports them."""
    result = run_soak(days, rate_per_min=rate_per_min, data_dir=data_dir, on_day=on_day)
    result["first_frame_s"] = first_frame_seconds()
    return result

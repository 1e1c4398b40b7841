"""``agora bench render``: the demo wall on six offscreen screens under a live stream.

What runs is what ``agora demo`` runs (the engine with its ingest and source threads, a SQLite store,
one :class:`~agora.ui.app.Wall` window per screen, the UI tick), with two changes:

* **six screens**: the offscreen platform with :data:`SCREENS_FILE` (five 1920×1080 screens and a
  3840×2160 one at device pixel ratio 2, as in the team's shared ``six-screens.json``). The
  offscreen platform reports a screen's ``dpr`` but does not hand it to the screen's windows (they
  would paint at ratio 1), so :func:`offscreen_platform` gives Qt the ratio as that screen's scale
  factor instead (``QT_SCREEN_SCALE_FACTORS``): the 4K window is 1920×1080 logical pixels painted
  at ratio 2 into 3840×2160 device pixels, as on a real 4K panel at 200 %. The ratio each window
  really paints at is read back from the window and reported (``window_dpr``); the run stops with
  an error if a window's ratio is not its screen's. The demo config has two screens;
  :func:`bench_config` repeats its layouts over outputs 0–5: the lobby rotation (Overview ⇄
  Conversation) on outputs 0, 2, 4 and on the 4K screen (5), the care desk on 1 and 3. Every page
  rotates as configured.
* **the stream**: the demo's day of history (its own simulator: 24 h at 40 posts a minute, the
  launch spike included) is ingested first, then a live simulator sends ``rate`` posts a second
  (20 by default; its ``rate`` is calibrated against the simulated daily rhythm so the stream
  really is that fast, and the measured figure is printed).

After the history is in, the live stream flows and a short settle, it measures for ``seconds``:

* ``cpu_percent``: CPU time of the whole process (every thread: GUI, ingest, sources, Qt's own)
  over wall time, as a percentage of one core (``resource.getrusage``); ``cpu_by_thread`` splits
  it (Linux ``/proc``);
* ``tick_p50_ms`` / ``tick_p95_ms``: the UI tick (snapshot handed to every screen's visible page);
* ``per_kind``: the p95 duration of a frame of each kind, in ms: ``carousel`` (the featured
  post's fade), ``river`` (a card sliding in or fading), ``ticker`` (the crawl), ``page`` (the
  cross-fade; its first frame includes the turn: pictures taken, the new page laid out and
  refreshed) and ``data`` (panels refreshed from a new snapshot). A frame is the step or refresh
  plus the repaint of its window (every dirty widget painted into the backing store); a frame
  that moves two things counts for both kinds. ``frame_p95_ms`` is the worst of these p95s, so a
  cheap kind cannot hide a dear one; ``frames_by_kind`` adds counts, p50, max and the gap between
  two frames of one kind (``interval_p95_ms``: how smooth it looked);
* ``snapshot_p50_ms`` / ``snapshot_p95_ms``: building the core snapshot (ingest thread);
* ``peak_rss_mb``: peak resident memory of the run.

The timing hooks live in :mod:`agora.ui.perf` and cost nothing unless the benchmark installs them.
Qt is imported inside the functions that need it: importing this module stays Qt-free.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import resource
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from agora.bench.ingest import peak_rss_mb, rss_mb
from agora.config.schema import ScreenConfig, SimulatorSource, WallConfig

log = logging.getLogger("agora.bench.render")

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEMO_CONFIG = ASSETS / "demo.toml"
#: Five 1920×1080 screens and one 3840×2160 screen at DPR 2, for the offscreen platform.
SCREENS_FILE = ASSETS / "six-screens.json"
#: Which demo screen each output shows (index into the demo's ``[[screens]]``).
LAYOUT = (0, 1, 0, 1, 0, 0)
#: The live source's name in the bench config.
LIVE_SOURCE = "live"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100, linear interpolation), ``nan`` for no values."""
    if not values:
        return math.nan
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def _ms(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 2)


def bench_config(demo: WallConfig, live_rate_per_min: float, outputs: int = 6) -> WallConfig:
    """The demo wall on ``outputs`` screens, fed by one live simulator (no backfill: the history
    is ingested separately) at ``live_rate_per_min`` posts a minute on average."""
    if not demo.screens:
        raise ValueError("the demo config has no [[screens]]")
    layout = [LAYOUT[i] if i < len(LAYOUT) else i for i in range(outputs)]
    screens = [
        ScreenConfig(output=i, pages=list(demo.screens[layout[i] % len(demo.screens)].pages))
        for i in range(outputs)
    ]
    demo_sim = next((s for s in demo.sources if isinstance(s, SimulatorSource)), None)
    seed = (demo_sim.seed if demo_sim else 7) + 1
    live = SimulatorSource(
        name=LIVE_SOURCE,
        kind="simulator",
        rate=live_rate_per_min,
        seed=seed,
        backfill=0.0,
        launch_at=10 * 86400.0,  # the launch spike is in the history, not in the measurement
        every=1.0,
    )
    return demo.model_copy(update={"screens": screens, "sources": [live]})


def history_posts(demo: WallConfig, config_dir: Path, now: datetime, span_s: float) -> list[Any]:
    """The demo simulator's history: ``span_s`` seconds before ``now`` (what ``agora demo``
    backfills at start)."""
    from agora.sources.base import SourceContext
    from agora.sources.simulator import SimulatorSource as Simulator

    source = next((s for s in demo.sources if isinstance(s, SimulatorSource)), None)
    if source is None or span_s <= 0:
        return []
    source = source.model_copy(update={"backfill": span_s})
    simulator = Simulator(
        source, SourceContext(wall=demo, config_dir=config_dir, clock=lambda: now)
    )
    return simulator.generate(now - timedelta(seconds=span_s), now)


def calibrated_rate(config: WallConfig, config_dir: Path, now: datetime, per_s: float) -> float:
    """The simulator ``rate`` (posts a minute on average over a day) that gives ``per_s`` posts a
    second over the next minutes, replies and reposts included."""
    from agora.sources.base import SourceContext
    from agora.sources.simulator import SimulatorSource as Simulator

    probe_rate = per_s * 60.0
    live = bench_config(config, probe_rate).sources[0]
    simulator = Simulator(
        live, SourceContext(wall=config, config_dir=config_dir, clock=lambda: now)
    )
    span = 120.0
    measured = len(simulator.generate(now, now + timedelta(seconds=span))) / span
    if measured <= 0:
        return probe_rate
    return float(min(100_000.0, probe_rate * per_s / measured))


def offscreen_platform(screens_file: Path, workdir: Path) -> list[str]:
    """The ``-platform`` arguments for the offscreen platform with the screens of
    ``screens_file``, and the scale factors that make each window paint at its screen's ratio.

    A screen's ``dpr`` moves into ``QT_SCREEN_SCALE_FACTORS`` (by screen name) and is 1 in the
    copy written to ``workdir``: Qt then reports the screen at that ratio with a logical size of
    its pixels divided by it, and its windows paint at that ratio (the offscreen platform alone
    would report the ratio and paint at 1). Sets the environment variable: call it before the
    application exists. A ``QT_SCREEN_SCALE_FACTORS`` already set is the caller's and is kept."""
    data = json.loads(screens_file.read_text(encoding="utf-8"))
    factors = []
    for screen in data.get("screens", []):
        ratio = float(screen.get("dpr", 1) or 1)
        if ratio != 1.0:
            factors.append(f"{screen['name']}={ratio:g}")
            screen["dpr"] = 1
    if factors and "QT_SCREEN_SCALE_FACTORS" not in os.environ:
        os.environ["QT_SCREEN_SCALE_FACTORS"] = ";".join(factors)
        copy = workdir / screens_file.name
        copy.write_text(json.dumps(data), encoding="utf-8")
        screens_file = copy
    return ["-platform", f"offscreen:configfile={screens_file}"]


def bench_app(screens_file: Path | None = None) -> tuple[Any, dict[str, float]]:
    """The Qt application a benchmark runs in, and each screen's device pixel ratio by name.

    Creates it on the offscreen platform with the screens of ``screens_file`` (default
    :data:`SCREENS_FILE`) at their ratios (:func:`offscreen_platform`); another platform (xcb, to
    watch the wall) is the caller's choice and is kept. An application that exists already (the
    test suite's) is used as it is, with no ratios to check."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app, {}
    argv = ["agora"]
    if os.environ.get("QT_QPA_PLATFORM", "offscreen") not in ("", "offscreen"):
        return QApplication(argv), {}
    screens = screens_file or SCREENS_FILE
    callers = os.environ.get("QT_SCREEN_SCALE_FACTORS")
    with tempfile.TemporaryDirectory(prefix="agora-bench-screens-") as screens_dir:
        argv += offscreen_platform(screens, Path(screens_dir))
        app = QApplication(argv)  # the platform reads its file, and Qt the factors, here, once
    if callers is None:
        # read once at start: a process the benchmark starts must not inherit them
        os.environ.pop("QT_SCREEN_SCALE_FACTORS", None)
    return app, expected_ratios(screens)


def window_ratios(wall: Any, ratios: dict[str, float]) -> tuple[dict[str, float], list[str]]:
    """The device pixel ratio each window of ``wall`` really paints at (read back from the
    window), and a line for each window whose ratio is not its screen's in ``ratios``."""
    painted: dict[str, float] = {}
    wrong: list[str] = []
    for window in wall.windows.values():
        ratio = window.devicePixelRatioF()
        painted[window.name] = ratio
        screen = window.screen().name()
        if screen in ratios and ratio != ratios[screen]:
            wrong.append(f"{window.name} at {ratio:g} (screen {screen} at {ratios[screen]:g})")
    return painted, wrong


def expected_ratios(screens_file: Path) -> dict[str, float]:
    """Each screen's device pixel ratio in ``screens_file``, by name."""
    data = json.loads(screens_file.read_text(encoding="utf-8"))
    return {s["name"]: float(s.get("dpr", 1) or 1) for s in data.get("screens", [])}


def per_kind_p95(frames_by_kind: dict[str, list[float]]) -> dict[str, float]:
    """The p95 frame duration of each kind that had frames (ms, rounded to 0.01)."""
    return {
        kind: round(percentile(values, 95), 2)
        for kind, values in sorted(frames_by_kind.items())
        if values
    }


def screen_label(screen: Any) -> str:
    """A screen as ``name WxH@ratio``, its size in device pixels."""
    ratio = screen.devicePixelRatio()
    size = screen.geometry()
    return f"{screen.name()} {round(size.width() * ratio)}x{round(size.height() * ratio)}@{ratio:g}"


def thread_cpu_seconds() -> dict[int, float]:
    """CPU seconds (user + system) of every thread of this process by native id (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    out: dict[int, float] = {}
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state, ppid, …; utime and stime are fields 14 and 15 (1-based)
        out[int(task)] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_render_bench(
    seconds: float = 60.0,
    rate_per_s: float = 20.0,
    *,
    history_s: float | None = None,
    settle_s: float = 3.0,
    data_dir: Path | None = None,
    screens_file: Path | None = None,
    config_path: Path | None = None,
) -> dict[str, Any]:
    """Run the wall for ``seconds`` under ``rate_per_s`` posts a second and return its figures.

    Creates the Qt application (offscreen, six screens from ``screens_file``) unless one exists
    already (tests), in which case the screens of that application are used. ``history_s``: how
    much of the demo's history to ingest first (default: the demo source's ``backfill``)."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QGuiApplication

    from agora.config.loader import load_config
    from agora.engine import Engine
    from agora.store import open_store
    from agora.ui import perf
    from agora.ui.app import Wall

    app, ratios = bench_app(screens_file)
    loaded = load_config(config_path or DEMO_CONFIG)
    demo = loaded.config
    now = datetime.now(UTC)
    rate = calibrated_rate(demo, loaded.config_dir, now, rate_per_s)
    config = bench_config(demo, rate)
    if history_s is None:
        demo_sim = next((s for s in demo.sources if isinstance(s, SimulatorSource)), None)
        history_s = demo_sim.backfill if demo_sim is not None else 0.0
    history = history_posts(demo, loaded.config_dir, now, history_s)

    probe = perf.RenderProbe()
    probe.recording = False
    perf.install(probe)
    loop = QEventLoop()
    with tempfile.TemporaryDirectory(prefix="agora-bench-render-") as tmp:
        directory = data_dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        store = open_store(directory, config.wall.name, log)
        engine = Engine(config, store, config_dir=loaded.config_dir)
        for begin in range(0, len(history), 1_000):
            engine.submit(history[begin : begin + 1_000])
        wall: Wall | None = None
        state: dict[str, Any] = {"phase": "history"}
        started_at = time.monotonic()
        try:
            engine.start()
            wall = Wall(engine, windowed=False, images=None)
            wall.start()

            def poll() -> None:
                phase = state["phase"]
                elapsed = time.monotonic() - started_at
                if phase == "history":
                    if engine.ingested >= len(history) or elapsed > 600:
                        state["phase"] = "live"
                        state["history_s"] = elapsed
                elif phase == "live":
                    # the live source's first round builds the simulator's time line (an hour of
                    # look-back): seconds of work on a busy machine that must not fall into the
                    # measurement, nor the catch-up it delivers
                    if engine.ingested > len(history) or elapsed > 600:
                        state["phase"] = "settle"
                        state["settle_until"] = time.monotonic() + settle_s
                elif phase == "settle":
                    if time.monotonic() >= state["settle_until"]:
                        gc.collect()
                        probe.reset()
                        probe.recording = True
                        state.update(
                            phase="measure",
                            t0=time.perf_counter(),
                            cpu0=_process_cpu(),
                            threads0=thread_cpu_seconds(),
                            ingested0=engine.ingested,
                            publishes0=len(engine.publish_ms),
                            turns0=sum(w.turns for w in wall.windows.values()) if wall else 0,
                        )
                        state["end_at"] = time.monotonic() + seconds
                elif phase == "measure" and time.monotonic() >= state["end_at"]:
                    probe.recording = False
                    state.update(
                        phase="done",
                        t1=time.perf_counter(),
                        cpu1=_process_cpu(),
                        threads1=thread_cpu_seconds(),
                        ingested1=engine.ingested,
                        publish_ms=list(engine.publish_ms)[
                            state["publishes0"] - len(engine.publish_ms) :
                        ]
                        if len(engine.publish_ms) > state["publishes0"]
                        else [],
                        turns1=sum(w.turns for w in wall.windows.values()) if wall else 0,
                    )
                    loop.quit()

            timer = QTimer()
            timer.setInterval(50)
            timer.timeout.connect(poll)
            timer.start()
            loop.exec()
            timer.stop()
            screens_info = [screen_label(s) for s in QGuiApplication.screens()]
            window_dpr, wrong = window_ratios(wall, ratios)
            windows = len(wall.windows)
        finally:
            perf.install(None)
            if wall is not None:
                wall.close()
            engine.close()
            for _ in range(3):
                app.processEvents()

    if wrong:
        raise RuntimeError(
            "windows do not paint at their screen's device pixel ratio: " + ", ".join(wrong)
        )
    wall_s = state["t1"] - state["t0"]
    cpu_s = state["cpu1"] - state["cpu0"]
    names = {threading.main_thread().native_id: "gui"}
    for thread in engine.threads:
        if thread.native_id is not None:
            names[thread.native_id] = thread.name
    by_thread: dict[str, float] = {}
    for tid, end in state["threads1"].items():
        used = end - state["threads0"].get(tid, 0.0)
        name = names.get(tid, "other")
        by_thread[name] = by_thread.get(name, 0.0) + used
    ingested = state["ingested1"] - state["ingested0"]
    publish_ms: list[float] = state["publish_ms"]
    per_kind = per_kind_p95(probe.frames_by_kind)
    return {
        "seconds": round(wall_s, 2),
        "screens": screens_info,
        "windows": windows,
        "window_dpr": window_dpr,
        "rate_posts_per_s": rate_per_s,
        "posts_per_s": round(ingested / wall_s, 1) if wall_s > 0 else 0.0,
        "history_posts": len(history),
        "history_ingest_s": round(state.get("history_s", 0.0), 1),
        "cpu_percent": round(100.0 * cpu_s / wall_s, 1) if wall_s > 0 else 0.0,
        "cpu_by_thread": {
            k: round(100.0 * v / wall_s, 1) for k, v in sorted(by_thread.items()) if wall_s > 0
        },
        "ticks": len(probe.ticks),
        "tick_p50_ms": _ms(percentile(probe.ticks, 50)),
        "tick_p95_ms": _ms(percentile(probe.ticks, 95)),
        "tick_max_ms": _ms(max(probe.ticks, default=math.nan)),
        "tick_cpu_p50_ms": _ms(percentile(probe.tick_cpu, 50)),
        "tick_cpu_p95_ms": _ms(percentile(probe.tick_cpu, 95)),
        "frames": len(probe.frames),
        "frame_p95_ms": max(per_kind.values(), default=None),
        "per_kind": per_kind,
        "frames_by_kind": {
            kind: {
                "frames": len(values),
                "p50_ms": _ms(percentile(values, 50)),
                "p95_ms": _ms(percentile(values, 95)),
                "max_ms": _ms(max(values, default=math.nan)),
                "interval_p95_ms": _ms(percentile(probe.intervals_by_kind.get(kind, []), 95)),
            }
            for kind, values in sorted(probe.frames_by_kind.items())
        },
        "frame_interval_p95_ms": _ms(
            percentile([v for vs in probe.intervals_by_kind.values() for v in vs], 95)
        ),
        "refreshes_by_kind": {
            kind: {
                "refreshes": len(values),
                "p95_ms": _ms(percentile(values, 95)),
                "total_ms": round(sum(values), 1),
            }
            for kind, values in sorted(probe.refreshes_by_kind.items())
        },
        "other_paints": len(probe.other_paints),
        "other_paint_p95_ms": _ms(percentile(probe.other_paints, 95)),
        "snapshots": len(publish_ms),
        "snapshot_p50_ms": _ms(percentile(publish_ms, 50)),
        "snapshot_p95_ms": _ms(percentile(publish_ms, 95)),
        "page_turns": state["turns1"] - state["turns0"],
        "page_turn_ms": [round(v, 1) for v in probe.turns],
        "rss_mb_end": round(rss_mb(), 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


#: The headline figures and their targets (issue 15): six screens under 15 % of one core, no
#: frame of any kind over 16 ms (60 Hz); the UI tick within 30 ms.
TARGETS = {"cpu_percent": 15.0, "frame_p95_ms": 16.0, "tick_p95_ms": 30.0}


def format_report(result: dict[str, Any]) -> str:
    """The figures as aligned lines, headline first, with the targets."""
    lines = []
    for key, target in TARGETS.items():
        value = result.get(key)
        mark = "" if value is None else ("  ok" if value <= target else "  over target")
        lines.append(f"{key:>24}: {value}  (target ≤ {target:g}){mark}")
    for key, value in result.items():
        if key in TARGETS:
            continue
        if isinstance(value, dict):
            lines.append(f"{key:>24}:")
            for sub, subvalue in value.items():
                lines.append(f"{'':>26}{sub}: {subvalue}")
        elif isinstance(value, list):
            lines.append(f"{key:>24}: {', '.join(str(v) for v in value)}")
        else:
            lines.append(f"{key:>24}: {value}")
    return "\n".join(lines)

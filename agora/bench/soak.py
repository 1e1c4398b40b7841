"""``agora bench soak``: does the wall's memory stay flat? Two ways to ask.

**Accelerated** (the default): the demo wall (real engine, real SQLite store with retention, real
windows on the offscreen platform) is driven by a fake clock: every simulated minute the
simulator's posts for that minute are ingested, a snapshot is published, every window gets a UI
tick and turns a page now and then, Qt's events are processed, and retention runs every simulated
hour. After each simulated day the process's RSS is read. Ten days by default, at the demo's
7-day retention: the last three days prune as much as they add, as a wall that runs for months
does (``pruned`` says how many posts went). Memory is flat when RSS after day 7 is within 10 % of
RSS after day 1 (``ratio_day7_day1`` ≤ 1.10; ``ratio_last_day1`` for the last day). It shows
growth with data; it cannot show growth with frames (two UI ticks a simulated minute, where a
real wall does 240, and the animations only for the real minutes the run lasts).

**Real time** (``--realtime MINUTES``): what ``agora bench render`` runs (six screens, the 4K one
at ratio 2, every animation, the UI tick at its real rate, the demo's day of history and then a
live stream of 20 posts a second) for ``MINUTES`` of wall-clock time. RSS is sampled every minute
(not after a forced garbage collection: what the process really holds); after a warm-up (a third
of the run, at most 10 minutes) the least-squares slope of RSS over time is reported in MB an hour
(``slope_mb_per_hour``). This is the soak that sees a leak growing with frames or repaints.

``first_frame_s`` (accelerated run) is measured separately, the way a person meets it: ``agora
demo`` is started as a process and the time from its start to its first painted frame is read
from its log.

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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agora.bench.ingest import peak_rss_mb, rss_mb
from agora.bench.memtrace import MemoryTrace
from agora.config.schema import SimulatorSource

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "assets" / "demo.toml"
#: The wall's UI tick is every 250 ms; the soak gives each window this many ticks a minute.
TICKS_PER_MINUTE = 2
#: Simulated days of the accelerated soak: past the demo's 7-day retention, so it prunes.
DAYS = 10.0
#: Most minutes of warm-up before the real-time soak's slope is taken.
WARMUP_MAX_MINUTES = 10.0
#: Starts of ``agora demo`` whose median is ``first_frame_s``.
FIRST_FRAME_STARTS = 3


def slope_per_hour(samples: Sequence[tuple[float, float]]) -> float | None:
    """The least-squares slope of ``(seconds, value)`` samples, per hour (``None`` with fewer
    than two distinct times). Least squares over every sample, not last minus first: one high or
    low sample at either end moves it little."""
    if len(samples) < 2:
        return None
    mean_t = sum(t for t, _ in samples) / len(samples)
    mean_v = sum(v for _, v in samples) / len(samples)
    sxx = sum((t - mean_t) ** 2 for t, _ in samples)
    if sxx == 0:
        return None
    sxy = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return sxy / sxx * 3600.0


def run_soak(
    days: float = DAYS,
    *,
    rate_per_min: float | None = None,
    data_dir: Path | None = None,
    on_day: Callable[[int, float], None] | None = None,
    start: datetime | None = None,
    step_minutes: int = 1,
    retention_s: float | None = None,
) -> dict[str, Any]:
    """Drive the demo wall through ``days`` simulated days; RSS after each one. ``step_minutes``:
    simulated minutes between two rounds of publish and UI ticks (1 for the benchmark; the test
    suite takes larger steps to stay quick); ``retention_s``: the store's retention (default: the
    demo's, 7 days)."""
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
    update: dict[str, Any] = {"sources": [demo]}
    if retention_s is not None:
        update["store"] = config.store.model_copy(update={"retention": retention_s})
    config = config.model_copy(update=update)
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
            stored = store.count_posts()
        finally:
            wall.close()
            engine.close()
    wall_s = time.perf_counter() - wall_started
    first = rss_by_day[0] if rss_by_day else 0.0
    last = rss_by_day[-1] if rss_by_day else 0.0
    day7 = rss_by_day[6] if len(rss_by_day) >= 7 else None
    return {
        "days": days,
        "posts": posts,
        "retention_days": round(config.store.retention / 86400.0, 2),
        "stored_posts_end": stored,
        "pruned": posts - stored,
        "rss_mb_by_day": rss_by_day,
        "ratio_day7_day1": round(day7 / first, 3) if first and day7 is not None else None,
        "ratio_last_day1": round(last / first, 3) if first else None,
        "soak_s": round(wall_s, 1),
    }


def first_frame_seconds(data_dir: Path | None = None, timeout: float = 60.0) -> float | None:
    """Start ``agora demo`` as a process and read, from its log, how long after the process
    started its first frame was painted (``None`` when it never said so).

    The first frame is the first paint of a wall window with the panels of its first page built
    (what the engine knew then on them; the history and the sources fill in after, see
    :mod:`agora.ui.run`). The process inherits this one's environment: where Python may not
    write bytecode (``PYTHONDONTWRITEBYTECODE``) and none was written before, every module of
    the wall is compiled again at each start, which an installed wall does not do."""
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


def run_realtime_soak(
    minutes: float,
    *,
    rate_per_s: float = 20.0,
    warmup_minutes: float | None = None,
    sample_s: float = 60.0,
    history_s: float | None = None,
    screens_file: Path | None = None,
    data_dir: Path | None = None,
    on_sample: Callable[[float, float], None] | None = None,
    trace: Path | None = None,
    prefill_minutes: float = 0.0,
) -> dict[str, Any]:
    """Run the six-screen wall of ``agora bench render`` for ``minutes`` of real time under
    ``rate_per_s`` posts a second (0: no live posts, the wall only animates); RSS every
    ``sample_s`` seconds (``on_sample(minute, mb)``), and its slope in MB an hour after
    ``warmup_minutes`` (default: a third of the run, at most :data:`WARMUP_MAX_MINUTES`).
    ``trace``: a file where each sample from the end of the warm-up on also says where memory
    went (:mod:`agora.bench.memtrace`).

    ``prefill_minutes``: before the wall starts, that many minutes of the live stream, at its
    rate and dated just before now, go into the store after the demo's history (through a
    pipeline of their own, on this thread); the engine reads them all back into its figures
    when it starts, during the warm-up, as a wall restarted on a full store does. The wall's
    figures are bounded by counts (the deduper's ids, the term and author counters' budgets,
    every pool's size), not by time: at 20 posts a second they fill in the first hour or two,
    and a run that starts with them full measures only the growth that should not be there."""
    from PySide6.QtCore import QEventLoop, QTimer

    from agora.bench.render import (
        bench_app,
        bench_config,
        calibrated_rate,
        history_posts,
        window_ratios,
    )
    from agora.config.loader import load_config
    from agora.engine import Engine
    from agora.engine.wiring import build_pipeline
    from agora.store import open_store
    from agora.ui.app import Wall

    if minutes <= 0:
        raise ValueError("minutes must be positive")
    if rate_per_s < 0:
        raise ValueError("rate_per_s must not be negative")
    warmup = min(WARMUP_MAX_MINUTES, minutes / 3) if warmup_minutes is None else warmup_minutes
    app, ratios = bench_app(screens_file)
    loaded = load_config(DEMO_CONFIG)
    demo = loaded.config
    now = datetime.now(UTC)
    if rate_per_s > 0:
        config = bench_config(demo, calibrated_rate(demo, loaded.config_dir, now, rate_per_s))
    else:
        config = bench_config(demo, 1.0).model_copy(update={"sources": []})
    tracer = MemoryTrace(trace) if trace is not None else None
    if history_s is None:
        demo_sim = next((s for s in demo.sources if isinstance(s, SimulatorSource)), None)
        history_s = demo_sim.backfill if demo_sim is not None else 0.0
    history = history_posts(demo, loaded.config_dir, now, history_s)
    samples: list[tuple[float, float]] = []
    loop = QEventLoop()
    with tempfile.TemporaryDirectory(prefix="agora-soak-realtime-") as tmp:
        directory = data_dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        store = open_store(directory, config.wall.name)
        prefilled = 0
        history_count = len(history)
        if prefill_minutes > 0 and config.sources:
            # into the store through a pipeline of their own; the engine reads them back into
            # its figures when it starts, as a wall restarted on a full store does
            filler = build_pipeline(config, store)
            for begin in range(0, len(history), 1_000):
                filler.ingest(history[begin : begin + 1_000], now=now)
            history = []
            prefilled = prefill(filler, config, loaded.config_dir, now, prefill_minutes)
            del filler
        engine = Engine(config, store, config_dir=loaded.config_dir)
        for begin in range(0, len(history), 1_000):
            engine.submit(history[begin : begin + 1_000])
        del history
        wall: Wall | None = None
        started = time.monotonic()
        cpu_started = time.process_time()

        def sample() -> None:
            at = time.monotonic() - started
            rss = rss_mb()
            samples.append((at, rss))
            if on_sample is not None:
                on_sample(at / 60.0, rss)
            if tracer is not None and wall is not None and at >= warmup * 60.0 - 0.5 * sample_s:
                if tracer.started:
                    tracer.record(at / 60.0, rss, qt_counts(wall))
                else:
                    tracer.start()
            if at >= minutes * 60.0 - 0.5 * sample_s:
                loop.quit()

        try:
            engine.start()
            wall = Wall(engine, windowed=False, images=None)
            wall.start()
            window_dpr, wrong = window_ratios(wall, ratios)
            if wrong:
                raise RuntimeError(
                    "windows do not paint at their screen's device pixel ratio: " + ", ".join(wrong)
                )
            # the run's minutes count from a built wall (building six windows takes seconds
            # on a busy machine, and is not what the soak measures)
            started = time.monotonic()
            cpu_started = time.process_time()
            sample()
            timer = QTimer()
            timer.setInterval(round(sample_s * 1000))
            timer.timeout.connect(sample)
            timer.start()
            loop.exec()
            timer.stop()
            elapsed = time.monotonic() - started
            cpu = time.process_time() - cpu_started
            ingested = engine.ingested
            windows = len(wall.windows)
        finally:
            if tracer is not None:
                tracer.stop()
            if wall is not None:
                wall.close()
            engine.close()
            for _ in range(3):
                app.processEvents()
    after = [(t, v) for t, v in samples if t >= warmup * 60.0]
    slope = slope_per_hour(after)
    return {
        "minutes": round(elapsed / 60.0, 2),
        "warmup_minutes": round(warmup, 2),
        "windows": windows,
        "window_dpr": window_dpr,
        "rate_posts_per_s": rate_per_s,
        "history_posts": history_count,
        "prefill_minutes": prefill_minutes,
        "prefill_posts": prefilled,
        "posts_ingested": ingested,
        "cpu_percent": round(100.0 * cpu / elapsed, 1) if elapsed > 0 else 0.0,
        "rss_mb": [[round(t / 60.0, 2), round(v, 1)] for t, v in samples],
        "samples_after_warmup": len(after),
        "slope_mb_per_hour": None if slope is None else round(slope, 2),
        "rss_mb_end": round(samples[-1][1], 1) if samples else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def prefill(pipeline: Any, config: Any, config_dir: Path, now: datetime, minutes: float) -> int:
    """Run ``minutes`` of the live source's posts, dated up to ``now``, through ``pipeline`` on
    this thread, ten minutes of posts at a time in batches of 20 (as live sources deliver
    them). Returns how many."""
    from agora.sources.base import SourceContext
    from agora.sources.simulator import SimulatorSource as Simulator

    live = config.sources[0]
    simulator = Simulator(
        live, SourceContext(wall=config, config_dir=config_dir, clock=lambda: now)
    )
    start = now - timedelta(minutes=minutes)
    count = 0
    while start < now:
        end = min(now, start + timedelta(minutes=10))
        posts = simulator.generate(start, end)
        for begin in range(0, len(posts), 20):
            pipeline.ingest(posts[begin : begin + 20], now=end)
        count += len(posts)
        start = end
    return count


def qt_counts(wall: Any) -> dict[str, int]:
    """Live Qt things ``wall`` could pile up: widgets in the application, QObjects under its
    windows, items in every graphics scene (the charts'), top-level widgets, and the symbol
    pictures pyqtgraph's scatter plots keep (one per pen and brush they were given)."""
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication, QGraphicsView

    widgets = QApplication.allWidgets()
    items = atlas = 0
    for widget in widgets:
        if isinstance(widget, QGraphicsView) and widget.scene() is not None:
            for item in widget.scene().items():
                items += 1
                # pyqtgraph keeps a picture per symbol style a scatter plot was given
                fragments = getattr(item, "fragmentAtlas", None)
                atlas += len(fragments) if fragments is not None else 0
    objects = sum(len(window.findChildren(QObject)) for window in wall.windows.values())
    return {
        "widgets": len(widgets),
        "top_level": len(QApplication.topLevelWidgets()),
        "objects": objects,
        "scene_items": items,
        "symbol_pictures": atlas,
    }


def run_soak_bench(
    days: float = DAYS,
    *,
    rate_per_min: float | None = None,
    data_dir: Path | None = None,
    on_day: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """The soak and the start-up time, as ``agora bench soak`` reports them: ``first_frame_s``
    is the median of :data:`FIRST_FRAME_STARTS` starts of ``agora demo`` (``first_frame_runs``
    lists them; one start on a busy machine says little)."""
    result = run_soak(days, rate_per_min=rate_per_min, data_dir=data_dir, on_day=on_day)
    starts = [first_frame_seconds() for _ in range(FIRST_FRAME_STARTS)]
    measured = sorted(s for s in starts if s is not None)
    result["first_frame_runs"] = starts
    result["first_frame_s"] = measured[len(measured) // 2] if measured else None
    return result

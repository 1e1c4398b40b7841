"""Running the wall process: what ``agora run`` and ``agora demo`` call.

:func:`run_wall` loads the config, opens the store, builds the engine and the
:class:`~agora.ui.app.Wall` on every screen, starts the engine (sources, ingest) once the first
frame is painted, watches the config for hot reload (:mod:`agora.ui.reload`), keeps the watchdog
beating and tells systemd when the first frame is up, and closes everything in order when the
wall quits.

**The first frame** is the first paint of a wall window: a screen window with the panels of its
first page built and laid out, showing what the engine knew when the windows were built (the
figures of an empty snapshot; the stored history and the sources' posts fill in over the next
seconds). It is what ``first_frame_s`` in the log times, from the start of the process. The
engine's threads start only after it (or after :data:`ENGINE_START_LATEST_MS` when no window
paints): reading the history back and the sources' first batches hold the interpreter, and on a
busy machine took the GUI thread's time while the windows were being built.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from agora.engine import Engine
from agora.service import Watchdog, sd_notify, watchdog_interval
from agora.ui.app import UI_STALL_S, UI_TICK, FirstFrame, Wall
from agora.ui.qtlog import route_qt_messages
from agora.ui.reload import watch_config

log = logging.getLogger("agora.ui")

#: The engine starts at the first frame, or this many milliseconds after the event loop started
#: when no window has painted by then (a window hidden by the platform never paints).
ENGINE_START_LATEST_MS = 3000


def inhibit_screen_blanking() -> None:
    """Best effort: keep X11 from blanking or powering down the screens while the wall runs."""
    platform = QGuiApplication.platformName()
    if platform != "xcb" or shutil.which("xset") is None:
        return
    try:
        subprocess.run(
            ["xset", "s", "off", "-dpms", "s", "noblank"],
            check=False,
            timeout=5,
            capture_output=True,
        )
        log.info("screen blanking turned off (xset)")
    except (OSError, subprocess.SubprocessError) as exc:
        log.info("could not turn screen blanking off: %s", exc)


def run_wall(
    config_path: Path,
    *,
    data_dir: Path | None,
    windowed: bool = False,
    seconds: float | None = None,
) -> int:
    """Run the wall until quit (or for ``seconds``). Returns the exit status."""
    from agora.config.loader import load_config
    from agora.store import wall_store

    loaded = load_config(config_path)
    config = loaded.config
    if not config.screens:
        raise ValueError(f"{config_path}: no [[screens]] configured; nothing to show")
    route_qt_messages()  # Qt's own warnings are logged (and redacted) like everything else
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setApplicationName("agora")
    # a kiosk quits when asked (Q twice, a signal), never because its screens went away;
    # windows on a desktop quit the wall when the last one is closed
    app.setQuitOnLastWindowClosed(windowed)
    store = wall_store(config.store, data_dir, config.wall.name, log)
    # on a shared database a wall shows what collectors write; alone it runs its own sources
    engine = Engine(config, store, config_dir=loaded.config_dir, role=config.store.wall_role())
    images = None
    # avatars and pictures come from the network: a wall of offline sources (the demo) never asks
    if any(source.kind not in ("simulator", "jsonl") for source in config.sources):
        try:
            from platformdirs import user_cache_path

            from agora.ui.images import ImageLoader

            # downloaded pictures are kept on disk (bounded) so a restart does not fetch them again
            cache = (data_dir or user_cache_path("agora", appauthor=False)) / "images"
            # picture_hosts is read at each download, so a hot reload applies to the next one
            images = ImageLoader(
                cache_dir=cache, picture_hosts=lambda: engine.config.wall.picture_hosts
            )
        except Exception as exc:  # images are a nicety; the wall runs without them
            log.warning("images disabled: %s", exc)
    # a GUI thread or loop that stops is logged; under systemd the service is then restarted
    watchdog = Watchdog(ping_every=watchdog_interval())
    engine.watchdog = watchdog
    wall = Wall(engine, windowed=windowed, images=images)
    wall.watchdog = watchdog
    watchdog.watch(UI_TICK, UI_STALL_S)
    watchdog.start()
    if not windowed:
        inhibit_screen_blanking()
    wall.start()
    reloader = watch_config(wall, loaded)  # hot reload: saved changes apply within 2 s
    # Python signal handlers run only when the interpreter gets control: poke it regularly.
    signal.signal(signal.SIGINT, lambda *_: QApplication.quit())
    signal.signal(signal.SIGTERM, lambda *_: QApplication.quit())
    poke = QTimer()
    poke.timeout.connect(lambda: None)
    poke.start(200)
    if seconds is not None:
        QTimer.singleShot(int(seconds * 1000), QApplication.quit)

    engine_started = False

    def start_engine() -> None:
        nonlocal engine_started
        if not engine_started:
            engine_started = True
            engine.start()

    QTimer.singleShot(ENGINE_START_LATEST_MS, start_engine)

    # once the first frame is painted: say how long start-up took, start the engine, and tell
    # systemd it is up
    def up() -> None:
        start_engine()
        sd_notify(f"READY=1\nSTATUS=showing {config.wall.name}")
        watchdog.ready()  # pings only after READY=1

    first_frame = FirstFrame(up)
    for window in wall.windows.values():
        window.installEventFilter(first_frame)
    log.info("wall %r running on %d screen(s)", config.wall.name, len(wall.windows))
    try:
        status = app.exec()
    finally:
        sd_notify("STOPPING=1")
        watchdog.stop()
        reloader.stop()
        wall.close()
        engine.close()
        if images is not None and hasattr(images, "close"):
            images.close()
    return int(status)

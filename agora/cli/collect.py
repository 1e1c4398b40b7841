"""``agora collect CONFIG``: the sources and the pipeline into the (shared) store, no screens.

One collector polls each source once for the whole company: walls in every office
(``agora run`` on a config with ``[store] url``) follow what it writes. Several collectors may run
for different source sets, or the same one for safety: a source is polled by the collector that
holds its lease (:mod:`agora.engine.leases`). Headless: no Qt, no display.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from agora.cli.common import EXIT_OK, Command, CommandError, Parents, load

log = logging.getLogger("agora")


def register(sub: Any, parents: Parents) -> dict[str, Command]:
    """Add ``collect`` to the parser."""
    p = sub.add_parser(
        "collect",
        parents=[parents.common, parents.data],
        help="run the sources into the (shared) store, with no screens",
    )
    p.add_argument("config", type=Path)
    p.add_argument(
        "--name",
        default=None,
        help="this collector's name in leases and source reports (default: from the wall's name)",
    )
    p.add_argument("--seconds", type=float, default=None, help="stop after N seconds")
    p.add_argument(
        "--log-file",
        type=Path,
        default=None,
        help="rotating JSON Lines log (default: <platform log dir>/<name>.log; - for none)",
    )
    return {"collect": collect}


def collect(args: argparse.Namespace) -> int:
    """Run the collector until SIGTERM/SIGINT (or ``--seconds``)."""
    from agora import service
    from agora.engine import Engine
    from agora.store import wall_store

    loaded = load(args.config)
    config = loaded.config
    if not any(source.enabled for source in config.sources):
        raise CommandError(f"{args.config}: no [[sources]] to collect")
    name = args.name or f"collector {config.wall.name}"
    if str(args.log_file) != "-":
        log_file = args.log_file or service.default_log_dir() / f"{service.slug(name)}.log"
        try:
            handler = service.file_log_handler(log_file, service.config_secrets(config))
        except OSError as exc:
            log.warning("cannot write the log file %s (%s); logging to stderr only", log_file, exc)
        else:
            handler.setLevel(logging.INFO)
            logging.getLogger().addHandler(handler)
    store = wall_store(config.store, args.data_dir, config.wall.name, log)
    engine = Engine(config, store, config_dir=loaded.config_dir, role="collector", name=name)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    watchdog = service.Watchdog(ping_every=service.watchdog_interval())
    engine.watchdog = watchdog
    engine.start()
    watchdog.start()
    engine.ready.wait(60)
    service.sd_notify(f"READY=1\nSTATUS=collecting for {config.wall.name}")
    watchdog.ready()
    log.info(
        "collector %r: %d source(s) into %s",
        name,
        len(engine.sources),
        store.status,
    )
    try:
        stop.wait(args.seconds)
    finally:
        service.sd_notify("STOPPING=1")
        watchdog.stop()
        engine.close()
    log.info("collector %r stopped", name)
    return EXIT_OK

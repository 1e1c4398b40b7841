"""Commands that put a wall on screens: ``run``, ``demo``, ``snapshot``, ``console`` and
``install-autostart``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from agora.cli.common import (
    EXIT_OK,
    Command,
    CommandError,
    Parents,
    demo_config_path,
    load,
    moment,
    size,
    snapshot_for,
)

log = logging.getLogger("agora")


def register(sub: Any, parents: Parents) -> dict[str, Command]:
    """Add the wall's commands to the parser."""
    for name, helptext in (
        ("run", "the wall, fullscreen on every configured screen"),
        ("demo", "the wall on the bundled demo config and simulated stream"),
    ):
        p = sub.add_parser(name, parents=[parents.common, parents.data], help=helptext)
        if name == "run":
            p.add_argument("config", type=Path)
        p.add_argument("--windowed", action="store_true", help="ordinary windows on a desktop")
        p.add_argument("--seconds", type=float, default=None, help="quit after N seconds")
        p.add_argument(
            "--log-file",
            type=Path,
            default=None,
            help="rotating JSON Lines log (default: <platform log dir>/<wall>.log; - for none)",
        )
        p.add_argument(
            "--supervise",
            action="store_true",
            help="run the wall in a child process and start it again after a crash",
        )

    p = sub.add_parser(
        "install-autostart",
        parents=[parents.common, parents.data],
        help="start this wall with the desktop session and restart it after a crash",
    )
    p.add_argument("config", type=Path)
    p.add_argument(
        "--kind",
        choices=("auto", "systemd", "xdg"),
        default="auto",
        help="systemd user unit (default where systemd runs) or XDG autostart entry",
    )
    p.add_argument(
        "--no-enable", action="store_true", help="only write the file; do not run systemctl"
    )

    p = sub.add_parser(
        "console",
        parents=[parents.common, parents.data],
        help="the operator window: edit the config with a live preview, moderate, source health",
    )
    p.add_argument("config", type=Path)

    p = sub.add_parser(
        "snapshot",
        parents=[parents.common, parents.data],
        help="render one screen's page offscreen to a PNG",
    )
    p.add_argument("config", type=Path)
    p.add_argument("--screen", type=int, default=0)
    p.add_argument("--page", type=int, default=0)
    p.add_argument("--size", type=size, default=(1920, 1080), help="WIDTHxHEIGHT (1920x1080)")
    p.add_argument("--dpr", type=float, default=1.0, help="device pixel ratio (2 for 4K)")
    p.add_argument("--now", type=moment, default=None, help="measure windows back from this time")
    p.add_argument("--out", type=Path, required=True)
    return {
        "run": run,
        "demo": run,
        "install-autostart": install_autostart,
        "console": console,
        "snapshot": snapshot,
    }


def run(args: argparse.Namespace) -> int:
    """``agora run CONFIG`` and ``agora demo``."""
    from agora import service

    path = demo_config_path() if args.command == "demo" else args.config
    loaded = load(path)  # report config errors before any window opens
    if args.supervise:
        argv = [a for a in (sys.argv[1:] if args.argv is None else args.argv) if a != "--supervise"]
        return service.supervise([sys.executable, "-m", "agora", *argv])
    if str(args.log_file) != "-":
        log_file = args.log_file or (
            service.default_log_dir() / f"{service.slug(loaded.config.wall.name)}.log"
        )
        try:
            handler = service.file_log_handler(log_file, service.config_secrets(loaded.config))
        except OSError as exc:
            log.warning("cannot write the log file %s (%s); logging to stderr only", log_file, exc)
        else:
            handler.setLevel(logging.INFO)
            logging.getLogger().addHandler(handler)
            log.info("logging to %s", log_file)
    from agora.ui.run import run_wall

    return run_wall(path, data_dir=args.data_dir, windowed=args.windowed, seconds=args.seconds)


def install_autostart(args: argparse.Namespace) -> int:
    """``agora install-autostart CONFIG``: a systemd user unit or an XDG autostart entry."""
    from agora import service

    loaded = load(args.config)
    kind = args.kind
    if kind == "auto":
        kind = "systemd" if service.has_systemd_user() else "xdg"
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    result = service.install_autostart(
        loaded.config.wall.name, loaded.path, args.data_dir, kind=kind, config_home=config_home
    )
    print(f"wrote {result.path}")
    if result.env_file is not None:
        print(f"secrets the config reads with env:NAME go in {result.env_file} (NAME=value)")
    if kind == "systemd" and not args.no_enable:
        if service.enable_autostart(result):
            print("enabled: the wall starts with the desktop session and restarts after a crash")
        else:
            print("could not enable it; run:", *result.enable, sep="\n  ")
    else:
        print("to enable it:", *result.enable, sep="\n  ")
    print("to undo:", *result.undo, sep="\n  ")
    return EXIT_OK


def console(args: argparse.Namespace) -> int:
    """``agora console CONFIG``: the operator window (it opens even on a config with problems,
    to fix them)."""
    if not args.config.is_file():
        raise CommandError(f"{args.config}: no such file")
    from agora.console.window import run_console

    return run_console(args.config, data_dir=args.data_dir)


def snapshot(args: argparse.Namespace) -> int:
    """``agora snapshot CONFIG --screen N --out FILE.png``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    loaded = load(args.config)
    data = snapshot_for(args, loaded)
    from agora.ui.render import render_page

    out = render_page(
        loaded,
        data,
        screen=args.screen,
        page=args.page,
        size=args.size,
        out=args.out,
        dpr=args.dpr,
    )
    print(out)
    return EXIT_OK

"""The ``agora`` command line: one module per group of commands, the parser built from them.

* :mod:`agora.cli.data` — ``check``, ``fetch``, ``analyse``
* :mod:`agora.cli.wall` — ``run``, ``demo``, ``snapshot``, ``console``, ``install-autostart``
* :mod:`agora.cli.collect` — ``collect`` (the sources into a shared store, no screens)
* :mod:`agora.cli.moderation` — ``moderation``
* :mod:`agora.cli.sentiment` — ``sentiment``
* :mod:`agora.cli.bench` — ``bench ingest|render|soak|sources``
* :mod:`agora.cli.common` — exit codes, the one-line error, option types, configs and stores

Every command prints errors as one clear line on stderr and exits non-zero; a traceback appears
only with ``--debug``. Commands that touch the store take ``--data-dir``. Heavy modules (Qt, the
sources) are imported by the command that needs them, so ``agora check`` and ``agora sentiment``
start quickly and run without a display.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Sequence

from agora import __version__
from agora.cli import bench, collect, data, moderation, sentiment, wall
from agora.cli.common import (
    EXIT_CONFIG,
    EXIT_ERROR,
    EXIT_OK,
    Command,
    CommandError,
    demo_config_path,
    load,
    parents,
)

#: allocations between collections of the youngest generation (Python's default is 700)
GC_THRESHOLD = 10_000
#: The command groups, in the order ``agora --help`` lists them.
GROUPS = (data, sentiment, wall, collect, moderation, bench)
#: Every command by name (filled by :func:`build_parser`).
COMMANDS: dict[str, Command] = {}

__all__ = [
    "COMMANDS",
    "EXIT_CONFIG",
    "EXIT_ERROR",
    "EXIT_OK",
    "CommandError",
    "build_parser",
    "demo_config_path",
    "load",
    "main",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (and :data:`COMMANDS`, by name)."""
    shared = parents()
    parser = argparse.ArgumentParser(
        prog="agora",
        description="A multi-screen wall of live public conversation about a brand.",
        parents=[shared.common],
    )
    parser.add_argument("--version", action="version", version=f"agora {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        for name, command in group.register(sub, shared).items():
            COMMANDS.setdefault(name, command)
    return parser


def configure_logging(debug: bool, quiet: bool) -> None:
    """Log lines on stderr, one per event; every record and uncaught traceback redacted."""
    from agora import service

    service.install_redaction()
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    root = logging.getLogger()
    root.handlers[:] = [service.stderr_log_handler()]
    root.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agora`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else None
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    debug = bool(getattr(args, "debug", False) or os.environ.get("AGORA_DEBUG"))
    # Ingest allocates many short-lived objects per post (tokens, keys, rows) while the
    # aggregates keep a large, stable heap: collecting the youngest generation every 10,000
    # allocations instead of every 700 takes ~3 % off ingest, for a few hundred KB of garbage.
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    configure_logging(debug, bool(getattr(args, "quiet", False)))
    from agora.config.loader import ConfigError
    from agora.core.redact import redact
    from agora.service import format_error

    command = COMMANDS[args.command]
    try:
        return command(args)
    except ConfigError as exc:
        for issue in exc.issues:
            print(redact(issue.format()), file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`agora fetch … | head`): not an error
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_OK
    except CommandError as exc:
        print(f"agora: {format_error(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        # a message or traceback may quote a URL or an answer that carries a token
        if debug:
            sys.stderr.write(format_error(exc, trace=True))
            print(f"agora: error: {format_error(exc)}", file=sys.stderr)
        else:
            print(
                f"agora: error: {format_error(exc)} (run with --debug for details)", file=sys.stderr
            )
        return EXIT_ERROR

"""What every command shares: exit codes, the one-line error, option types and parents, and
reading a config or a wall's store."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from agora.config.loader import LoadedConfig
    from agora.core.snapshot import Snapshot

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONFIG = 2

#: A command: parsed arguments in, exit status out.
Command = Callable[[argparse.Namespace], int]
T = TypeVar("T")


class CommandError(Exception):
    """An error the user can act on: printed as one line, exit status 1."""


@dataclass(frozen=True, slots=True)
class Parents:
    """Option groups commands inherit: ``common`` (``--debug``, ``-q``) and ``data``
    (``--data-dir``)."""

    common: argparse.ArgumentParser
    data: argparse.ArgumentParser


def parents() -> Parents:
    """The shared option groups."""
    # SUPPRESS: a flag given before the command (`agora -q bench …`) is not reset by the
    # command's own copy of the option
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="verbose logs and tracebacks",
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="only warnings and errors",
    )
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the wall keeps its database (default: the platform data directory)",
    )
    return Parents(common, data)


# -- option types --------------------------------------------------------------------------------


def window(value: str) -> float | None:
    """``all`` or a duration (``1h``, ``24h``)."""
    from agora.config.schema import parse_duration

    if value == "all":
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def moment(value: str) -> datetime:
    """An ISO-8601 time."""
    from agora.core.post import PostError, parse_time

    try:
        return parse_time(value)
    except PostError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def size(value: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT``."""
    try:
        width, height = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (64 <= width <= 16384 and 64 <= height <= 16384):
        raise argparse.ArgumentTypeError(f"{value!r}: width and height must be 64 to 16384")
    return width, height


# -- configs and stores -------------------------------------------------------------------------


def load(path: Path) -> LoadedConfig:
    """A validated config (a :class:`~agora.config.loader.ConfigError` lists every problem)."""
    from agora.config.loader import load_config

    return load_config(path)


def demo_config_path() -> Path:
    """The bundled demo config."""
    return Path(__file__).resolve().parents[1] / "assets" / "demo.toml"


def stored(read: Callable[[], T]) -> T:
    """``read()`` of the wall's store, its failure as one line."""
    from agora.reading.stored import StoreReadError

    try:
        return read()
    except StoreReadError as exc:
        raise CommandError(str(exc)) from None


def wall_store(args: argparse.Namespace, loaded: LoadedConfig, instead: str) -> bool:
    """Whether ``--data-dir`` holds the wall's store; when it names a directory without one
    (the wall has not run there yet), stderr says what the command does ``instead``."""
    from agora.store import database_path, store_exists

    config = loaded.config
    if config.store.url:
        return True  # a shared database: the command reads it
    if args.data_dir is None:
        return False
    if store_exists(config.store, args.data_dir, config.wall.name):
        return True
    path = database_path(args.data_dir, config.wall.name)
    print(f"agora: no store at {path} yet; {instead}", file=sys.stderr)
    return False


def snapshot_for(args: argparse.Namespace, loaded: LoadedConfig) -> Snapshot:
    """What ``analyse`` and ``snapshot`` show: with ``--data-dir``, what the wall's store holds
    (read-only); else, or while there is no store, what the offline sources hold."""
    from agora.reading.offline import offline_snapshot
    from agora.reading.stored import stored_snapshot

    span = getattr(args, "window", None)
    if wall_store(args, loaded, "showing what the offline sources hold"):
        data_dir = args.data_dir
        return stored(lambda: stored_snapshot(loaded, data_dir, now=args.now, window=span))
    return offline_snapshot(loaded, now=args.now, window=span).snapshot

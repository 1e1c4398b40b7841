"""A real PostgreSQL server for the tests, started and removed by the test suite itself.

The server is :mod:`agora.bench.pgserver`'s throw-away cluster (``agora bench fanout`` uses the
same one): a temporary directory, an unprivileged user, a free port of 127.0.0.1, a password for
TCP clients, stopped at the end (and a server left behind by a killed test run is stopped by the
next). This module adds the test suite's rule: without the binaries the PostgreSQL tests are
skipped with the reason, except in CI (``CI=true``), where they must run and
:func:`require_binaries` fails.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agora.bench import pgserver
from agora.bench.pgserver import SUPERUSER, Database, PgServer, find_bindir, free_port

__all__ = [
    "SUPERUSER",
    "Database",
    "PgServer",
    "find_bindir",
    "free_port",
    "require_binaries",
    "running_server",
]


def require_binaries() -> Path:
    """The binaries' directory; skips the test (fails it in CI) when there is none."""
    why = pgserver.missing_reason()
    bindir = find_bindir()
    if why or bindir is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the PostgreSQL tests: {why}")
        pytest.skip(why)
    return bindir


@contextlib.contextmanager
def running_server(durable: bool = False) -> Iterator[PgServer]:
    """A started server, stopped and removed afterwards (also when the process exits early)."""
    require_binaries()
    with pgserver.running_server(durable=durable) as server:
        yield server

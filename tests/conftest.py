"""Shared test set-up: Qt runs offscreen, and no test ever sees the user's real data directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgserver import Database, PgServer, running_server

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Point XDG directories at a temporary place so nothing touches the real ones."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    return


@pytest.fixture
def repo_root() -> Path:
    """The project checkout."""
    return Path(__file__).resolve().parent.parent


# -- a real PostgreSQL server (tests/pgserver.py): skipped without the binaries, except in CI ------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One throw-away PostgreSQL server for the whole test session."""
    with running_server() as server:
        yield server


@pytest.fixture(scope="session")
def _pg_shared_database(pg_server: PgServer) -> Database:
    return pg_server.create_database()


@pytest.fixture
def pg_database(pg_server: PgServer, _pg_shared_database: Database) -> Database:
    """A clean place for a store on the session's server (a new schema of one database)."""
    return pg_server.fresh_schema(_pg_shared_database)


@pytest.fixture
def pg_own_server() -> Iterator[PgServer]:
    """A server of the test's own, for tests that stop or restart it."""
    with running_server() as server:
        yield server

"""Fixtures of the unit tests: a local HTTP server for the live sources."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture(scope="session")
def _http_server() -> Iterator[HTTPServer]:
    """One threaded HTTP server on 127.0.0.1 (a free port) for the session; stopped at its end."""
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    try:
        yield srv
    finally:
        srv.clear()
        if srv.is_running():
            srv.stop()


@pytest.fixture
def server(_http_server: HTTPServer) -> Iterator[HTTPServer]:
    """The local HTTP server with no handlers and an empty log for this test."""
    _http_server.clear()
    yield _http_server
    _http_server.clear()


@pytest.fixture
def held() -> Iterator[threading.Event]:
    """Set when the test ends: a fake server that holds a stream or an answer open waits on it
    (``held.wait(120)``), so the client is measured against a server that outlasts it however
    slow the machine, and the server's thread still ends with the test."""
    event = threading.Event()
    yield event
    event.set()

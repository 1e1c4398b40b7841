"""A small hostile picture server on 127.0.0.1 for the network guard and image loader tests.

Routes answer with a body, a redirect, a body dripped one byte at a time, or an endless body
without ``Content-Length``. Every request is recorded (path and ``Host`` header). The server and
every handler thread stop when the ``with`` block ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = Callable[["_Handler"], None]


@dataclass
class Seen:
    """What the server saw and did."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    """``(path, Host header)`` of every request, in order."""
    sent: dict[str, int] = field(default_factory=dict)
    """Body bytes written per path."""
    finished: set[str] = field(default_factory=set)
    """Paths whose handler has returned (the client went away or the body was done)."""


class PictureServer(ThreadingHTTPServer):
    """The server; :func:`picture_server` starts and stops it."""

    daemon_threads = False  # server_close() waits for every handler thread
    block_on_close = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.seen = Seen()
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        with self.lock:
            return [path for path, _ in self.seen.requests]

    # -- routes ---------------------------------------------------------------------------

    def body(self, path: str, data: bytes, content_type: str = "image/png") -> None:
        def route(handler: _Handler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.write(path, data)

        self.routes[path] = route

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        def route(handler: _Handler) -> None:
            handler.send_response(status)
            handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.routes[path] = route

    def drip(self, path: str, length: int = 120, every: float = 1.0) -> None:
        """Headers at once, then one byte of a ``length`` byte body every ``every`` seconds."""

        def route(handler: _Handler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "image/png")
            handler.send_header("Content-Length", str(length))
            handler.end_headers()
            handler.wfile.flush()
            for _ in range(length):
                if not handler.write(path, b"\x89"):
                    return
                if self.stopping.wait(every):  # paces the server; ends with the test
                    return

        self.routes[path] = route

    def silent(self, path: str) -> None:
        """Reads the request, then says nothing until the test ends."""
        self.routes[path] = lambda handler: self.stopping.wait(120)

    def endless(self, path: str, limit: int = 64 * 1024 * 1024) -> None:
        """A body without ``Content-Length`` (ended by closing), up to ``limit`` bytes."""

        def route(handler: _Handler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "image/png")
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.close_connection = True
            chunk = b"\0" * 65536
            while handler.server.seen.sent.get(path, 0) < limit and not self.stopping.is_set():
                if not handler.write(path, chunk):
                    return

        self.routes[path] = route


class _Handler(BaseHTTPRequestHandler):
    server: PictureServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def write(self, path: str, data: bytes) -> bool:
        """Write body bytes; False once the client has gone."""
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return False
        with self.server.lock:
            self.server.seen.sent[path] = self.server.seen.sent.get(path, 0) + len(data)
        return True

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            self.server.seen.requests.append((self.path, self.headers.get("Host", "")))
        route = self.server.routes.get(path)
        try:
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                route(self)
        finally:
            self.close_connection = True  # one request a connection: no thread waits on an idle one
            with self.server.lock:
                self.server.seen.finished.add(path)


@contextmanager
def picture_server() -> Iterator[PictureServer]:
    """A running :class:`PictureServer`; stopped, with all its threads, at the end."""
    server = PictureServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(30)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; returns whether it held."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()

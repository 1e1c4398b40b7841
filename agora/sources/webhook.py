"""A small HTTP endpoint that other tools push posts to (``kind = "webhook"``).

``POST /ingest`` with a JSON body: one post or a list of posts in the normalised shape (what
``agora fetch`` prints). The request must carry ``Authorization: Bearer <token>``; the token is
compared in constant time (:func:`hmac.compare_digest`). Answers:

* ``202`` ``{"accepted": n, "rejected": [{"index": i, "error": "…"}]}``: the valid posts went into
  the same pipeline as every other source's (moderation, sentiment, topics, store);
* ``400`` with ``{"error": "…"}`` for a body that is not JSON, not an object or list, or holds no
  valid post;
* ``401`` without the right token, ``404`` for another path, ``405`` for another method;
* ``411`` without ``Content-Length`` (chunked bodies are not accepted);
* ``413`` for a body larger than ``max_bytes`` (1 MiB by default), refused before it is read.

The server is the standard library's threading HTTP server, bound to ``host`` (127.0.0.1 unless
configured otherwise) and ``port``; each request has a socket timeout, so a slow client cannot hold
a thread. Posts are handed to the wall on the source loop's thread. A caller speaks only for
itself: every post gets ``source = "webhook"``, ``feed`` = this entry's name and an id in this
entry's namespace (``"webhook:<name>:<id given>"``, whatever prefix the caller wrote), and its
moderation state and ``protected`` flag are the wall's to decide (see
:mod:`agora.sources.identity`). Its authors count as trusted or as the brand's own only when this
entry lists them in ``trusted_authors``. Stopping the wall closes the endpoint within a fraction
of a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import socket
import threading
from collections.abc import Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import orjson

from agora import __version__
from agora.config import schema
from agora.core.post import Post, PostError, parse_post
from agora.sources.base import Sink, SourceContext
from agora.sources.http import wait_or_stop
from agora.sources.identity import stamp
from agora.sources.live import LiveSource

__all__ = ["WebhookSource"]

#: Most posts in one request.
MAX_POSTS = 1_000


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], source: WebhookSource) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.source = source
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = f"Agora/{__version__}"
    sys_version = ""
    #: Socket timeout of a request, in seconds.
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines go to the source's logger at debug level (never headers)."""
        self.server.source.logger.debug("webhook %s: " + format, self.address_string(), *args)

    def _reply(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = orjson.dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if status >= 400 and status != 401:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _not_here(self) -> None:
        if self.path.split("?", 1)[0] == "/ingest":
            self._reply(405, {"error": "use POST /ingest"}, {"Allow": "POST"})
        else:
            self._reply(404, {"error": "not found; posts go to POST /ingest"})

    do_GET = do_PUT = do_DELETE = do_PATCH = _not_here  # noqa: N815

    def do_POST(self) -> None:
        """``POST /ingest``."""
        source = self.server.source
        if self.path.split("?", 1)[0] != "/ingest":
            self._reply(404, {"error": "not found; posts go to POST /ingest"})
            return
        scheme, _, given = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8", "replace"), source.token
        ):
            self.close_connection = True
            self._reply(
                401, {"error": "a valid bearer token is required"}, {"WWW-Authenticate": "Bearer"}
            )
            return
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._reply(411, {"error": "send a Content-Length; chunked bodies are not accepted"})
            return
        length_text = self.headers.get("Content-Length", "")
        if not length_text.strip().isdigit():
            self._reply(411, {"error": "Content-Length is required"})
            return
        length = int(length_text)
        if length > source.config.max_bytes:
            self._reply(413, {"error": f"body larger than {source.config.max_bytes} bytes"})
            return
        try:
            body = self.rfile.read(length)
        except OSError:
            self.close_connection = True
            return
        status, answer = source.ingest(body)
        self._reply(status, answer)


class WebhookSource(LiveSource):
    """The push endpoint; see the module docstring."""

    kind: ClassVar[str] = "webhook"
    #: How often the server thread looks for a shutdown request, in seconds.
    poll_interval: float = 0.1
    retry_bind: float = 30.0

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.config: schema.WebhookSource = config
        self.token = config.token.get().encode("utf-8")
        self.host = f"{config.host}:{config.port}"
        self.port: int | None = None
        self.ready = threading.Event()
        """Set once the endpoint listens (``port`` then holds the real port)."""
        self._deliver: Any = None
        self._lock = threading.Lock()

    async def poll(self, limit: int | None = None) -> list[Post]:
        """A webhook is pushed to, never polled."""
        return []

    # -- requests (server threads) ------------------------------------------------------------

    def parse(self, body: bytes) -> tuple[list[Post], list[dict[str, Any]], str | None]:
        """Posts from a request body, the rejected items, and an error for the whole body."""
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return [], [], f"the body is not valid JSON: {exc}"
        items = data if isinstance(data, list) else [data] if isinstance(data, dict) else None
        if items is None:
            return [], [], "the body must be a post object or a list of posts"
        if not items:
            return [], [], "the list holds no post"
        if len(items) > MAX_POSTS:
            return [], [], f"at most {MAX_POSTS} posts per request"
        now = self.context.clock()
        posts: list[Post] = []
        rejected: list[dict[str, Any]] = []
        for index, raw in enumerate(items):
            try:
                post = parse_post(raw, now=now)
            except PostError as exc:
                rejected.append({"index": index, "error": str(exc)})
                self.report_item(exc.kind, f"item {index}: {exc}")
                continue
            posts.append(post)
        # the caller's ids, kinds and moderation claims do not count: its posts live in this
        # entry's own namespace (the wall stamps every batch again on delivery)
        return stamp(self, posts), rejected, None

    def ingest(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """Handle one request body: ``(status, answer)``."""
        posts, rejected, error = self.parse(body)
        if error is not None:
            self.report_item("bad-request", error)
            return 400, {"error": error}
        if not posts:
            return 400, {"error": "no valid post in the body", "rejected": rejected}
        deliver = self._deliver
        if deliver is None:
            return 503, {"error": "the wall is not taking posts right now"}
        try:
            deliver(posts)
        except RuntimeError:  # the loop closed meanwhile
            return 503, {"error": "the wall is stopping"}
        with self._lock:
            self.mark_ok(len(posts))
        return 202, {"accepted": len(posts), "rejected": rejected}

    # -- lifecycle ------------------------------------------------------------------------------

    async def fetch(self, limit: int | None = None) -> list[Post]:
        """Listen for ``context.listen_seconds`` (or until ``limit`` posts) and return them."""
        return await self.listen(limit)

    def _start(self) -> tuple[_Server, threading.Thread]:
        server = _Server((self.config.host, self.config.port), self)
        self.port = server.server_address[1]
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            name=f"webhook:{self.name}",
            daemon=True,
        )
        thread.start()
        return server, thread

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        """Serve ``POST /ingest`` until ``stop`` is set."""
        loop = asyncio.get_running_loop()

        def deliver(posts: Sequence[Post]) -> None:
            loop.call_soon_threadsafe(sink, list(posts))

        while not stop.is_set():
            try:
                server, thread = self._start()
            except OSError as exc:
                self.mark_error(
                    f"{self.host}: cannot listen ({exc.strerror or exc}); retrying", "failing"
                )
                if await wait_or_stop(stop, self.retry_bind):
                    return
                continue
            self._deliver = deliver
            self.health = replace(self.health, state="ok", last_error=None)
            self.logger.info("%s: listening on %s:%s", self.name, self.config.host, self.port)
            self.ready.set()
            try:
                await stop.wait()
            finally:
                self._deliver = None
                self.ready.clear()
                server.shutdown()
                server.server_close()
                with contextlib.suppress(RuntimeError):
                    thread.join(1.0)
            return

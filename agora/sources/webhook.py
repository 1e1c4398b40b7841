"""A small HTTP endpoint that other tools push posts to (``kind = "webhook"``).

``POST /ingest`` with a JSON body: one post or a list of posts in the normalised shape (what
``agora fetch`` prints). The request must carry ``Authorization: Bearer <token>``; the token is
compared in constant time (:func:`hmac.compare_digest`). Answers:

* ``202`` ``{"accepted": n, "rejected": [{"index": i, "error": "…"}]}``: the valid posts went through
  the same pipeline as every other source's (moderation, sentiment, topics) and are stored (in a
  running wall the answer waits until they are: a ``202`` is never lost);
* ``400`` with ``{"error": "…"}`` for a body that is not JSON, not an object or list, or holds no
  valid post;
* ``401`` without the right token, ``404`` for another path, ``405`` for another method;
* ``411`` without ``Content-Length`` (chunked bodies are not accepted);
* ``413`` for a body larger than ``max_bytes`` (1 MiB by default), refused before it is read;
* ``408``, and the connection closed, for a request that has not arrived whole (headers and body)
  within ``request_timeout`` (10 s by default), however steadily its bytes trickle in;
* ``503`` with ``Retry-After`` while the wall is behind with its posts (its inbox is full), and
  ``503`` when they could not be stored (the disk is full) or not within 30 s: the caller sends
  the same posts again later (the same ids are updates, never counted twice).

The endpoint runs on the source loop (asyncio; requests are parsed by h11), bound to ``host``
(127.0.0.1 unless configured otherwise) and ``port``. A connection costs a socket, not a thread: 50
clients sending a byte a second hold no worker, and only a complete, authorised request is handed to
a worker thread for parsing. At most ``max_connections`` (64) are open at once; when all are taken,
a new connection replaces the one that has waited longest for its request (a slow or idle client),
and when every one is being answered it is closed at once. Posts are handed to the wall on the
source loop's thread.

A caller speaks only for itself: every post gets ``source = "webhook"``, ``feed`` = this entry's
name and an id in this entry's namespace (``"webhook:<name>:<id given>"``, whatever prefix the
caller wrote), and its moderation state and ``protected`` flag are the wall's to decide (see
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
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar, NamedTuple

import h11
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
#: Longest request line and headers.
MAX_HEAD = 16 * 1024
#: Bytes read from a connection at a time.
READ_CHUNK = 64 * 1024
#: Seconds a client has to take its answer.
WRITE_TIMEOUT = 5.0
#: The Retry-After of a ``503`` while the wall is behind with its posts, in seconds.
BUSY_RETRY_S = 5
#: How long a request waits for its posts to be stored before the caller is told to send them
#: again, in seconds.
STORE_WAIT_S = 30.0


class _Reply(NamedTuple):
    """An answer: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


class _Server:
    """The endpoint on the source loop: accepts, bounds and closes connections (no thread each)."""

    def __init__(self, source: WebhookSource) -> None:
        self.source = source
        self.connections: set[_Handler] = set()
        self.refused = 0
        """Connections closed at once because every place was taken by a request being answered."""
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen on the configured address; returns the port (``OSError`` when it is taken)."""
        config = self.source.config
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((config.host, config.port))
            sock.listen(128)
            sock.setblocking(False)
            self._server = await asyncio.start_server(self._accept, sock=sock)
        except OSError:
            sock.close()
            raise
        return int(sock.getsockname()[1])

    async def close(self) -> None:
        """Stop listening and end every connection within a fraction of a second: those waiting
        for a request at once, those being answered once their answer is out (or after 0.5 s)."""
        if self._server is not None:
            self._server.close()
        handlers = list(self.connections)
        for handler in handlers:
            if handler.waiting:
                handler.drop()
        tasks = [h.task for h in handlers if h.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=0.5)
            for task in late:
                task.cancel()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 0.5)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self.connections) >= self.source.config.max_connections:
            # full: the connection that has waited longest for its request (a slow or idle
            # client) makes room; a legitimate request arrives whole in a moment and is served.
            # A request that showed the token is never the one dropped: a stranger opening
            # connections cannot cut an honest upload short
            waiting = [h for h in self.connections if h.waiting and not h.authorised]
            if not waiting:
                self.refused += 1
                writer.transport.abort()
                return
            min(waiting, key=lambda h: h.since).drop()
        handler = _Handler(self, reader, writer)
        self.connections.add(handler)
        try:
            await handler.serve()
        except (ConnectionError, TimeoutError, h11.ProtocolError):
            pass  # the client went away or broke HTTP: only its connection ends
        except asyncio.CancelledError:
            pass  # the wall is stopping; nothing waits for this connection's task
        finally:
            self.connections.discard(handler)
            writer.close()  # what was written still goes out


class _Handler:
    """One connection: each request must arrive whole (headers and body) within
    ``request_timeout``; h11 parses it, a worker thread handles it, the loop answers."""

    def __init__(
        self, server: _Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.task = asyncio.current_task()
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.waiting = True
        """True while the connection waits for (or reads) a request: it may be dropped."""
        self.authorised = False
        """The request being read showed the right token (its connection is never dropped)."""
        self.since = time.monotonic()
        self.received = 0
        """Bytes read for the current request."""
        peer = writer.get_extra_info("peername")
        self.peer = str(peer[0]) if isinstance(peer, tuple) and peer else "?"

    def drop(self) -> None:
        """Close the connection now (its reads end at once); its place is free at once."""
        self.waiting = False
        self.server.connections.discard(self)
        self.writer.transport.abort()

    async def serve(self) -> None:
        """Answer requests until the client closes, breaks HTTP or runs out of time."""
        source = self.server.source
        while True:
            self.waiting = True
            self.authorised = False
            self.since = time.monotonic()
            self.received = 0
            try:
                async with asyncio.timeout(source.config.request_timeout):
                    request = await self._event()
                    if not isinstance(request, h11.Request):
                        return  # closed between requests
                    reply = self._check(request)
                    self.authorised = reply is None
                    body = b"" if reply is not None else await self._body()
            except TimeoutError:
                if self.received:  # a request had begun: say why the connection ends
                    self._last_words(408, "Request Timeout")
                source.logger.debug("webhook %s: no whole request in time", self.peer)
                return
            except h11.RemoteProtocolError as exc:
                self._last_words(exc.error_status_hint, "Bad Request")
                return
            if body is None:
                return  # the client went away mid-request
            self.waiting = False
            if reply is None:
                reply = await self._ingest(body)
            path = request.target.split(b"?", 1)[0].decode("ascii", "replace")
            # the access line names the path only: a query string may hold a token
            source.logger.debug(
                "webhook %s: %s %s %d", self.peer, request.method.decode(), path, reply.status
            )
            await self._answer(reply)
            if self.conn.our_state is not h11.DONE or self.conn.their_state is not h11.DONE:
                return
            self.conn.start_next_cycle()

    async def _ingest(self, body: bytes) -> _Reply:
        source = self.server.source
        if source.context.busy():  # the wall is behind: the caller should send again later
            return _Reply(
                503,
                {"error": "the wall is behind with its posts; send again in a few seconds"},
                (("Retry-After", str(BUSY_RETRY_S)),),
            )
        try:
            # parsing and checking up to 1,000 posts: off the loop, which serves the others
            status, answer = await asyncio.to_thread(source.ingest, body)
        except Exception:  # a bug costs this request, never the endpoint
            source.logger.exception("%s: could not take a request", source.name)
            return _Reply(500, {"error": "the wall could not take these posts; see its log"})
        return _Reply(status, answer)

    async def _event(self) -> h11.Event | None:
        """The next event of the request (reading as needed); ``None`` once the client closed."""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(READ_CHUNK)
                self.received += len(data)
                self.conn.receive_data(data)  # b"": the client closed
                continue
            if isinstance(event, h11.ConnectionClosed):
                return None
            assert isinstance(event, h11.Event)
            return event

    async def _body(self) -> bytes | None:
        """The request body (its length was checked), or ``None`` if the client went away."""
        if self.conn.they_are_waiting_for_100_continue:  # curl asks before a large body
            self._write(self.conn.send(h11.InformationalResponse(status_code=100, headers=[])))
        body = bytearray()
        while True:
            event = await self._event()
            if isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return bytes(body)
            else:
                return None

    def _check(self, request: h11.Request) -> _Reply | None:
        """The answer to give without reading the body, or ``None`` to read and ingest it."""
        source = self.server.source
        headers = dict(request.headers)
        if request.target.split(b"?", 1)[0] != b"/ingest":
            return _Reply(404, {"error": "not found; posts go to POST /ingest"})
        if request.method != b"POST":
            return _Reply(405, {"error": "use POST /ingest"}, (("Allow", "POST"),))
        scheme, _, given = headers.get(b"authorization", b"").partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), source.token):
            return _Reply(
                401,
                {"error": "a valid bearer token is required"},
                (("WWW-Authenticate", "Bearer"),),
            )
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            return _Reply(411, {"error": "send a Content-Length; chunked bodies are not accepted"})
        length = headers.get(b"content-length", b"").strip()
        if not length.isdigit():
            return _Reply(411, {"error": "Content-Length is required"})
        if int(length) > source.config.max_bytes:
            return _Reply(413, {"error": f"body larger than {source.config.max_bytes} bytes"})
        return None

    async def _answer(self, reply: _Reply) -> None:
        data = orjson.dumps(reply.body)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("Server", f"Agora/{__version__}"),
            *reply.headers,
        ]
        if reply.status >= 400:  # an error, or a body left unread: the connection ends
            headers.append(("Connection", "close"))
        out = self.conn.send(h11.Response(status_code=reply.status, headers=headers))
        out += self.conn.send(h11.Data(data=data))
        out += self.conn.send(h11.EndOfMessage())
        self._write(out)
        # a client that does not read its answer gets a few seconds, not a place for good
        await asyncio.wait_for(self.writer.drain(), WRITE_TIMEOUT)

    def _write(self, data: bytes | None) -> None:
        if data:
            self.writer.write(data)

    def _last_words(self, status: int, reason: str) -> None:
        """An empty answer written as it is (h11 may be in no state to send one); the
        connection is closed next."""
        self.writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )


class WebhookSource(LiveSource):
    """The push endpoint; see the module docstring."""

    kind: ClassVar[str] = "webhook"
    retry_bind: float = 30.0

    def __init__(self, config: Any, context: SourceContext) -> None:
        super().__init__(config, context)
        self.config: schema.WebhookSource = config
        self.token = config.token.get().encode("utf-8")
        self.host = f"{config.host}:{config.port}"
        self.port: int | None = None
        self.ready = threading.Event()
        """Set once the endpoint listens (``port`` then holds the real port)."""
        self.endpoint: _Server | None = None
        """The running endpoint (its connections), while it listens."""
        self._deliver: Any = None
        self._lock = threading.Lock()

    async def poll(self, limit: int | None = None) -> list[Post]:
        """A webhook is pushed to, never polled."""
        return []

    # -- requests (worker threads) ------------------------------------------------------------

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
            except Exception as exc:  # a bad item is refused alone, never the whole batch (500)
                if isinstance(exc, PostError):
                    kind, error = exc.kind, str(exc)
                else:
                    kind = f"unreadable-{type(exc).__name__}"
                    error = f"the post could not be read ({type(exc).__name__})"
                rejected.append({"index": index, "error": error})
                self.report_item(kind, f"item {index}: {error}")
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
        deliver_stored = self.context.deliver_stored
        if deliver_stored is not None:
            # in the wall: answer 202 only once the posts are stored (this runs on a worker
            # thread, so waiting holds no other request)
            receipt = deliver_stored(self, posts)
            try:
                if not receipt.result(timeout=STORE_WAIT_S):
                    return 503, {"error": "the wall could not keep these posts; send them again"}
            except TimeoutError:
                return 503, {"error": "the wall is behind; send these posts again in a minute"}
        else:
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

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        """Serve ``POST /ingest`` until ``stop`` is set."""
        loop = asyncio.get_running_loop()

        def deliver(posts: Sequence[Post]) -> None:
            loop.call_soon_threadsafe(sink, list(posts))

        while not stop.is_set():
            server = _Server(self)
            try:
                self.port = await server.start()
            except OSError as exc:
                self.mark_error(
                    f"{self.host}: cannot listen ({exc.strerror or exc}); retrying", "failing"
                )
                if await wait_or_stop(stop, self.retry_bind):
                    return
                continue
            self._deliver = deliver
            self.endpoint = server
            self.health = replace(self.health, state="ok", last_error=None)
            self.logger.info("%s: listening on %s:%s", self.name, self.config.host, self.port)
            self.ready.set()
            try:
                await stop.wait()
            finally:
                self._deliver = None
                self.ready.clear()
                await server.close()
                self.endpoint = None
            return

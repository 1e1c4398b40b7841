"""Polite HTTP for the live sources: one place for timeouts, validators, rate limits and errors.

:class:`PoliteClient` wraps :class:`httpx.AsyncClient`:

* every request carries the descriptive :data:`USER_AGENT` and a timeout (connect, read, write and
  pool), and a response body larger than ``max_bytes`` is refused rather than held in memory;
* conditional GETs: with ``conditional=True`` the ``ETag`` and ``Last-Modified`` of the last answer
  for the URL are sent back (``If-None-Match`` / ``If-Modified-Since``); a ``304`` comes back as a
  :class:`Reply` with ``not_modified`` set. :attr:`PoliteClient.validators` can be saved with a
  source's cursor and given back after a restart;
* rate-limit headers in their three spellings (``X-RateLimit-*`` with an ISO-8601 or relative
  reset, ``RateLimit-*`` with epoch seconds, X's ``x-rate-limit-*``; Reddit's
  ``X-Ratelimit-Used``) are read into :class:`RateLimit`; while a host says nothing remains,
  further requests to it fail at once with :class:`RateLimitedError` instead of being sent;
* failures become :class:`SourceError` subclasses whose message is one plain line that names the
  host and path but never a query string or header, so secrets cannot leak into logs or the wall:
  ``429`` → :class:`RateLimitedError` (``Retry-After`` in seconds or as a date, else the reset
  time), ``401``/``403`` → :class:`AuthError`, ``5xx``, timeouts and dropped connections →
  :class:`TransientError`, an HTML page or broken JSON where JSON was expected →
  :class:`PayloadError`.

:class:`Backoff` computes exponential delays with jitter up to a cap; its random source is
injectable so tests are deterministic.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import math
import random
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from types import TracebackType
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import httpx
import orjson

from agora import __version__
from agora.core.health import HealthState
from agora.core.post import PostError, parse_time

__all__ = [
    "PROJECT_URL",
    "USER_AGENT",
    "AuthError",
    "Backoff",
    "DisabledError",
    "PayloadError",
    "PoliteClient",
    "RateLimit",
    "RateLimitedError",
    "Reply",
    "RequestError",
    "SourceError",
    "TransientError",
    "describe_url",
    "iter_sse",
    "parse_rate_limit",
    "parse_retry_after",
    "unresolved",
    "wait_or_stop",
]

#: Where people running a server can read what the client is.
PROJECT_URL: Final = "https://pypi.org/project/agora-wall/"
#: The User-Agent of every request (instance admins and API providers ask for a descriptive one).
USER_AGENT: Final = f"Agora/{__version__} (+{PROJECT_URL})"
#: Largest response body read, in bytes.
DEFAULT_MAX_BYTES: Final = 8 * 1024 * 1024
#: Longest wait a server may ask for before we look again anyway, in seconds.
MAX_WAIT: Final = 3600.0
#: Wait after a 429 that names no time.
DEFAULT_RETRY_AFTER: Final = 60.0


# ---------------------------------------------------------------------------------------------
# errors


class SourceError(Exception):
    """A failed request or an unusable answer, with a one-line, secret-free message.

    ``state`` is the health state it puts the source in; ``retry_after`` (seconds) is set when the
    server said how long to wait; ``status`` is the HTTP status (0 when there was no answer) and
    ``body`` the first bytes of the answer, for sources that read error details from it.
    """

    state: HealthState = "failing"

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        retry_after: float | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.body = body


class TransientError(SourceError):
    """5xx, timeouts, refused or dropped connections: retry with exponential backoff."""


class PayloadError(SourceError):
    """The server answered, but not with what the API promises (HTML, truncated JSON, …)."""


class RequestError(SourceError):
    """Another 4xx: the request itself is wrong (unknown hashtag, bad query)."""


class AuthError(SourceError):
    """Credentials are missing or refused (401/403)."""

    state: HealthState = "needs-auth"


class DisabledError(SourceError):
    """The server turned the feature off (e.g. Mastodon hashtag feeds ``disabled``)."""

    state: HealthState = "disabled-by-server"


class RateLimitedError(SourceError):
    """429, or the rate-limit headers say nothing remains: wait ``retry_after`` seconds."""

    state: HealthState = "degraded"


# ---------------------------------------------------------------------------------------------
# header parsing


@dataclass(slots=True, frozen=True)
class RateLimit:
    """What a server's rate-limit headers said: ``reset_at`` is POSIX seconds."""

    limit: int | None
    remaining: int | None
    reset_at: float | None


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().split(",")[0].split(";")[0])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _reset_time(text: str | None, now: float) -> float | None:
    """A reset given as epoch seconds, seconds from now, or an ISO-8601 time (Mastodon)."""
    if text is None or not text.strip():
        return None
    value = _number(text)
    if value is not None:
        # epoch seconds are > 1e9; anything smaller is a delay (Reddit, the IETF draft)
        return value if value > 1e9 else now + max(0.0, value)
    try:
        return parse_time(text).timestamp()
    except PostError:
        return None


def parse_rate_limit(headers: Mapping[str, str], now: float) -> RateLimit | None:
    """Read ``X-RateLimit-*``, ``RateLimit-*``, ``x-rate-limit-*`` or Reddit's ``X-Ratelimit-Used``
    headers; ``None`` when the answer has none."""
    lower = {k.lower(): v for k, v in headers.items()}
    for prefix in ("x-ratelimit-", "ratelimit-", "x-rate-limit-"):
        remaining = _number(lower.get(prefix + "remaining"))
        limit = _number(lower.get(prefix + "limit"))
        reset = _reset_time(lower.get(prefix + "reset"), now)
        if remaining is None and limit is None and reset is None:
            continue
        used = _number(lower.get(prefix + "used"))
        if limit is None and used is not None and remaining is not None:
            limit = used + remaining
        return RateLimit(
            limit=int(limit) if limit is not None else None,
            remaining=int(remaining) if remaining is not None else None,
            reset_at=reset,
        )
    return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay in seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    number = _number(value)
    if number is not None:
        return max(0.0, number)
    try:
        moment = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


def describe_url(url: str | httpx.URL) -> str:
    """``host/path`` of a URL: what error messages show (never the query, never credentials)."""
    parts = urlsplit(str(url))
    host = parts.hostname or "?"
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    return f"{host}{parts.path}".rstrip("/") or host


def host_of(url: str) -> str:
    """The host of a URL (with a non-default port), for messages and per-host rate limits."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    return host


# ---------------------------------------------------------------------------------------------
# backoff and waiting


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with jitter: ``base·2ⁿ`` capped at ``cap``, times a random factor in
    [0.5, 1) so many walls do not retry in step."""

    base: float = 2.0
    cap: float = 300.0
    rand: Callable[[], float] = field(default=random.random)
    attempts: int = 0

    def next(self) -> float:
        """The delay before the next attempt (and count this one)."""
        delay = min(self.cap, self.base * (2.0 ** min(self.attempts, 30)))
        self.attempts += 1
        return delay * (0.5 + self.rand() / 2.0)

    def reset(self) -> None:
        """Back to the shortest delay after a success."""
        self.attempts = 0


def unresolved(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a host name that does not resolve."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, socket.gaierror):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless ``stop`` is set first; True when stopping."""
    if stop.is_set():
        return True
    if seconds <= 0:
        await asyncio.sleep(0)
        return stop.is_set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


# ---------------------------------------------------------------------------------------------
# the client


@dataclass(slots=True)
class Reply:
    """A successful answer, read whole."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes
    not_modified: bool = False

    @property
    def where(self) -> str:
        """``host/path`` for messages."""
        return describe_url(self.url)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case."""
        value: str = self.headers.get("content-type") or ""
        return value.split(";", maxsplit=1)[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON. Raises :class:`PayloadError` for HTML, an empty body or broken JSON."""
        body = self.content
        stripped = body.lstrip()[:64].lower()
        if "html" in self.content_type or stripped.startswith((b"<!doctype", b"<html")):
            raise PayloadError(
                f"{self.where} answered with an HTML page instead of JSON (status {self.status})",
                status=self.status,
            )
        if not body.strip():
            raise PayloadError(f"{self.where} answered with an empty body", status=self.status)
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise PayloadError(
                f"{self.where} answered with truncated or invalid JSON", status=self.status
            ) from None

    def text(self) -> str:
        """The body decoded with the declared charset (UTF-8 by default, invalid bytes replaced)."""
        charset = self.headers.get_list("content-type")
        encoding = "utf-8"
        for value in charset:
            for param in value.split(";")[1:]:
                key, _, val = param.partition("=")
                if key.strip().lower() == "charset" and val.strip():
                    encoding = val.strip().strip('"')
        try:
            return self.content.decode(encoding, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


Validators = dict[str, tuple[str | None, str | None]]
Expect = Literal["json", "any"]


class PoliteClient:
    """An :class:`httpx.AsyncClient` with the house rules; see the module docstring.

    Use as ``async with PoliteClient() as client`` or call :meth:`aclose`. ``transport`` lets
    tests plug in an :class:`httpx.MockTransport`; ``clock`` (POSIX seconds) drives rate-limit
    bookkeeping.
    """

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        connect_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.clock = clock
        self.validators: Validators = {}
        """URL → (ETag, Last-Modified) of the last full answer."""
        self.limits: dict[str, RateLimit] = {}
        """Host → what its rate-limit headers said last."""
        self.requests = 0
        base_headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
        base_headers.update(headers or {})
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=connect_timeout or min(timeout, 10.0)),
            headers=base_headers,
            transport=transport,
            follow_redirects=True,
            max_redirects=5,
        )

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection."""
        await self._client.aclose()

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` ran."""
        return self._client.is_closed

    # -- requests --------------------------------------------------------------------------------

    def check_budget(self, url: str) -> None:
        """Raise :class:`RateLimitedError` while the host's last headers said nothing remains."""
        host = host_of(url)
        limit = self.limits.get(host)
        if limit is None or limit.remaining is None or limit.remaining > 0:
            return
        now = self.clock()
        if limit.reset_at is None or limit.reset_at <= now:
            del self.limits[host]
            return
        wait = min(MAX_WAIT, limit.reset_at - now)
        raise RateLimitedError(
            f"{host}: rate limit used up; waiting {wait:.0f} s for it to reset",
            retry_after=wait,
        )

    def _note_limits(self, url: str, headers: httpx.Headers) -> RateLimit | None:
        limit = parse_rate_limit(headers, self.clock())
        if limit is not None:
            self.limits[host_of(url)] = limit
        return limit

    def _status_error(self, url: str, response: httpx.Response, body: bytes) -> SourceError:
        where = describe_url(url)
        status = response.status_code
        now = self.clock()
        if status == 429:
            wait = parse_retry_after(response.headers.get("retry-after"), now)
            if wait is None:
                limit = parse_rate_limit(response.headers, now)
                if limit is not None and limit.reset_at is not None:
                    wait = max(1.0, limit.reset_at - now)
            wait = min(MAX_WAIT, DEFAULT_RETRY_AFTER if wait is None else wait)
            return RateLimitedError(
                f"{where}: rate limited (429); waiting {wait:.0f} s",
                status=status,
                retry_after=wait,
                body=body,
            )
        if status in (401, 403):
            what = "refused the credentials" if status == 401 else "refused access"
            return AuthError(f"{where}: {what} ({status})", status=status, body=body)
        if status >= 500:
            wait = parse_retry_after(response.headers.get("retry-after"), now)
            return TransientError(
                f"{where}: server error {status}",
                status=status,
                retry_after=min(MAX_WAIT, wait) if wait is not None else None,
                body=body,
            )
        return RequestError(f"{where}: answered {status}", status=status, body=body)

    def _transport_error(self, url: str, exc: httpx.HTTPError) -> SourceError:
        where = describe_url(url)
        if isinstance(exc, httpx.TimeoutException):
            return TransientError(f"{where}: no answer within {self.timeout:g} s")
        if isinstance(exc, httpx.ConnectError):
            if unresolved(exc):
                host = urlsplit(url).hostname or "?"
                return TransientError(f"{where}: cannot connect: no such host {host} (DNS)")
            return TransientError(f"{where}: cannot connect")
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
            return TransientError(f"{where}: the connection was closed in the middle of the answer")
        if isinstance(exc, httpx.TooManyRedirects):
            return RequestError(f"{where}: too many redirects")
        if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
            return RequestError(f"{where}: not a usable URL")
        return TransientError(f"{where}: {type(exc).__name__}")

    async def _read(self, url: str, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise PayloadError(
                f"{describe_url(url)}: answer of {int(declared)} bytes is larger than "
                f"{self.max_bytes} bytes",
                status=response.status_code,
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise PayloadError(
                    f"{describe_url(url)}: answer larger than {self.max_bytes} bytes",
                    status=response.status_code,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        auth: tuple[str, str] | None = None,
        conditional: bool = False,
        expect: Expect = "any",
    ) -> Reply:
        """Send one request and read the whole answer. Raises a :class:`SourceError`.

        With ``conditional``, validators of the last answer for ``url`` are sent and a ``304``
        returns a :class:`Reply` with ``not_modified``. ``expect="json"`` checks the content
        type (an HTML page with status 200 is a :class:`PayloadError`).
        """
        self.check_budget(url)
        send_headers = dict(headers or {})
        if expect == "json":
            send_headers.setdefault("Accept", "application/json")
        if conditional and url in self.validators:
            etag, modified = self.validators[url]
            if etag:
                send_headers["If-None-Match"] = etag
            if modified:
                send_headers["If-Modified-Since"] = modified
        self.requests += 1
        try:
            async with self._client.stream(
                method,
                url,
                params=params,
                headers=send_headers,
                data=data,
                json=json,
                auth=auth,
            ) as response:
                self._note_limits(url, response.headers)
                if response.status_code == 304 and conditional:
                    return Reply(url, 304, response.headers, b"", not_modified=True)
                if response.status_code >= 400:
                    try:
                        body = (await response.aread())[:4096]
                    except httpx.HTTPError:
                        body = b""
                    raise self._status_error(url, response, body)
                content = await self._read(url, response)
        except httpx.HTTPError as exc:
            raise self._transport_error(url, exc) from None
        reply = Reply(url, response.status_code, response.headers, content)
        if conditional:
            etag = response.headers.get("etag")
            modified = response.headers.get("last-modified")
            if etag or modified:
                self.validators[url] = (etag, modified)
        if (
            expect == "json"
            and reply.content_type
            and not ("json" in reply.content_type or reply.content_type.startswith("text/plain"))
        ):
            if "html" in reply.content_type:
                reply.json()  # raises the HTML message
            raise PayloadError(
                f"{reply.where} answered {reply.content_type} instead of JSON",
                status=reply.status,
            )
        return reply

    async def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Any, Reply]:
        """GET ``url`` and decode JSON; returns ``(data, reply)``."""
        reply = await self.request("GET", url, params=params, headers=headers, expect="json")
        return reply.json(), reply

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        read_timeout: float | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Open a long-lived response (server-sent events, newline-delimited JSON).

        Error statuses raise the same :class:`SourceError` subclasses as :meth:`request`;
        ``read_timeout`` is how long the stream may stay silent before it counts as dropped.
        Errors while reading the body are translated too.
        """
        self.check_budget(url)
        timeout = httpx.Timeout(
            self.timeout,
            read=read_timeout if read_timeout is not None else self.timeout,
            connect=min(self.timeout, 10.0),
        )
        self.requests += 1
        try:
            async with self._client.stream(
                method, url, params=params, headers=headers, timeout=timeout
            ) as response:
                self._note_limits(url, response.headers)
                if response.status_code >= 400:
                    try:
                        body = (await response.aread())[:4096]
                    except httpx.HTTPError:
                        body = b""
                    raise self._status_error(url, response, body)
                yield response
        except httpx.HTTPError as exc:
            raise self._transport_error(url, exc) from None


async def iter_sse(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """``(event, data)`` pairs from the lines of a server-sent events stream.

    Comment lines (``:thump`` heartbeats) are skipped; several ``data:`` lines of one event are
    joined with newlines; an event without a name is ``"message"``.
    """
    event = ""
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event or "message", "\n".join(data)

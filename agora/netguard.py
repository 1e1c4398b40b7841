"""Fetching a URL that a stranger wrote without letting it reach the wall's own network.

Post payloads name pictures (media, video stills, avatars) by URL, and anyone can write a post. A
wall fetching such a URL as it stands can be made to knock on its own machine (``127.0.0.1``, the
webhook, a printer's admin page) or on the cloud's metadata address. :class:`GuardedFetcher`
downloads one URL under these rules:

* only ``http``/``https`` URLs with a host and no user name, at most 2,048 characters
  (:func:`split_web_url`);
* the host is looked up once (in a small pool of its own, within the deadline) and **every**
  address it resolves to must be public unicast (:func:`address_problem`): no loopback, private,
  link-local, shared (carrier-grade NAT), multicast, reserved, documentation, benchmarking or
  unspecified address, nor an IPv6 form that carries one (IPv4-mapped or -compatible, 6to4,
  NAT64); Teredo and the IETF's special ranges are refused whatever they carry. Numeric tricks such
  as ``2130706433``, ``0x7f.1`` or ``127.1`` are read by the system's resolver, so they are judged
  by the address they really mean;
* the connection goes to the address that was checked (:class:`_PinnedBackend`), never to a second
  lookup, so a name cannot answer one address for the check and another for the connection, while
  the ``Host`` header, the TLS server name and the certificate check keep the URL's host;
* redirects are followed by hand, at most ``max_redirects``, and every hop is checked the same way;
* the whole download (lookup, connect, TLS, every read, every redirect) has **one** deadline, and
  the body is read up to ``max_bytes`` and no further, whatever ``Content-Length`` says.

Hosts listed in :class:`HostRules` (``[wall] picture_hosts``: an office's internal CDN) skip the
address check, but are still looked up once and pinned. A host matches a rule as written in the
URL (``127.0.0.1`` does not let ``2130706433`` in).

The module does not use Qt, so it is tested without it; :mod:`agora.ui.images` uses it for every
picture the wall shows.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, quote, urljoin, urlsplit

import httpcore
import httpx

__all__ = [
    "MAX_URL_CHARS",
    "FetchError",
    "GuardedFetcher",
    "HostRules",
    "RefusedError",
    "TooLargeError",
    "TooSlowError",
    "address_problem",
    "host_rule",
    "split_web_url",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_CHARS = 2048
REDIRECTS = frozenset({301, 302, 303, 307, 308})

# Every IPv4 range that is not reachable public unicast (IANA's special-purpose registry and a
# few more); the standard library's ``is_global`` is asked as well, but on Python 3.11 it calls
# multicast global and misses IPv4-mapped loopback, so these lists are what decide.
_V4_RANGES: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "a 'this network' (unspecified) address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address (cloud metadata lives there)"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.31.196.0/24", "an AS112 address"),
        ("192.52.193.0/24", "an AMT address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("192.168.0.0/16", "a private address"),
        ("192.175.48.0/24", "an AS112 address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)

# IPv6 outside global unicast (2000::/3) is never public; these names say what it is
_V6_OUTSIDE: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("::/128", "the unspecified address"),
        ("::1/128", "the loopback address"),
        ("::/96", "an IPv4-compatible address"),
        ("64:ff9b:1::/48", "a local NAT64 address"),
        ("100::/64", "a discard address"),
        ("fc00::/7", "a unique local (private) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)
_V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
# inside global unicast, these are not public either (Teredo first: it hides its IPv4 address)
_V6_RANGES: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("2001::/32", "a Teredo address"),
        ("2001::/23", "an IETF protocol address"),
        ("2001:db8::/32", "a documentation address"),
        ("2620:4f:8000::/48", "an AS112 address"),
        ("3fff::/20", "a documentation address"),
    )
)
_V6_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_V6_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V6_6TO4 = ipaddress.IPv6Network("2002::/16")


def _v4_why(address: ipaddress.IPv4Address) -> str | None:
    for network, why in _V4_RANGES:
        if address in network:
            return why
    return None if address.is_global else "not a public address"


def address_problem(address: IPAddress) -> str | None:
    """Why the wall must not connect to ``address``, or ``None`` for a public unicast address."""
    if isinstance(address, ipaddress.IPv4Address):
        why = _v4_why(address)
        return None if why is None else f"{address} is {why}"
    plain = ipaddress.IPv6Address(int(address))  # without a %scope
    # forms that carry an IPv4 address reach that address: judge it
    inner: ipaddress.IPv4Address | None = None
    if plain in _V6_MAPPED or plain in _V6_NAT64:
        inner = ipaddress.IPv4Address(int(plain) & 0xFFFFFFFF)
    elif plain in _V6_6TO4:
        inner = plain.sixtofour
    if inner is not None:
        why = _v4_why(inner)
        return None if why is None else f"{address} leads to {inner}, {why}"
    if plain not in _V6_GLOBAL_UNICAST:
        why = next((w for net, w in _V6_OUTSIDE if plain in net), "not a global unicast address")
        return f"{address} is {why}"
    for network, why in _V6_RANGES:
        if plain in network:
            return f"{address} is {why}"
    return None if plain.is_global else f"{address} is not a public address"


# -- host names and rules ---------------------------------------------------------------------------

_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _ascii_host(host: str) -> str:
    """A host name in the form the resolver and the certificate check see (lower case, IDNA,
    without a trailing dot); raises ``ValueError`` for one that cannot be a host name."""
    host = host.strip().lower().rstrip(".")
    if not host:
        raise ValueError("an empty host name")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{host!r} is not a valid host name") from exc
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{host!r} is not a valid host name")
    return ascii_host


def host_rule(entry: str) -> str:
    """The normal form of a ``picture_hosts`` entry: a host name (``cdn.intranet.example``), every
    name under a domain (``*.intranet.example``) or an IP address (``10.1.2.3``, ``fd00::5``).

    Raises ``ValueError`` with a message that says how to write it instead.
    """
    text = entry.strip().lower()
    if not text:
        raise ValueError("an empty entry; give a host name such as 'cdn.intranet.example'")
    if "://" in text or "/" in text:
        host = urlsplit(text if "://" in text else f"//{text}").hostname or "cdn.intranet.example"
        raise ValueError(
            f"{entry!r} is a URL or a network; give only the host name, e.g. {host!r} "
            "(every port and path on it is allowed)"
        )
    address = _ip_literal(text)
    if address is not None:
        # the normal form, without a %scope: "fd00:0::5" and "fd00::5" are one rule
        return str(ipaddress.IPv6Address(int(address)) if address.version == 6 else address)
    if text.count(":") == 1 and text.rsplit(":", 1)[1].isdigit():
        raise ValueError(
            f"{entry!r} names a port; give only the host, e.g. {text.split(':')[0]!r} "
            "(every port on it is allowed)"
        )
    wildcard = text.startswith("*.")
    name = text[2:] if wildcard else text
    if "*" in name:
        raise ValueError(
            f"{entry!r}: a wildcard may only start an entry, as in '*.intranet.example' "
            "(every name under intranet.example); a lone '*' would let every address in"
        )
    try:
        name = _ascii_host(name)
    except ValueError as exc:
        raise ValueError(
            f"{entry!r}: {exc}; give a host name such as 'cdn.intranet.example'"
        ) from exc
    if _NUMERIC_LABEL.fullmatch(name.rsplit(".", 1)[-1]):
        raise ValueError(
            f"{entry!r} looks like an address in a short or numeric form; write an IP address "
            "in full (e.g. '10.1.2.3') or give the host's name"
        )
    return f"*.{name}" if wildcard else name


@dataclass(frozen=True)
class HostRules:
    """Hosts whose pictures are fetched whatever addresses they resolve to (an internal CDN)."""

    names: frozenset[str] = frozenset()
    """Exact names and IP addresses, in the form :func:`host_rule` gives."""
    domains: tuple[str, ...] = ()
    """``".intranet.example"`` for a ``*.intranet.example`` rule."""

    @classmethod
    def parse(cls, entries: Iterable[str]) -> HostRules:
        """Rules from config entries (each checked by :func:`host_rule`)."""
        names: set[str] = set()
        domains: list[str] = []
        for entry in entries:
            rule = host_rule(entry)
            if rule.startswith("*."):
                domains.append(rule[1:])
            else:
                names.add(rule)
        return cls(frozenset(names), tuple(domains))

    def allows(self, host: str) -> bool:
        """True when ``host`` (as :func:`split_web_url` gives it) is one of the listed hosts."""
        return host in self.names or any(host.endswith(domain) for domain in self.domains)


# -- URLs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where one request goes: the URL's parts in the form they are sent."""

    scheme: str
    host: str
    """Lower-case ASCII name, or an IP address in its normal form (no brackets)."""
    port: int
    target: str
    """Path and query, percent-encoded."""

    @property
    def literal(self) -> IPAddress | None:
        """The host as an address, when the URL gives one."""
        return _ip_literal(self.host)

    def url(self) -> httpcore.URL:
        """The URL for httpcore (a bare host: it is also the TLS name and certificate check)."""
        return httpcore.URL(
            scheme=self.scheme.encode(),
            host=self.host.encode(),
            port=self.port,
            target=self.target.encode(),
        )

    def host_header(self) -> bytes:
        """The ``Host`` header: the URL's host, with its port unless it is the scheme's own."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return (host if self.port == default else f"{host}:{self.port}").encode()


def split_web_url(url: str | None) -> Target | None:
    """The parts of an absolute ``http``/``https`` URL with a host, or ``None`` for anything
    else (another scheme, no host, a user name or password, a bad port, too long)."""
    if not url or len(url) > MAX_URL_CHARS or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None  # "https://cdn.example@10.0.0.1/": pictures never need credentials
    address = _ip_literal(parts.hostname)
    if address is not None:
        host = str(address)
    else:
        try:
            host = _ascii_host(parts.hostname)
        except ValueError:
            return None
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    return Target(
        scheme=parts.scheme,
        host=host,
        port=port if port is not None else (443 if parts.scheme == "https" else 80),
        target=f"{path}?{query}" if query else path,
    )


# -- errors -----------------------------------------------------------------------------------------


class FetchError(Exception):
    """A URL could not be fetched: refused, too slow, too large, or not ``200``."""


class RefusedError(FetchError):
    """The URL, or an address its host resolves to, is not one the wall may connect to."""


class TooSlowError(FetchError):
    """The download did not finish within its deadline."""


class TooLargeError(FetchError):
    """The body is larger than the cap."""


# -- the pinned, deadline-bound connection ---------------------------------------------------------


class _Deadline:
    """One point in time that every network wait of a download is cut to."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def cut(self, timeout: float | None, expired: type[Exception]) -> float:
        """``timeout`` shortened to the time left; raises ``expired`` once none is."""
        left = self.left()
        if left <= 0:
            raise expired(f"no time left of the {self.seconds:g} s deadline")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the download's deadline (a server that
    sends one byte a second cannot stretch the download past it)."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.cut(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.cut(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, self._deadline.cut(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects only to the addresses that were checked for the host, never looking it up again."""

    def __init__(self, host: str, addresses: list[IPAddress], deadline: _Deadline) -> None:
        self._host = host
        self._addresses = addresses
        self._deadline = deadline
        self._streams: list[httpcore.NetworkStream] = []
        self._lock = threading.Lock()
        self._aborted = False
        self._plain = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if host != self._host:  # httpcore connects to the URL's host and no other
            raise httpcore.ConnectError(f"not connecting to {host}: only {self._host} was checked")
        error: Exception = httpcore.ConnectError(f"{self._host} has no address")
        for address in self._addresses:
            if self._aborted:
                raise httpcore.ConnectError("stopped")
            try:
                # a numeric address: the system connects to it without a lookup
                stream = self._plain.connect_tcp(
                    str(address),
                    port,
                    timeout=self._deadline.cut(timeout, httpcore.ConnectTimeout),
                    socket_options=socket_options,
                )
            except httpcore.ConnectTimeout:
                raise
            except httpcore.ConnectError as exc:
                error = exc
                continue
            with self._lock:
                self._streams.append(stream)
            return _DeadlineStream(stream, self._deadline)
        raise error

    def abort(self) -> None:
        """Cut every connection of this download now (a blocked read returns at once)."""
        self._aborted = True
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            sock = stream.get_extra_info("socket")
            if isinstance(sock, socket.socket):
                with suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)


# -- lookups ----------------------------------------------------------------------------------------

# the system resolver cannot be given a timeout: it runs in a small pool of its own (threads start
# on first use), so a slow name server costs a lookup thread but never a download slot past the
# deadline
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="agora-lookup")


def _lookup(host: str, port: int) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    found: list[IPAddress] = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]))
        if address not in found:
            found.append(address)
    return found


# -- the fetcher ------------------------------------------------------------------------------------

HostSource = Iterable[str] | Callable[[], Iterable[str]]


class GuardedFetcher:
    """Downloads a stranger's URL under the rules in the module docstring; thread-safe.

    ``hosts`` lists the ``picture_hosts`` rules, or is a function that returns the current ones
    (so a reloaded config applies to the next download).
    """

    def __init__(
        self,
        *,
        hosts: HostSource = (),
        deadline_s: float = 5.0,
        max_bytes: int = 5 * 1024 * 1024,
        max_redirects: int = 3,
        user_agent: str = "Agora wall",
        accept: str = "*/*",
    ) -> None:
        self.deadline_s = deadline_s
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._hosts = hosts
        self._rules_for: tuple[str, ...] | None = None
        self._rules = HostRules()
        self._headers = [
            (b"User-Agent", user_agent.encode("ascii", "replace")),
            (b"Accept", accept.encode("ascii", "replace")),
            # the cap counts the bytes on the wire: no compressed body that unpacks past it
            (b"Accept-Encoding", b"identity"),
        ]
        self._ssl: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self._active: set[_PinnedBackend] = set()
        self._closed = False

    # -- public ------------------------------------------------------------------------------

    def rules(self) -> HostRules:
        """The host rules in force now."""
        entries = tuple(self._hosts() if callable(self._hosts) else self._hosts)
        with self._lock:
            if entries != self._rules_for:
                self._rules = HostRules.parse(entries)
                self._rules_for = entries
            return self._rules

    def get(self, url: str) -> bytes:
        """The body of ``url`` (after at most ``max_redirects`` redirects, each checked)."""
        deadline = _Deadline(self.deadline_s)
        rules = self.rules()
        current = url
        for _ in range(self.max_redirects + 1):
            target = split_web_url(current)
            if target is None:
                raise RefusedError(f"not an http(s) URL with a host: {current[:200]!r}")
            addresses = self._addresses(target, rules, deadline)
            status, location, body = self._fetch_once(target, addresses, deadline)
            if status == 200:
                return body
            if status in REDIRECTS and location:
                current = urljoin(current, location)
                continue
            raise FetchError(f"HTTP {status}")
        raise FetchError(f"more than {self.max_redirects} redirects")

    def close(self) -> None:
        """Cut the downloads under way; later calls to :meth:`get` are refused."""
        self._closed = True
        with self._lock:
            active = list(self._active)
        for backend in active:
            backend.abort()

    # -- steps -------------------------------------------------------------------------------

    def _addresses(self, target: Target, rules: HostRules, deadline: _Deadline) -> list[IPAddress]:
        """The addresses to connect to: looked up once, each checked unless the host is listed."""
        literal = target.literal
        if literal is not None:
            addresses = [literal]
        else:
            future = _RESOLVER.submit(_lookup, target.host, target.port)
            try:
                addresses = future.result(timeout=max(0.0, deadline.left()))
            except FutureTimeout as exc:
                future.cancel()
                raise TooSlowError(f"looking up {target.host} took too long") from exc
            except OSError as exc:
                raise FetchError(f"cannot look up {target.host}: {exc}") from exc
        if not addresses:
            raise FetchError(f"{target.host} has no address")
        if not rules.allows(target.host):
            for address in addresses:
                problem = address_problem(address)
                if problem is not None:
                    named = "" if literal is not None else f"{target.host}: "
                    raise RefusedError(
                        f"{named}{problem}; pictures come from public addresses only "
                        "(list the host in [wall] picture_hosts if it is yours)"
                    )
        return addresses

    def _context(self) -> ssl.SSLContext:
        with self._lock:
            if self._ssl is None:
                # certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR (an office's own CA)
                self._ssl = httpx.create_ssl_context()
            return self._ssl

    @contextmanager
    def _pool(self, backend: _PinnedBackend, target: Target) -> Iterator[httpcore.ConnectionPool]:
        pool = httpcore.ConnectionPool(
            ssl_context=self._context() if target.scheme == "https" else None,
            network_backend=backend,
            max_connections=1,
            retries=0,
        )
        with self._lock:
            if self._closed:
                raise FetchError("the fetcher is closed")
            self._active.add(backend)
        try:
            yield pool
        finally:
            with self._lock:
                self._active.discard(backend)
            pool.close()

    def _fetch_once(
        self, target: Target, addresses: list[IPAddress], deadline: _Deadline
    ) -> tuple[int, str | None, bytes]:
        """One request: ``(status, Location, body)``; the body is read for a ``200`` only."""
        backend = _PinnedBackend(target.host, addresses, deadline)
        left = max(0.001, deadline.left())
        timeouts = {"connect": left, "read": left, "write": left, "pool": left}
        try:
            with (
                self._pool(backend, target) as pool,
                pool.stream(
                    "GET",
                    target.url(),
                    headers=[(b"Host", target.host_header()), *self._headers],
                    extensions={"timeout": timeouts},
                ) as response,
            ):
                status = response.status
                headers = {k.lower(): v for k, v in response.headers}
                if status != 200:
                    location = headers.get(b"location")
                    return status, location.decode("latin-1") if location else None, b""
                declared = headers.get(b"content-length", b"").strip()
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise TooLargeError(f"too large ({int(declared)} bytes)")
                return status, None, self._body(response.iter_stream(), deadline)
        except httpcore.TimeoutException as exc:
            raise TooSlowError(f"no whole answer within {deadline.seconds:g} s") from exc
        except httpcore.ConnectError as exc:
            raise FetchError(f"cannot connect to {target.host}: {exc}") from exc
        except httpcore.NetworkError as exc:
            raise FetchError(f"connection to {target.host} failed: {exc}") from exc
        except httpcore.ProtocolError as exc:
            raise FetchError(f"{target.host} broke HTTP: {exc}") from exc

    def _body(self, chunks: Iterable[bytes], deadline: _Deadline) -> bytes:
        parts: list[bytes] = []
        total = 0
        for chunk in chunks:
            total += len(chunk)
            if total > self.max_bytes:  # stop reading: the rest is never asked for
                raise TooLargeError(f"too large (over {self.max_bytes} bytes)")
            parts.append(chunk)
            if deadline.left() <= 0:
                raise TooSlowError(f"no whole answer within {deadline.seconds:g} s")
        return b"".join(parts)

"""The network guard against a hostile picture server on 127.0.0.1: addresses of the wall's own
network in every spelling, redirects into them, a name that changes its answer, slow and endless
bodies, and the ``picture_hosts`` key that lets an office's own CDN in."""

from __future__ import annotations

import ipaddress
import re
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from pydantic import ValidationError

from agora.config.schema import WallSection
from agora.netguard import (
    FetchError,
    GuardedFetcher,
    HostRules,
    RefusedError,
    TooLargeError,
    TooSlowError,
    address_problem,
    host_rule,
    split_web_url,
)
from tests.unit.picturekit import PictureServer, picture_server, wait_until
from tests.unit.test_qt_free import BLOCKER

PICTURE = b"\x89PNG\r\n\x1a\n" + b"picture bytes" * 10


@pytest.fixture
def server() -> Any:
    with picture_server() as srv:
        srv.body("/a.png", PICTURE)
        yield srv


def local(**extra: Any) -> GuardedFetcher:
    """A fetcher that may reach the test server (127.0.0.1 is listed, as an office would list
    its CDN)."""
    return GuardedFetcher(hosts=["127.0.0.1"], **extra)


# -- addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.0.0.2",
        "127.255.255.254",
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "192.0.0.8",
        "192.0.2.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "::8.8.8.8",
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1",
        "2002:7f00:1::1",
        "2002:c0a8:101::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "2001:db8::1",
        "3fff::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fe80::1%1",
        "fec0::1",
        "ff02::1",
        "100::1",
    ],
)
def test_addresses_of_the_own_network_are_refused(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "93.184.216.34", "151.101.1.140", "2606:4700:4700::1111",
     "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"],
)  # fmt: skip
def test_public_unicast_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_only_web_urls_with_a_host_are_split() -> None:
    assert split_web_url("ftp://cdn.example/a.png") is None
    assert split_web_url("file:///etc/passwd") is None
    assert split_web_url("http:///a.png") is None
    assert split_web_url("https://user:pw@cdn.example/a.png") is None
    assert split_web_url("https://cdn.example@127.0.0.1/a.png") is None
    assert split_web_url("https://cdn.example:99999/a.png") is None
    assert split_web_url("https://cdn.example/" + "a" * 3000) is None
    assert split_web_url("https://cdn.example/a\r\nX-Evil: 1") is None
    target = split_web_url("https://CDN.Bücher.example./p/ä.png?s=1#frag")
    assert target is not None
    assert (target.host, target.port, target.target) == (
        "cdn.xn--bcher-kva.example",
        443,
        "/p/%C3%A4.png?s=1",
    )
    assert target.host_header() == b"cdn.xn--bcher-kva.example"
    v6 = split_web_url("http://[::FFFF:127.0.0.1]:8080/")
    assert (
        v6 is not None
        and v6.host == "::ffff:7f00:1"
        and v6.host_header() == b"[::ffff:7f00:1]:8080"
    )


# -- the config key ----------------------------------------------------------------------------


def test_picture_hosts_accepts_names_wildcards_and_addresses() -> None:
    wall = WallSection(
        picture_hosts=["CDN.Intranet.Example.", "*.media.corp", "10.1.2.3", "[FD00::5]"]
    )
    assert wall.picture_hosts == ["cdn.intranet.example", "*.media.corp", "10.1.2.3", "fd00::5"]
    rules = HostRules.parse(wall.picture_hosts)
    assert rules.allows("cdn.intranet.example")
    assert rules.allows("eu.media.corp") and not rules.allows("media.corp")
    assert not rules.allows("evilmedia.corp")
    assert rules.allows("fd00::5") and not rules.allows("intranet.example")
    assert WallSection().picture_hosts == []


@pytest.mark.parametrize(
    ("entry", "hint"),
    [
        (
            "https://cdn.intranet.example/pics",
            "give only the host name, e.g. 'cdn.intranet.example'",
        ),
        ("10.0.0.0/8", "is a URL or a network"),
        ("cdn.intranet.example:8443", "give only the host, e.g. 'cdn.intranet.example'"),
        ("*", "a lone '*' would let every address in"),
        ("cdn.*.example", "a wildcard may only start an entry"),
        ("2130706433", "write an IP address in full"),
        ("127.1", "write an IP address in full"),
        ("0x7f.1", "write an IP address in full"),
        ("bad_host name", "give a host name such as"),
        ("", "an empty entry"),
    ],
)
def test_picture_hosts_explains_a_bad_entry(entry: str, hint: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WallSection(picture_hosts=[entry])
    assert hint in str(caught.value)
    with pytest.raises(ValueError, match=re.escape(hint)):
        host_rule(entry)


# -- fetching ----------------------------------------------------------------------------------


def test_a_listed_host_is_fetched_with_its_own_host_header(server: PictureServer) -> None:
    assert local().get(server.url("/a.png")) == PICTURE
    assert server.seen.requests == [("/a.png", f"127.0.0.1:{server.port}")]


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "2130706433",
        "0x7f.1",
        "0x7f000001",
        "017700000001",
        "127.1",
        "0.0.0.0",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
    ],
)
def test_the_wall_s_own_machine_is_refused_in_every_spelling(
    server: PictureServer, host: str
) -> None:
    with pytest.raises(RefusedError, match="public addresses only"):
        GuardedFetcher().get(server.url("/a.png", host=host))
    assert server.paths() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/a.png",
        "http://192.168.1.1/a.png",
        "http://172.20.0.5:8080/a.png",
        "http://100.64.0.1/a.png",
        "http://[fe80::1]/a.png",
        "http://[fd00::1]/a.png",
        "http://224.0.0.251/a.png",
        "https://[::ffff:169.254.169.254]/",
        "https://[64:ff9b::a9fe:a9fe]/",
    ],
)
def test_private_link_local_and_multicast_addresses_are_refused_before_connecting(url: str) -> None:
    started = time.monotonic()
    with pytest.raises(RefusedError):
        GuardedFetcher().get(url)
    assert time.monotonic() - started < 5  # refused at once, not after a connect attempt


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def answer(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "mixed.example"
        stream, tcp = socket.SOCK_STREAM, socket.IPPROTO_TCP
        return [
            (socket.AF_INET, stream, tcp, "", ("93.184.216.34", port)),
            (socket.AF_INET, stream, tcp, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    with pytest.raises(RefusedError, match=r"mixed\.example: 10\.0\.0\.7 is a private address"):
        GuardedFetcher().get("http://mixed.example/a.png")


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.2:{port}/a.png",
        "http://[::1]:{port}/a.png",
        "http://2130706433:{port}/a.png",
        "http://localhost:{port}/a.png",
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://10.1.2.3/a.png",
        "http://[::ffff:127.0.0.1]:{port}/a.png",
        "http://0.0.0.0:{port}/a.png",
    ],
)
def test_a_redirect_from_a_listed_host_into_the_own_network_is_refused(
    server: PictureServer, location: str
) -> None:
    server.redirect("/r", location.format(port=server.port))
    with pytest.raises(RefusedError):
        local().get(server.url("/r"))
    assert server.paths() == ["/r"]  # the hop into the network never happened


def test_redirects_are_followed_checked_and_counted(server: PictureServer) -> None:
    server.redirect("/one", "/two", status=301)
    server.redirect("/two", server.url("/a.png"), status=307)
    assert local().get(server.url("/one")) == PICTURE
    assert server.paths() == ["/one", "/two", "/a.png"]
    server.redirect("/loop", "/loop")
    with pytest.raises(FetchError, match="more than 3 redirects"):
        local().get(server.url("/loop"))
    server.redirect("/ftp", "ftp://127.0.0.1/a.png")
    with pytest.raises(RefusedError, match="not an http"):
        local().get(server.url("/ftp"))


def test_the_connection_goes_to_the_address_that_was_checked(
    server: PictureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that answers once with one address and then with another (DNS rebinding) is
    connected to at the first answer: the name is never looked up a second time."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "pictures.example":
            lookups.append(host)
            # first the address that is checked, then one where nothing listens
            host = "127.0.0.1" if len(lookups) == 1 else "127.0.0.3"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    fetcher = GuardedFetcher(hosts=["pictures.example"])
    assert fetcher.get(f"http://pictures.example:{server.port}/a.png") == PICTURE
    assert lookups == ["pictures.example"]
    assert server.seen.requests == [("/a.png", f"pictures.example:{server.port}")]


def test_a_slow_server_costs_the_deadline_and_no_more(server: PictureServer) -> None:
    """One byte a second of a 120 byte body: a per-read timeout would wait two minutes."""
    server.drip("/slow.png", length=120, every=1.0)
    started = time.monotonic()
    with pytest.raises(TooSlowError):
        local(deadline_s=1.5).get(server.url("/slow.png"))
    elapsed = time.monotonic() - started
    assert elapsed < 20, elapsed
    assert server.seen.sent.get("/slow.png", 0) < 20
    # the same fetcher goes on with the next picture
    assert local(deadline_s=60.0).get(server.url("/a.png")) == PICTURE


def test_a_server_that_never_answers_costs_the_deadline(server: PictureServer) -> None:
    server.silent("/mute.png")
    started = time.monotonic()
    with pytest.raises(TooSlowError):
        local(deadline_s=1.0).get(server.url("/mute.png"))
    assert time.monotonic() - started < 20


def test_a_name_server_that_never_answers_costs_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    def stuck(*args: Any, **kwargs: Any) -> Any:
        release.wait(60)
        raise socket.gaierror("gave up")

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    started = time.monotonic()
    try:
        with pytest.raises(TooSlowError, match=r"looking up slow-dns\.example"):
            GuardedFetcher(deadline_s=1.0).get("https://slow-dns.example/a.png")
        assert time.monotonic() - started < 20
    finally:
        release.set()


def test_a_body_without_length_is_read_up_to_the_cap_and_no_further(
    server: PictureServer,
) -> None:
    server.endless("/endless.png", limit=64 * 1024 * 1024)
    with pytest.raises(TooLargeError, match="over 1048576 bytes"):
        local(max_bytes=1024 * 1024).get(server.url("/endless.png"))
    # the wall hung up: the server's handler ends long before its 64 MiB
    assert wait_until(lambda: "/endless.png" in server.seen.finished)
    assert server.seen.sent["/endless.png"] < 32 * 1024 * 1024


def test_a_declared_length_past_the_cap_is_refused_unread(server: PictureServer) -> None:
    server.body("/big.png", b"x" * 4096)
    with pytest.raises(TooLargeError, match="4096 bytes"):
        local(max_bytes=1024).get(server.url("/big.png"))


def test_close_cuts_a_download_under_way(server: PictureServer) -> None:
    server.drip("/slow.png", length=120, every=1.0)
    fetcher = local(deadline_s=60.0)
    outcome: list[Exception] = []

    def go() -> None:
        try:
            fetcher.get(server.url("/slow.png"))
        except Exception as exc:  # the test looks at it
            outcome.append(exc)

    worker = threading.Thread(target=go)
    worker.start()
    assert wait_until(lambda: server.seen.sent.get("/slow.png", 0) >= 1)
    started = time.monotonic()
    fetcher.close()
    worker.join(30)
    assert not worker.is_alive()
    assert time.monotonic() - started < 10
    assert outcome and isinstance(outcome[0], FetchError)
    with pytest.raises(FetchError, match="closed"):
        fetcher.get(server.url("/a.png"))


def test_the_guard_imports_without_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, "agora.netguard"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr

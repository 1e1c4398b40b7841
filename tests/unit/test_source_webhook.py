"""The webhook endpoint, on 127.0.0.1 with a free port: tokens, bodies, limits, stopping."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from agora.config.schema import WebhookSource as WebhookConfig
from agora.sources import webhook as webhook_module
from agora.sources.webhook import WebhookSource
from tests.unit.sourcekit import Recorder, check_post, context

TOKEN = "whk-s3cr3t-push-token"


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AGORA_TEST_WEBHOOK_TOKEN", TOKEN)
    return "env:AGORA_TEST_WEBHOOK_TOKEN"


def post(n: int, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": f"crm-{n}",
        "text": f"Customer message {n} about the Lumen X1",
        "created_at": "2026-11-22T10:00:00Z",
        "author": {"handle": f"@customer{n}", "name": f"Customer {n}"},
    }
    obj.update(extra)
    return obj


async def request(
    port: int,
    body: bytes | None,
    *,
    token: str | None = TOKEN,
    method: str = "POST",
    path: str = "/ingest",
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, dict[str, Any]]:
    def go() -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            send = {"Content-Type": "application/json"}
            if token is not None:
                send["Authorization"] = f"Bearer {token}"
            send.update(headers or {})
            conn.request(method, path, body=body, headers=send)
            response = conn.getresponse()
            data = response.read()
            return response.status, json.loads(data) if data else {}
        finally:
            conn.close()

    return await asyncio.to_thread(go)


@asynccontextmanager
async def running(source: WebhookSource, recorder: Recorder) -> AsyncIterator[int]:
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(recorder.sink, stop))
    try:
        await asyncio.wait_for(asyncio.to_thread(source.ready.wait, 60.0), 90.0)
        assert source.port
        yield source.port
    finally:
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, 60.0)
        # every connection ends within a fraction of a second; 3x a second is slack for a busy
        # machine
        assert time.monotonic() - started < 3.0


def make(token: str, recorder: Recorder, **extra: Any) -> WebhookSource:
    config = WebhookConfig(name="push", kind="webhook", port=0, token=token, **extra)
    return WebhookSource(config, context(recorder=recorder))


def scenario(token: str, body: Callable[[int, Recorder], Any], **extra: Any) -> Recorder:
    recorder = Recorder()
    source = make(token, recorder, **extra)

    async def go() -> None:
        async with running(source, recorder) as port:
            await body(port, recorder)

    asyncio.run(go())
    return recorder


def test_one_post_and_a_list_are_accepted(token: str) -> None:
    async def body(port: int, recorder: Recorder) -> None:
        assert await request(port, json.dumps(post(1)).encode()) == (
            202,
            {"accepted": 1, "rejected": []},
        )
        status, answer = await request(
            port, json.dumps([post(2), post(3, id="x:99", source="x", feed="crm")]).encode()
        )
        assert (status, answer["accepted"]) == (202, 2)
        deadline = time.monotonic() + 30
        while len(recorder.posts) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    recorder = scenario(token, body)
    # the caller's ids, kinds and feeds do not count: everything lives in this entry's namespace
    assert [p.id for p in recorder.posts] == [
        "webhook:push:crm-1",
        "webhook:push:crm-2",
        "webhook:push:x:99",
    ]
    for item in recorder.posts:
        check_post(item, "webhook")
        assert item.feed == "push"


def test_without_the_token_401(token: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def body(port: int, recorder: Recorder) -> None:
        data = json.dumps(post(1)).encode()
        assert (await request(port, data, token=None))[0] == 401
        assert (await request(port, data, token="wrong"))[0] == 401
        assert (await request(port, data, token=TOKEN + "x"))[0] == 401
        assert (await request(port, data, headers={"Authorization": f"Basic {TOKEN}"}))[0] == 401

    recorder = scenario(token, body)
    assert recorder.posts == []
    assert TOKEN not in caplog.text


def test_the_token_is_compared_in_constant_time(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhook_module.hmac, "compare_digest", spy)

    async def body(port: int, recorder: Recorder) -> None:
        await request(port, json.dumps(post(1)).encode(), token="guess")

    scenario(token, body)
    assert calls == [(b"guess", TOKEN.encode())]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'"a string"', "a post object or a list"),
        (b"[]", "holds no post"),
        (b'[{"id": "a"}]', "no valid post"),
    ],
)
def test_invalid_bodies_400_with_a_message(token: str, payload: bytes, message: str) -> None:
    async def body(port: int, recorder: Recorder) -> None:
        status, answer = await request(port, payload)
        assert status == 400
        assert message in answer["error"]

    scenario(token, body)


def test_bad_items_in_a_list_are_reported_and_the_rest_accepted(token: str) -> None:
    async def body(port: int, recorder: Recorder) -> None:
        status, answer = await request(port, json.dumps([post(1), {"id": "x"}, 5]).encode())
        assert status == 202
        assert answer["accepted"] == 1
        assert [r["index"] for r in answer["rejected"]] == [1, 2]
        assert "has no text" in answer["rejected"][0]["error"]

    scenario(token, body)


def test_bodies_past_the_cap_413(token: str) -> None:
    async def body(port: int, recorder: Recorder) -> None:
        big = json.dumps([post(n) for n in range(200)]).encode()
        assert len(big) > 4096
        status, answer = await request(port, big)
        assert status == 413 and "larger than 4096 bytes" in answer["error"]
        status, _ = await request(port, json.dumps(post(1)).encode())
        assert status == 202

    scenario(token, body, max_bytes=4096)


def test_default_cap_is_one_mebibyte_and_localhost() -> None:
    fields = WebhookConfig.model_fields
    assert fields["max_bytes"].default == 1024 * 1024
    assert fields["host"].default == "127.0.0.1"


def test_other_paths_and_methods(token: str) -> None:
    async def body(port: int, recorder: Recorder) -> None:
        assert (await request(port, b"{}", path="/other"))[0] == 404
        assert (await request(port, None, method="GET"))[0] == 405
        status, answer = await request(
            port, None, headers={"Transfer-Encoding": "chunked"}, method="POST"
        )
        assert status == 411
        assert "chunked bodies are not accepted" in answer["error"]

    scenario(token, body)


def test_fetch_listens_until_the_limit(token: str) -> None:
    recorder = Recorder()
    source = make(token, recorder)
    source.context.listen_seconds = 120.0

    async def go() -> list[Any]:
        task = asyncio.create_task(source.fetch(limit=2))
        await asyncio.wait_for(asyncio.to_thread(source.ready.wait, 60.0), 90.0)
        assert source.port
        await request(source.port, json.dumps([post(1), post(2), post(3)]).encode())
        return await asyncio.wait_for(task, 60.0)

    started = time.monotonic()
    posts = asyncio.run(go())
    assert [p.id for p in posts] == ["webhook:push:crm-1", "webhook:push:crm-2"]
    # at the limit, not after the two minutes' listening; the rest is slack for a busy machine
    assert time.monotonic() - started < 10.0


def test_a_port_in_use_is_reported_and_retried(token: str) -> None:
    recorder = Recorder()
    first = make(token, recorder)

    async def go() -> str | None:
        async with running(first, recorder) as port:
            config = WebhookConfig(name="second", kind="webhook", port=port, token=token)
            second = WebhookSource(config, context())
            second.retry_bind = 0.05
            stop = asyncio.Event()
            task = asyncio.create_task(second.run(recorder.sink, stop))
            assert await until(lambda: second.health.state == "failing" or task.done())
            stop.set()
            await asyncio.wait_for(task, 60.0)
            assert second.health.state == "failing"
            return second.health.last_error

    error = asyncio.run(go())
    assert error is not None and "cannot listen" in error


# -- slow and many clients -----------------------------------------------------------------------


class SlowClients:
    """``count`` connections that each send ``head`` and then one more byte every ``every``
    seconds, never finishing their request (a slowloris attack). ``close()`` ends them all."""

    def __init__(
        self,
        port: int,
        count: int,
        head: bytes = b"POST /ingest HTTP/1.1\r\nHost: wall\r\nX-Slow: ",
        every: float = 1.0,
    ) -> None:
        self.sockets: list[socket.socket] = []
        self.answers: dict[int, bytes] = {}
        """What the server sent each connection that it has closed."""
        self.rounds = 0
        self._received: dict[int, bytes] = {}
        self._every = every
        self._stop = threading.Event()
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(head)
            sock.setblocking(False)
            self.sockets.append(sock)
        self._thread = threading.Thread(target=self._drip, name="slow-clients")
        self._thread.start()

    def _drip(self) -> None:
        while not self._stop.wait(self._every):  # paces the clients; ends with the test
            for index, sock in enumerate(self.sockets):
                if index in self.answers:
                    continue
                with contextlib.suppress(OSError):
                    sock.send(b"a")
            self.rounds += 1

    def ended(self) -> int:
        """How many connections the server has closed (reading what it said before)."""
        for index, sock in enumerate(self.sockets):
            if index in self.answers:
                continue
            try:
                while data := sock.recv(65536):
                    self._received[index] = self._received.get(index, b"") + data
            except BlockingIOError:
                continue  # still open
            except OSError:
                pass  # reset: closed too
            self.answers[index] = self._received.get(index, b"")
        return len(self.answers)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(30)
        for sock in self.sockets:
            sock.close()


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll ``condition`` (letting the loop run) until it holds or ``timeout`` passes."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        await asyncio.sleep(0.02)
    return True


def open_connections(source: WebhookSource) -> int:
    return len(source.endpoint.connections) if source.endpoint is not None else 0


def test_fifty_slow_clients_hold_no_thread_and_a_good_request_is_still_served(token: str) -> None:
    recorder = Recorder()
    source = make(token, recorder, request_timeout=120)
    figures: dict[str, float] = {}

    async def go() -> SlowClients:
        async with running(source, recorder) as port:
            assert (await request(port, json.dumps(post(0)).encode()))[0] == 202  # warm up
            before = threading.active_count()
            slow = SlowClients(port, 50)
            assert await until(lambda: open_connections(source) >= 50)
            assert await until(lambda: slow.rounds >= 3)  # three bytes each, a few seconds
            figures["added threads"] = threading.active_count() - before
            started = time.monotonic()
            status, answer = await request(port, json.dumps(post(1)).encode(), timeout=30)
            figures["good request s"] = time.monotonic() - started
            assert (status, answer["accepted"]) == (202, 1)
            assert slow.ended() == 0 and open_connections(source) >= 50  # all still there
            # leaving the block stops the wall with the 50 still connected (within a second)
            return slow

    slow = asyncio.run(go())
    try:
        # the drip thread itself is one; the old threading server added one per connection
        assert figures["added threads"] <= 2, figures
        assert figures["good request s"] < 10, figures
        assert [p.id for p in recorder.posts] == ["webhook:push:crm-0", "webhook:push:crm-1"]
        assert slow.ended() == 50  # stopping closed them
    finally:
        slow.close()


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_request_must_arrive_whole_within_the_request_timeout(token: str, part: str) -> None:
    """One byte a second never trips a timeout per read; the deadline for the whole request
    does (the body below would take 200 s)."""
    head = b"POST /ingest HTTP/1.1\r\nHost: wall\r\n"
    if part == "body":
        head += f"Authorization: Bearer {TOKEN}\r\nContent-Length: 200\r\n\r\n".encode()
    else:
        head += b"X-Slow: "
    recorder = Recorder()
    source = make(token, recorder, request_timeout=1)

    async def go() -> tuple[float, bytes]:
        async with running(source, recorder) as port:
            slow = SlowClients(port, 1, head=head)
            try:
                started = time.monotonic()
                assert await until(lambda: slow.ended() == 1, timeout=60)
                return time.monotonic() - started, slow.answers[0]
            finally:
                slow.close()

    took, answer = asyncio.run(go())
    assert took < 15, took
    assert answer.startswith(b"HTTP/1.1 408")
    assert recorder.posts == []


def test_when_every_place_is_taken_the_longest_waiting_client_makes_room(token: str) -> None:
    recorder = Recorder()
    source = make(token, recorder, max_connections=8, request_timeout=120)
    seen: list[int] = []

    async def go() -> None:
        async with running(source, recorder) as port:
            slow = SlowClients(port, 50)
            try:
                assert await until(lambda: slow.ended() >= 42)
                seen.append(open_connections(source))
                status, _ = await request(port, json.dumps(post(1)).encode(), timeout=30)
                assert status == 202
                seen.append(open_connections(source))
                assert await until(lambda: slow.ended() >= 43)
                # the first ones made room (oldest first); the newest are still connected
                assert set(slow.answers) == set(range(43))
            finally:
                slow.close()

    asyncio.run(go())
    assert max(seen) <= 8
    assert [p.id for p in recorder.posts] == ["webhook:push:crm-1"]


def test_when_every_place_is_being_answered_a_new_connection_is_closed_at_once(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    source = make(token, recorder, max_connections=2)
    release = threading.Event()
    real = source.ingest

    def held(body: bytes) -> tuple[int, dict[str, Any]]:
        release.wait(60)
        return real(body)

    monkeypatch.setattr(source, "ingest", held)

    async def go() -> bytes:
        async with running(source, recorder) as port:
            first = asyncio.create_task(request(port, json.dumps(post(1)).encode(), timeout=60))
            second = asyncio.create_task(request(port, json.dumps(post(2)).encode(), timeout=60))
            endpoint = source.endpoint
            assert endpoint is not None
            busy = lambda: len([h for h in endpoint.connections if not h.waiting]) == 2  # noqa: E731
            assert await until(busy)
            third = SlowClients(port, 1, head=b"GET / HTTP/1.1\r\nHost: wall\r\n\r\n")
            try:
                assert await until(lambda: third.ended() == 1, timeout=30)
            finally:
                third.close()
            assert endpoint.refused == 1
            release.set()
            assert [(await first)[0], (await second)[0]] == [202, 202]
            return third.answers[0]

    try:
        assert asyncio.run(go()) == b""  # no thread, no answer: closed
    finally:
        release.set()


def test_a_client_that_asks_to_continue_and_keeps_the_connection_is_served(token: str) -> None:
    """``Expect: 100-continue`` (curl sends it for bodies over 1 KiB) and two requests on one
    connection."""
    recorder = Recorder()
    source = make(token, recorder)

    def talk(port: int) -> list[bytes]:
        heard: list[bytes] = []
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            reader = sock.makefile("rb")
            for n in (1, 2):
                data = json.dumps(post(n)).encode()
                sock.sendall(
                    b"POST /ingest HTTP/1.1\r\nHost: wall\r\nExpect: 100-continue\r\n"
                    + f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                )
                heard.append(reader.readline())
                reader.readline()  # the blank line after "100 Continue"
                sock.sendall(data)
                heard.append(reader.readline())
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                reader.read(length)
        return heard

    async def go() -> list[bytes]:
        async with running(source, recorder) as port:
            return await asyncio.to_thread(talk, port)

    heard = asyncio.run(go())
    assert [line.split(b" ")[1] for line in heard] == [b"100", b"202", b"100", b"202"]
    assert len(recorder.posts) == 2


def test_connection_bounds_have_sensible_defaults() -> None:
    fields = WebhookConfig.model_fields
    assert fields["max_connections"].default == 64
    assert fields["request_timeout"].default == 10.0


def test_a_stranger_opening_connections_cannot_cut_an_honest_upload_short(token: str) -> None:
    """Every place taken: the connection dropped to make room is never one whose request has
    shown the token, however long its body takes (within request_timeout)."""
    recorder = Recorder()
    source = make(token, recorder, max_connections=4, request_timeout=120)
    body = json.dumps([post(n) for n in range(40)]).encode()
    answer: dict[str, int] = {}

    def upload(port: int) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        try:
            sock.sendall(
                b"POST /ingest HTTP/1.1\r\nHost: wall\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            )
            for start in range(0, len(body), 512):  # a slow line: the body trickles in
                sock.sendall(body[start : start + 512])
                time.sleep(0.05)
            reply = sock.recv(200)
            answer["status"] = int(reply.split(b" ", 2)[1])
        finally:
            sock.close()

    async def go() -> None:
        async with running(source, recorder) as port:
            honest = threading.Thread(target=upload, args=(port,))
            honest.start()
            endpoint = source.endpoint
            assert endpoint is not None
            # the honest request has shown its token; its body is still on its way
            assert await until(lambda: any(h.authorised for h in endpoint.connections))
            strangers = SlowClients(port, 30)  # each new one needs a place
            try:
                assert await until(lambda: strangers.ended() >= 25, timeout=60)
                await asyncio.to_thread(honest.join, 90)
            finally:
                strangers.close()

    asyncio.run(go())
    assert answer.get("status") == 202
    assert len(recorder.posts) == 40

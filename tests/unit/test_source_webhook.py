"""The webhook endpoint, on 127.0.0.1 with a free port: tokens, bodies, limits, stopping."""

from __future__ import annotations

import asyncio
import hmac
import http.client
import json
import logging
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
) -> tuple[int, dict[str, Any]]:
    def go() -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
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
        await asyncio.wait_for(asyncio.to_thread(source.ready.wait, 2.0), 3.0)
        assert source.port
        yield source.port
    finally:
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, 2.0)
        assert time.monotonic() - started < 1.0


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
    source.context.listen_seconds = 5.0

    async def go() -> list[Any]:
        task = asyncio.create_task(source.fetch(limit=2))
        await asyncio.wait_for(asyncio.to_thread(source.ready.wait, 2.0), 3.0)
        assert source.port
        await request(source.port, json.dumps([post(1), post(2), post(3)]).encode())
        return await asyncio.wait_for(task, 3.0)

    started = time.monotonic()
    posts = asyncio.run(go())
    assert [p.id for p in posts] == ["webhook:push:crm-1", "webhook:push:crm-2"]
    assert time.monotonic() - started < 2.0


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
            await asyncio.sleep(0.15)
            stop.set()
            await asyncio.wait_for(task, 1.0)
            assert second.health.state == "failing"
            return second.health.last_error

    error = asyncio.run(go())
    assert error is not None and "cannot listen" in error

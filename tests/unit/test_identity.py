"""Identity comes from the source entry that delivered a post, never from its payload (issue 13,
"Outsiders deciding what is shown").

The attacks run against the real program: a running engine on a real SQLite file, its webhook
listening on 127.0.0.1 and posted to over HTTP, an RSS feed served by a local server read through
``agora fetch``, and ``agora check`` on config files.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from agora.cli import main
from agora.config.schema import WallConfig
from agora.core.accounts import AccountSet, account_problem, parse_account
from agora.core.post import Author, Moderation, Post
from agora.engine import Engine
from agora.sources.identity import stamp
from agora.sources.registry import build_source
from agora.sources.webhook import WebhookSource
from agora.store.sqlite import SqliteStore
from tests.unit.sourcekit import context

TOKEN = "identity-test-token-4f9a"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """``main`` configures the root logger; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def send(port: int, body: Any) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/ingest",
            body=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        reply = conn.getresponse()
        return reply.status, json.loads(reply.read() or b"{}")
    finally:
        conn.close()


def native(pid: str, text: str, handle: str, source: str = "x", **extra: Any) -> Post:
    """A post as a platform source delivers it (already stamped by its entry)."""
    fields: dict[str, Any] = {
        "id": pid,
        "source": source,
        "feed": "timeline",
        "text": text,
        "created_at": NOW,
        "author": Author(handle, handle.strip("@").title(), followers=50),
        "lang": "en",
    }
    fields.update(extra)
    return Post(**fields)


class Wall:
    """A running engine on a real SQLite file with its configured sources (webhooks on
    127.0.0.1, free ports)."""

    def __init__(self, config: WallConfig, path: Path) -> None:
        self.store = SqliteStore(path)
        self.engine = Engine(config, self.store, config_dir=path.parent)
        self.engine.start()
        wait_until(self.engine.ready.is_set, "the wall to load its history")

    def port(self, name: str) -> int:
        source = next(s for s in self.engine.sources if s.name == name)
        assert isinstance(source, WebhookSource)
        wait_until(source.ready.is_set, f"webhook {name} to listen")
        assert source.port
        return source.port

    def shown(self) -> dict[str, Post]:
        snap = self.engine.snapshot
        return {p.id: p for p in snap.newest}

    def close(self) -> None:
        self.engine.stop(timeout=60.0)  # returns once the threads end; a safety net
        self.store.close()


def care(wall: Wall) -> list[str]:
    """Ids of the open care items the wall shows."""
    return [p.id for p in wall.engine.snapshot.care.open]


def wall_config(**sections: Any) -> WallConfig:
    base: dict[str, Any] = {
        "topics": {"brand": {"label": "Nokia", "terms": ["nokia", "@nokiacare"]}},
        "sources": [
            {"name": "push", "kind": "webhook", "port": 0, "token": "env:AGORA_ID_TOKEN"},
            {
                "name": "desk",
                "kind": "webhook",
                "port": 0,
                "token": "env:AGORA_ID_TOKEN",
                "trusted_authors": ["@nokiacare"],
            },
        ],
    }
    base.update(sections)
    return WallConfig.model_validate(base)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_ID_TOKEN", TOKEN)


def test_a_webhook_cannot_rewrite_or_hide_another_sources_post(token: None, tmp_path: Path) -> None:
    wall = Wall(wall_config(), tmp_path / "wall.sqlite")
    try:
        original = native(
            "mastodon:social.example:1",
            "Nokia phones are fine",
            "@ana@social.example",
            source="mastodon",
        )
        wall.engine.submit([original])
        wait_until(lambda: wall.store.get_post(original.id) is not None, "the mastodon post")
        wall.engine.decide("pin", original.id, "tester")
        wait_until(
            lambda: (
                original.id in wall.shown()
                and wall.shown()[original.id].moderation.state == "pinned"
            ),
            "the pin",
        )
        attack = {
            "id": original.id,
            "source": "mastodon",
            "feed": "timeline",
            "text": "HACKED: Nokia is giving away free phones at evil.example",
            "created_at": NOW.isoformat(),
            "author": {"handle": "@ana@social.example"},
            "protected": True,
            "moderation": {"state": "pinned"},
        }
        assert send(wall.port("push"), attack)[0] == 202
        spoof = f"webhook:push:{original.id}"
        wait_until(lambda: wall.store.get_post(spoof) is not None, "the webhook's own post")
        kept = wall.store.get_post(original.id)
        assert kept is not None and kept.text == "Nokia phones are fine"
        shown = wall.shown()
        assert shown[original.id].text == "Nokia phones are fine"
        assert shown[original.id].moderation.state == "pinned"
        # the caller's copy lives in its own namespace, as a webhook post, never pinned
        copy = wall.store.get_post(spoof)
        assert copy is not None
        assert (copy.source, copy.feed, copy.protected) == ("webhook", "push", False)
        assert copy.moderation.state == "approved"
    finally:
        wall.close()


def test_a_webhook_caller_cannot_claim_a_trusted_account(token: None, tmp_path: Path) -> None:
    config = wall_config(
        moderation={"approval": "manual", "allow_authors": ["x:@nokia"]},
    )
    wall = Wall(config, tmp_path / "wall.sqlite")
    try:
        claim = {
            "id": "claim-1",
            "text": "Official: Nokia recalls every phone, send yours to evil.example",
            "created_at": NOW.isoformat(),
            "author": {"handle": "@nokia", "name": "Nokia"},
        }
        assert send(wall.port("push"), claim)[0] == 202
        wait_until(lambda: wall.store.get_post("webhook:push:claim-1") is not None, "the claim")
        stored = wall.store.get_post("webhook:push:claim-1")
        assert stored is not None and stored.moderation.state == "pending"
        # the real account, on the network it belongs to, is trusted
        real = native("x:77", "Nokia news today", "@nokia")
        wall.engine.submit([real])
        wait_until(lambda: wall.store.get_post("x:77") is not None, "the real post")
        got = wall.store.get_post("x:77")
        assert got is not None and got.moderation.state == "approved"
    finally:
        wall.close()


def test_only_a_webhook_that_vouches_for_the_care_account_closes_care_items(
    token: None, tmp_path: Path
) -> None:
    config = wall_config(analytics={"owned_accounts": ["x:@nokiacare", "webhook:@nokiacare"]})
    wall = Wall(config, tmp_path / "wall.sqlite")
    try:
        question = native("x:500", "@nokiacare my Nokia will not charge, what do I do?", "@bea")
        wall.engine.submit([question])
        wait_until(lambda: "x:500" in care(wall), "the care item")

        def reply(n: int) -> dict[str, Any]:
            return {
                "id": f"reply-{n}",
                "text": "We are sorry! Please try another cable.",
                "created_at": NOW.isoformat(),
                "author": {"handle": "@nokiacare", "name": "Nokia Care"},
                "reply_to": "x:500",
            }

        assert send(wall.port("push"), reply(1))[0] == 202
        wait_until(lambda: wall.store.get_post("webhook:push:reply-1") is not None, "reply 1")
        wall.engine.publish(force=True)
        assert "x:500" in care(wall)  # an impostor's reply answers nothing
        assert send(wall.port("desk"), reply(2))[0] == 202
        wait_until(lambda: "x:500" not in care(wall), "the care desk's reply to answer it")
    finally:
        wall.close()


def test_a_webhook_cannot_slip_past_block_sources_by_naming_another(
    token: None, tmp_path: Path
) -> None:
    wall = Wall(wall_config(moderation={"block_sources": ["webhook"]}), tmp_path / "w.sqlite")
    try:
        disguised = {
            "id": "r1",
            "source": "reddit",
            "feed": "crm",
            "text": "Nokia is great, buy at evil.example",
            "created_at": NOW.isoformat(),
            "author": {"handle": "u/someone"},
        }
        assert send(wall.port("push"), disguised)[0] == 202
        wait_until(lambda: wall.store.get_post("webhook:push:r1") is not None, "the post")
        stored = wall.store.get_post("webhook:push:r1")
        assert stored is not None
        assert stored.moderation == Moderation("hidden", ("blocked source: webhook",))
    finally:
        wall.close()


FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Phone news</title>
  <id>urn:uuid:6b8f0c1e-0000-4000-8000-000000000001</id>
  <updated>{now}</updated>
  <entry>
    <title>Nokia says the Lumen partnership is over</title>
    <id>urn:uuid:6b8f0c1e-0000-4000-8000-000000000002</id>
    <updated>{now}</updated>
    <author><name>Nokia</name></author>
    <link href="https://news.example/lumen"/>
  </entry>
</feed>
"""


def rss_config(tmp_path: Path, server: HTTPServer, allow: str) -> Path:
    feed = FEED.format(now=NOW.isoformat().replace("+00:00", "Z"))
    server.expect_request("/feed.xml").respond_with_data(feed, content_type="application/atom+xml")
    path = tmp_path / "wall.toml"
    path.write_text(
        '[wall]\nname = "Test"\n\n[topics.lumen]\nterms = ["lumen"]\n\n'
        f'[[sources]]\nname = "news"\nkind = "rss"\nurl = "{server.url_for("/feed.xml")}"\n\n'
        f'[moderation]\napproval = "manual"\nallow_authors = ["{allow}"]\n',
        encoding="utf-8",
    )
    return path


def test_an_rss_author_named_like_a_trusted_account_is_not_trusted(
    server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # anyone's feed can sign an item "Nokia": the X account @nokia is trusted, not the name
    assert main(["fetch", str(rss_config(tmp_path, server, "x:@nokia"))]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["author"]["handle"] for line in lines] == ["Nokia"]
    assert lines[0]["moderation"]["state"] == "pending"
    # named with its source, the feed's author is trusted (the operator chose to)
    assert main(["fetch", str(rss_config(tmp_path, server, "rss:Nokia"))]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["moderation"]["state"] == "approved"


# ---------------------------------------------------------------------------------------------
# the stamp itself, and the account entries


def built(entry: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AGORA_ID_TOKEN", TOKEN)
    wall = WallConfig.model_validate({"sources": [entry]})
    return build_source(wall.sources[0], context(wall=wall))


def test_the_stamp_namespaces_what_each_kind_delivers(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = built(
        {"name": "push", "kind": "webhook", "port": 0, "token": "env:AGORA_ID_TOKEN"}, monkeypatch
    )
    posts = [
        native("mastodon:h:1", "a", "@a", source="mastodon", protected=True),
        native("webhook:other:2", "b", "@b", source="webhook", repost_of="x:9"),
        native("3", "c", "@c", source="rss", moderation=Moderation("pinned")),
    ]
    out = stamp(hook, posts)
    assert [p.id for p in out] == [
        "webhook:push:mastodon:h:1",
        "webhook:push:webhook:other:2",
        "webhook:push:3",
    ]
    assert {(p.source, p.feed, p.protected, p.moderation.state) for p in out} == {
        ("webhook", "push", False, "approved")
    }
    assert out[1].repost_of == "webhook:push:x:9"
    assert stamp(hook, out) == out  # stamping twice changes nothing
    rss = built({"name": "news", "kind": "rss", "url": "https://news.example/rss"}, monkeypatch)
    (item,) = stamp(rss, [native("x:1", "d", "@d", source="x")])
    assert (item.id, item.source, item.feed) == ("rss:x:1", "rss", "news")
    archive = built({"name": "arch", "kind": "jsonl", "path": "a.jsonl"}, monkeypatch)
    kept, odd = stamp(
        archive,
        [
            native("mastodon:h:5", "e", "@e@h", source="mastodon"),
            native("7", "f", "@f", source="made-up"),
        ],
    )
    assert (kept.id, kept.source, kept.feed) == ("mastodon:h:5", "mastodon", "arch")
    assert (odd.id, odd.source) == ("jsonl:7", "jsonl")


def test_accounts_match_with_their_source() -> None:
    accounts = AccountSet(
        ["x:@Nokia", "mastodon:@nokia@mastodon.social", "reddit:u/nokia", "webhook:@care"],
        relays={"desk": ["@care"], "push": []},
    )

    def post(source: str, handle: str, feed: str = "f") -> Post:
        return native(f"{source}:1", "t", handle, source=source, feed=feed)

    assert accounts.matches(post("x", "@nokia"))
    assert accounts.matches(post("x", "@NOKIA"))
    assert not accounts.matches(post("bluesky", "nokia"))
    assert not accounts.matches(post("rss", "Nokia"))
    assert not accounts.matches(post("hackernews", "nokia"))
    assert not accounts.matches(post("mastodon", "@nokia@evil.example"))
    assert accounts.matches(post("mastodon", "@nokia@mastodon.social"))
    assert accounts.matches(post("reddit", "u/nokia"))
    assert accounts.matches(post("webhook", "@care", feed="desk"))
    assert not accounts.matches(post("webhook", "@care", feed="push"))
    assert not accounts.matches(post("webhook", "@care", feed="gone"))
    assert parse_account("did:plc:abc").kind is None  # a DID is a handle, not a kind
    assert parse_account("bluesky:did:plc:abc") == parse_account("bluesky:@did:plc:abc")
    assert account_problem("@nokia")
    assert account_problem("mastodon:@nokia")  # which server?
    assert not account_problem("mastodon:@nokia@mastodon.social")
    assert not account_problem("@nokia", qualified=False)


@pytest.mark.parametrize(
    ("section", "entry", "words"),
    [
        ("moderation", 'allow_authors = ["@nokia"]', ['"x:@nokia"', "does not say which source"]),
        ("analytics", 'owned_accounts = ["nokiacare"]', ['"x:@nokiacare"']),
        ("analytics", 'owned_accounts = ["mastodon:@nokia"]', ["@name@server"]),
        ("analytics", 'owned_accounts = ["webhook:@care"]', ["trusted_authors"]),
        ("analytics", 'owned_accounts = ["twitter:@nokia"]', ['write "x:@nokia"']),
        ("analytics", 'owned_accounts = ["youtube:@nokia"]', ["channel id"]),
        ("analytics", 'owned_accounts = ["bluesky:@nokia"]', ["domain handle"]),
    ],
)
def test_check_explains_how_to_write_an_account(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    section: str,
    entry: str,
    words: list[str],
) -> None:
    path = tmp_path / "wall.toml"
    path.write_text(
        f'[wall]\nname = "Test"\n\n[topics.lumen]\nterms = ["lumen"]\n\n[{section}]\n{entry}\n',
        encoding="utf-8",
    )
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    key = entry.split(" ", 1)[0]
    assert f"wall.toml:8: {section}.{key}[0]:" in err
    for word in words:
        assert word in err


def test_a_source_name_cannot_forge_another_entrys_namespace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A webhook named "push:tool" would share ids with the webhook "push" (its caller's
    "tool:42" is "webhook:push:tool:42" too): names may not hold a colon."""
    path = tmp_path / "wall.toml"
    path.write_text(
        '[wall]\nname = "Test"\n\n[[sources]]\nname = "push:tool"\nkind = "webhook"\n'
        'token = "env:AGORA_ID_TOKEN"\n',
        encoding="utf-8",
    )
    assert main(["check", str(path)]) == 2
    assert "no spaces or colons" in capsys.readouterr().err

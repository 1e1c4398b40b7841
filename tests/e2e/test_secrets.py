"""No secret in any output: the real commands, with secrets in the config (``env:NAME``), against
a real server on 127.0.0.1 that redirects with tokens in the URL and answers 401/500 with the
token it was sent echoed back. stdout, stderr (the journal under systemd), the JSON log, the
SQLite store and every file the commands leave are searched for each secret, its URL-encoded and
its Base64 forms, and for the server's own token (never configured: only the patterns of
credentials can hide it)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import sqlite3
import string
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from agora.config.edit import save_text
from agora.engine import HEALTH_STATE_KEY

from .test_cli import agora, post, write_posts
from .wallproc import RunningWall


def token() -> str:
    """A distinctive random 32-character token."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def forms(value: str) -> set[str]:
    """The secret, URL-encoded, and a stretch of its Base64 text at each of the three byte
    alignments it can have inside a longer encoded string (a Basic auth header)."""
    found = {value, quote(value, safe=""), quote_plus(value)}
    for pad in range(3):
        encoded = base64.b64encode(b"x" * pad + value.encode()).decode()
        found.add(encoded[4:-4])  # what does not depend on the neighbouring bytes
        found.add(encoded[4:-4].replace("+", "-").replace("/", "_"))
    return found


@dataclass
class Tokens:
    mastodon: str = field(default_factory=token)
    x: str = field(default_factory=token)
    webhook: str = field(default_factory=token)
    added: str = field(default_factory=token)  # only in the config a hot reload saves
    server: str = field(default_factory=token)  # the server's own, never configured

    def all(self) -> dict[str, str]:
        return dict(vars(self))


class _Handler(BaseHTTPRequestHandler):
    """A hostile API: every timeline redirects with the caller's token in the path and the
    server's own in the query; the redirect answers 401 (or 500 for ``#boom``) and echoes the
    token in the body and in ``WWW-Authenticate``; X's search answers 401 with the token in
    its ``title``."""

    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        given = self.headers.get("Authorization", "").partition(" ")[2] or "none"
        path = self.path.split("?", 1)[0]
        self.server.seen.append(path)
        if path == "/api/v2/instance":
            self._send(200, {"domain": "127.0.0.1", "configuration": {}})
        elif path.startswith("/api/v1/timelines/tag/"):
            tag = path.rsplit("/", 1)[1]
            where = f"/moved/{given}/{tag}?access_token={self.server.own}&x=1"
            self.send_response(302)
            self.send_header("Location", where)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path.startswith("/moved/"):
            status = 500 if path.endswith("/boom") else 401
            echo = {"error": f"token {given} refused", "token": given}
            self._send(status, echo, {"WWW-Authenticate": f'Bearer realm="{given}"'})
        elif path.startswith("/2/tweets/search"):
            self._send(401, {"title": f"Unauthorized {given}", "detail": given})
        else:
            self._send(404, {"error": "not here"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, own: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.own = own
        self.seen: list[str] = []


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> Tokens:
    found = Tokens()
    monkeypatch.setenv("AGORA_TEST_MASTODON_TOKEN", found.mastodon)
    monkeypatch.setenv("AGORA_TEST_X_TOKEN", found.x)
    monkeypatch.setenv("AGORA_TEST_HOOK_TOKEN", found.webhook)
    monkeypatch.setenv("AGORA_TEST_ADDED_TOKEN", found.added)
    return found


@pytest.fixture
def api(tokens: Tokens) -> Iterator[_Server]:
    server = _Server(tokens.server)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def wall_text(port: int, *, added: bool = False) -> str:
    base = f"http://127.0.0.1:{port}"
    extra = ""
    if added:
        extra = f"""
[[sources]]
name = "fedi2"
kind = "mastodon"
base_url = "{base}"
hashtags = ["lumen"]
token = "env:AGORA_TEST_ADDED_TOKEN"
"""
    return f"""
[wall]
name = "Secret wall"

[topics.brand]
label = "Lumen"
terms = ["lumen", "#lumen"]

[[sources]]
name = "archive"
kind = "jsonl"
path = "posts.jsonl"

[[sources]]
name = "fedi"
kind = "mastodon"
base_url = "{base}"
hashtags = ["lumen"]
token = "env:AGORA_TEST_MASTODON_TOKEN"

[[sources]]
name = "fedi500"
kind = "mastodon"
base_url = "{base}"
hashtags = ["boom"]
token = "env:AGORA_TEST_MASTODON_TOKEN"

[[sources]]
name = "xapi"
kind = "x"
base_url = "{base}"
query = "lumen"
bearer_token = "env:AGORA_TEST_X_TOKEN"

[[sources]]
name = "hook"
kind = "webhook"
port = 0
token = "env:AGORA_TEST_HOOK_TOKEN"
{extra}
[[screens]]
output = 0
[[screens.pages]]
seconds = 30
grid = "2x1"
panels = [{{ kind = "sources", at = "0,0" }}, {{ kind = "sentiment", at = "1,0" }}]
"""


def wall_config(tmp_path: Path, port: int) -> Path:
    config = tmp_path / "wall.toml"
    config.write_text(wall_text(port), encoding="utf-8")
    return config


def wait_for_health(database: Path, text: str, timeout: float = 60.0) -> str:
    """The sources' health the wall saved in its store, once it contains ``text``."""
    deadline = time.monotonic() + timeout
    while True:
        found = ""
        if database.exists():
            with (
                contextlib.suppress(sqlite3.Error),
                contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as db,
            ):
                row = db.execute(
                    "SELECT value FROM state WHERE key = ?", (HEALTH_STATE_KEY,)
                ).fetchone()
                found = row[0] if row else ""
        if text in found:
            return found
        assert time.monotonic() < deadline, f"no {text!r} in the stored health: {found}"
        time.sleep(0.1)


def leaks(text: str | bytes, tokens: Tokens) -> list[str]:
    """Which tokens (by name) appear in ``text`` in any form."""
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    found = []
    for name, value in tokens.all().items():
        if any(form.encode() in data for form in forms(value)):
            found.append(name)
    return found


def every_file(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.exists():
            yield from (p for p in root.rglob("*") if p.is_file())


@pytest.mark.slow
def test_no_secret_reaches_any_output(
    tmp_path: Path, tokens: Tokens, api: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = api.server_address[1]
    config = wall_config(tmp_path, port)
    write_posts(tmp_path / "posts.jsonl", [post(1, "lumen is lovely"), post(2, "lumen again")])
    data = tmp_path / "data"
    log = tmp_path / "wall.log"
    outputs: dict[str, str] = {}

    # the wall, with --debug (every library's DEBUG lines on stderr), then a hot reload that
    # adds a source with a secret the wall had never used
    wall = RunningWall(config, data, log, "--debug")
    try:
        wall.wait_for_all(r"the access token was refused", timeout=120)
        wall.wait_for_all(r"server error 500", timeout=120)
        wall.wait_for_all(r"the bearer token was refused", timeout=120)
        listening = wall.wait_for_all(r"hook: listening on 127\.0\.0\.1:\d+", timeout=120)[0]
        hook_port = int(listening.rsplit(":", 1)[1])
        # a caller that puts the webhook's token in the query string too (the access line)
        body = json.dumps([post(3, "lumen by webhook")]).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{hook_port}/ingest?token={tokens.webhook}",
            data=body,
            headers={"Authorization": f"Bearer {tokens.webhook}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 202
        wall.wait_for_all(r"watching .*wall\.toml for changes", timeout=120)
        save_text(config, wall_text(port, added=True))
        wall.wait_for_all(r"config reloaded: .*started fedi2", timeout=120)
        wall.wait_for_all(r"the access token was refused", count=2, timeout=120)
        assert any(f"/moved/{tokens.added}/" in seen for seen in api.seen)  # it was sent
        # the health the wall keeps in its store for the console carries X's echoed title
        health = wait_for_health(data / "secret-wall.sqlite3", "bearer token was refused")
        said = json.loads(health)["sources"]["xapi"]["last_error"]
        assert said.endswith("the bearer token was refused: Unauthorized «redacted»")
    finally:
        wall.stop()
    outputs["run"] = wall.output.read_text(encoding="utf-8", errors="replace")
    assert "DEBUG" in outputs["run"]  # --debug was on: library lines were there to leak
    assert "«redacted»" in outputs["run"]

    # the commands an operator runs beside it
    for name, args in {
        "check": ("check", config),
        "fetch": ("fetch", config, "--seconds", "1", "--debug"),
        "analyse": ("analyse", config, "--json", "--data-dir", data, "--debug"),
        "moderation": ("moderation", config, "list", "--json", "--data-dir", data, "--debug"),
    }.items():
        result = agora(*args)
        outputs[name] = f"{result.stdout}\n{result.stderr}"
        assert result.returncode in (0, 1), outputs[name]
    assert "the bearer token was refused: Unauthorized «redacted»" in outputs["fetch"]
    # httpx's line of the redirect: the host and path, not the query (the server's token)
    assert "/moved/«redacted»/lumen?…" in outputs["fetch"]

    for name, text in outputs.items():
        assert not leaks(text, tokens), (name, leaks(text, tokens), text[-3000:])
    files = list(every_file(tmp_path, *(Path(os.environ[v]) for v in XDG)))
    assert any(p.suffix == ".sqlite3" for p in files) and log in files
    for path in files:
        assert not leaks(path.read_bytes(), tokens), (path, leaks(path.read_bytes(), tokens))


XDG = ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")


def test_a_debug_traceback_is_redacted(tmp_path: Path, tokens: Tokens) -> None:
    """``--debug`` prints the traceback of an unexpected error: redacted, like its one line."""
    script = (
        "import sys\n"
        "from agora import cli\n"
        "def boom(args):\n"
        "    cli.load(args.config)\n"  # reads the secret, as every command does
        f"    raise RuntimeError('GET https://h.example/feed?key={tokens.server} for ' + "
        "__import__('os').environ['AGORA_TEST_X_TOKEN'])\n"
        "cli.COMMANDS['check'] = boom\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    config = wall_config(tmp_path, 9)
    result = subprocess.run(
        [sys.executable, "-c", script, "check", str(config), "--debug"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert re.search(
        r"RuntimeError: GET https://h\.example/feed\?… for «redacted»", result.stderr
    ), result.stderr
    assert not leaks(result.stdout + result.stderr, tokens), result.stderr


# -- issue 13: credentials a server issues, tokens it echoes, escapes it sends -----------------

SIGNED = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250101"
    "&X-Amz-Security-Token=FQoGZXIvYXdzEJrSessionTok3n&X-Amz-Signature=9f2c8e1d7a6b5c4d3e2f"
    "&session=8f14e45fceea167a5a36dedd4bea2543&code=SplxlOBeZQQYbYS6WxSbIA"
)
ISSUED = ("AKIAIOSFODNN7", "FQoGZXIv", "9f2c8e1d7a6b", "8f14e45fceea", "SplxlOBeZQQ")
FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x/</link>
<item><guid>g1</guid><title>lumen news</title><link>http://x/1</link>
<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item></channel></rss>"""
ESCAPES = "1\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b[31mFAKE: all sources ok\x1b[0m"


class _Echo(BaseHTTPRequestHandler):
    """An RSS feed that redirects to a pre-signed URL; a Mastodon instance that echoes the
    token it was sent into a post's text and its author's name, and sends a status whose id
    carries terminal escapes; X answering 401 with the (long) bearer token in its title."""

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        sent = self.headers.get("Authorization", "")
        json_type = {"Content-Type": "application/json"}
        if path == "/feed":
            self._send(302, b"", {"Location": f"/signed-feed?{SIGNED}"})
        elif path == "/signed-feed":
            self._send(200, FEED.encode(), {"Content-Type": "application/rss+xml"})
        elif path.startswith("/api/v1/timelines/tag/"):
            statuses = [
                {
                    "id": "7",
                    "created_at": "2030-01-01T00:00:00Z",
                    "visibility": "public",
                    "content": f"<p>lumen debug: you sent {sent}</p>",
                    "account": {"acct": "bot", "display_name": sent},
                },
                {
                    "id": ESCAPES,
                    "created_at": "2030-01-01T00:00:00Z",
                    "visibility": "public",
                    "content": "",
                    "account": {"acct": "bot"},
                },
            ]
            self._send(200, json.dumps(statuses).encode(), json_type)
        elif path.startswith("/2/tweets/search"):
            title = f"Unauthorized: token {sent.removeprefix('Bearer ')} is not valid"
            self._send(401, json.dumps({"title": title, "status": 401}).encode(), json_type)
        else:
            self._send(404, b"{}", json_type)


@pytest.fixture
def echo() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_fetch_prints_no_issued_credential_echoed_token_or_escape(
    tmp_path: Path, echo: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mastodon = token()
    bearer = token() + token() + token()[:11]  # an X bearer token is ~107 characters
    monkeypatch.setenv("AGORA_TEST_ECHO_MASTODON", mastodon)
    monkeypatch.setenv("AGORA_TEST_ECHO_X", bearer)
    base = f"http://127.0.0.1:{echo.server_address[1]}"
    config = tmp_path / "wall.toml"
    config.write_text(
        f"""
[topics.lumen]
terms = ["lumen"]
[[sources]]
name = "news"
kind = "rss"
url = "{base}/feed"
[[sources]]
name = "fedi"
kind = "mastodon"
base_url = "{base}"
hashtags = ["lumen"]
token = "env:AGORA_TEST_ECHO_MASTODON"
[[sources]]
name = "tw"
kind = "x"
query = "lumen"
base_url = "{base}"
bearer_token = "env:AGORA_TEST_ECHO_X"
""",
        encoding="utf-8",
    )
    result = agora("--debug", "fetch", config, "--seconds", "5")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # the pre-signed URL: its host and path are shown, none of what its query carried
    assert f"GET {base}/signed-feed?… " in result.stderr
    assert "(b'Location', b'/signed-feed?…')" in result.stderr  # httpcore's DEBUG line
    assert [value for value in ISSUED if value in output] == []
    # the token the instance echoed is not printed with the post
    posts = [json.loads(line) for line in result.stdout.splitlines()]
    echoed = next(p for p in posts if p["source"] == "mastodon")
    assert echoed["text"] == "lumen debug: you sent Bearer «redacted»"
    assert echoed["author"]["name"] == "Bearer «redacted»"
    assert not [form for form in forms(mastodon) if form in output]
    # X's title quoting the bearer token, cut to 80 characters: not one piece of the token
    assert "the bearer token was refused: Unauthorized: token «redacted»" in result.stderr
    assert not [i for i in range(len(bearer) - 5) if bearer[i : i + 6] in output]
    # the status id's escapes: neither on stderr nor in the health line
    assert "\x1b" not in output and "\x07" not in output
    assert "status 1FAKE: all sources ok has no text" in result.stderr

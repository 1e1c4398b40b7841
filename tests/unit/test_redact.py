"""Secrets out of every output: the redactor's patterns, every log handler, tracebacks, hooks,
source health, and secrets read by a later config load (a hot reload)."""

from __future__ import annotations

import base64
import io
import json
import logging
import secrets
import string
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from agora.config.loader import load_config
from agora.core.redact import MARK, Redactor, redact, remember_secrets
from agora.service import (
    JsonFormatter,
    TextFormatter,
    file_log_handler,
    install_redaction,
    stderr_log_handler,
)
from agora.sources.base import SourceContext
from agora.sources.registry import build_source


def token(extra: str = "") -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32)) + extra


# -- the patterns ------------------------------------------------------------------------------


def test_a_configured_secret_is_hidden_in_every_form_it_travels_in() -> None:
    value = token("+/=&")
    redactor = Redactor()
    redactor.add([value])
    basic = base64.b64encode(f"client-id:{value}".encode()).decode()
    for text in (
        f"GET /feed/{value}/x",
        f"redirect_uri=https%3A%2F%2Fh%2F{quote(value, safe='')}",
        json.dumps({"echo": value}),
        f"seen {basic} in an answer",  # Basic auth: id:secret encoded together
        base64.urlsafe_b64encode(b"ab" + value.encode()).decode(),
    ):
        cleaned = redactor.redact(text)
        assert MARK in cleaned, text
        assert value not in cleaned
        assert quote(value, safe="") not in cleaned
    assert redactor.redact("abc12") == "abc12"  # short values are never configured secrets


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # libraries' lines carrying credentials the config never held (a server's redirect)
        ("GET http://h/x?limit=1&access_token=SRVtok123&x=1", "limit=1&access_token="),
        ("GET http://h/x?token=abc123def&b=2", "&b=2"),
        ("https://h/v3?part=id&key=AIzaSyD-abcdef123", "part=id&key="),
        ("POST /oauth client_id=me&client_secret=s3cr3tvalue", "client_id=me"),
        ("login?user=kim&password=hunter2hunter2", "user=kim"),
        ("api_key=zzzyyyxxx1 apikey=qqq111", "api_key="),
        ("next=https%3A%2F%2Fh%3Faccess_token%3Dxyz987abc", "next=https"),
        ("(b'Location', b'/r?access_token=abc'), (b'Server', b'x')", "(b'Server', b'x')"),
        ("(b'WWW-Authenticate', b'Bearer realm=abc123XYZ')", "(b'WWW-Authenticate', b'"),
        ("> Authorization: Bearer abcdef123456", "> Authorization: "),
        ("{'authorization': 'Basic dXNlcjpwYXNz', 'accept': '*/*'}", "'accept': '*/*'"),
        ("X-Goog-Api-Key: AIzaSyD-abcdef123", "X-Goog-Api-Key: "),
        ('{"error": "bad", "access_token": "zz9yy8xx7"}', '"error": "bad"'),
        ("https://kim:pa55word@example.org/feed", "https://kim:"),
        ("Cookie: session=abcdef0123", "Cookie: "),
    ],
)
def test_credentials_of_any_value_are_hidden(text: str, kept: str) -> None:
    cleaned = Redactor().redact(text)
    assert MARK in cleaned, cleaned
    assert kept in cleaned, cleaned
    for value in (
        "SRVtok123",
        "abc123def",
        "AIzaSyD",
        "s3cr3tvalue",
        "hunter2",
        "zzzyyy",
        "qqq111",
        "xyz987",
        "abcdef123456",
        "dXNlcjpwYXNz",
        "zz9yy8",
        "pa55word",
        "abcdef0123",
        "abc123XYZ",
    ):
        assert value not in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "127.0.0.1: the bearer token was refused (401)",
        "mastodon.social: the access token was refused (401)",
        "no authorization, try again",
        "monkey=3 turkey=4 keyframe=5",
        "config reloaded: wall.toml: sources: restarted fedi; screens rebuilt",
        "the key frames of the Basic plan",
        "store: /srv/agora/lobby.sqlite3; the password field is empty",
    ],
)
def test_ordinary_messages_stay_readable(text: str) -> None:
    assert Redactor().redact(text) == text


# -- logging -----------------------------------------------------------------------------------


@pytest.fixture
def redacting() -> Iterator[None]:
    """Redaction installed as ``agora`` installs it, undone afterwards."""
    factory = logging.getLogRecordFactory()
    hooks = (threading.excepthook,)
    install_redaction()
    try:
        yield
    finally:
        logging.setLogRecordFactory(factory)
        (threading.excepthook,) = hooks


def test_every_handler_gets_redacted_records(redacting: None, tmp_path: Path) -> None:
    value = token()
    remember_secrets([value])
    stream = io.StringIO()
    plain = logging.StreamHandler(stream)  # someone else's handler (the wall's status line)
    plain.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    ours = stderr_log_handler()
    ours_stream = io.StringIO()
    assert isinstance(ours, logging.StreamHandler)
    ours.setStream(ours_stream)
    log_file = file_log_handler(tmp_path / "wall.log")
    logger = logging.getLogger("agora.test.redaction")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    for handler in (plain, ours, log_file):
        logger.addHandler(handler)
    try:
        logger.info("HTTP Request: GET %s", f"http://h/moved/{value}/feed?access_token=srv987zyx")
        try:
            raise RuntimeError(f"answer echoed {value}")
        except RuntimeError:
            logger.exception("the round failed for %s", "fedi")
        logger.warning("stack", stack_info=True, extra={"detail": f"token={value}"})
    finally:
        for handler in (plain, ours, log_file):
            logger.removeHandler(handler)
        log_file.close()
    written = stream.getvalue() + ours_stream.getvalue()
    written += (tmp_path / "wall.log").read_text(encoding="utf-8")
    assert value not in written and "srv987zyx" not in written
    assert "Traceback" in stream.getvalue() and "answer echoed «redacted»" in stream.getvalue()
    entries = [json.loads(line) for line in (tmp_path / "wall.log").read_text().splitlines()]
    assert entries[1]["error"] == "RuntimeError: answer echoed «redacted»"
    assert "answer echoed «redacted»" in entries[1]["trace"]
    assert entries[2]["detail"] == "token=«redacted»"


def test_a_thread_that_dies_prints_a_redacted_traceback(
    redacting: None, capsys: pytest.CaptureFixture[str]
) -> None:
    value = token()
    remember_secrets([value])

    def work() -> None:
        raise ValueError(f"GET /x?token={value}")

    thread = threading.Thread(target=work, name="worker")
    thread.start()
    thread.join()
    err = capsys.readouterr().err
    assert "Exception in thread worker" in err and "ValueError: GET /x?token=«redacted»" in err
    assert value not in err


def test_a_secret_read_by_a_later_load_is_hidden_from_then_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hot reload reads the config again: a secret that only the new file names is hidden as
    soon as it is read, before any source sends it."""
    value = token()
    assert redact(f"/path/{value}") == f"/path/{value}"
    monkeypatch.setenv("AGORA_TEST_RELOAD_SECRET", value)
    config = tmp_path / "wall.toml"
    config.write_text(
        '[wall]\nname = "w"\n[[sources]]\nname = "fedi"\nkind = "mastodon"\n'
        'hashtags = ["a"]\ntoken = "env:AGORA_TEST_RELOAD_SECRET"\n',
        encoding="utf-8",
    )
    load_config(config)
    assert redact(f"/path/{value}") == f"/path/{MARK}"


def test_a_source_error_quoting_a_secret_is_stored_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = token()
    monkeypatch.setenv("AGORA_TEST_HEALTH_SECRET", value)
    config = tmp_path / "wall.toml"
    config.write_text(
        '[wall]\nname = "w"\n[[sources]]\nname = "xapi"\nkind = "x"\nquery = "q"\n'
        'bearer_token = "env:AGORA_TEST_HEALTH_SECRET"\n',
        encoding="utf-8",
    )
    loaded = load_config(config)
    source = build_source(loaded.config.sources[0], SourceContext(loaded.config, tmp_path))
    source.mark_error(f"api.x.com: the bearer token was refused: Unauthorized {value}")
    assert (
        source.health.last_error
        == "api.x.com: the bearer token was refused: Unauthorized «redacted»"
    )
    source.mark_error("api.x.com: answered 400 for ?query=q&token=abcdef123")
    assert source.health.last_error == "api.x.com: answered 400 for ?query=q&token=«redacted»"


def test_formatters_redact_what_they_write() -> None:
    value = token()
    remember_secrets([value])
    record = logging.LogRecord("agora.t", logging.ERROR, __file__, 1, "%s", (value,), None)
    assert TextFormatter().format(record).endswith("agora.t: «redacted»")
    assert json.loads(JsonFormatter().format(record))["msg"] == MARK
